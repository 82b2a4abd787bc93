"""The conditional question on the safety page, with and without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from questionnaire.questions.catalogue import ITEMS
from tests.browser.conftest import PHONE, press_continue, start

pytestmark = pytest.mark.browser

NOW = ITEMS["suicidal_thoughts_now"]
WHEN_HINT = (
    "Answer this if you answered Yes or I'd rather not say to the question about thoughts of "
    "ending your life in the past month."
)


def _open_safety_page(page: Page) -> None:
    start(page)
    page.goto("/questions/safety")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your safety")


def _past_month(page: Page) -> Locator:
    return page.locator("#field-suicidal_thoughts_past_month")


def test_the_right_now_question_shows_only_after_yes_or_rather_not_say(page: Page) -> None:
    _open_safety_page(page)
    field = page.locator("#field-suicidal_thoughts_now")
    question = page.get_by_text(NOW.label, exact=True)
    hint = page.locator("#suicidal_thoughts_now-when")
    expect(field).to_be_hidden()
    expect(question).to_be_hidden()
    expect(hint).to_be_hidden()

    for answer, shown in [
        ("Yes", True),
        ("No", False),
        ("I'd rather not say", True),
        ("No", False),
        ("Yes", True),
    ]:
        _past_month(page).get_by_text(answer, exact=True).click()
        if shown:
            expect(question).to_be_visible()
            expect(field.get_by_role("radio")).to_have_count(3)
            for radio in field.get_by_role("radio").all():
                expect(radio).to_be_visible()
        else:
            expect(question).to_be_hidden()
        expect(hint).to_be_hidden()


def test_the_right_now_question_follows_the_keyboard(page: Page) -> None:
    _open_safety_page(page)
    field = page.locator("#field-suicidal_thoughts_now")
    page.locator("#suicidal_thoughts_past_month").focus()
    page.keyboard.press("Space")  # Yes
    expect(page.locator("#suicidal_thoughts_past_month")).to_be_checked()
    expect(field).to_be_visible()
    page.keyboard.press("ArrowDown")  # No
    expect(page.locator("#suicidal_thoughts_past_month-no")).to_be_checked()
    expect(field).to_be_hidden()
    page.keyboard.press("ArrowDown")  # I'd rather not say
    expect(page.locator("#suicidal_thoughts_past_month-prefer_not")).to_be_checked()
    expect(field).to_be_visible()


def test_a_missing_right_now_answer_is_shown_with_its_error(page: Page) -> None:
    _open_safety_page(page)
    _past_month(page).get_by_text("Yes", exact=True).click()
    page.locator("#field-suicide_attempt_ever").get_by_text("No", exact=True).click()
    press_continue(page)

    expect(page.locator(".error-summary")).to_be_visible()
    field = page.locator("#field-suicidal_thoughts_now")
    expect(field).to_be_visible()
    expect(field.locator(".error-message")).to_have_text(
        "Error: Select yes if you are having thoughts of ending your life right now"
    )
    expect(page.locator("#suicidal_thoughts_past_month")).to_be_checked()
    expect(page.locator("#suicide_attempt_ever-no")).to_be_checked()
    page.locator(".error-summary").get_by_role("link").click()
    expect(page.locator("#suicidal_thoughts_now")).to_be_focused()


def test_no_to_the_past_month_needs_no_right_now_answer(page: Page) -> None:
    _open_safety_page(page)
    _past_month(page).get_by_text("No", exact=True).click()
    page.locator("#field-suicide_attempt_ever").get_by_text("No", exact=True).click()
    press_continue(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("How you have been feeling")
    expect(page.locator(".crisis-panel")).to_be_hidden()  # waits beside PHQ-9 item 9


def test_without_javascript_the_right_now_question_and_its_hint_are_shown(
    new_context: CreateContextCallback,
) -> None:
    context = new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    _open_safety_page(page)
    expect(page.get_by_text(NOW.label, exact=True)).to_be_visible()
    expect(page.locator("#suicidal_thoughts_now-when")).to_be_visible()
    expect(page.locator("#suicidal_thoughts_now-when")).to_have_text(WHEN_HINT)
    # The hint is part of the question's description for screen readers.
    described = page.locator("#field-suicidal_thoughts_now fieldset").get_attribute(
        "aria-describedby"
    )
    assert described is not None
    assert "suicidal_thoughts_now-when" in described.split()
