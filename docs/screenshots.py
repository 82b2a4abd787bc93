"""Screenshots: every patient page at phone and desktop widths, in English and French.

Usage (from the project root, with the project venv and /usr/bin/chromium)::

    .venv/bin/python docs/screenshots.py                  # `make screenshots`: the whole set
    .venv/bin/python docs/screenshots.py --only en --widths 320
    .venv/bin/python docs/screenshots.py --docs           # the three images of README and docs

What it saves, full-page PNGs at a device scale factor of 1, into ``screenshots/`` (or
``--out DIR``), each name ``LANGUAGE-WIDTH-NN-PAGE.png``:

* every patient page, in order: ``00-privacy``, ``01-start``, one per question page
  (``02-about-you`` … ``10-getting-home``, shown before they are answered), ``11-check``,
  ``12-done``; then ``13-saved`` ("Save and come back later") and ``14-resume`` (its link
  opened);
* two states: ``02-about-you-error`` (the first question page sent empty) and
  ``04-safety-crisis`` (the crisis panel, "yes" to thoughts of ending life right now);
* the clinician's side, English only, as ``clinician-WIDTH-NAME.png``: ``sign-in``,
  ``code`` (its second step), ``queue`` (four submissions: urgent, review, info and no
  flag) and ``submission`` (the urgent one).

Languages are ``en`` and ``fr-CA``: each walk runs in a fresh browser context whose
locale and Accept-Language header are that language, which is how the app chooses it.
Widths default to 320 and 1280 pixels; each page is captured at every width in turn
from the same walk. ``--only`` takes a comma-separated list of ``en``, ``fr-CA`` and
``clinician`` (default: all three).

``--docs`` writes only the three small images README.md and docs/patients.md show, into ``docs/`` (or
``--out``): ``start.png`` (English start page, 320 px), ``question.png`` (the English
safety page, 320 px) and ``submission.png`` (a submission at 1280 px, cropped to the
1280 x 800 window). A phone image over 150 KB is cropped to its window too.

The app is served from a thread of this process on a temporary SQLite file, on the test
clock, the way bench/pages.py and the browser tests serve it (serve_in_thread,
make_app); Chromium is $BROWSER, else /usr/bin/chromium, with the browser tests' flags
(Playwright's own browsers are never downloaded). The pages are found by ids and form
attributes, never by their English words, so the walk keeps working as the French
translation lands. The queue's submissions are sent through the real pages with
Flask's test client before any browser walk (tests.harness.patient), and the clinician
signs in through the real sign-in pages with a code from the stored TOTP secret. The
browser, the server and the temporary folder are all stopped or removed on the way
out, whatever happened.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

# Run as a script: the project root (not docs/) on the path, for tests.harness.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from flask import Flask  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright  # noqa: E402

from questionnaire.extensions import db  # noqa: E402
from questionnaire.questions.catalogue import (  # noqa: E402
    ITEMS,
    PAGES,
    Section,
    section_is_asked,
)
from tests.answers import baseline, with_changes  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    CHROMIUM_FLAGS,
    DEFAULT_CHROMIUM,
    answer_item,
    answer_section_quickly,
    chromium_executable,
)
from tests.harness.app import CASE_DAY, Clock, make_app  # noqa: E402
from tests.harness.clinician import PASSWORD, current_code, make_clinician  # noqa: E402
from tests.harness.patient import Patient  # noqa: E402
from tests.harness.served import serve_in_thread  # noqa: E402

LANGUAGES = ("en", "fr-CA")
CLINICIAN = "clinician"
WIDTHS = (320, 1280)
#: The window height at each width (a phone, a laptop); full-page shots go past it.
HEIGHTS = {320: 640, 1280: 800}
SCALE = 1
DEFAULT_OUT = PROJECT_ROOT / "screenshots"
DOCS = PROJECT_ROOT / "docs"
#: Above this a docs image is cropped to its window.
DOCS_MAX_BYTES = 150 * 1024
#: The longest any one browser step may take (milliseconds): a stuck page fails fast.
STEP_TIMEOUT_MS = 15_000
#: A clinic's footer as a real one fills it in.
CLINIC = {
    "CLINIC_NAME": "Riverside Ketamine Clinic",
    "CLINIC_PHONE": "416 555 0100",
    "CLINIC_EMAIL": "intake@riverside-clinic.example",
    "CLINIC_HOURS": "Monday to Friday, 9 am to 5 pm",
}
CLINICIAN_EMAIL = "r.osei@riverside-clinic.example"
#: What the queue holds: (changes to the baseline answers, minutes after 09:00); the first
#: (urgent) is the submission shown.
QUEUE: tuple[tuple[dict[str, Any], int], ...] = (
    (
        {
            "full_name": "Jordan Tremblay",
            "email": "jordan.t@example.com",
            "suicidal_thoughts_past_month": "yes",
            "suicidal_thoughts_now": "yes",
        },
        95,
    ),
    (
        {
            "full_name": "Priya Raman",
            "email": "priya.r@example.com",
            "bp_reading": "152/94",
            "medications": "Ativan 1mg at night as needed",
        },
        60,
    ),
    ({"full_name": "Marc Gagnon", "date_of_birth": "1958-03-02", "has_mh_provider": "no"}, 30),
    ({}, 0),
)
SAFETY = next(index for index, section in enumerate(PAGES) if section.id == "safety")


def _walk_answers() -> dict[str, object]:
    # PTSD among the reasons, so the PCL-5 page is shot too (in English).
    return with_changes({"reasons": ["depression", "ptsd"]})


WALK_ANSWERS = _walk_answers()


def slug(section: Section) -> str:
    return section.id.replace("_", "-")


def page_names(language: str = "en") -> list[str]:
    """Return every patient shot's name part (NN-page), in the order they are taken.

    In French the GAD-7 and PCL-5 pages are left out (no official French text here).
    """
    names = ["00-privacy", "01-start"]
    for number, section in enumerate(PAGES, start=2):
        if not section_is_asked(section, WALK_ANSWERS, language):
            continue
        names.append(f"{number:02d}-{slug(section)}")
        if number == 2:
            names.append(f"{number:02d}-{slug(section)}-error")
        if section.id == "safety":
            names.append(f"{number:02d}-{slug(section)}-crisis")
    after = len(PAGES) + 2
    names += [f"{after:02d}-check", f"{after + 1:02d}-done"]
    names += [f"{after + 2:02d}-saved", f"{after + 3:02d}-resume"]
    return names


CLINICIAN_NAMES = ("sign-in", "code", "queue", "submission")
#: Saves the page shown under a name.
Shoot = Callable[[Page, str], None]


@dataclass
class Camera:
    """Saves one page at each width, full page, as PREFIX-WIDTH-NAME.png."""

    out: Path
    prefix: str
    widths: Sequence[int]
    saved: list[Path]

    def shoot(self, page: Page, name: str) -> None:
        page.wait_for_load_state("load")
        for width in self.widths:
            page.set_viewport_size({"width": width, "height": HEIGHTS.get(width, 800)})
            path = self.out / f"{self.prefix}-{width}-{name}.png"
            page.screenshot(path=path, full_page=True, type="png", animations="disabled")
            self.saved.append(path)


# --- the patient's pages, found by ids and form attributes (never by English words) ------


def press(page: Page, action: str) -> None:
    """Press a question page's Continue ("continue") or Save and come back later ("later")."""
    page.locator(f'button[name="action"][value="{action}"]').click()


def at(page: Page, path: str) -> None:
    expect(page).to_have_url(re.compile(rf"{re.escape(path)}$"))


def begin(page: Page) -> None:
    """Open the start page, agree to the privacy notice and press Start."""
    page.goto("/")
    page.locator('label[for="privacy_consent"]').click()
    page.locator('form[action$="/start"] button[type="submit"]').click()
    at(page, f"/questions/{PAGES[0].id}")


def walk(page: Page, shoot: Shoot) -> None:
    """Privacy, start, every question page (the first also sent empty), check, done."""
    answers = WALK_ANSWERS
    page.goto("/privacy")
    shoot(page, "00-privacy")
    page.goto("/")
    shoot(page, "01-start")
    begin(page)
    language = page.locator("html").get_attribute("lang") or "en"
    for number, section in enumerate(PAGES, start=2):
        if not section_is_asked(section, answers, language):
            continue  # left out in French: no official French text here
        at(page, f"/questions/{section.id}")
        shoot(page, f"{number:02d}-{slug(section)}")
        if number == 2:
            press(page, "continue")
            expect(page.locator(".error-summary")).to_be_visible()
            shoot(page, f"{number:02d}-{slug(section)}-error")
        answer_section_quickly(page, section, answers)
        press(page, "continue")
    at(page, "/check")
    after = len(PAGES) + 2
    shoot(page, f"{after:02d}-check")
    page.locator('label[for="understands_review"]').click()
    page.locator("button[data-prevent-double-click]").click()
    at(page, "/done")
    expect(page.locator(".reference")).to_be_visible()
    shoot(page, f"{after + 1:02d}-done")


def crisis(page: Page, shoot: Shoot) -> None:
    """Reach the safety page and answer "yes" to thoughts of ending life right now."""
    answers = baseline()
    begin(page)
    for section in PAGES[:SAFETY]:
        answer_section_quickly(page, section, answers)
        press(page, "continue")
    at(page, "/questions/safety")
    answer_item(page, ITEMS["suicidal_thoughts_past_month"], "yes")
    answer_item(page, ITEMS["suicidal_thoughts_now"], "yes")
    expect(page.locator(".crisis-live .crisis-panel:not([hidden])").first).to_be_visible()
    shoot(page, f"{SAFETY + 2:02d}-safety-crisis")


def save_and_resume(page: Page, shoot: Shoot) -> None:
    """Answer the first page, save on the second, then open the link the saved page gives."""
    begin(page)
    answer_section_quickly(page, PAGES[0], baseline())
    press(page, "continue")
    press(page, "later")
    at(page, "/saved")
    after = len(PAGES) + 4
    shoot(page, f"{after:02d}-saved")
    link = page.locator(".resume-link a").get_attribute("href")
    if not link:
        raise RuntimeError("the saved page shows no resume link")
    page.goto(link)
    expect(page.locator("#date_of_birth-day")).to_be_visible()
    shoot(page, f"{after + 1:02d}-resume")


# --- the clinician's side ------------------------------------------------------------------


def fill_queue(app: Flask, clock: Clock) -> list[str]:
    """Send the QUEUE's answers through the real pages, oldest first; return references."""
    references = {}
    for changes, minutes in sorted(QUEUE, key=lambda entry: entry[1]):
        clock.now = CASE_DAY.replace(hour=9) + timedelta(minutes=minutes)
        references[minutes] = Patient(app.test_client()).journey(with_changes(changes))
    clock.now = CASE_DAY.replace(hour=11)
    return [references[minutes] for _changes, minutes in QUEUE]


def clinician(page: Page, shoot: Shoot, app: Flask, reference: str) -> None:
    """Sign in through both steps, then show the queue and one submission."""
    page.goto("/clinic/sign-in")
    shoot(page, CLINICIAN_NAMES[0])
    page.locator("#email").fill(CLINICIAN_EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    at(page, "/clinic/sign-in/code")
    shoot(page, CLINICIAN_NAMES[1])
    page.locator("#code").fill(current_code(app, CLINICIAN_EMAIL))
    page.locator("form button[type=submit]").click()
    at(page, "/clinic/")
    shoot(page, CLINICIAN_NAMES[2])
    page.goto(f"/clinic/submissions/{reference}")
    shoot(page, CLINICIAN_NAMES[3])


# --- running it ------------------------------------------------------------------------------


@contextmanager
def served() -> Iterator[tuple[str, Flask, Clock]]:
    """Serve the app on a temporary SQLite file, on the test clock; yield URL, app, clock."""
    # werkzeug's request log would drown the output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as name:
        folder = Path(name)
        clock = Clock(CASE_DAY)
        app = make_app(
            folder,
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'screenshots.db'}",
            CLOCK=clock,
            **CLINIC,
        )
        with app.app_context():
            db.create_all()
        with serve_in_thread(app, "screenshots") as url:
            yield url, app, clock


@contextmanager
def browser_context(
    browser: Browser, url: str, language: str = "en", width: int = WIDTHS[0]
) -> Iterator[Page]:
    """Yield a page in a fresh context speaking `language`; close the context afterwards."""
    context: BrowserContext = browser.new_context(
        base_url=url,
        locale=language,
        extra_http_headers={"Accept-Language": language},
        viewport={"width": width, "height": HEIGHTS.get(width, 800)},
        device_scale_factor=SCALE,
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def take(out: Path, wanted: Sequence[str], widths: Sequence[int]) -> list[Path]:
    """Serve the app, launch Chromium and take the wanted sets; return the files saved."""
    executable = chromium_executable()
    if executable is None:
        raise SystemExit(f"no Chromium at {DEFAULT_CHROMIUM}: apt-get install -y chromium")
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with served() as (url, app, clock), sync_playwright() as playwright:
        references = fill_queue(app, clock) if CLINICIAN in wanted else []
        if CLINICIAN in wanted:
            make_clinician(app, CLINICIAN_EMAIL, "Dr Rebecca Osei")
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            if CLINICIAN in wanted:
                camera = Camera(out, CLINICIAN, widths, saved)
                with browser_context(browser, url) as page:
                    clinician(page, camera.shoot, app, references[0])
            for language in (code for code in LANGUAGES if code in wanted):
                camera = Camera(out, language, widths, saved)
                for flow in (walk, crisis, save_and_resume):
                    with browser_context(browser, url, language) as page:
                        flow(page, camera.shoot)
        finally:
            browser.close()
    return saved


def take_docs(out: Path) -> list[Path]:
    """Write the docs' three images (start.png, question.png, submission.png) into out."""
    executable = chromium_executable()
    if executable is None:
        raise SystemExit(f"no Chromium at {DEFAULT_CHROMIUM}: apt-get install -y chromium")
    out.mkdir(parents=True, exist_ok=True)
    with served() as (url, app, clock), sync_playwright() as playwright:
        references = fill_queue(app, clock)
        make_clinician(app, CLINICIAN_EMAIL, "Dr Rebecca Osei")
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            with browser_context(browser, url, "en", 320) as page:
                page.goto("/")
                small_shot(page, out / "start.png")
                begin(page)
                for section in PAGES[:SAFETY]:
                    answer_section_quickly(page, section, baseline())
                    press(page, "continue")
                at(page, "/questions/safety")
                small_shot(page, out / "question.png")
            with browser_context(browser, url, "en", 1280) as page:
                clinician(page, lambda _page, _name: None, app, references[0])
                page.screenshot(path=out / "submission.png", type="png", animations="disabled")
        finally:
            browser.close()
    return [out / "start.png", out / "question.png", out / "submission.png"]


def small_shot(page: Page, path: Path) -> None:
    """Save the full page, or only the window when the full page is over DOCS_MAX_BYTES."""
    page.wait_for_load_state("load")
    image = page.screenshot(full_page=True, type="png", animations="disabled")
    if len(image) > DOCS_MAX_BYTES:
        image = page.screenshot(type="png", animations="disabled")
    path.write_bytes(image)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, help="where to save (default screenshots/)")
    parser.add_argument(
        "--only",
        default=",".join((*LANGUAGES, CLINICIAN)),
        help="comma-separated: en, fr-CA, clinician (default: all)",
    )
    parser.add_argument(
        "--widths", default=",".join(map(str, WIDTHS)), help="comma-separated pixel widths"
    )
    parser.add_argument(
        "--docs", action="store_true", help="write only the docs' three images into docs/"
    )
    options = parser.parse_args(argv)
    options.only = [part.strip() for part in options.only.split(",") if part.strip()]
    unknown = set(options.only) - {*LANGUAGES, CLINICIAN}
    if unknown or not options.only:
        parser.error(f"--only takes en, fr-CA, clinician; not {', '.join(sorted(unknown))}")
    try:
        options.widths = [int(part) for part in options.widths.split(",") if part.strip()]
    except ValueError:
        parser.error("--widths takes pixel widths, e.g. 320,1280")
    if not options.widths or min(options.widths) < 200:
        parser.error("--widths takes pixel widths of 200 or more, e.g. 320,1280")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Take the screenshots the options ask for; print each file and the time taken."""
    options = parse(argv)
    began = time.monotonic()
    if options.docs:
        saved = take_docs(options.out or DOCS)
    else:
        saved = take(options.out or DEFAULT_OUT, options.only, options.widths)
    for path in saved:
        print(f"{path.stat().st_size // 1024:>5} KB  {path}")
    print(f"{len(saved)} screenshots in {time.monotonic() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
