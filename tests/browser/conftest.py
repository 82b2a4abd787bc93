"""Browser fixtures: Chromium through pytest-playwright, the app served on 127.0.0.1.

The app runs in a thread of this test process (never a separate background step), on its
own SQLite file and the fixed test clock, for the whole browser session. Each test gets a
fresh browser context, so a fresh cookie jar and a fresh draft.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Locator, Page, ViewportSize, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from questionnaire import language
from questionnaire.extensions import db
from questionnaire.questions.catalogue import PAGES, Item, Kind, Section
from questionnaire.records.models import Flag, Submission
from questionnaire.records.references import new_reference
from questionnaire.rules import LEVEL_RANK, LEVELS
from tests.harness.app import CASE_DAY, Clock, make_app
from tests.harness.patient import asked_pages
from tests.harness.served import serve_in_thread

DEFAULT_CHROMIUM = "/usr/bin/chromium"
INSTALL_CHROMIUM = "install chromium: apt-get install -y chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

PHONE: ViewportSize = {"width": 320, "height": 640}
LARGE_PHONE: ViewportSize = {"width": 390, "height": 844}

#: A reference as the confirmation page shows it, e.g. ABCD-2345.
REFERENCE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")


def chromium_executable() -> str | None:
    """Return the Chromium to drive ($BROWSER, else /usr/bin/chromium), or None if missing."""
    wanted = os.environ.get("BROWSER") or DEFAULT_CHROMIUM
    return shutil.which(wanted)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch the system Chromium (Playwright's own browsers are never downloaded)."""
    executable = chromium_executable()
    if executable is None:
        wanted = os.environ.get("BROWSER") or DEFAULT_CHROMIUM
        pytest.skip(f"no Chromium at {wanted}; {INSTALL_CHROMIUM}")
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_FLAGS}


@dataclass(frozen=True)
class LiveServer:
    """The app as the browser reaches it, and a way to read what it stored."""

    url: str
    app: Flask

    def submission_count(self) -> int:
        with self.app.app_context():
            count = db.session.scalar(sa.select(sa.func.count()).select_from(Submission))
            db.session.remove()
            return int(count or 0)

    def stored(self, reference: str) -> tuple[dict[str, Any], set[str]]:
        """Return the answers and the flag rules of the submission shown as `reference`."""
        with self.app.app_context():
            code = reference.replace("-", "")
            submission = db.session.scalar(
                sa.select(Submission).where(Submission.reference == code)
            )
            assert submission is not None, f"no submission with reference {reference}"
            result = dict(submission.answers), {flag.rule for flag in submission.flags}
            db.session.remove()
            return result


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve the app on 127.0.0.1 (a free port) from a daemon thread for the whole session."""
    folder: Path = tmp_path_factory.mktemp("browser")
    app = make_app(
        folder,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'browser.db'}",
        CLOCK=Clock(CASE_DAY),
    )
    with app.app_context():
        db.create_all()
    with serve_in_thread(app) as url:
        yield LiveServer(url, app)


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """Point pytest-playwright's contexts at the live server, so page.goto("/") works."""
    return live_server.url


@pytest.fixture
def phone_page(new_context: CreateContextCallback) -> Page:
    """Return a page in a fresh 320x640 context with JavaScript on."""
    return new_context(viewport=PHONE).new_page()


# --- What a patient does in the browser -----------------------------------------------


def assert_no_horizontal_scroll(page: Page) -> None:
    """Fail when the page is wider than the window (the patient would scroll sideways)."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth, location.pathname]"
    )
    scroll_width, inner_width, path = widths
    assert scroll_width <= inner_width, (
        f"{path} scrolls sideways at {inner_width}px: the page is {scroll_width}px wide; "
        f"widest elements: {widest_elements(page, inner_width)}"
    )


def widest_elements(page: Page, limit: int) -> list[str]:
    """Return a description of the elements whose right edge passes `limit` pixels."""
    return page.evaluate(
        """limit => Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > limit)
            .slice(0, 5)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                 + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
                 + ' right=' + Math.round(e.getBoundingClientRect().right))""",
        limit,
    )


def input_id(item: Item, code: str) -> str:
    """Return the id of one radio or checkbox (the first choice carries the item's id)."""
    return item.id if code == item.codes[0] else f"{item.id}-{code}"


def fill_date(page: Page, name: str, value: str) -> None:
    """Type a YYYY-MM-DD date into its three inputs (day, month, year) as a person does."""
    year, month, day = value.split("-")
    for part, typed in (("day", day.lstrip("0")), ("month", month.lstrip("0")), ("year", year)):
        box = page.locator(f"#{name}-{part}")
        box.fill("")
        box.press_sequentially(typed)
        expect(box).to_have_value(typed)


def answer_item(page: Page, item: Item, value: Any) -> None:
    """Answer one question the way a person does: type, click the words, or choose."""
    field = page.locator(f"#field-{item.id}")
    if item.kind in (Kind.CHOICE, Kind.MULTI) and len(item.choices) <= 8:
        for code in value if isinstance(value, list) else [value]:
            field.locator(f'label[for="{input_id(item, code)}"]').click()
            expect(page.locator(f"#{input_id(item, code)}")).to_be_checked()
    elif item.kind is Kind.CHOICE:
        page.locator(f"#{item.id}").select_option(label=say(page, item.choice_label(value)))
        expect(page.locator(f"#{item.id}")).to_have_value(value)
    elif item.kind is Kind.DATE:
        fill_date(page, item.id, value)
    else:
        box = page.locator(f"#{item.id}")
        box.fill("")
        box.press_sequentially(str(value))
        expect(box).to_have_value(str(value))


def answer_section(page: Page, section: Section, answers: dict[str, Any]) -> None:
    """Answer every question of one page that `answers` holds."""
    for item in section.items:
        if item.id in answers:
            answer_item(page, item, answers[item.id])


def answer_section_quickly(page: Page, section: Section, answers: dict[str, Any]) -> None:
    """Set one page's answers in a single script call, firing the change events.

    For tests about something other than typing and clicking (they stay quick); the
    journey tests use answer_section, which works the controls one by one.
    """
    steps: list[tuple[str, str, str]] = []
    for item in section.items:
        if item.id not in answers:
            continue
        value = answers[item.id]
        if item.kind in (Kind.CHOICE, Kind.MULTI) and len(item.choices) <= 8:
            codes = value if isinstance(value, list) else [value]
            steps.extend(("check", input_id(item, code), "") for code in codes)
        elif item.kind is Kind.DATE:
            year, month, day = str(value).split("-")
            typed = {"day": day.lstrip("0"), "month": month.lstrip("0"), "year": year}
            steps.extend(("value", f"{item.id}-{part}", typed[part]) for part in typed)
        else:
            steps.append(("value", item.id, str(value)))
    page.evaluate(
        """steps => {
            for (const [how, id, value] of steps) {
                const control = document.getElementById(id);
                if (how === "check") { control.checked = true; } else { control.value = value; }
                control.dispatchEvent(new Event("change", {bubbles: true}));
            }
        }""",
        steps,
    )


def say(page: Page, english: str) -> str:
    """Return what the page shows for an English message, in the page's own language."""
    tag = page.locator("html").get_attribute("lang") or "en"
    return english if tag == "en" else language.catalogue(tag.replace("-", "_"))(english)


def press_continue(page: Page) -> None:
    page.get_by_role("button", name=say(page, "Continue"), exact=True).click()


def start(page: Page) -> None:
    """Open the start page, agree to the privacy notice and press Start."""
    page.goto("/")
    heading = say(page, "Before your first appointment")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_no_horizontal_scroll(page)
    page.locator('label[for="privacy_consent"]').click()
    expect(page.locator("#privacy_consent")).to_be_checked()
    page.get_by_role("button", name=say(page, "Start"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/questions/{PAGES[0].id}$"))


def answer_every_page(
    page: Page,
    answers: dict[str, Any],
    after_page: Callable[[Page, Section], bool | None] | None = None,
    *,
    quickly: bool = False,
) -> None:
    """From the first question page, answer and continue page by page to the check page.

    `after_page(page, section)` runs on each question page before it is answered, and
    returns True when it has answered the page itself; `quickly` sets the answers by
    script instead of typing and clicking.
    """
    # The PCL-5 page only with PTSD among the reasons; in French, no GAD-7 nor PCL-5 page.
    language_tag = page.locator("html").get_attribute("lang") or "en"
    asked = asked_pages(answers, language_tag)
    for index, section in enumerate(asked):
        expect(page).to_have_url(re.compile(rf"/questions/{section.id}$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(say(page, section.title))
        # "of N" counts the pages asked so far known: the PCL-5 page joins once PTSD is named.
        so_far = {i.id: answers[i.id] for s in asked[:index] for i in s.items if i.id in answers}
        steps = len(asked_pages(so_far, language_tag))
        step = say(page, "Step %(step)s of %(steps)s") % {"step": index + 1, "steps": steps}
        expect(page.locator(".caption")).to_have_text(step)
        assert_no_horizontal_scroll(page)
        answered = after_page(page, section) if after_page is not None else False
        if not answered:
            (answer_section_quickly if quickly else answer_section)(page, section, answers)
        press_continue(page)
    expect(page).to_have_url(re.compile(r"/check$"))


def tick_review_box(page: Page) -> None:
    page.locator('label[for="understands_review"]').click()
    expect(page.locator("#understands_review")).to_be_checked()


def read_reference(page: Page) -> str:
    """On the confirmation page, return the reference it shows."""
    expect(page).to_have_url(re.compile(r"/done$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        say(page, "Your answers have been sent")
    )
    reference = page.locator(".reference").inner_text().strip()
    assert REFERENCE.fullmatch(reference), f"not a reference: {reference!r}"
    return reference


def send(page: Page) -> str:
    """On the check page, tick the review box, press Send; return the reference shown."""
    expect(page).to_have_url(re.compile(r"/check$"))
    tick_review_box(page)
    page.get_by_role("button", name=say(page, "Send my answers")).click()
    return read_reference(page)


# --- What a clinician does in the browser ----------------------------------------------

_stored = itertools.count()


def store_submission(
    server: LiveServer,
    answers: dict[str, Any],
    *,
    submitted_at: datetime,
    flags: Sequence[tuple[str, str]] = (),
    **columns: Any,
) -> str:
    """Store a submission as sent, with flags as (rule, level); return its reference (no dash).

    `columns` sets any other column (language, status, assigned_to_id, ...).
    """
    levels = [level for _, level in flags]
    highest = min(levels, key=LEVELS.index) if levels else None
    with server.app.app_context():
        values: dict[str, Any] = {
            "draft_key": f"browser-stored-{next(_stored)}-{new_reference()}",
            "reference": new_reference(),
            "language": "en",
            "facts": {},
            "rules_version": "test",
            "rules_sha256": "0" * 64,
            "status": "new",
            **columns,
        }
        submission = Submission(
            submitted_at=submitted_at,
            answers=answers,
            highest_level=highest,
            level_rank=LEVEL_RANK[highest],
            flags=[
                Flag(rule=rule, level=level, message="m", source="s", evidence=[])
                for rule, level in flags
            ],
            **values,
        )
        db.session.add(submission)
        db.session.commit()
        reference = submission.reference
        db.session.remove()
        return reference


def advance_clock(server: LiveServer) -> None:
    """Move the served app's clock to the next 30-second step (a code works once)."""
    server.app.config["CLOCK"].advance(seconds=30)


def queue_row(page: Page, reference: str) -> Locator:
    """Return the queue row of one submission (its reference link reads ABCD-2345)."""
    code = f"{reference[:4]}-{reference[4:]}"
    return page.locator("tr.queue__row", has=page.locator("a.queue__reference", has_text=code))


#: axe-core impacts a page may not have.
AXE_BLOCKING = {"serious", "critical"}


def axe_blocking(page: Page, name: str) -> list[str]:
    """Run axe on the page as it is; describe each serious or critical violation."""
    axe_sync = pytest.importorskip(
        "axe_playwright_python.sync_playwright",
        reason="pip install axe-playwright-python (it ships axe-core and runs offline)",
    )
    results = axe_sync.Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in AXE_BLOCKING:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        found.append(
            f"{name}: {violation['id']} ({violation['impact']}): {violation['help']} "
            f"at {targets[:5]}; {violation['helpUrl']}"
        )
    return found
