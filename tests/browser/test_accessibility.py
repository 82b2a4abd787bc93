"""axe-core on the patient's pages: no serious or critical violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from pytest_playwright.pytest_playwright import CreateContextCallback

from questionnaire.questions.catalogue import ITEMS, Section
from tests.answers import with_changes
from tests.browser.conftest import (
    PHONE,
    answer_every_page,
    answer_item,
    axe_blocking,
    press_continue,
    read_reference,
    start,
    tick_review_box,
)

pytestmark = pytest.mark.browser

#: Question pages checked besides the start, error, check and confirmation pages: the one
#: with the conditional question, and one that shows the crisis panel.
AXE_PAGES = {"safety", "mental_health"}


def test_the_patient_pages_have_no_serious_axe_violation(
    new_context: CreateContextCallback,
) -> None:
    # axe runs as a script in the page, so the pages are checked with JavaScript on.
    context = new_context(viewport=PHONE)
    page = context.new_page()
    problems: list[str] = []

    page.goto("/")
    problems += axe_blocking(page, "start page")

    start(page)
    answer_item(page, ITEMS["date_of_birth"], "1850-01-01")
    answer_item(page, ITEMS["email"], "sam.example.com")
    press_continue(page)
    assert page.locator(".error-summary").is_visible()
    problems += axe_blocking(page, "About you, with errors")

    def some_pages(page: Page, section: Section) -> None:
        if section.id in AXE_PAGES:
            problems.extend(axe_blocking(page, section.title))

    # Crisis answers, so the crisis panel is on the pages after the safety page.
    answers = with_changes({"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "yes"})
    page.goto("/questions/about_you")
    answer_every_page(page, answers, after_page=some_pages, quickly=True)
    problems += axe_blocking(page, "check your answers")
    tick_review_box(page)
    page.get_by_role("button", name="Send my answers").click()
    read_reference(page)
    problems += axe_blocking(page, "confirmation")

    assert not problems, "axe found serious or critical problems:\n" + "\n".join(problems)
