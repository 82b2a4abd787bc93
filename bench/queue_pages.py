"""The clinician's queue at a clinic network's size: p95 per kind of page, and SQL per page.

Usage (from the project root, with the project venv)::

    .venv/bin/python bench/queue_pages.py --rows 100000

On a database filled by bench/dataset.py, gunicorn (the production config, 2 sync workers)
serves the app; a clinician created with the CLI signs in through the real pages; then
each kind of page is fetched REQUESTS times by 1 client, and again by 8 clients at once:

- first: the queue's first page; deep: a page in the middle of the table (its cursor);
- level: level=info; rule: the most common rule; reference: a reference search;
- not_taken: taken=nobody (every row of the loaded data: nobody has taken one);
- submission: one submission's page (its flags, answers and audit row).

Each request of a page is interleaved with one of the reference, the patient's start page
(GET /: a template, a session, a CSRF token, no query) on the same gunicorn, by the same
client: the budget is the page's p95 as a multiple of the reference's p95 in the same run,
so it measures the queue, not how busy this shared machine happens to be. The absolute
p95s are printed too, for reading.

The statements per page are counted in this process with SQLAlchemy's cursor events,
on the same database, for the first page and a deep one (a count, not a timing).
Nothing printed holds an answer.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.dataset import app_for, landmarks, loaded_database  # noqa: E402
from tests.harness.clinician import create_clinician, sign_in  # noqa: E402
from tests.harness.patient import Browser  # noqa: E402
from tests.harness.served import running_gunicorn  # noqa: E402

REQUESTS = 100
CLIENTS = 8
#: One clinician per client: a second-factor code is accepted once, per clinician.
#: The 8 clients, then the single client, then the in-process statement count.
EMAILS = tuple(f"bench.queue.{number}@clinic.example" for number in range(CLIENTS + 2))
PASSWORD = "bench-queue-password-1"  # noqa: S105 (a throwaway account on a throwaway database)
KINDS = ("first", "deep", "level", "rule", "reference", "not_taken", "submission")
#: The page every queue page is measured against, interleaved (see the docstring).
REFERENCE_PAGE = "/"


def p95(samples: list[float]) -> float:
    """Return the 95th percentile of samples (ms)."""
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def paths(environment: dict[str, str]) -> dict[str, str]:
    """Return the path of each kind of page, chosen from the loaded data."""
    from questionnaire.extensions import db

    app = app_for(environment)
    with app.app_context():
        marks = landmarks(db.session)
        db.engine.dispose()
    return {
        "first": "/clinic/",
        "deep": f"/clinic/?after={marks.middle.encode()}",
        "level": "/clinic/?level=info",
        "rule": f"/clinic/?rule={marks.common_rule}",
        "reference": f"/clinic/?q={marks.reference}",
        "not_taken": "/clinic/?taken=nobody",
        "submission": f"/clinic/submissions/{marks.reference}",
    }


def _get(clinician: Browser, path: str) -> float:
    """Fetch a page once; return the time (ms); raise on anything but 200."""
    started = time.perf_counter()
    response = clinician.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {path.split('?')[0]} answered {response.status_code}")
    return elapsed


def timed(
    clinician: Browser, path: str, count: int, into: list[float], reference: list[float]
) -> None:
    """Fetch the reference then the page, `count` times; add each time (ms) to its list."""
    for _ in range(count):
        reference.append(_get(clinician, REFERENCE_PAGE))
        into.append(_get(clinician, path))


def measure_served(
    base: str, secrets: dict[str, str], pages: dict[str, str]
) -> dict[str, dict[str, float]]:
    """Return p95 ms, the reference's p95 ms and their ratio per kind of page.

    One signed-in clinician per secret, all at once.
    """
    browsers = [Browser(base, timeout=60) for _ in secrets]
    try:
        for browser, (email, secret) in zip(browsers, secrets.items(), strict=True):
            sign_in(browser, secret, email, PASSWORD)
        clients = len(browsers)
        figures: dict[str, dict[str, float]] = {}
        for kind in KINDS:
            timed(browsers[0], pages[kind], 5, [], [])  # warm the worker's caches
            samples: list[float] = []
            reference: list[float] = []
            each = max(REQUESTS // clients, 1) if clients > 1 else REQUESTS
            threads = [
                threading.Thread(
                    target=timed, args=(browser, pages[kind], each, samples, reference)
                )
                for browser in browsers
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            page, floor = p95(samples), p95(reference)
            figures[kind] = {
                "p95_ms": round(page, 2),
                "reference_p95_ms": round(floor, 2),
                "ratio": round(page / max(floor, 0.001), 2),
            }
        return figures
    finally:
        for browser in browsers:
            browser.close()


def statements_per_page(
    environment: dict[str, str], pages: dict[str, str], secret: str
) -> dict[str, int]:
    """Return the SQL statements the queue's first and deep pages run (counted in-process)."""

    from questionnaire.extensions import db
    from tests.harness.statements import counting

    app = app_for(environment)
    counts: dict[str, int] = {}
    with app.app_context():
        client = app.test_client()
        sign_in(Browser(client), secret, EMAILS[-1], PASSWORD)
        for kind in ("first", "deep"):
            with counting(db.engine) as seen:
                response = client.get(pages[kind])
            assert response.status_code == 200, response.status_code
            counts[kind] = len(seen)
        db.engine.dispose()
    return counts


def measure_loaded(environment: dict[str, str], folder: Path) -> dict[str, Any]:
    """Return the queue's figures on an already-filled database (see bench/dataset.py)."""
    pages = paths(environment)
    with running_gunicorn({**environment, "WEB_CONCURRENCY": "2"}, folder, workers=2) as served:
        secrets = {email: create_clinician(served, email, PASSWORD) for email in EMAILS}
        # Each clinician signs in once: a second-factor code is never accepted twice.
        single = {EMAILS[CLIENTS]: secrets[EMAILS[CLIENTS]]}
        one = measure_served(served.base_url, single, pages)
        eight = measure_served(
            served.base_url, {email: secrets[email] for email in EMAILS[:CLIENTS]}, pages
        )
    statements = statements_per_page(environment, pages, secrets[EMAILS[-1]])
    return {"p95_ms": one, "p95_ms_8_clients": eight, "statements": statements}


def measure(
    rows: int, folder: Path, postgres: str | None = None, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Load `rows` submissions and return the queue's figures at that size."""
    with loaded_database(rows, folder, postgres) as (_url, environment, loaded):
        log(
            f"  loaded {loaded['rows']:,} submissions, {loaded['flags_per_submission']:.2f} flags"
            f" each, in {loaded['seconds']:.0f} s"
        )
        return measure_loaded(environment, folder)


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        figures = measure(args.rows, Path(folder))
    print(f"{'page':<12}{'p95 ms':>8}{'start page':>12}{'ratio':>7}{'p95 ms, 8 clients':>19}")
    for kind in KINDS:
        one, eight = figures["p95_ms"][kind], figures["p95_ms_8_clients"][kind]
        print(
            f"{kind:<12}{one['p95_ms']:>8.1f}{one['reference_p95_ms']:>12.1f}"
            f"{one['ratio']:>7.2f}{eight['p95_ms']:>19.1f}"
        )
    print(f"SQL statements per page: {figures['statements']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
