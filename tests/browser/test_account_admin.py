"""The account list as an admin in Chromium: disable, enable, reset, roles, and the refusals."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import LiveServer
from tests.harness.clinician import make_clinician, sign_in

pytestmark = pytest.mark.browser

#: The account list's columns, as its header names them.
COLUMNS = ("Name", "Email address", "State", "Admin", "CSV exports", "Changes")


def account_row(page: Page, email: str) -> Locator:
    """Return the row of the account list that holds this email address."""
    return page.locator("table.accounts tbody tr", has=page.locator(f"td:text-is('{email}')"))


def cell(page: Page, email: str, column: str) -> Locator:
    return account_row(page, email).locator("td").nth(COLUMNS.index(column))


def press(page: Page, email: str, button: str) -> None:
    """Press one of the buttons in an account's row; land on the account list again."""
    account_row(page, email).get_by_role("button", name=button, exact=True).click()


def message(page: Page) -> Locator:
    return page.get_by_role("status")


@pytest.fixture
def admin(browser: Browser, live_server: LiveServer) -> tuple[Page, str]:
    """Return a page signed in as a new admin, on the account list, and the admin's email."""
    email = f"admin-{uuid.uuid4().hex[:8]}@clinic.example"
    make_clinician(live_server.app, email, "Ada Admin", is_admin=True)
    page = browser.new_context(base_url=live_server.url).new_page()
    sign_in(page, live_server, email)
    page.get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinician accounts")
    return page, email


def signed_in_colleague(
    browser: Browser, live_server: LiveServer, admin_page: Page, handle: str, name: str
) -> tuple[str, Page]:
    """Create a clinician, sign them in on a page of their own; the admin's list shows them."""
    email = f"{handle}-{uuid.uuid4().hex[:8]}@clinic.example"
    make_clinician(live_server.app, email, name)
    colleague = browser.new_context(base_url=live_server.url).new_page()
    sign_in(colleague, live_server, email)
    admin_page.reload()
    expect(cell(admin_page, email, "State")).to_have_text("Active")
    return email, colleague


def test_an_admin_disables_and_enables_a_clinician_whose_session_ends_at_once(
    browser: Browser, live_server: LiveServer, admin: tuple[Page, str]
) -> None:
    page, _ = admin
    email, carol = signed_in_colleague(browser, live_server, page, "carol", "Carol Disabled")

    press(page, email, "Disable")
    expect(message(page)).to_have_text("Carol Disabled is disabled; their sessions have ended.")
    expect(cell(page, email, "State")).to_have_text("Disabled")
    carol.goto("/clinic/")
    expect(carol).to_have_url(re.compile(r"/clinic/sign-in"))

    press(page, email, "Enable")
    expect(message(page)).to_have_text("Carol Disabled can sign in again.")
    expect(cell(page, email, "State")).to_have_text("Active")
    sign_in(carol, live_server, email)


def test_an_admin_resets_a_second_factor_and_is_shown_an_enrolment_link(
    browser: Browser, live_server: LiveServer, admin: tuple[Page, str]
) -> None:
    page, _ = admin
    email, dev = signed_in_colleague(browser, live_server, page, "dev", "Dev Reset")

    press(page, email, "Reset second factor")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enrolment link for Dev Reset")
    expect(page.locator("main")).to_contain_text("The second factor of Dev Reset no longer works")
    link = page.input_value("#link")
    assert re.fullmatch(rf"{re.escape(live_server.url)}/clinic/enrol/[\w-]{{40,}}", link), link
    dev.goto("/clinic/")
    expect(dev).to_have_url(re.compile(r"/clinic/sign-in"))

    page.get_by_role("link", name="Back to clinician accounts").click()
    expect(cell(page, email, "State")).to_have_text("Waiting for enrolment")
    # The link opens the enrolment page: the clinician chooses a password again.
    dev.goto(link)
    expect(dev.get_by_label("New password")).to_be_visible()


def test_an_admin_grants_and_removes_admin_and_csv_exports(
    browser: Browser, live_server: LiveServer, admin: tuple[Page, str]
) -> None:
    page, _ = admin
    email = f"eve-{uuid.uuid4().hex[:8]}@clinic.example"
    make_clinician(live_server.app, email, "Eve Roles")
    page.reload()
    expect(cell(page, email, "Admin")).to_have_text("No")
    expect(cell(page, email, "CSV exports")).to_have_text("No")

    press(page, email, "Make admin")
    expect(message(page)).to_have_text("Eve Roles is now an admin.")
    expect(cell(page, email, "Admin")).to_have_text("Yes")
    press(page, email, "Allow CSV exports")
    expect(message(page)).to_have_text("Eve Roles may now download CSV exports.")
    expect(cell(page, email, "CSV exports")).to_have_text("Yes")

    # What the grants open, in Eve's own browser: the account pages and the CSV links.
    eve = browser.new_context(base_url=live_server.url).new_page()
    sign_in(eve, live_server, email)
    expect(eve.get_by_role("link", name="Accounts")).to_be_visible()
    expect(eve.get_by_role("link", name="Download these submissions (CSV)")).to_be_visible()

    press(page, email, "Remove admin")
    expect(message(page)).to_have_text("Eve Roles is no longer an admin.")
    expect(cell(page, email, "Admin")).to_have_text("No")
    press(page, email, "Remove CSV exports")
    expect(message(page)).to_have_text("Eve Roles may no longer download CSV exports.")
    expect(cell(page, email, "CSV exports")).to_have_text("No")

    eve.reload()
    expect(eve.get_by_role("link", name="Accounts")).to_have_count(0)
    expect(eve.get_by_role("link", name="Download these submissions (CSV)")).to_have_count(0)
    response = eve.goto("/clinic/accounts/")
    assert response is not None and response.status == 403


def test_an_admin_cannot_remove_their_own_admin_role_or_disable_themselves(
    admin: tuple[Page, str],
) -> None:
    page, email = admin
    expect(cell(page, email, "Name")).to_have_text("Ada Admin (you)")

    press(page, email, "Remove admin")
    refused = page.locator(".notice--error")
    expect(refused).to_have_text("You cannot remove your own admin role. Ask another admin.")
    expect(cell(page, email, "Admin")).to_have_text("Yes")

    press(page, email, "Disable")
    expect(refused).to_have_text("You cannot disable your own account. Ask another admin.")
    expect(cell(page, email, "State")).to_have_text("Active")
    # Still signed in, still an admin.
    page.goto("/clinic/accounts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinician accounts")
