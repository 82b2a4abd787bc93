"""The patient's pages in French in a real browser: a whole journey, a switch, axe, 320 px."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from questionnaire.extensions import db
from questionnaire.questions.catalogue import ITEMS, PAGES, section_is_asked
from questionnaire.records.models import Submission
from tests.answers import baseline, with_changes
from tests.browser.conftest import (
    PHONE,
    LiveServer,
    answer_every_page,
    answer_item,
    answer_section,
    assert_no_horizontal_scroll,
    axe_blocking,
    press_continue,
    read_reference,
    say,
    send,
    start,
    tick_review_box,
)

pytestmark = pytest.mark.browser

FRENCH = {"locale": "fr-CA", "extra_http_headers": {"Accept-Language": "fr-CA,fr;q=0.9"}}


def french_phone(new_context: CreateContextCallback, **options: object) -> Page:
    return new_context(viewport=PHONE, **FRENCH, **options).new_page()  # type: ignore[arg-type]


def stored_language(live_server: LiveServer, reference: str) -> str:
    with live_server.app.app_context():
        language = db.session.scalar(
            sa.select(Submission.language).where(Submission.reference == reference.replace("-", ""))
        )
        db.session.remove()
    assert language is not None
    return language


def test_a_whole_journey_in_french_on_a_phone(
    new_context: CreateContextCallback, live_server: LiveServer
) -> None:
    page = french_phone(new_context)
    start(page)  # the French heading and button, no sideways scroll
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    # Typed and clicked one by one, each page checked at 320 px (answer_every_page).
    answers = with_changes({"weight_value": "70,5", "bp_reading": "128 sur 82"})
    answer_every_page(page, answers)
    assert_no_horizontal_scroll(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        say(page, "Check your answers before sending them")
    )
    reference = send(page)
    assert stored_language(live_server, reference) == "fr-CA"
    stored, _ = live_server.stored(reference)
    assert stored["weight_value"] == 70.5
    assert_no_horizontal_scroll(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_switch_mid_journey_keeps_the_answers_and_the_page(
    new_context: CreateContextCallback, live_server: LiveServer, javascript: bool
) -> None:
    page = new_context(viewport=PHONE, java_script_enabled=javascript).new_page()
    start(page)
    answers = baseline()
    answer_section(page, PAGES[0], answers)
    press_continue(page)
    looking_for = PAGES[1]
    expect(page).to_have_url(re.compile(rf"/questions/{looking_for.id}$"))
    answer_item(page, ITEMS["reasons"], ["depression", "ptsd"])
    # The switch in the header sends the page with it: the ticks survive.
    page.get_by_role("button", name="Français").click()
    expect(page).to_have_url(re.compile(rf"/questions/{looking_for.id}$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    expect(page.get_by_role("heading", level=1)).to_have_text(say(page, looking_for.title))
    expect(page.locator("#reasons")).to_be_checked()
    expect(page.locator("#reasons-ptsd")).to_be_checked()
    expect(page.locator(".error-summary")).to_have_count(0)
    # Back to the first page: its answers are there, in French around them.
    page.goto(f"/questions/{PAGES[0].id}")
    expect(page.locator("#email")).to_have_value(answers["email"])
    page.goto(f"/questions/{looking_for.id}")
    # The ticks are still there: the rest of the page, then on to the end.
    expect(page.locator("#reasons-ptsd")).to_be_checked()
    rest = {key: value for key, value in answers.items() if key != "reasons"}
    answer_section(page, looking_for, rest)
    press_continue(page)
    answer_every_page_from(page, 2, answers)
    reference = send(page)
    assert stored_language(live_server, reference) == "fr-CA"
    # The confirmation offers English back, and the link keeps the page.
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/done$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    read_reference(page)


def answer_every_page_from(page: Page, first: int, answers: dict[str, object]) -> None:
    """Answer from page `first` on (the earlier ones are answered), to the check page.

    In French the GAD-7 and PCL-5 pages are left out (no official French text here).
    """
    for section in PAGES[first:]:
        if not section_is_asked(section, answers, "fr-CA"):
            continue
        expect(page).to_have_url(re.compile(rf"/questions/{section.id}$"))
        answer_section(page, section, answers)  # type: ignore[arg-type]
        press_continue(page)
    expect(page).to_have_url(re.compile(r"/check$"))


def test_the_french_pages_have_no_serious_axe_violation(
    new_context: CreateContextCallback,
) -> None:
    page = french_phone(new_context)
    problems: list[str] = []

    def check(name: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
        assert_no_horizontal_scroll(page)
        problems.extend(axe_blocking(page, name))

    page.goto("/")
    check("accueil")
    page.goto("/privacy")
    check("confidentialité")
    start(page)
    press_continue(page)  # sent empty: every error, in French
    expect(page.locator(".error-summary")).to_be_visible()
    check("à propos de vous, erreurs")
    answers = with_changes({"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "yes"})

    def every_page(page: Page, section: object) -> None:
        check(f"page {getattr(section, 'id', '')}")

    answer_every_page(page, answers, after_page=every_page, quickly=True)
    check("vérification")
    tick_review_box(page)
    page.get_by_role("button", name=say(page, "Send my answers")).click()
    read_reference(page)
    check("confirmation, avec le panneau de crise")
    assert not problems, "\n".join(problems)
