"""Errors on a question page: summary first and focused, links that reach each field."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from questionnaire.questions.catalogue import ITEMS, PAGES
from tests.answers import baseline
from tests.browser.conftest import (
    PHONE,
    answer_item,
    answer_section_quickly,
    assert_no_horizontal_scroll,
    press_continue,
    start,
)

pytestmark = pytest.mark.browser

#: What the patient types on "About you": a date of birth before 1900, no @ in the email,
#: words for the phone and the weight. Where they live and the weight unit stay unanswered.
TYPED = {
    "full_name": "Sam Example",
    "date_of_birth": "1850-01-01",
    "email": "sam.example.com",
    "phone": "call me",
    "weight_value": "seventy",
}
EXPECTED_LINKS = ["date_of_birth", "email", "phone", "region", "weight_value", "weight_unit"]


#: Where a question's error link goes: a date's first part in error (here the year, before 1900).
LINK = {"date_of_birth": "date_of_birth-year"}


def _summary_targets(page: Page) -> list[str]:
    hrefs = page.locator(".error-summary a").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    assert all(href.startswith("#") for href in hrefs), hrefs
    return [href[1:] for href in hrefs]


def test_about_you_errors_are_summarised_focused_and_linked(phone_page: Page) -> None:
    page = phone_page
    start(page)
    for item_id, value in TYPED.items():
        answer_item(page, ITEMS[item_id], value)
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/questions/about_you$"))
    expect(page).to_have_title(re.compile(r"^Error: About you"))
    summary = page.locator(".error-summary")
    expect(summary.get_by_role("heading", level=2)).to_have_text("There is a problem")
    assert page.evaluate(
        "() => document.querySelector('main').firstElementChild.classList.contains('error-summary')"
    ), "the error summary is the first thing in <main>"
    expect(summary).to_be_focused()
    assert page.evaluate("() => document.activeElement.classList.contains('error-summary')")
    expect(summary).to_be_in_viewport()
    assert_no_horizontal_scroll(page)

    assert _summary_targets(page) == [LINK.get(target, target) for target in EXPECTED_LINKS]
    for target in EXPECTED_LINKS:
        link = LINK.get(target, target)
        expect(page.locator(f"#{target}-error")).to_be_visible()
        summary.locator(f'a[href="#{link}"]').click()
        expect(page.locator(f"#{link}")).to_be_focused()
        expect(page.locator(f"#{link}")).to_be_in_viewport()

    for item_id, value in TYPED.items():
        if item_id != "date_of_birth":
            expect(page.locator(f"#{item_id}")).to_have_value(value)
    for part, typed in (("day", "1"), ("month", "1"), ("year", "1850")):
        expect(page.locator(f"#date_of_birth-{part}")).to_have_value(typed)
    expect(page.locator("#region")).to_have_value("")


def test_a_bad_blood_pressure_is_explained_and_kept(phone_page: Page) -> None:
    page = phone_page
    start(page)
    page.goto("/questions/heart_brain")
    section = next(section for section in PAGES if section.id == "heart_brain")
    answer_section_quickly(page, section, {**baseline(), "bp_reading": ""})
    answer_item(page, ITEMS["bp_reading"], "high, about 150")
    press_continue(page)

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There is a problem")
    assert _summary_targets(page) == ["bp_reading"]
    expect(summary.get_by_role("link")).to_have_text(
        "Write your blood pressure like 128/82 or 128 over 82, or leave it blank."
    )
    summary.get_by_role("link").click()
    expect(page.locator("#bp_reading")).to_be_focused()
    expect(page.locator("#bp_reading")).to_have_value("high, about 150")
    expect(page.locator("#heart_condition-no")).to_be_checked()
    assert_no_horizontal_scroll(page)


def test_an_error_link_shows_the_question_it_is_about(phone_page: Page) -> None:
    page = phone_page
    start(page)
    answer_section_quickly(page, PAGES[0], TYPED)
    press_continue(page)
    hidden_questions = []
    for target in EXPECTED_LINKS:
        link = LINK.get(target, target)
        page.locator(f'.error-summary a[href="#{link}"]').click()
        expect(page.locator(f"#{link}")).to_be_focused()
        question = page.locator(f"#field-{target}").locator(".question, legend")
        message = page.locator(f"#{target}-error")
        if not (_fully_in_view(question) and _fully_in_view(message)):
            hidden_questions.append(target)
    assert not hidden_questions, f"question or error off screen after its link: {hidden_questions}"


def _fully_in_view(locator: Any) -> bool:
    return bool(
        locator.evaluate(
            """element => {
                const box = element.getBoundingClientRect();
                return box.top >= 0 && box.bottom <= window.innerHeight;
            }"""
        )
    )


@pytest.mark.parametrize("javascript", [True, False])
def test_a_date_of_birth_is_typed_in_three_boxes_as_the_hint_says(
    new_context: CreateContextCallback, javascript: bool
) -> None:
    page = new_context(java_script_enabled=javascript, viewport=PHONE, locale="en-US").new_page()
    start(page)
    group = page.get_by_role("group", name="Date of birth")
    expect(group.locator("#date_of_birth-hint")).to_have_text("For example, 27 3 2007")
    for part, width in (("day", "2"), ("month", "2"), ("year", "4")):
        box = group.get_by_label(part.title(), exact=True)
        expect(box).to_have_attribute("id", f"date_of_birth-{part}")
        expect(box).to_have_attribute("inputmode", "numeric")
        expect(box).to_have_attribute("autocomplete", f"bday-{part}")
        expect(box).to_have_class(f"input--width-{width}")
    answer_section_quickly(page, PAGES[0], baseline())
    page.locator("#date_of_birth-year").fill("85")
    press_continue(page)
    expect(page.locator("#date_of_birth-error")).to_contain_text("Year must include 4 numbers")
    expect(page.locator("#date_of_birth-year")).to_have_class(re.compile("input--error"))
    expect(page.locator("#date_of_birth-day")).not_to_have_class(re.compile("input--error"))
    page.locator("#date_of_birth-day").fill(" 07 ")
    page.locator("#date_of_birth-month").fill("mar")
    page.locator("#date_of_birth-year").fill("1985")
    press_continue(page)
    expect(page).to_have_url(re.compile(rf"/questions/{PAGES[1].id}$"))
    page.goto("/questions/about_you")  # the saved date, shown again in its three boxes
    for part, typed in (("day", "7"), ("month", "3"), ("year", "1985")):
        expect(page.locator(f"#date_of_birth-{part}")).to_have_value(typed)
