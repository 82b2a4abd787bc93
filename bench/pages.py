"""Page weight: every patient page in Chromium, its HTML, CSS and JS as a proxy would send them.

Usage (from the project root, with the project venv and /usr/bin/chromium)::

    .venv/bin/python bench/pages.py        # prints a table; exit 1 over the budget

``measure()`` returns {"page_weight_max_kb": float, "third_party_requests": int,
"pages": {path: kb}} for other scripts.

The app is served from a thread of this process on a temporary SQLite file, the way the
browser tests serve it (tests.harness.served.serve_in_thread, tests.harness.app.make_app).
Chromium (BROWSER, else /usr/bin/chromium, with the browser tests' flags; Playwright's own
browsers are never downloaded) opens the privacy notice, then walks the questionnaire as
the browser tests do: the start page, every section with the rules.yaml baseline answers
(tests.answers; PTSD added to the reasons, so the PCL-5 page is walked too), the check
page and the confirmation.

A page's weight is the sum of the bodies of every response from the app while it is the
page shown: the document, the stylesheet, the script and the favicon. The browser's cache
is switched off (CDP Network.setCacheDisabled), so each page counts as a first visit;
with the immutable caching of versioned static files a later page costs only its HTML.
The app does not compress (a reverse proxy does in production), so each body is counted
gzip-compressed at level 6, as a compressing proxy would send it (6 is gzip's own default
and a common proxy setting; nginx's default level 1 would send a few percent more).
Redirects (the 303 after each POST) and headers are left out. 1 KB = 1024 bytes.
Every request to another host than the app's (fonts, CDNs, trackers) counts as
third-party.
"""

from __future__ import annotations

import gzip
import logging
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Run as a script: the project root (not bench/) on the path, for tests.harness.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import Page, Request, sync_playwright  # noqa: E402
from playwright.sync_api import Response as BrowserResponse  # noqa: E402

from questionnaire.extensions import db  # noqa: E402
from tests.answers import with_changes  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    CHROMIUM_FLAGS,
    DEFAULT_CHROMIUM,
    answer_every_page,
    chromium_executable,
    send,
    start,
)
from tests.harness.app import CASE_DAY, Clock, make_app  # noqa: E402
from tests.harness.served import serve_in_thread  # noqa: E402

#: The budget `make pages` (and the lead) checks.
BUDGET_KB = 30.0
GZIP_LEVEL = 6
#: A clinic's footer as a real one fills it in (the longest pages are the ones measured).
CLINIC = {
    "CLINIC_NAME": "Riverside Ketamine Clinic",
    "CLINIC_PHONE": "416 555 0100",
    "CLINIC_EMAIL": "intake@riverside-clinic.example",
    "CLINIC_HOURS": "Monday to Friday, 9 am to 5 pm",
}
KINDS = {"document": "html", "stylesheet": "css", "script": "js"}


class Recorder:
    """Every response of the app, by the page (path) shown when it came; other hosts counted."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.current = ""
        #: path -> (kind, bytes gzip-compressed, bytes as sent) of each response while shown.
        self.responses: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        self.third_party: list[str] = []
        #: Responses whose body was gone before it was read (the page navigated away).
        self.unread: list[str] = []

    def on_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        network = parts.scheme in {"http", "https", "ws", "wss"}
        if network and f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.third_party.append(request.url)

    def on_response(self, response: BrowserResponse) -> None:
        if not response.url.startswith(self.origin + "/") or 300 <= response.status < 400:
            return
        if response.request.resource_type == "document" and response.frame.parent_frame is None:
            self.current = urlsplit(response.url).path
            # A page shown twice (the start page) counts once: its latest showing.
            self.responses[self.current] = []
        kind = KINDS.get(response.request.resource_type, "other")
        # Read now: a body is gone once the page navigates away. Counted as a compressing
        # proxy sends it (gzip level 6): the app itself never compresses.
        try:
            body = response.body()
        except PlaywrightError:
            self.unread.append(response.url)  # measure() refuses to report a figure then
            return
        compressed = len(gzip.compress(body, GZIP_LEVEL))
        self.responses[self.current].append((kind, compressed, len(body)))

    def weights(self) -> dict[str, dict[str, int]]:
        """Return path -> bytes gzip-compressed by kind (html, css, js, other), in total,
        and uncompressed in total ("raw": what the app itself sends)."""
        pages: dict[str, dict[str, int]] = {}
        for path, responses in self.responses.items():
            sizes = {"html": 0, "css": 0, "js": 0, "other": 0}
            for kind, size, _raw in responses:
                sizes[kind] += size
            sizes["total"] = sum(sizes.values())
            sizes["raw"] = sum(raw for _kind, _size, raw in responses)
            pages[path] = sizes
        return pages


def settle(page: Page, *_: Any) -> None:
    """Wait until the page has loaded everything (so every body is read before moving on)."""
    page.wait_for_load_state("networkidle")


def walk(page: Page) -> None:
    """Show the privacy notice, then start, answer every section, send, see the confirmation."""
    page.goto("/privacy")
    settle(page)
    start(page)
    # PTSD among the reasons: every page is walked, the 20-item PCL-5 page too.
    answers = with_changes({"reasons": ["depression", "ptsd"]})
    answer_every_page(page, answers, after_page=settle, quickly=True)
    settle(page)
    send(page)
    settle(page)


def measure_bytes() -> tuple[dict[str, dict[str, int]], list[str]]:
    """Serve the app, walk it in Chromium; return each page's weights and third-party URLs."""
    executable = chromium_executable()
    if executable is None:
        raise SystemExit(f"no Chromium at {DEFAULT_CHROMIUM}: apt-get install -y chromium")
    # werkzeug's request log would drown the table.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as name:
        folder = Path(name)
        app = make_app(
            folder,
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'pages.db'}",
            CLOCK=Clock(CASE_DAY),
            **CLINIC,
        )
        with app.app_context():
            db.create_all()
        with serve_in_thread(app, "bench-pages") as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
            try:
                context = browser.new_context(base_url=url)
                page = context.new_page()
                context.new_cdp_session(page).send(
                    "Network.setCacheDisabled", {"cacheDisabled": True}
                )
                recorder = Recorder(url)
                page.on("request", recorder.on_request)
                page.on("response", recorder.on_response)
                walk(page)
                if recorder.unread:
                    raise RuntimeError(f"bodies not read in time: {recorder.unread}")
                weights = recorder.weights()
                context.close()
            finally:
                browser.close()
    return weights, recorder.third_party


def kb(size: int) -> float:
    return round(size / 1024, 1)


def measure() -> dict[str, Any]:
    """Return the heaviest page (KB), the third-party request count and each page's KB."""
    weights, third_party = measure_bytes()
    pages = {path: kb(sizes["total"]) for path, sizes in weights.items()}
    return {
        "page_weight_max_kb": max(pages.values()),
        "third_party_requests": len(third_party),
        "pages": pages,
    }


def main() -> int:
    weights, third_party = measure_bytes()
    print("page weight in KB (1024 bytes), gzip level 6; browser cache off: each a first visit")
    print("(raw: the same bodies uncompressed, as the app itself sends them)")
    print(f"{'page':<36} {'html':>6} {'css':>6} {'js':>6} {'other':>6} {'total':>6} {'raw':>6}")
    for path, sizes in weights.items():
        row = " ".join(f"{kb(sizes[kind]):>6.1f}" for kind in ("html", "css", "js", "other"))
        print(f"{path:<36} {row} {kb(sizes['total']):>6.1f} {kb(sizes['raw']):>6.1f}")
    heaviest = max(kb(sizes["total"]) for sizes in weights.values())
    print(f"page_weight_max_kb: {heaviest} (budget {BUDGET_KB})")
    print(f"third_party_requests: {len(third_party)} (budget 0)")
    for address in third_party:
        print(f"  third-party: {address}")
    return 0 if heaviest <= BUDGET_KB and not third_party else 1


if __name__ == "__main__":
    sys.exit(main())
