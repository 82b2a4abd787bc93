"""Issue 25's first-week fixes in Chromium, the points test_first_week.py leaves to this module.

In English and French, with axe. Patients at 320 px: the send limit counts each draft's
real sends (7) and the region question offers what it asks (9). Clinicians at 1280 px:
"Take it" puts a new submission in review and the queue names who has it (13); "CSV for
Excel" downloads a file that starts with the byte-order mark and keeps its accents, from
the queue and from a prepared export (15). Point 14 (the QR code of `flask clinician
create`) is a terminal's: tests/auth/test_cli.py.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from questionnaire.extensions import db, limiter
from questionnaire.questions.catalogue import REGIONS, Section
from questionnaire.records.models import AuditEvent, Submission
from tests.answers import with_changes
from tests.browser.conftest import (
    PHONE,
    LiveServer,
    answer_every_page,
    assert_no_horizontal_scroll,
    axe_blocking,
    queue_row,
    read_reference,
    say,
    start,
    store_submission,
    tick_review_box,
)
from tests.harness.app import CASE_DAY, Clock, make_app
from tests.harness.clinician import make_clinician, sign_in
from tests.harness.served import serve_in_thread

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
LANGUAGES = {"en": "en-CA,en;q=0.9", "fr-CA": "fr-CA,fr;q=0.9"}
#: The UTF-8 byte-order mark Excel needs to read a CSV as UTF-8.
BOM = b"\xef\xbb\xbf"
#: A name whose accents break when Excel reads UTF-8 as Windows-1252 ("LÃ©vesque").
ACCENTED = "Zoé Lévesque-Côté"
#: What the pages say about which CSV to pick.
WHICH_TO_PICK = (
    "Opening the file in Microsoft Excel? Pick “CSV for Excel”, so accents show correctly. "
    "For any other program or a script, pick the plain CSV."
)


def patient_page(new_context: CreateContextCallback, tag: str) -> Page:
    """Return a 320-pixel page whose browser asks for this language."""
    headers = {"Accept-Language": LANGUAGES[tag]}
    return new_context(viewport=PHONE, extra_http_headers=headers).new_page()


def clinician_page(
    server: LiveServer, new_context: CreateContextCallback, tag: str, email: str
) -> Page:
    """Return a 1280-pixel page signed in as this clinician, the pages in this language."""
    page = new_context(viewport=DESKTOP).new_page()
    sign_in(page, server, email)
    if tag != "en":
        page.goto(f"/clinic/language/{tag}?next=/clinic/")
        expect(page.locator("html")).to_have_attribute("lang", tag)
    return page


def try_to_send_unticked(page: Page) -> None:
    """On the check page, press Send without the last tick: refused, the page says why."""
    page.get_by_role("button", name=say(page, "Send my answers")).click()
    expect(page).to_have_url(re.compile(r"/check$"))
    expect(page.locator(".error-summary")).to_be_visible()


def send_ticked(page: Page) -> None:
    """On the check page, tick the review box and press Send."""
    tick_review_box(page)
    page.get_by_role("button", name=say(page, "Send my answers")).click()


def audited(app: Flask, action: str, reference: str) -> list[dict[str, Any]]:
    """Return the details of one submission's audit events of this action, oldest first."""
    with app.app_context():
        submission_id = db.session.scalar(
            sa.select(Submission.id).where(Submission.reference == reference)
        )
        details = list(
            db.session.scalars(
                sa.select(AuditEvent.detail)
                .where(AuditEvent.action == action, AuditEvent.submission_id == submission_id)
                .order_by(AuditEvent.id)
            )
        )
        db.session.remove()
    return details


# --- Point 7: the send limit is per draft, and only real sends count ---------------------


@contextlib.contextmanager
def patient_page_on(browser: Browser, server: LiveServer, tag: str) -> Iterator[Page]:
    """Yield a 320-pixel page on another server than the session's, asking for this language."""
    context = browser.new_context(
        base_url=server.url, viewport=PHONE, extra_http_headers={"Accept-Language": LANGUAGES[tag]}
    )
    try:
        yield context.new_page()
    finally:
        context.close()


@contextlib.contextmanager
def limited_server(folder: Path, **limits: str) -> Iterator[LiveServer]:
    """Serve an app of its own with the rate limits on (the session's server has them off)."""
    was_enabled = limiter.enabled
    app = make_app(
        folder,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'limited.db'}",
        CLOCK=Clock(CASE_DAY),
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_KEY_PREFIX=f"browser-{uuid.uuid4().hex}",
        **limits,
    )
    with app.app_context():
        db.create_all()
    try:
        with serve_in_thread(app, name="limited-server") as url:
            yield LiveServer(url, app)
    finally:
        # Flask-Limiter is one object for every app: the session's server keeps its limits off.
        limiter.enabled = was_enabled


@pytest.mark.parametrize("tag", LANGUAGES)
def test_two_patients_on_one_connection_each_send_and_failed_attempts_do_not_count(
    browser: Browser, tmp_path: Path, tag: str
) -> None:
    # One send per draft an hour, two per address: six refused attempts and two sends from
    # one address all go through, because only real sends count.
    limits = {"RATELIMIT_SUBMIT": "1 per hour", "RATELIMIT_SUBMIT_ADDRESS": "2 per hour"}
    problems: list[str] = []
    with limited_server(tmp_path, **limits) as server:
        references = []
        for patient in ("first", "second"):
            with patient_page_on(browser, server, tag) as page:
                start(page)
                answer_every_page(page, with_changes({}), quickly=True)
                for _ in range(3):
                    try_to_send_unticked(page)
                assert_no_horizontal_scroll(page)
                problems += axe_blocking(page, f"{tag} {patient} check, refused")
                send_ticked(page)
                references.append(read_reference(page))
                problems += axe_blocking(page, f"{tag} {patient} confirmation")
        assert len(set(references)) == 2 and server.submission_count() == 2
        # The ceiling against floods is still there: a third real send from the address waits,
        # told kindly that the answers are kept.
        with patient_page_on(browser, server, tag) as third:
            start(third)
            answer_every_page(third, with_changes({}), quickly=True)
            send_ticked(third)
            expect(third.get_by_role("heading", level=1)).to_have_text(
                say(third, "Please wait a few minutes")
            )
            assert_no_horizontal_scroll(third)
            problems += axe_blocking(third, f"{tag} third, too many")
        assert server.submission_count() == 2
    assert problems == []


# --- Point 9: the region question offers what it asks -------------------------------------

#: A name quoted in a hint: "United States", « États-Unis ».
QUOTED = re.compile(r"[\"“«]\s*([^\"”»]+?)\s*[\"”»]")


@pytest.mark.parametrize("tag", LANGUAGES)
def test_the_region_question_offers_what_it_asks(
    live_server: LiveServer, new_context: CreateContextCallback, tag: str
) -> None:
    page = patient_page(new_context, tag)
    answers = with_changes({"region": "US"})
    problems: list[str] = []

    def visit(page: Page, section: Section) -> bool:
        if section.id != "about_you":
            return False
        field = page.locator("#field-region")
        question = field.locator('label[for="region"]')
        expect(question).to_have_text(say(page, "Where do you live?"))
        offered = page.eval_on_selector_all(
            "#region option", "options => options.filter(o => o.value).map(o => o.text.trim())"
        )
        assert offered == [say(page, choice.label) for choice in REGIONS]
        # Nothing asks for a state the list does not offer (it once said "US state").
        words = f"{question.inner_text()} {field.locator('.hint').inner_text()}"
        assert not re.search(r"\b(state|état)\b", words, re.IGNORECASE), words
        # Every answer the hint names is one the list offers.
        named = QUOTED.findall(field.locator(".hint").inner_text())
        assert named and set(named) <= set(offered), (named, offered)
        assert_no_horizontal_scroll(page)
        problems.extend(axe_blocking(page, f"{tag} about you"))
        return False

    start(page)
    answer_every_page(page, answers, visit, quickly=True)
    row = page.locator(
        ".summary__row", has=page.locator("dt", has_text=say(page, "Where do you live?"))
    )
    expect(row.locator("dd").first).to_have_text(say(page, "United States"))
    send_ticked(page)
    reference = read_reference(page)
    stored, _ = live_server.stored(reference)
    assert stored["region"] == "US"
    assert problems == []


# --- Point 13: "Take it" puts a new submission in review; the queue names who has it -----


def filtered_row(page: Page, reference: str) -> Locator:
    """Open the queue filtered to one reference; return its row."""
    page.goto(f"/clinic/?q={reference}")
    row = queue_row(page, reference)
    expect(row).to_have_count(1)
    return row


@pytest.mark.parametrize("tag", LANGUAGES)
def test_take_it_puts_a_new_submission_in_review_and_the_queue_says_who_has_it(
    live_server: LiveServer, new_context: CreateContextCallback, tag: str
) -> None:
    mark = uuid.uuid4().hex[:6]
    taker = make_clinician(live_server.app, f"take-{mark}@clinic.example", f"Dr Tania Take {mark}")
    other = make_clinician(live_server.app, f"look-{mark}@clinic.example", f"Dr Lou Look {mark}")
    reference = store_submission(
        live_server,
        {"full_name": f"Noé Desk {mark}", "date_of_birth": "1984-04-04"},
        submitted_at=CASE_DAY - timedelta(days=1200),
        flags=[("blood_pressure_very_high", "review")],
    )
    page = clinician_page(live_server, new_context, tag, taker.email)
    row = filtered_row(page, reference)
    status = row.locator("td").nth(5)
    expect(status).to_have_text(say(page, "new"))
    row.get_by_role("button", name=re.compile(say(page, "Take it"))).click()
    expect(page.get_by_role("status")).to_contain_text(say(page, "Assigned to you."))
    row = filtered_row(page, reference)
    expect(row.locator("td").nth(5)).to_have_text(say(page, "in review"))
    expect(row.locator(".assignment__who")).to_have_text(say(page, "Assigned to me"))
    assert_no_horizontal_scroll(page)
    problems = axe_blocking(page, f"{tag} queue, taken")

    colleague = clinician_page(live_server, new_context, tag, other.email)
    seen = filtered_row(colleague, reference)
    expect(seen.locator("td").nth(5)).to_have_text(say(colleague, "in review"))
    taken_by = say(colleague, "Taken by %(name)s") % {"name": taker.name}
    expect(seen.locator(".assignment__who")).to_have_text(taken_by)
    expect(seen.get_by_role("button")).to_have_count(0)  # neither take nor release for them
    problems += axe_blocking(colleague, f"{tag} queue, taken by another")

    assert audited(live_server.app, "set_status", reference) == [
        {"status": "in_review", "on": "take"}
    ]
    assert len(audited(live_server.app, "submission_taken", reference)) == 1
    assert problems == []


# --- Point 15: "CSV for Excel" starts with the byte-order mark and keeps its accents ------


def download(page: Page, link: Locator) -> tuple[str, bytes]:
    """Click a download link; return the file's suggested name and its bytes."""
    with page.expect_download() as started:
        link.click()
    saved = started.value
    return saved.suggested_filename, Path(saved.path()).read_bytes()


def assert_excel_reads_it(body: bytes, plain: bytes) -> None:
    """The file starts with the BOM, then is the plain CSV; read as UTF-8, accents are whole."""
    assert body.startswith(BOM) and not plain.startswith(BOM)
    assert body[len(BOM) :] == plain
    text = body.decode("utf-8-sig")
    assert ACCENTED in text and "Ã" not in text
    assert text.startswith('"reference"')  # the mark is not part of the first column's name


@pytest.mark.parametrize("tag", LANGUAGES)
def test_csv_for_excel_from_the_queue_and_from_a_prepared_export(
    live_server: LiveServer, new_context: CreateContextCallback, tag: str
) -> None:
    mark = uuid.uuid4().hex[:6]
    exporter = make_clinician(live_server.app, f"excel-{mark}@clinic.example", "Dr Excel")
    granted = live_server.app.test_cli_runner().invoke(
        args=["clinician", "grant-export", exporter.email]
    )
    assert granted.exit_code == 0, granted.output
    reference = store_submission(
        live_server,
        {"full_name": ACCENTED, "date_of_birth": "1979-09-09"},
        submitted_at=CASE_DAY - timedelta(days=3),
        flags=[("blood_pressure_very_high", "review")],
    )
    page = clinician_page(live_server, new_context, tag, exporter.email)
    filtered_row(page, reference)
    expect(page.locator("main")).to_contain_text(say(page, WHICH_TO_PICK))
    links = page.get_by_role("link", name=say(page, "CSV for Excel"), exact=True)
    expect(links).to_have_count(2)  # the submissions, then their flags
    name, body = download(page, links.first)
    assert name == "submissions-excel.csv"
    plain_link = page.get_by_role("link", name=say(page, "Download these submissions (CSV)"))
    plain_name, plain = download(page, plain_link)
    assert plain_name == "submissions.csv"
    assert_excel_reads_it(body, plain)
    problems = axe_blocking(page, f"{tag} queue with exports")

    # A prepared export (the way a large one goes) offers the same two files.
    prepare = page.get_by_role("button", name=say(page, "Prepare CSV export of these submissions"))
    prepare.click()
    expect(page).to_have_url(re.compile(r"/clinic/exports/\d+$"))
    ran = live_server.app.test_cli_runner().invoke(args=["exports", "worker", "--once"])
    assert ran.exit_code == 0, ran.output
    page.reload()
    excel_link = page.get_by_role(
        "link", name=say(page, "Download %(name)s (CSV for Excel)") % {"name": name}
    )
    job_name, job_body = download(page, excel_link)
    plain_job_name, job_plain = download(
        page, page.get_by_role("link", name=say(page, "Download %(name)s") % {"name": plain_name})
    )
    assert (job_name, plain_job_name) == ("submissions-excel.csv", "submissions.csv")
    assert_excel_reads_it(job_body, job_plain)
    assert job_body == body  # the same file as the direct download of the same filter
    expect(page.locator("main")).to_contain_text(say(page, WHICH_TO_PICK))
    assert_no_horizontal_scroll(page)
    problems += axe_blocking(page, f"{tag} prepared export")
    assert problems == []
