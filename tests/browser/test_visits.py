"""The visit pages in a real browser: axe on each, crisis help at once on the check-in."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from questionnaire.extensions import db, now
from questionnaire.visits.service import patient_for, reviewed_submission, schedule
from tests.browser.conftest import (
    PHONE,
    LiveServer,
    axe_blocking,
    store_submission,
)
from tests.harness.app import CASE_DAY
from tests.harness.clinician import make_clinician, sign_in

pytestmark = pytest.mark.browser

WIDE: ViewportSize = {"width": 1280, "height": 800}


def booked_soon(server: LiveServer, language: str = "en") -> tuple[str, int]:
    """Store a reviewed intake and book its visit 45 minutes from the server's clock."""
    reference = store_submission(
        server,
        {"full_name": "Robin Visit"},
        submitted_at=CASE_DAY - timedelta(days=10),
        status="reviewed",
        language=language,
        facts={"phq9_total": 18},
    )
    with server.app.app_context():
        submission = reviewed_submission(db.session, reference)
        patient = patient_for(db.session, submission, None)
        booking = schedule(
            db.session, patient, now() + timedelta(minutes=45), actor=None, now=now()
        )
        db.session.commit()
        patient_id = patient.id
        db.session.remove()
    return booking.token, patient_id


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["wide", "320px"])
def test_the_check_in_shows_crisis_help_at_once_and_has_no_serious_axe_violation(
    browser: Browser, live_server: LiveServer, viewport: ViewportSize
) -> None:
    token, _patient = booked_soon(live_server)
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    page = context.new_page()
    page.goto(f"/checkin/{token}")
    expect(page.locator("h1")).to_have_text("Before your treatment today")
    problems = axe_blocking(page, "check-in")
    panel = page.locator('[data-crisis-for="visit_suicidal_thoughts_now"] .crisis-panel')
    expect(panel).to_be_hidden()
    page.locator("#visit_suicidal_thoughts_now-prefer_not").check()
    expect(panel).to_be_visible()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator(".error-summary")).to_be_visible()
    problems += axe_blocking(page, "check-in with errors")
    assert not problems, "axe found serious or critical problems:\n" + "\n".join(problems)
    context.close()


def test_the_clinic_visit_pages_have_no_serious_axe_violation(
    browser: Browser, live_server: LiveServer
) -> None:
    email = f"visits-{uuid.uuid4().hex[:8]}@clinic.example"
    make_clinician(live_server.app, email, "Vera Visits")
    _token, patient_id = booked_soon(live_server)
    context = browser.new_context(base_url=live_server.url, viewport=WIDE)
    page = context.new_page()
    sign_in(page, live_server, email)
    problems: list[str] = []
    page.goto("/clinic/today")
    expect(page.locator("tr.visit").first).to_be_visible()
    problems += axe_blocking(page, "day view")
    page.goto(f"/clinic/patients/{patient_id}")
    expect(page.locator("#course-totals")).to_be_visible()
    problems += axe_blocking(page, "patient page")
    page.goto("/clinic/visits/new")
    problems += axe_blocking(page, "booking")
    assert not problems, "axe found serious or critical problems:\n" + "\n".join(problems)
    context.close()
