"""A patient's whole way through in Chromium: start, every page, check, send, confirmation."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_playwright.pytest_playwright import CreateContextCallback
from sqlalchemy.orm import Session as DbSession

from questionnaire.intake import service as services
from questionnaire.questions.catalogue import PAGES, Section
from tests.answers import baseline, with_changes
from tests.browser.conftest import (
    LARGE_PHONE,
    PHONE,
    LiveServer,
    answer_every_page,
    answer_section,
    assert_no_horizontal_scroll,
    read_reference,
    send,
    start,
    tick_review_box,
)
from tests.harness.patient import asked_pages

pytestmark = pytest.mark.browser

#: Words of a score or a band, which no patient page shows ("Moderately" is a PCL-5 answer).
BAND_WORDS = re.compile(r"\b(score\w*|total|band|minimal|mild|moderate|severe)\b", re.IGNORECASE)


@pytest.mark.parametrize("viewport", [PHONE, LARGE_PHONE], ids=["320x640", "390x844"])
def test_a_patient_on_a_phone_answers_everything_and_gets_a_reference(
    new_context: CreateContextCallback, live_server: LiveServer, viewport: ViewportSize
) -> None:
    context = new_context(viewport=viewport)
    page = context.new_page()
    answers = baseline()
    start(page)
    answer_every_page(page, answers)

    assert_no_horizontal_scroll(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before sending them"
    )
    expect(page.locator(".summary")).to_have_count(len(asked_pages(answers)))
    expect(page.locator("main")).to_contain_text("Sam Example")
    expect(page.locator("main")).to_contain_text("sertraline 100 mg every morning, vitamin D")
    expect(page.locator(".crisis-panel")).to_have_count(0)

    reference = send(page)
    assert_no_horizontal_scroll(page)
    expect(page.locator(".crisis-panel")).to_have_count(0)

    stored, flags = live_server.stored(reference)
    assert stored["full_name"] == "Sam Example"
    assert stored["date_of_birth"] == "1980-05-17"
    assert stored["region"] == "CA-ON"
    assert stored["weight_value"] == 70.0
    assert stored["reasons"] == ["depression"]
    assert stored["bp_reading"] == "122/78"
    assert stored["travel_home"] == "driven_by_someone"
    assert "suicidal_thoughts_now" not in stored
    assert flags == set(), "the baseline answers raise no flag"


def test_crisis_panel_follows_a_yes_to_thoughts_right_now(
    page: Page, live_server: LiveServer
) -> None:
    answers = with_changes({"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "yes"})
    crisis_seen: list[str] = []
    safety_index = [section.id for section in PAGES].index("safety")

    def look_for_panel(page: Page, section: Section) -> None:
        panel = page.locator(".crisis-panel")
        if [s.id for s in PAGES].index(section.id) <= safety_index:
            # On the safety page they wait, hidden, beside each question (test_crisis.py).
            for each in panel.all():
                expect(each).to_be_hidden()
            return
        expect(panel).to_be_visible()
        expect(panel).to_contain_text("Call or text")
        expect(panel.locator('a[href="tel:988"]')).to_have_text(
            "9\u20118\u20118"
        )  # non-breaking hyphens
        crisis_seen.append(section.id)

    start(page)
    answer_every_page(page, answers, after_page=look_for_panel, quickly=True)
    assert crisis_seen == [section.id for section in asked_pages(answers)[safety_index + 1 :]]

    expect(page.locator(".crisis-panel")).to_contain_text("Call or text")
    reference = send(page)
    panel = page.locator(".crisis-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Call or text")
    expect(panel.locator('a[href="tel:988"]')).to_be_visible()

    stored, flags = live_server.stored(reference)
    assert stored["suicidal_thoughts_now"] == "yes"
    assert {"suicidal_thoughts_now", "suicidal_thoughts_recent"} <= flags


def test_without_javascript_the_conditional_answer_is_still_stored(
    new_context: CreateContextCallback, live_server: LiveServer
) -> None:
    context = new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    answers: dict[str, Any] = with_changes(
        {"suicidal_thoughts_past_month": "no", "suicidal_thoughts_now": "yes"}
    )

    def on_the_safety_page_click_the_answers(page: Page, section: Section) -> bool:
        if section.id != "safety":
            return False
        expect(page.locator("#field-suicidal_thoughts_now")).to_be_visible()
        expect(page.locator("#suicidal_thoughts_now-when")).to_be_visible()
        expect(page.locator("#suicidal_thoughts_now-when")).to_have_text(
            "Answer this if you answered Yes or I'd rather not say to the question about "
            "thoughts of ending your life in the past month."
        )
        answer_section(page, section, answers)
        return True

    start(page)
    answer_every_page(page, answers, after_page=on_the_safety_page_click_the_answers, quickly=True)
    reference = send(page)
    assert_no_horizontal_scroll(page)

    stored, flags = live_server.stored(reference)
    assert stored["suicidal_thoughts_past_month"] == "no"
    assert stored["suicidal_thoughts_now"] == "yes"
    assert "suicidal_thoughts_now" in flags


def _to_the_check_page(page: Page) -> None:
    start(page)
    answer_every_page(page, baseline(), quickly=True)
    tick_review_box(page)


def test_a_double_click_on_send_stores_one_submission(page: Page, live_server: LiveServer) -> None:
    _to_the_check_page(page)
    before = live_server.submission_count()
    page.get_by_role("button", name="Send my answers").dblclick()
    read_reference(page)
    assert live_server.submission_count() == before + 1


SEND_TWICE_AT_ONCE = """async () => {
    const form = document.querySelector("form[method=post]");
    // URL-encoded, as a form posts: no route takes multipart bodies (they are a 415).
    const body = () => new URLSearchParams(new FormData(form));
    const send = () => fetch(location.href, {method: "POST", body: body()});
    const responses = await Promise.all([send(), send()]);
    return responses.map(response => [response.status, new URL(response.url).pathname]);
}"""


def test_two_sends_in_flight_together_store_one_submission(
    page: Page, live_server: LiveServer
) -> None:
    """Two POSTs of the same form at once, as a slow double click without JavaScript makes.

    (Chromium itself folds a fast double click into one POST, JavaScript or not.)
    """
    _to_the_check_page(page)
    before = live_server.submission_count()
    page.evaluate(SEND_TWICE_AT_ONCE)
    assert live_server.submission_count() == before + 1
    page.goto("/done")
    read_reference(page)


def test_the_send_that_loses_a_race_still_shows_the_confirmation(
    page: Page, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Make the race of two sends deterministic: both load the draft, one sends, then the other.

    The wrappers only order the two requests; every line of the app still runs.
    """
    _to_the_check_page(page)
    both_loaded = threading.Barrier(2, timeout=5)
    first_sent = threading.Event()
    save_answers, submit = services.save_answers, services.submit

    def ordered_save_answers(
        session: DbSession,
        draft: Any,
        item_ids: Any,
        raw: Any,
        now: datetime | None = None,
    ) -> None:
        item_ids = list(item_ids)
        if item_ids == ["understands_review"]:
            try:
                if both_loaded.wait() == 1:  # the second to arrive waits for the first
                    first_sent.wait(timeout=5)
            except threading.BrokenBarrierError:
                pass  # only one send reached this point: nothing to order
        save_answers(session, draft, item_ids, raw, now)

    def signalling_submit(*args: Any, **kwargs: Any) -> Any:
        try:
            return submit(*args, **kwargs)
        finally:
            first_sent.set()

    monkeypatch.setattr(services, "save_answers", ordered_save_answers)
    monkeypatch.setattr(services, "submit", signalling_submit)
    before = live_server.submission_count()
    outcomes = page.evaluate(SEND_TWICE_AT_ONCE)
    assert live_server.submission_count() == before + 1
    assert outcomes == [[200, "/done"], [200, "/done"]], "each send ends on the confirmation"


def test_a_patient_answers_the_instruments_and_sees_help_at_once_on_item_9(
    page: Page, live_server: LiveServer
) -> None:
    phq9 = dict(zip((f"phq9_{n}" for n in range(1, 10)), "221100001", strict=True))
    answers = with_changes(
        {
            "reasons": ["depression", "ptsd"],
            **phq9,
            **{f"gad7_{n}": "1" for n in range(1, 8)},
            **{f"pcl5_{n}": "2" for n in range(1, 21)},
        }
    )
    seen: list[str] = []

    def on_instruments(page: Page, section: Section) -> bool:
        if section.instrument is None:
            return False
        seen.append(section.id)
        text = page.locator("main").inner_text()
        assert "most complete picture" in text
        assert not BAND_WORDS.search(text), BAND_WORDS.search(text)
        if section.id == "phq9":
            panel = page.locator(".crisis-panel")
            expect(panel).to_be_hidden()
            answer_section(page, section, answers)  # clicks, one answer at a time
            # Item 9 above "Not at all": help shows beside it at once, before Continue.
            expect(panel).to_be_visible()
            expect(panel).to_contain_text("Call or text")
            return True
        answer_section(page, section, answers)
        return True

    start(page)
    answer_every_page(page, answers, after_page=on_instruments)
    assert seen == ["phq9", "gad7", "pcl5"]
    expect(page.locator("main")).to_contain_text("Little interest or pleasure in doing things")
    assert not BAND_WORDS.search(page.locator("main").inner_text())
    reference = send(page)
    expect(page.locator(".crisis-panel")).to_be_visible()

    stored, flags = live_server.stored(reference)
    assert {key: stored[key] for key in phq9} == phq9
    assert stored["pcl5_20"] == "2"
    assert flags == {"phq9_item9_positive", "pcl5_at_cut_point"}
