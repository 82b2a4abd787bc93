"""Issue 25's first-week fixes in Chromium, in English and in French, with axe.

Patients at 320 px: an unusual weight asked again on its page and confirmed, the PHQ-9
page saying which measures are left out in French, the date of birth in words and the
crisis line unbroken on the check page, one promise and the clinic's phone on the
confirmation, the saved page saying what the link does and offering to email it.
Clinicians at 1280 px: the print link, and the search by name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from questionnaire.questions.catalogue import Section
from tests.answers import baseline, with_changes
from tests.browser.conftest import (
    PHONE,
    LiveServer,
    answer_every_page,
    answer_section_quickly,
    assert_no_horizontal_scroll,
    axe_blocking,
    press_continue,
    read_reference,
    say,
    start,
    tick_review_box,
)
from tests.harness.clinician import make_clinician, sign_in

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
LANGUAGES = {"en": "en-CA,en;q=0.9", "fr-CA": "fr-CA,fr;q=0.9"}
#: The date of birth of the baseline answers, in words, as each language writes it.
BORN_IN_WORDS = {"en": "17 May 1980", "fr-CA": "17 mai 1980"}


def shoot(page: Page, live_server: LiveServer, name: str) -> None:
    """Save a full-page screenshot beside the server's instance (looked at by the author)."""
    page.screenshot(path=str(Path(live_server.app.instance_path) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("tag", LANGUAGES)
def test_a_patient_meets_the_first_week_fixes_at_320_pixels(
    live_server: LiveServer, new_context: CreateContextCallback, tag: str
) -> None:
    context = new_context(viewport=PHONE, extra_http_headers={"Accept-Language": LANGUAGES[tag]})
    page = context.new_page()
    answers: dict[str, Any] = with_changes({"reasons": ["depression", "ptsd"]})
    problems: list[str] = []

    def visit(page: Page, section: Section) -> bool:
        if section.id == "about_you":
            answer_section_quickly(page, section, {**answers, "weight_value": "900"})
            press_continue(page)
            message = say(
                page,
                'Check your weight. It is outside the usual range. If it is right, tick "This '
                'weight is right" below and continue.',
            )
            expect(page.locator(".error-summary")).to_contain_text(message[:20])
            assert_no_horizontal_scroll(page)
            problems.extend(axe_blocking(page, f"{tag} weight check"))
            shoot(page, live_server, f"weight-check-{tag}")
            page.locator('label[for="weight_is_right"]').click()
            return True
        if section.id == "phq9" and tag != "en":
            note = page.locator("p.hint", has_text="(GAD-7)")
            expect(note).to_contain_text("ne sont pas posées en français ici")
            expect(page.locator("p.hint", has_text="(PCL-5)")).to_be_visible()
            problems.extend(axe_blocking(page, f"{tag} PHQ-9 page"))
            shoot(page, live_server, f"phq9-{tag}")
        return False

    start(page)
    answer_every_page(page, answers, visit, quickly=True)
    summary = page.locator(".summary").first
    expect(summary).to_contain_text(BORN_IN_WORDS[tag])
    expect(page.locator("body")).not_to_contain_text("1980-05-17")
    if tag != "en":
        expect(page.locator("body")).not_to_contain_text("Feeling nervous")
    line = page.locator('footer a[href="tel:988"]')
    expect(line).to_have_text("9\u20118\u20118")
    assert line.evaluate("element => element.getClientRects().length") == 1
    assert_no_horizontal_scroll(page)
    problems.extend(axe_blocking(page, f"{tag} check"))
    shoot(page, live_server, f"check-{tag}")
    tick_review_box(page)
    page.get_by_role("button", name=say(page, "Send my answers")).click()
    read_reference(page)
    done = page.locator("main")
    expect(done).to_contain_text("416 555 0100")
    expect(done).to_contain_text(say(page, "2 working days"))
    problems.extend(axe_blocking(page, f"{tag} confirmation"))
    shoot(page, live_server, f"done-{tag}")
    assert problems == []


@pytest.mark.parametrize("tag", LANGUAGES)
def test_the_saved_page_says_what_the_link_does_and_offers_to_email_it(
    live_server: LiveServer, new_context: CreateContextCallback, tag: str
) -> None:
    context = new_context(viewport=PHONE, extra_http_headers={"Accept-Language": LANGUAGES[tag]})
    page = context.new_page()
    start(page)
    answer_section_quickly(page, _section("about_you"), baseline())
    press_continue(page)
    page.get_by_role("button", name=say(page, "Save and come back later")).click()
    expect(page).to_have_url(re.compile(r"/saved$"))
    main = page.locator("main")
    expect(main).to_contain_text(say(page, "Email me this link"))
    expect(main).to_contain_text("sam@example.com")
    works_once = "fonctionne une seule fois" if tag != "en" else "It works once."
    expect(main).to_contain_text(works_once)
    assert_no_horizontal_scroll(page)
    problems = axe_blocking(page, f"{tag} saved")
    shoot(page, live_server, f"saved-{tag}")
    # No mail server in this test: the page says so and shows the link again.
    page.get_by_role("button", name=say(page, "Email me this link")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        say(page, "We could not email your link")
    )
    expect(page.locator(".resume-link a")).to_have_attribute("href", re.compile(r"/resume/"))
    problems += axe_blocking(page, f"{tag} email failed")
    assert problems == []


def _section(section_id: str) -> Section:
    from questionnaire.questions.catalogue import PAGES

    return next(section for section in PAGES if section.id == section_id)


@pytest.mark.parametrize("tag", LANGUAGES)
def test_a_clinician_searches_by_name_and_prints_at_1280_pixels(
    live_server: LiveServer, new_context: CreateContextCallback, tag: str
) -> None:
    patient = new_context(viewport=PHONE).new_page()
    start(patient)
    answer_every_page(patient, with_changes({"full_name": f"Rosalie Côté-{tag}"}), quickly=True)
    tick_review_box(patient)
    patient.get_by_role("button", name="Send my answers").click()
    reference = read_reference(patient)
    email = f"first.week.{tag.lower()}@clinic.example"
    make_clinician(live_server.app, email, "Dr First Week")
    page = new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server, email)
    if tag != "en":
        page.goto(f"/clinic/language/{tag}?next=/clinic/")
    page.get_by_role("link", name=say(page, "Search by name")).click()
    expect(page).to_have_url(re.compile(r"/clinic/search$"))
    page.locator("#name").fill("cote")
    page.get_by_role("button", name=say(page, "Search"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/clinic/search$"))  # a POST: no name in the URL
    expect(page.locator("table")).to_contain_text(f"Rosalie Côté-{tag}")
    problems = axe_blocking(page, f"{tag} search")
    shoot(page, live_server, f"search-{tag}")
    page.get_by_role("link", name=reference).click()
    page.get_by_role("link", name=say(page, "Print"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/print$"))
    problems += axe_blocking(page, f"{tag} print view")
    assert_no_horizontal_scroll(page)
    assert problems == []
