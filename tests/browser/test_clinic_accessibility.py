"""axe-core on the clinician's desk: queue, submission, dashboard, accounts, patient requests."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from tests.answers import with_changes
from tests.browser.conftest import PHONE, LiveServer, axe_blocking, store_submission
from tests.harness.app import CASE_DAY
from tests.harness.clinician import make_clinician, sign_in

pytestmark = pytest.mark.browser


WIDE: ViewportSize = {"width": 1280, "height": 800}


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["wide", "320px"])
def test_the_desk_pages_have_no_serious_axe_violation(
    browser: Browser, live_server: LiveServer, viewport: ViewportSize
) -> None:
    email = f"axe-{uuid.uuid4().hex[:8]}@clinic.example"
    make_clinician(live_server.app, email, "Axel Axe", is_admin=True)
    # A whole answer set, flagged and taken, so every part of the page is drawn.
    reference = store_submission(
        live_server,
        with_changes({"full_name": "Robin Axe", "phone": "416 555 0142"}),
        submitted_at=CASE_DAY - timedelta(days=3),
        flags=[("suicidal_thoughts_now", "urgent"), ("mania_history", "review")],
    )
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    page = context.new_page()
    sign_in(page, live_server, email)
    problems: list[str] = []

    code = f"{reference[:4]}-{reference[4:]}"
    page.goto(f"/clinic/?q={code}")
    expect(page.locator("a.queue__reference", has_text=code)).to_be_visible()
    page.get_by_role("button", name=f"Take it {code}").click()
    expect(page.get_by_role("status")).to_contain_text("Assigned to you.")
    problems += axe_blocking(page, "queue, after a take")

    page.goto(f"/clinic/submissions/{reference}")
    expect(page.locator("section.identity")).to_contain_text("Robin Axe")
    problems += axe_blocking(page, "submission page")

    page.goto("/clinic/dashboard")
    expect(page.locator("svg.chart__drawing")).to_be_visible()
    problems += axe_blocking(page, "dashboard")

    page.goto("/clinic/accounts/")
    expect(page.locator("table.accounts")).to_contain_text(email)
    problems += axe_blocking(page, "account list")

    page.goto(f"/clinic/requests?q={code}")
    expect(page.get_by_role("button", name="Hide it")).to_be_visible()  # taken: clinical use
    problems += axe_blocking(page, "patient requests")

    page.goto(f"/clinic/requests/{reference}/copy")
    expect(page.locator("h1")).to_contain_text("Your answers to")
    problems += axe_blocking(page, "the patient's copy")

    assert not problems, "axe found serious or critical problems:\n" + "\n".join(problems)
