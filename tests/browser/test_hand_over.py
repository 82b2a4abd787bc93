"""Hand over in Chromium: A takes a submission and hands it to B; B sees it as theirs, releases it."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, queue_row, store_submission
from tests.harness.app import CASE_DAY
from tests.harness.clinician import make_clinician, sign_in

pytestmark = pytest.mark.browser


def only_mine(page: Page) -> None:
    """Choose "Assigned to me" in the queue's filters and press Filter."""
    page.locator("form.filters #taken").select_option("mine")
    page.locator("form.filters").get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]taken=mine"))


def test_a_hands_over_to_b_whose_mine_filter_shows_it_and_b_releases_it(
    browser: Browser, live_server: LiveServer
) -> None:
    tag = uuid.uuid4().hex[:6]
    a = make_clinician(live_server.app, f"hand-a-{tag}@clinic.example", f"Dr Anna Hand {tag}")
    b = make_clinician(live_server.app, f"hand-b-{tag}@clinic.example", f"Dr Bruno Hand {tag}")
    # The oldest urgent submission of the session, so it heads the first page of the queue.
    reference = store_submission(
        live_server,
        {"full_name": "Kim Handover", "date_of_birth": "1980-02-02"},
        submitted_at=CASE_DAY - timedelta(days=900),
        flags=[("suicidal_thoughts_now", "urgent")],
    )
    code = f"{reference[:4]}-{reference[4:]}"

    first = browser.new_context(base_url=live_server.url).new_page()
    sign_in(first, live_server, a.email)
    queue_row(first, reference).get_by_role("button", name="Take it").click()
    expect(first.get_by_role("status")).to_contain_text("Assigned to you.")
    expect(queue_row(first, reference)).to_contain_text("Assigned to me")

    # The hand-over is on the submission's page, among the active colleagues.
    queue_row(first, reference).get_by_role("link", name=code).click()
    expect(first).to_have_url(re.compile(rf"/clinic/submissions/{reference}$"))
    first.get_by_label("Hand over to").select_option(label=b.name)
    first.get_by_role("button", name="Hand over", exact=True).click()
    expect(first.get_by_role("status")).to_contain_text(f"Handed over to {b.name}.")
    expect(first.locator(".identity .assignment__who")).to_have_text(f"Taken by {b.name}")

    first.get_by_role("link", name="Queue").first.click()
    a_row = queue_row(first, reference)
    expect(a_row).to_contain_text(f"Taken by {b.name}")
    # A no longer holds it and is no admin: no release, no take.
    expect(a_row.get_by_role("button")).to_have_count(0)
    only_mine(first)
    expect(queue_row(first, reference)).to_have_count(0)

    second = browser.new_context(base_url=live_server.url).new_page()
    sign_in(second, live_server, b.email)
    only_mine(second)
    b_row = queue_row(second, reference)
    expect(b_row).to_contain_text("Kim Handover")
    expect(b_row).to_contain_text("Assigned to me")
    expect(second.locator("tr.queue__row")).to_have_count(1)

    b_row.get_by_role("button", name="Release").click()
    expect(second.get_by_role("status")).to_contain_text("Released")
    expect(queue_row(second, reference)).to_contain_text("Not taken")
    only_mine(second)
    expect(queue_row(second, reference)).to_have_count(0)

    first.reload()
    expect(queue_row(first, reference)).to_have_count(0)  # still A's "mine": empty
    first.goto("/clinic/")
    expect(queue_row(first, reference)).to_contain_text("Not taken")
