"""Accounts in a real browser: an admin invites, the newcomer enrols elsewhere; sign-outs."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import LiveServer
from tests.harness.clinician import make_clinician, sign_in

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a fresh and long passphrase"


def code_for(live_server: LiveServer, secret: str) -> str:
    generator = pyotp.TOTP(secret)
    return generator.generate_otp(generator.timecode(live_server.app.config["CLOCK"]()))


def advance(live_server: LiveServer) -> None:
    """Move the served app's clock to the next 30-second step (a code works once)."""
    live_server.app.config["CLOCK"].advance(seconds=30)


@pytest.fixture
def admin_email(live_server: LiveServer) -> str:
    email = f"lead-{uuid.uuid4().hex[:8]}@clinic.example"
    make_clinician(live_server.app, email, "Lead Admin", is_admin=True)
    advance(live_server)
    return email


def test_an_admin_invites_and_the_newcomer_enrols_seeing_the_qr_code(
    browser: Browser, live_server: LiveServer, admin_email: str
) -> None:
    admin = browser.new_context(base_url=live_server.url).new_page()
    sign_in(admin, live_server, admin_email)
    admin.click("text=Accounts")
    admin.click("text=Invite a clinician")
    admin.fill("#name", "Bea Nwosu")
    admin.fill("#email", "bea-browser@clinic.example")
    admin.click("text=Make an enrolment link")
    link = admin.input_value("#link")
    assert "/clinic/enrol/" in link

    newcomer = browser.new_context().new_page()
    newcomer.goto(link)
    newcomer.fill("#password", NEW_PASSWORD)
    newcomer.fill("#confirm", NEW_PASSWORD)
    newcomer.click("button[type=submit]")
    expect(newcomer.locator(".qr svg")).to_be_visible()
    uri = newcomer.input_value("#otpauth")
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    newcomer.fill("#code", code_for(live_server, secret))
    newcomer.click("text=Confirm and sign in")
    expect(newcomer).to_have_url(re.compile(r"/clinic/$"))
    expect(newcomer.locator(".account")).to_contain_text("Bea Nwosu")

    # The link works once.
    newcomer.goto(link)
    expect(newcomer.locator("h1")).to_have_text("This link does not work")


def test_the_guard_keeps_a_clinician_who_is_not_an_admin_out_of_the_account_pages(
    browser: Browser, live_server: LiveServer
) -> None:
    make_clinician(live_server.app, "staff-browser@clinic.example", "Staff")
    advance(live_server)
    page = browser.new_context(base_url=live_server.url).new_page()
    sign_in(page, live_server, "staff-browser@clinic.example")
    expect(page.locator("text=Accounts")).to_have_count(0)
    response = page.goto("/clinic/accounts/")
    assert response is not None and response.status == 403


def test_sign_out_here_keeps_the_other_browser_and_everywhere_ends_both(
    browser: Browser, live_server: LiveServer
) -> None:
    email = "twice-browser@clinic.example"
    make_clinician(live_server.app, email, "Twice")
    advance(live_server)
    one = browser.new_context(base_url=live_server.url).new_page()
    two = browser.new_context(base_url=live_server.url).new_page()
    sign_in(one, live_server, email)
    advance(live_server)
    sign_in(two, live_server, email)

    one.click("button:text-is('Sign out')")
    expect(one).to_have_url(re.compile(r"/clinic/sign-in$"))
    two.goto("/clinic/")
    expect(two).to_have_url(re.compile(r"/clinic/$"))

    advance(live_server)
    sign_in(one, live_server, email)
    two.click("text=Sign out everywhere")
    expect(two).to_have_url(re.compile(r"/clinic/sign-in$"))
    one.goto("/clinic/")
    expect(one).to_have_url(re.compile(r"/clinic/sign-in"))
