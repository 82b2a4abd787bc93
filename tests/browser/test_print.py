"""A submission's page on screen and on paper: the heaviest rules.yaml case, signed in.

The case with the most flags is sent through the real patient pages, then a clinician
signs in through the real sign-in pages, opens it and prints it with Chromium (A4).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent
from tests.answers import cases, with_changes
from tests.browser.conftest import (
    PHONE,
    LiveServer,
    answer_every_page,
    assert_no_horizontal_scroll,
    axe_blocking,
    send,
    start,
)
from tests.harness.clinician import make_clinician, sign_in

pytestmark = pytest.mark.browser

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
    sign_in(page, live_server, clinician, next_url=next_path)
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


def test_the_print_view_is_a_plain_link_and_prints_the_heaviest_case_on_at_most_three_pages(
    page: Page, live_server: LiveServer, heaviest: str
) -> None:
    """Issue 25: one line per flag, each answer once, answers in two columns, at most 3 A4."""
    signed_in(page, live_server, f"/clinic/submissions/{heaviest}")
    page.set_viewport_size({"width": 1280, "height": 900})
    link = page.get_by_role("link", name="Print", exact=True)
    expect(link).to_have_attribute("href", f"/clinic/submissions/{heaviest}/print")
    link.click()
    expect(page).to_have_url(re.compile(rf"/clinic/submissions/{heaviest}/print$"))
    flags = page.locator("li.print-flag")
    count = flags.count()
    assert count == len(heaviest_case()["expect"])
    for flag in flags.all():
        expect(flag).to_contain_text("source:")
    page.emulate_media(media="print")
    # One line per flag: at 9pt on A4 a flag takes no more than three lines.
    lines = flags.evaluate_all(
        "nodes => nodes.map(node => node.getBoundingClientRect().height"
        " / parseFloat(getComputedStyle(node).lineHeight))"
    )
    assert all(0 < count < 3.5 for count in lines), lines
    columns = page.locator(".print-answers").evaluate(
        "element => getComputedStyle(element).columnCount"
    )
    assert columns == "2"
    # No answer printed twice: a flag's answer is left out of the answers below.
    shown = page.locator(".print-answers dt").all_inner_texts()
    assert len(shown) == len(set(shown)), shown
    pdf = page.pdf(format="A4", print_background=False)
    pages = len(PDF_PAGE.findall(pdf))
    print(f"print view, heaviest case: {pages} A4 page(s)")
    assert 1 <= pages <= MOST_PAGES
    (Path(str(live_server.app.instance_path)) / "print-view.pdf").write_bytes(pdf)
    page.screenshot(path=str(live_server.app.instance_path) + "/print-view.png", full_page=True)
    assert axe_blocking(page, "print view") == []
    with live_server.app.app_context():
        views = db.session.scalars(
            sa.select(AuditEvent.detail).where(AuditEvent.action == "view_submission")
        ).all()
    assert {"view": "print"} in views
