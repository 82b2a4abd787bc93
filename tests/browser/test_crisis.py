"""Crisis help at once, with and without JavaScript, in words that fit; configured numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from questionnaire.extensions import db
from questionnaire.questions.catalogue import ITEMS, PAGES
from tests.answers import with_changes
from tests.browser.conftest import (
    PHONE,
    answer_every_page,
    answer_item,
    answer_section,
    press_continue,
    send,
    start,
)
from tests.harness.app import CASE_DAY, Clock, make_app
from tests.harness.patient import asked_pages
from tests.harness.served import serve_in_thread

pytestmark = pytest.mark.browser

SAFETY = next(index for index, section in enumerate(PAGES) if section.id == "safety")
PAST, NOW = ITEMS["suicidal_thoughts_past_month"], ITEMS["suicidal_thoughts_now"]
CARRY_ON = "You can carry on with this form when you are ready."
SAVED = "Your answers are saved. Please reach out now."
DEFAULT_NUMBERS = re.compile(r"9[-\u2011]8[-\u2011]8|(?<!\d)988(?!\d)|(?<!\d)911(?!\d)")


def urgent(now: str = "yes") -> dict[str, Any]:
    return with_changes({"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": now})


def to_safety(page: Page, answers: dict[str, Any]) -> None:
    """Start and continue the pages before the safety page."""
    start(page)
    for section in PAGES[:SAFETY]:
        answer_section(page, section, answers)
        press_continue(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your safety")


@pytest.mark.parametrize("now", ["yes", "prefer_not"])
def test_the_panel_appears_the_moment_the_answer_is_chosen(page: Page, now: str) -> None:
    to_safety(page, urgent(now))
    panel = page.locator("[data-crisis-for=suicidal_thoughts_now] .crisis-panel")
    expect(panel).to_be_hidden()
    answer_item(page, PAST, "yes")
    expect(panel).to_be_hidden()
    answer_item(page, NOW, now)
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("You do not have to wait to talk to someone")
    expect(panel).to_contain_text(CARRY_ON)
    expect(page.locator("[data-crisis-for=suicidal_thoughts_now]")).to_have_attribute(
        "aria-live", "polite"
    )
    # Focus stays on the answer the patient chose: nothing is taken from them.
    chosen = "suicidal_thoughts_now" if now == "yes" else "suicidal_thoughts_now-prefer_not"
    assert page.evaluate("document.activeElement.id") == chosen
    # Beside the question: after it, before the next one.
    order = page.evaluate(
        """() => {
            const q = document.getElementById('field-suicidal_thoughts_now');
            const p = document.querySelector('[data-crisis-for=suicidal_thoughts_now]');
            const next = document.getElementById('field-suicide_attempt_ever');
            const after = (a, b) => !!(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
            return after(q, p) && after(p, next);
        }"""
    )
    assert order is True


def test_the_panel_stays_hidden_for_no(page: Page) -> None:
    to_safety(page, urgent("no"))
    answer_item(page, PAST, "yes")
    answer_item(page, NOW, "no")
    expect(page.locator("[data-crisis-for=suicidal_thoughts_now] .crisis-panel")).to_be_hidden()


@pytest.mark.parametrize("javascript", [False, True])
def test_the_error_page_shows_the_panel(
    new_context: CreateContextCallback, javascript: bool
) -> None:
    page = new_context(java_script_enabled=javascript, viewport=PHONE).new_page()
    to_safety(page, urgent())
    answer_item(page, PAST, "yes")
    answer_item(page, NOW, "yes")
    press_continue(page)  # "Have you ever tried …" is unanswered: the page comes back
    expect(page.locator(".error-summary")).to_be_visible()
    panel = page.locator("[data-crisis-for=suicidal_thoughts_now] .crisis-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(CARRY_ON)


@pytest.mark.parametrize("javascript", [False, True])
def test_saving_shows_the_panel_with_saved_wording(
    new_context: CreateContextCallback, javascript: bool
) -> None:
    page = new_context(java_script_enabled=javascript, viewport=PHONE).new_page()
    to_safety(page, urgent())
    answer_item(page, PAST, "yes")
    answer_item(page, NOW, "prefer_not")
    page.get_by_role("button", name="Save and come back later").click()
    expect(page).to_have_url(re.compile(r"/saved$"))
    panel = page.locator(".crisis-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(SAVED)
    expect(panel).not_to_contain_text("carry on")


@pytest.mark.parametrize("javascript", [True, False])
def test_the_confirmation_panel_never_says_keep_going(
    new_context: CreateContextCallback, javascript: bool
) -> None:
    page = new_context(java_script_enabled=javascript, viewport=PHONE).new_page()
    start(page)
    answer_every_page(page, urgent())
    send(page)
    panel = page.locator(".crisis-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Please reach out now if you need to.")
    expect(panel).not_to_contain_text("carry on")
    expect(panel).not_to_contain_text("keep going")
    expect(page.get_by_role("heading", name="When we will contact you")).to_be_visible()


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve a clinic outside North America: crisis line 116 123, emergency 999."""
    folder: Path = tmp_path_factory.mktemp("elsewhere")
    app = make_app(
        folder,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'elsewhere.db'}",
        CLOCK=Clock(CASE_DAY),
        CRISIS_LINE_NUMBER="116 123",
        CRISIS_LINE_NOTE="any time",
        EMERGENCY_NUMBER="999",
    )
    with app.app_context():
        db.create_all()
    with serve_in_thread(app, "elsewhere") as url:
        yield url


def test_every_page_shows_the_configured_numbers(page: Page, elsewhere: str) -> None:
    answers = urgent()
    seen: list[tuple[str, str]] = []

    def look() -> None:
        # All text (hidden panels too) and every link; not the page source, whose random
        # CSRF tokens could hold "911" by chance.
        links = page.evaluate("[...document.querySelectorAll('a')].map(a => a.href).join(' ')")
        seen.append((page.url, (page.text_content("body") or "") + " " + links))

    page.goto(f"{elsewhere}/privacy")
    look()
    page.goto(f"{elsewhere}/")
    look()
    page.locator('label[for="privacy_consent"]').click()
    page.get_by_role("button", name="Start", exact=True).click()
    for section in asked_pages(answers):
        expect(page.get_by_role("heading", level=1)).to_have_text(section.title)
        answer_section(page, section, answers)
        look()
        press_continue(page)
    look()  # the check page
    send(page)
    look()  # the confirmation
    for url, html in seen:
        assert DEFAULT_NUMBERS.findall(html) == [], url
    assert "116 123" in seen[-1][1] and "tel:999" in seen[-1][1]
    safety = next(html for url, html in seen if url.endswith("/questions/safety"))
    assert "call or text 116 123, or call 999" in safety
