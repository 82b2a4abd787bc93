"""The pages around the questions on a 320px phone: saved answers, resume, privacy, errors."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from questionnaire.questions.catalogue import PAGES
from tests.answers import baseline
from tests.browser.conftest import (
    answer_section_quickly,
    assert_no_horizontal_scroll,
    fill_date,
    press_continue,
    start,
)

pytestmark = pytest.mark.browser


def test_save_and_come_back_later_fits_a_phone(phone_page: Page) -> None:
    page = phone_page
    start(page)
    answer_section_quickly(page, PAGES[0], baseline())
    press_continue(page)
    page.get_by_role("button", name="Save and come back later").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers are saved")
    assert_no_horizontal_scroll(page)
    link = page.locator(".resume-link a").get_attribute("href")
    assert link is not None and re.search(r"/resume/\S+$", link)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Come back to your answers")
    assert_no_horizontal_scroll(page)
    fill_date(page, "date_of_birth", "1990-01-01")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("That date of birth does not match")
    assert_no_horizontal_scroll(page)

    fill_date(page, "date_of_birth", baseline()["date_of_birth"])
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(rf"/questions/{PAGES[1].id}$"))
    assert_no_horizontal_scroll(page)


@pytest.mark.parametrize("path", ["/privacy", "/questions/no-such-page", "/resume/not-a-link"])
def test_other_pages_fit_a_phone(phone_page: Page, path: str) -> None:
    phone_page.goto(path)
    expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_horizontal_scroll(phone_page)


def test_short_answers_get_short_boxes(new_context: CreateContextCallback) -> None:
    page = new_context(viewport={"width": 1024, "height": 768}).new_page()
    start(page)
    root_font = page.evaluate(
        "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
    )
    widths = {
        item: page.locator(f"#{item}").evaluate("box => box.getBoundingClientRect().width")
        for item in ("date_of_birth-year", "weight_value")
    }
    assert all(width <= 12 * root_font + 1 for width in widths.values()), widths
