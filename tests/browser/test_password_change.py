"""A clinician changes their own password in Chromium: the current one and a fresh code first."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.auth.helpers import FAILED
from tests.browser.conftest import LiveServer, advance_clock
from tests.harness.clinician import PASSWORD, current_code, make_clinician, sign_in

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a quite different passphrase"


def fill_change(page: Page, current: str, code: str, new: str = NEW_PASSWORD) -> None:
    """Fill the password page as a person does and press Change password."""
    page.get_by_label("Current password").fill(current)
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("The new password again").fill(new)
    page.get_by_role("button", name="Change password").click()


def test_a_wrong_current_password_is_refused_saying_what_to_do_then_the_change_holds(
    browser: Browser, live_server: LiveServer
) -> None:
    email = f"pat-{uuid.uuid4().hex[:8]}@clinic.example"
    make_clinician(live_server.app, email, "Pat Password")
    page = browser.new_context(base_url=live_server.url).new_page()
    sign_in(page, live_server, email)
    page.get_by_role("link", name="Password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")

    advance_clock(live_server)
    fill_change(page, "not my password at all", current_code(live_server.app, email))
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    problem = summary.get_by_role("link")
    expect(problem).to_have_attribute("href", "#current")
    # It says what is wrong and what to do about it (enter, with the code the app shows now).
    expect(problem).to_have_text(re.compile(r"not right\. Enter .*current password", re.I))
    # Nothing typed is echoed back in a password box.
    expect(page.get_by_label("Current password")).to_have_value("")

    # The right password and a fresh code change it; this browser stays signed in.
    advance_clock(live_server)
    fill_change(page, PASSWORD, current_code(live_server.app, email))
    expect(page.get_by_role("status")).to_have_text(
        "Your password is changed. Every other session has ended."
    )
    expect(page.locator(".error-summary")).to_have_count(0)
    page.goto("/clinic/")
    expect(page).to_have_url(re.compile(r"/clinic/$"))
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/clinic/sign-in$"))

    # The old password no longer signs in; the new one does.
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text(FAILED)
    expect(page).to_have_url(re.compile(r"/clinic/sign-in$"))
    sign_in(page, live_server, email, NEW_PASSWORD)


def test_another_browser_is_signed_out_by_the_change(
    browser: Browser, live_server: LiveServer
) -> None:
    email = f"quinn-{uuid.uuid4().hex[:8]}@clinic.example"
    make_clinician(live_server.app, email, "Quinn Twice")
    here = browser.new_context(base_url=live_server.url).new_page()
    there = browser.new_context(base_url=live_server.url).new_page()
    sign_in(here, live_server, email)
    sign_in(there, live_server, email)
    here.goto("/clinic/account/password")
    advance_clock(live_server)
    fill_change(here, PASSWORD, current_code(live_server.app, email))
    expect(here.get_by_role("status")).to_contain_text("Your password is changed.")
    there.goto("/clinic/")
    expect(there).to_have_url(re.compile(r"/clinic/sign-in"))
    here.goto("/clinic/")
    expect(here).to_have_url(re.compile(r"/clinic/$"))
