"""The C-SSRS screener and AUDIT-C in a browser, both languages, with and without JavaScript.

A server with CSSRS_SCREENER_ENABLED=true: the screener's skip logic hides questions 3 to 5
until question 2 is yes, crisis help appears at once beside intent, a plan and recent
behaviour, and axe finds nothing serious. Without JavaScript every question shows with its
"answer this if" hint, and crisis help is on the next page. AUDIT-C opens the alcohol page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from questionnaire.extensions import db
from questionnaire.questions.catalogue import ITEMS, PAGES, asked_in
from tests.answers import with_changes
from tests.browser.conftest import (
    LiveServer,
    answer_item,
    answer_section,
    axe_blocking,
    press_continue,
    say,
    send,
)
from tests.harness.app import CASE_DAY, Clock, make_app
from tests.harness.served import serve_in_thread

pytestmark = pytest.mark.browser

SAFETY = next(index for index, section in enumerate(PAGES) if section.id == "safety")
ALCOHOL = next(index for index, section in enumerate(PAGES) if section.id == "alcohol_drugs")
SCREEN = {
    "wish_dead_past_month": "no",
    "suicidal_thoughts_past_month": "yes",
    "suicidal_thoughts_method": "no",
    "suicidal_intent": "yes",
    "suicide_plan": "no",
    "suicidal_thoughts_now": "no",
    "suicidal_behaviour_ever": "no",
}


@pytest.fixture(scope="module")
def screener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve the app with the C-SSRS screener on."""
    folder: Path = tmp_path_factory.mktemp("screener")
    app = make_app(
        folder,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'screener.db'}",
        CLOCK=Clock(CASE_DAY),
        CSSRS_SCREENER_ENABLED=True,
    )
    with app.app_context():
        db.create_all()
    with serve_in_thread(app, "screener") as url:
        yield LiveServer(url, app)


#: A browser that asks for Canadian French.
FRENCH = {"locale": "fr-CA", "extra_http_headers": {"Accept-Language": "fr-CA,fr;q=0.9"}}


def begin(page: Page, url: str) -> None:
    """Open the start page, agree and start."""
    page.goto(f"{url}/")
    page.locator('label[for="privacy_consent"]').click()
    page.locator("form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(rf"/questions/{PAGES[0].id}$"))


def to_page(page: Page, index: int, answers: dict[str, Any]) -> None:
    for section in PAGES[:index]:
        answer_section(page, section, answers)
        press_continue(page)


@pytest.mark.parametrize("french", [False, True], ids=["en", "fr"])
def test_with_javascript_the_skip_logic_and_crisis_help_follow_the_answers(
    new_context: CreateContextCallback, screener: LiveServer, french: bool
) -> None:
    page = new_context(**(FRENCH if french else {})).new_page()
    answers = with_changes(SCREEN)
    begin(page, screener.url)
    if french:
        expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    to_page(page, SAFETY, answers)
    expect(page.get_by_role("heading", level=1)).to_have_text(say(page, "Your safety"))
    # The screener's words, in English on French pages too (no official fr-CA text).
    q5 = page.locator("#field-suicide_plan")
    expect(q5).to_contain_text("Have you started to work out or worked out the details")
    expect(q5).to_have_attribute("lang", "en")
    for follow_up in ("suicidal_thoughts_method", "suicidal_intent", "suicide_plan"):
        expect(page.locator(f"#field-{follow_up}")).to_be_hidden()
    expect(page.locator("#field-suicidal_behaviour_past_3_months")).to_be_hidden()
    answer_item(page, ITEMS["wish_dead_past_month"], "no")
    answer_item(page, ITEMS["suicidal_thoughts_past_month"], "yes")
    for follow_up in ("suicidal_thoughts_method", "suicidal_intent", "suicide_plan"):
        expect(page.locator(f"#field-{follow_up}")).to_be_visible()
    intent_panel = page.locator("[data-crisis-for=suicidal_intent] .crisis-panel")
    expect(intent_panel).to_be_hidden()
    answer_item(page, ITEMS["suicidal_thoughts_method"], "no")
    answer_item(page, ITEMS["suicidal_intent"], "yes")
    expect(intent_panel).to_be_visible()  # at once, beside the question
    expect(page.locator("[data-crisis-for=suicide_plan] .crisis-panel")).to_be_hidden()
    answer_item(page, ITEMS["suicide_plan"], "no")
    answer_item(page, ITEMS["suicidal_thoughts_now"], "no")
    answer_item(page, ITEMS["suicidal_behaviour_ever"], "yes")
    expect(page.locator("#field-suicidal_behaviour_past_3_months")).to_be_visible()
    recent_panel = page.locator("[data-crisis-for=suicidal_behaviour_past_3_months] .crisis-panel")
    answer_item(page, ITEMS["suicidal_behaviour_past_3_months"], "prefer_not")
    expect(recent_panel).to_be_visible()
    answer_item(page, ITEMS["suicide_attempt_ever"], "no")
    assert axe_blocking(page, "safety page, screener on") == []
    press_continue(page)
    rest = {**answers, "suicidal_behaviour_ever": "yes"}
    for section in PAGES[SAFETY + 1 :]:
        # PCL-5 is not among the reasons; no official French GAD-7 here (docs/patients.md, Languages).
        if section.id == "pcl5" or not asked_in(section, "fr-CA" if french else "en"):
            continue
        expect(page).to_have_url(re.compile(rf"/questions/{section.id}$"))
        if section.id == "alcohol_drugs" and french:
            # No official French AUDIT-C here: left out, and the page says so (never English
            # among French); the clinic's own alcohol questions are asked, in French.
            expect(page.locator("#field-auditc_1")).to_have_count(0)
            expect(page.locator("main")).to_contain_text("(AUDIT-C) ne sont pas posées ici")
            expect(page.locator("#field-alcohol_can_pause")).to_be_visible()
            assert axe_blocking(page, "alcohol page, French") == []
        elif section.id == "alcohol_drugs":
            expect(page.locator("#field-auditc_1")).to_contain_text(
                "How often do you have a drink containing alcohol?"
            )
            expect(page.locator("#field-auditc_2")).to_be_hidden()
            answer_item(page, ITEMS["auditc_1"], "3")
            expect(page.locator("#field-auditc_2")).to_be_visible()
            answer_item(page, ITEMS["auditc_2"], "0")
            answer_item(page, ITEMS["auditc_3"], "0")
            assert axe_blocking(page, "alcohol page") == []
        answer_section(page, section, {k: v for k, v in rest.items() if not k.startswith("aud")})
        press_continue(page)
    reference = send(page)
    stored, flags = screener.stored(reference)
    assert stored["suicidal_intent"] == "yes"
    assert {"suicidal_intent", "suicidal_behaviour", "suicidal_thoughts_recent"} <= flags
    # In French the AUDIT-C was not asked: no answer, no total, no alcohol_risk.
    assert stored.get("auditc_1") == (None if french else "3")
    assert ("alcohol_risk" in flags) is not french


@pytest.mark.parametrize("french", [False, True], ids=["en", "fr"])
def test_without_javascript_every_question_shows_and_crisis_help_follows(
    new_context: CreateContextCallback, screener: LiveServer, french: bool
) -> None:
    page = new_context(java_script_enabled=False, **(FRENCH if french else {})).new_page()
    answers = with_changes({**SCREEN, "suicidal_intent": "no", "suicide_plan": "prefer_not"})
    begin(page, screener.url)
    to_page(page, SAFETY, answers)
    for follow_up in ("suicidal_thoughts_method", "suicidal_intent", "suicide_plan"):
        field = page.locator(f"#field-{follow_up}")
        expect(field).to_be_visible()
        expect(field.locator(".conditional-hint")).to_be_visible()
    answer_section(page, PAGES[SAFETY], answers)
    # (axe injects a script, so it runs on the JavaScript pages above.)
    press_continue(page)
    # The plan answer ("rather not say") shows crisis help at once on the next page.
    expect(page.locator(".crisis-panel").first).to_be_visible()
