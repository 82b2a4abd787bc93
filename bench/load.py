"""Load without loss: simulated patients against gunicorn, then a check that nothing was lost.

Usage (from the project root, with the project venv)::

    .venv/bin/python bench/load.py                          # 200 patients, 60 s, PostgreSQL
    .venv/bin/python bench/load.py --patients 20 --seconds 15
    .venv/bin/python bench/load.py --db sqlite

Each simulated patient is a thread with its own cookie jar. It walks the real pages as a
browser would (GET a page, read its csrf_token, POST it, follow on), answering with one of
the rules.yaml cases, sends from the check page, and notes the reference its confirmation
page shows; then it starts again with new answers until the time is up.

Afterwards the stored submissions are read back through the app (decrypted with the same
key) and compared with what the patients saw. Exit status 1 when an acknowledged reference
is missing, stored more than once, holds another patient's answers, or has other flags than
its case expects; or when a stored submission cannot be explained by any patient.

The server runs with RATELIMIT_ENABLED=false (every patient comes from 127.0.0.1, so the
per-address limits would throttle the benchmark, not measure it). PostgreSQL runs on a fresh
schema in BENCH_DATABASE_URL (default: TEST_DATABASE_URL, else the local test database),
dropped at the end; SQLite on a temporary file. Every process started here is stopped.
Nothing printed holds an answer.

The served app and the patients are tests/harness (served.served_app, patient.Patient),
the same the fault tests and .ci/scan.py use.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

# Run as a script: the project root (not bench/) on the path, for tests.harness.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from tests.harness.patient import Case, Exchange, JourneyFailed, Patient, usable_cases  # noqa: E402
from tests.harness.served import Gunicorn, postgres_url, served_app  # noqa: E402

#: Longest one request may take (seconds).
REQUEST_TIMEOUT = 30.0


# --- the patients -----------------------------------------------------------------------


@dataclass
class Journey:
    marker: str
    case: Case
    reference: str | None = None
    sent_uncertain: bool = False  # the send POST may have reached the server unanswered
    failed_at: str = ""


@dataclass
class Results:
    exchanges: list[Exchange] = field(default_factory=list)
    journeys: list[Journey] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def label_of(exchange: Exchange) -> str:
    """Name a request for the figures: the question pages together, the send apart."""
    if exchange.path.startswith("/questions/"):
        return f"{exchange.method} page"
    if exchange.method == "POST" and exchange.path == "/check":
        return "POST /check (send)"
    return f"{exchange.method} {exchange.path}"


def send_uncertain(exchanges: list[Exchange]) -> bool:
    """Whether a journey without a reference may still have been stored.

    So when its last send got no answer at all, or was answered with the way to the
    confirmation page that then did not show a reference.
    """
    sends = [e for e in exchanges if e.method == "POST" and e.path == "/check"]
    if not sends:
        return False
    last = sends[-1]
    return last.status is None or (
        last.status == 303 and urlsplit(last.location or "").path == "/done"
    )


def new_journey(rng: random.Random, cases: list[Case], marker: str) -> Journey:
    """A journey with one of the cases' answers, its full name set to `marker`."""
    case = rng.choice(cases)
    answers = dict(case.answers)
    answers["full_name"] = marker  # ties a stored submission to this journey
    return Journey(marker, Case(case.name, answers, case.expect))


def walk(patient: Patient, journey: Journey, deadline: float | None = None) -> None:
    """Walk one journey with an empty cookie jar: note its reference, or where it failed.

    With a deadline the patient tries again after a 5xx or no answer (see Patient).
    """
    assert patient.http is not None
    patient.http.cookies.clear()
    try:
        journey.reference = patient.journey(journey.case.answers, deadline)
    except JourneyFailed as error:
        journey.failed_at = str(error)
        journey.sent_uncertain = send_uncertain(patient.exchanges)


def run_patient(
    base_url: str, results: Results, cases: list[Case], seed: int, deadline: float, number: int
) -> None:
    """One browser: journeys with new answers, one after the other, until the time is up."""
    rng = random.Random(seed)
    patient = Patient(base_url, timeout=REQUEST_TIMEOUT)
    count = 0
    try:
        while time.monotonic() < deadline:
            count += 1
            journey = new_journey(rng, cases, f"Load Patient {number}-{count}")
            walk(patient, journey)
            with results.lock:
                results.journeys.append(journey)
                results.exchanges.extend(patient.exchanges)
            patient.exchanges.clear()
    finally:
        patient.close()


# --- the report -------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def print_figures(results: Results, elapsed: float, cases_used: int) -> None:
    acknowledged = [j for j in results.journeys if j.reference]
    samples = results.exchanges  # every request, with or without an answer
    print(f"\n== figures ({elapsed:.1f} s of load, {cases_used} rules.yaml cases in rotation)")
    print(f"journeys started: {len(results.journeys)}, acknowledged: {len(acknowledged)}")
    print(f"submissions/s: {len(acknowledged) / elapsed:.1f}")
    print(f"requests/s:    {len(samples) / elapsed:.1f} ({len(samples)} requests)")
    by_label: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        if sample.status is not None:
            by_label[label_of(sample)].append(sample.seconds * 1000)
    by_label["all requests"] = [s.seconds * 1000 for s in samples if s.status is not None]
    print(f"{'request':<22}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for label, values in by_label.items():
        if not values:
            continue
        print(
            f"{label:<22}{len(values):>8}{statistics.median(values):>10.0f}"
            f"{percentile(values, 0.95):>10.0f}{percentile(values, 0.99):>10.0f}"
            f"{max(values):>10.0f}"
        )
    statuses = Counter(s.status if s.status is not None else s.error for s in samples)
    unexpected = {k: v for k, v in statuses.items() if k not in {200, 303}}
    print(f"responses by status: {dict(sorted(statuses.items(), key=str))}")
    print(f"errors (not 200/303): {unexpected or 'none'}")
    failures = Counter(j.failed_at for j in results.journeys if j.failed_at)
    if failures:
        print(f"journeys that failed, by where: {dict(failures)}")


def stored_submissions(served: Gunicorn) -> list[tuple[str, str | None, frozenset[str]]]:
    """Read every stored submission through the app (answers are sealed): its reference,
    the full name it holds (a journey's marker) and its flags' rule ids."""
    import sqlalchemy as sa
    from sqlalchemy.orm import selectinload

    from questionnaire.extensions import db
    from questionnaire.records.models import Submission

    app = served.create_app()
    with app.app_context():
        rows = db.session.scalars(sa.select(Submission).options(selectinload(Submission.flags)))
        stored = [
            (s.reference, s.answers.get("full_name"), frozenset(f.rule for f in s.flags))
            for s in rows
        ]
        db.session.remove()
        db.engine.dispose()
    return stored


def verify(served: Gunicorn, results: Results) -> bool:
    """Compare the stored submissions with what the patients saw; print problems; ok?"""
    stored = stored_submissions(served)
    by_reference: dict[str, list[tuple[str, frozenset[str]]]] = defaultdict(list)
    by_marker: Counter[str] = Counter()
    for reference, marker, flags in stored:
        by_reference[reference].append((marker, flags))
        by_marker[marker] += 1

    problems: list[str] = []
    seen: Counter[str] = Counter(j.reference for j in results.journeys if j.reference)
    for reference, times in seen.items():
        if times > 1:
            problems.append(f"{reference}: shown to {times} patients")
    for journey in results.journeys:
        if not journey.reference:
            continue
        rows_for = by_reference.get(journey.reference, [])
        if len(rows_for) != 1:
            problems.append(f"{journey.reference}: stored {len(rows_for)} times")
            continue
        marker, flags = rows_for[0]
        if marker != journey.marker:
            problems.append(f"{journey.reference}: holds another journey's answers")
        if by_marker[journey.marker] != 1:
            problems.append(f"{journey.reference}: its journey stored {by_marker[marker]} times")
        if flags != journey.case.expect:
            problems.append(
                f"{journey.reference} (case {journey.case.name!r}): flags "
                f"{sorted(flags)} != expected {sorted(journey.case.expect)}"
            )
    acknowledged = set(seen)
    unseen = [
        (reference, marker) for reference, marker, _ in stored if reference not in acknowledged
    ]
    uncertain = {j.marker for j in results.journeys if j.sent_uncertain}
    explained = [ref for ref, marker in unseen if marker in uncertain]
    unexplained = [ref for ref, marker in unseen if marker not in uncertain]

    print("\n== correctness")
    print(f"stored submissions: {len(stored)}; acknowledged references: {len(acknowledged)}")
    print(
        f"sends whose outcome the patient never saw (connection failed mid-send): "
        f"{len(uncertain)}; of those stored anyway: {len(explained)} (not a failure)"
    )
    if unexplained:
        problems.append(
            f"{len(unexplained)} stored submission(s) that no patient sent: {unexplained[:10]}"
        )
    if problems:
        print(f"FAILED: {len(problems)} problem(s)")
        for problem in problems[:50]:
            print(f"  {problem}")
        return False
    print(
        "OK: every acknowledged reference is stored exactly once, with its journey's "
        "answers and exactly its expected flags"
    )
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=200, help="concurrent patients")
    parser.add_argument("--seconds", type=float, default=60, help="how long to start journeys")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its config)")
    parser.add_argument("--seed", type=int, default=5, help="random seed for the answers")
    args = parser.parse_args(argv)

    today = date.today()
    cases, left_out = usable_cases(today)
    print(
        f"load: {args.patients} patients for {args.seconds:.0f} s on {args.db}; "
        f"{len(cases)} cases used, {len(left_out)} left out (dated or as_of cases whose "
        f"flags differ on {today.isoformat()})"
    )
    print("load: the server runs with RATELIMIT_ENABLED=false (one client address)")
    results = Results()
    started_all = time.monotonic()
    postgres = postgres_url("BENCH_DATABASE_URL")
    with served_app(args.db, postgres=postgres, workers=args.workers) as served:
        workers = args.workers or 2 * (os.cpu_count() or 1) + 1
        print(f"load: gunicorn on {served.base_url}, {workers} sync workers")
        start = time.monotonic()
        deadline = start + args.seconds
        threads = [
            threading.Thread(
                target=run_patient,
                args=(
                    served.base_url,
                    results,
                    cases,
                    args.seed * 100_003 + number,
                    deadline,
                    number,
                ),
                daemon=True,
            )
            for number in range(args.patients)
        ]
        for thread in threads:
            thread.start()
        # A journey under way when time is up finishes; each request is bounded.
        hard_stop = deadline + 30 * REQUEST_TIMEOUT
        for thread in threads:
            thread.join(timeout=max(0.0, hard_stop - time.monotonic()))
        elapsed = time.monotonic() - start
        stuck = sum(thread.is_alive() for thread in threads)
        print_figures(results, elapsed, len(cases))
        if stuck:
            print(f"{stuck} patient thread(s) still running at the hard stop")
        print(f"server log: {served.log_summary()}")
        with results.lock:
            ok = verify(served, results) and not stuck
    print(f"load: done in {time.monotonic() - started_all:.0f} s (server stopped, schema dropped)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
