"""The identity block of a submission's page on screen: who the patient is, before the flags."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import LiveServer, store_submission
from tests.harness.clinician import make_clinician, sign_in

pytestmark = pytest.mark.browser

#: 02:30 UTC on 20 May is still 19 May, 22:30, in Toronto: the page must show the clinic's day.
SENT_UTC = datetime(2026, 5, 20, 2, 30, tzinfo=UTC)


def test_the_identity_block_says_who_the_patient_is_before_the_flags(
    browser: Browser, live_server: LiveServer
) -> None:
    tag = uuid.uuid4().hex[:6]
    reader = make_clinician(live_server.app, f"identity-{tag}@clinic.example", "Dr Reader")
    holder = make_clinician(live_server.app, f"holder-{tag}@clinic.example", f"Dr Holder {tag}")
    # The clock reads 2026-06-01 in Toronto: born on 2 June, the patient is not yet 26.
    reference = store_submission(
        live_server,
        {
            "full_name": "Aroha Identity-Block",
            "date_of_birth": "2000-06-02",
            "email": "aroha.block@example.org",
            "phone": "(416) 555-0199",
            "region": "CA-QC",
        },
        submitted_at=SENT_UTC,
        flags=[("suicidal_thoughts_now", "urgent"), ("blood_pressure_very_high", "review")],
        language="fr-CA",
        status="in_review",
        assigned_to_id=holder.id,
        assigned_at=SENT_UTC,
    )
    page = browser.new_context(base_url=live_server.url).new_page()
    sign_in(page, live_server, reader.email)
    page.goto(f"/clinic/submissions/{reference}")

    block = page.locator("section.identity")
    expect(block).to_be_visible()

    def shown(term: str) -> str:
        return (
            block.locator(".identity__row", has=page.locator(f"dt:text-is('{term}')"))
            .locator("dd")
            .inner_text()
        )

    assert shown("Name") == "Aroha Identity-Block"
    assert shown("Date of birth") == "2000-06-02 (age 25)"
    email = block.get_by_role("link", name="aroha.block@example.org")
    expect(email).to_have_attribute("href", "mailto:aroha.block@example.org")
    phone = block.get_by_role("link", name="(416) 555\u20110199")
    expect(phone).to_have_attribute("href", "tel:(416)5550199")
    assert shown("Province or state") == "Quebec"
    # Who has it, on screen: the name, not the print-only copy.
    taken = block.locator(".identity__row", has=page.locator("dt:text-is('Taken by')"))
    expect(taken.locator(".no-print .assignment__who")).to_have_text(f"Taken by Dr Holder {tag}")
    expect(taken.locator(".print-only")).to_be_hidden()
    facts = block.locator("p").first
    expect(facts).to_contain_text("Sent 2026-05-19 22:30 EDT")
    expect(facts).to_contain_text("answered in French (Canada)")
    expect(facts).to_contain_text("status in review")

    # Before the flags: first in the page's order and higher on the screen.
    flags_heading = page.get_by_role("heading", name="Flags (2)")
    first_flag = page.locator("section.flag").first
    for later in (flags_heading, first_flag):
        expect(later).to_be_visible()
        assert block.evaluate(
            "(block, later) => Boolean("
            "block.compareDocumentPosition(later) & Node.DOCUMENT_POSITION_FOLLOWING)",
            later.element_handle(),
        )
        block_box, later_box = block.bounding_box(), later.bounding_box()
        assert block_box is not None and later_box is not None
        assert block_box["y"] + block_box["height"] <= later_box["y"]


@pytest.mark.parametrize(
    ("typed", "href"),
    [
        ("416 555 0123 ext 45", "tel:4165550123;ext=45"),
        ("416-555-0123 x45", "tel:4165550123;ext=45"),
        ("+1 (416) 555-0123 ext. 7", "tel:+1(416)5550123;ext=7"),
    ],
)
def test_a_phone_with_an_extension_dials_the_number_then_the_extension(
    browser: Browser, live_server: LiveServer, typed: str, href: str
) -> None:
    # The form accepts an extension ("ext", "x"); a tel: link carries it as ;ext= (RFC 3966),
    # never as letters a dialler would turn into digits (e=3, x=9, t=8).
    email = f"extension-{uuid.uuid4().hex[:8]}@clinic.example"
    make_clinician(live_server.app, email, "Dr Dialler")
    reference = store_submission(
        live_server,
        {"full_name": "Sam Extension", "phone": typed},
        submitted_at=SENT_UTC,
    )
    page = browser.new_context(base_url=live_server.url).new_page()
    sign_in(page, live_server, email)
    page.goto(f"/clinic/submissions/{reference}")
    # Shown with non-breaking hyphens (issue 25), so it never wraps at one.
    shown = typed.replace("-", "\u2011")
    phone = page.locator("section.identity").get_by_role("link", name=shown)
    expect(phone).to_have_attribute("href", href)
