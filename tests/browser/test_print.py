"""A submission's page on screen and on paper: the heaviest rules.yaml case, signed in.

The case with the most flags is sent through the real patient pages, then a clinician
signs in through the real sign-in pages, opens it and prints it with Chromium (A4).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.answers import cases, with_changes
from tests.auth.helpers import PASSWORD, current_code, make_clinician
from tests.browser.conftest import (
    PHONE,
    LiveServer,
    answer_every_page,
    assert_no_horizontal_scroll,
    send,
    start,
)

#: A4 pages the heaviest case may take on paper.
MOST_PAGES = 3
#: One page object of a PDF (not the /Pages tree that holds them).
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")

_clinicians = itertools.count()


def heaviest_case() -> dict[str, Any]:
    """Return the rules.yaml case that raises the most flags (then has the most answers)."""
    usable = [case for case in cases() if "as_of" not in case]
    return max(usable, key=lambda case: (len(case["expect"]), len(case["answers"])))


@pytest.fixture(scope="module")
def heaviest(browser: Browser, live_server: LiveServer) -> Iterator[str]:
    """Send the heaviest case through the patient's pages; yield its reference (no dash)."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    start(page)
    case = heaviest_case()
    answer_every_page(page, with_changes(case["answers"]), quickly=True)
    reference = send(page)
    context.close()
    _, rules = live_server.stored(reference)
    assert rules == set(case["expect"])
    yield reference.replace("-", "")


def signed_in(page: Page, live_server: LiveServer, next_path: str) -> str:
    """Sign a new clinician in through the real pages, landing on `next_path`; return the name."""
    number = next(_clinicians)
    name = f"Dr Print {number}"
    clinician = make_clinician(live_server.app, f"print{number}@clinic.example", name)
    page.goto(f"/clinic/sign-in?next={next_path}")
    page.locator("#email").fill(clinician.email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.locator("#code").fill(current_code(live_server.app, clinician.email))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))
    return name


def test_the_heaviest_case_prints_on_at_most_three_a4_pages(
    page: Page, live_server: LiveServer, heaviest: str
) -> None:
    signed_in(page, live_server, f"/clinic/submissions/{heaviest}")
    pdf = page.pdf(format="A4", print_background=False)
    pages = len(PDF_PAGE.findall(pdf))
    print(f"heaviest case ({heaviest_case()['name']}): {pages} A4 page(s)")
    assert 1 <= pages <= MOST_PAGES


def test_on_paper_no_buttons_forms_navigation_or_footer_and_who_printed_it(
    page: Page, live_server: LiveServer, heaviest: str
) -> None:
    name = signed_in(page, live_server, f"/clinic/submissions/{heaviest}")
    line = page.locator(".print-line")
    expect(line).to_be_hidden()  # on screen
    expect(page.get_by_role("button", name="Acknowledge").first).to_be_visible()
    page.emulate_media(media="print")
    for selector in ("button", "form", "nav", "footer", ".site-footer", ".language-switch"):
        shown = page.locator(selector).evaluate_all(
            "nodes => nodes.filter(node => node.checkVisibility()).length"
        )
        assert shown == 0, f"{selector} shows on paper"
    expect(page.get_by_role("link", name="Queue")).to_be_hidden()
    expect(line).to_be_visible()
    # The served app's clock starts at noon UTC on the case day and runs on: in Toronto, 08:xx.
    expect(line).to_contain_text(re.compile(rf"by {re.escape(name)} on 2026-06-01 08:\d\d EDT"))
    expect(line).to_contain_text(f"/clinic/submissions/{heaviest}")
    # What a chart needs stays: the clinic, identity, flags with evidence and source, answers.
    expect(page.locator(".site-name")).to_be_visible()
    expect(page.locator(".identity")).to_be_visible()
    for flag in page.locator(".flag").all():
        expect(flag.locator(".evidence")).to_be_visible()
        expect(flag.locator(".meta").first).to_contain_text("source:")
    expect(page.locator(".answers .summary__row").first).to_be_visible()


def test_answers_line_up_on_a_wide_screen_and_stack_at_320_pixels(
    page: Page, live_server: LiveServer, heaviest: str
) -> None:
    signed_in(page, live_server, f"/clinic/submissions/{heaviest}")
    page.set_viewport_size({"width": 1280, "height": 900})
    lefts = page.locator(".answers .summary__row > dd:first-of-type").evaluate_all(
        "cells => cells.map(cell => Math.round(cell.getBoundingClientRect().left))"
    )
    assert len(lefts) > 20 and len(set(lefts)) == 1, sorted(set(lefts))
    identity = page.locator(".identity dd").evaluate_all(
        "cells => cells.map(cell => Math.round(cell.getBoundingClientRect().left))"
    )
    assert set(identity) == set(lefts)
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    row = page.locator(".answers .summary__row").first
    question, answer = row.locator("dt"), row.locator("dd").first
    assert question.bounding_box()["y"] < answer.bounding_box()["y"]  # type: ignore[index]
