"""The clinician's queue in Chromium: stacked cards at 320 px with names and ages; take, release."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from tests.browser.conftest import (
    PHONE,
    LiveServer,
    assert_no_horizontal_scroll,
    queue_row,
    store_submission,
)
from tests.harness.app import CASE_DAY
from tests.harness.clinician import PASSWORD, current_code, make_clinician

pytestmark = pytest.mark.browser

LONG_NAME = "Maria-Guadalupe Abernathy-Villeneuve-Okonkwo"


def store(server: LiveServer, name: str, born: str, days_ago: int) -> str:
    """Store an urgent submission old enough to head the queue; return its reference."""
    return store_submission(
        server,
        {"full_name": name, "date_of_birth": born},
        submitted_at=CASE_DAY - timedelta(days=days_ago),
        flags=[("suicidal_thoughts_now", "urgent"), ("blood_pressure_very_high", "review")],
    )


def signed_in(server: LiveServer, new_context: CreateContextCallback, email: str) -> Page:
    """Return a 320-pixel page signed in as a new clinician (one per test: a code counts once)."""
    make_clinician(server.app, email, "Dr Desk Test")
    page = new_context(viewport=PHONE).new_page()
    page.goto("/clinic/sign-in")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/clinic/sign-in/code")
    page.locator("#code").fill(current_code(server.app, email))
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/clinic/")
    return page


def test_the_queue_at_320_pixels_is_cards_with_names_and_ages_and_no_sideways_scroll(
    live_server: LiveServer, new_context: CreateContextCallback
) -> None:
    reference = store(live_server, LONG_NAME, "1950-01-15", days_ago=400)
    page = signed_in(live_server, new_context, "desk.phone@clinic.example")
    card = queue_row(page, reference)
    expect(card).to_contain_text(LONG_NAME)
    expect(card).to_contain_text("76 years")
    expect(card).to_contain_text("suicidal thoughts now · BP ≥ 180/120")
    expect(card).to_contain_text("Not taken")
    assert_no_horizontal_scroll(page)
    code = page.locator("a.queue__reference").first
    assert code.evaluate("element => getComputedStyle(element).whiteSpace") == "nowrap"
    # One line: the code's box is no taller than one line of its text.
    height = code.evaluate("element => element.getClientRects().length")
    assert height == 1
    # Stacked: each cell is a block under the one before, not a column beside it.
    assert (
        page.locator("tr.queue__row").first.evaluate("element => getComputedStyle(element).display")
        == "block"
    )


def test_take_then_release_from_the_queue(
    live_server: LiveServer, new_context: CreateContextCallback
) -> None:
    reference = store(live_server, "Jo Take-Release", "1990-03-03", days_ago=500)
    page = signed_in(live_server, new_context, "desk.take@clinic.example")
    queue_row(page, reference).get_by_role("button", name="Take it").click()
    page.wait_for_url("**/clinic/")
    expect(page.get_by_role("status")).to_contain_text("Assigned to you.")
    expect(queue_row(page, reference)).to_contain_text("Assigned to me")
    assert_no_horizontal_scroll(page)
    queue_row(page, reference).get_by_role("button", name="Release").click()
    page.wait_for_url("**/clinic/")
    expect(page.get_by_role("status")).to_contain_text("Released")
    expect(queue_row(page, reference)).to_contain_text("Not taken")
