"""The send against the floor: POST /check beside a bare 10-field form, same server, same run.

Usage (from the project root, with the project venv)::

    .venv/bin/python bench/send.py                 # 3 interleaved reps of 1,200 requests each

Both apps run under gunicorn with the project's production settings (2 sync workers) on
fresh PostgreSQL schemas, one after the other, rep by rep (bare, send, bare, send …), so
the machine's noise falls on both alike. 16 client threads post at once.

Each send needs a draft of its own: the drafts are written straight into the database
(every page answered, as a patient leaves them), and each client request carries a
session cookie made with the app's own session serializer holding that draft's token and
a CSRF token, exactly as a browser that walked the pages would. The bare form's clients
carry a cookie with a CSRF token too. Every request must answer 303; anything else fails
the run. The figures are requests per second (and p95 latency) and their ratio.

The statements of one send are counted in-process with SQLAlchemy's cursor events (a
count, stable on a noisy machine). Nothing printed holds an answer.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.bare_form import VALUES as BARE_VALUES  # noqa: E402
from bench.dataset import app_for  # noqa: E402
from tests.harness.served import (  # noqa: E402
    APP,
    Gunicorn,
    app_environment,
    fresh_database,
    migrate,
    postgres_url,
)

CLIENTS = 16
REQUESTS = 1200
REPS = 3
WARM_UP = 200
WORKERS = 2


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def post_all(
    port: int, path: str, bodies: list[tuple[str, str]], expect: str
) -> tuple[float, list[float]]:
    """POST every (cookie, body) once from CLIENTS threads; return (seconds, latencies ms).

    Every answer must be a 303 to `expect` (a send that found no draft is a 303 too, to
    the start page: it would be a fast non-send, and fails the run).
    """
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))

    def client() -> None:
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            cookie, body = bodies[index]
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                connection.request(
                    "POST",
                    path,
                    body=body,
                    headers={
                        "Cookie": cookie,
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
                response = connection.getresponse()
                response.read()
                status = response.status
                location = response.getheader("Location") or ""
            finally:
                connection.close()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if status != 303 or not location.endswith(expect):
                    failures.append(f"{status} {location.split('?')[0]}")

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(
            f"{len(failures)} requests did not answer 303 to {expect}: {sorted(set(failures))}"
        )
    return seconds, latencies


def _cookie(app: Any, values: dict[str, Any]) -> tuple[str, str]:
    """Return (Cookie header, CSRF token) for a session holding these values."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    # A fresh app context: Flask-WTF keeps the token it made in `g` for the context's life.
    with app.app_context(), app.test_request_context("/"):
        session.update(values)
        token = generate_csrf()
        signed = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return f"{app.config.get('SESSION_COOKIE_NAME', 'session')}={signed}", token


def send_bodies(environment: dict[str, str], count: int) -> list[tuple[str, str]]:
    """Write `count` complete drafts; return a (cookie, form body) to send each."""
    from questionnaire.extensions import db, utcnow
    from questionnaire.intake import service
    from questionnaire.intake.routes import DRAFT_KEY
    from questionnaire.questions.catalogue import PAGES
    from questionnaire.records.models import Draft
    from tests.answers import baseline

    app = app_for(environment)
    answers = baseline()
    bodies = []
    with app.app_context():
        now = utcnow()
        drafts = []
        for _ in range(count):
            token = service.new_token()
            drafts.append(
                Draft(
                    token_hash=service.digest(token),
                    answers=answers,
                    language="en",
                    created_at=now,
                    updated_at=now,
                    expires_at=now + timedelta(hours=Draft.LIFETIME_HOURS),
                    pages_done=len(PAGES),
                )
            )
            cookie, csrf = _cookie(app, {DRAFT_KEY: token})
            bodies.append((cookie, urlencode({"csrf_token": csrf, "understands_review": "y"})))
        db.session.add_all(drafts)
        db.session.commit()
        db.engine.dispose()
    return bodies


def bare_bodies(environment: dict[str, str], count: int) -> list[tuple[str, str]]:
    """Return a (cookie, form body) for each bare-form request."""
    from flask import Flask

    app = Flask("bare")
    app.config["SECRET_KEY"] = environment["SECRET_KEY"]
    bodies = []
    for _ in range(count):
        cookie, csrf = _cookie(app, {})
        bodies.append((cookie, urlencode({**BARE_VALUES, "csrf_token": csrf})))
    return bodies


def send_statements(environment: dict[str, str]) -> list[str]:
    """Return the statements one send runs (their verbs), counted in this process."""
    from questionnaire.extensions import db
    from tests.exports import BLOOD_PRESSURE
    from tests.harness.patient import Patient
    from tests.harness.statements import counting

    app = app_for(environment)
    with app.app_context():
        patient = Patient(app.test_client())
        patient.walk_to_check(BLOOD_PRESSURE)
        form = patient.send_form()
        with counting(db.engine) as seen:
            response = patient.send(form)
        assert response.status_code == 303, response.status_code
        db.engine.dispose()
    return seen


@contextmanager
def served(folder: Path, name: str, app: str) -> Iterator[tuple[Gunicorn, dict[str, str]]]:
    """Serve an app (ours, or the bare form) on a fresh schema; yield it."""
    postgres = postgres_url("BENCH_DATABASE_URL")
    with fresh_database("postgres", folder, postgres, prefix=f"bench_{name}_") as url:
        instance = folder / name
        instance.mkdir(exist_ok=True)
        environment = app_environment(url, instance, WEB_CONCURRENCY=str(WORKERS))
        if app == APP:
            migrate(environment)
        else:
            import sqlalchemy as sa

            from bench.bare_form import Row

            engine = sa.create_engine(url)
            Row.metadata.create_all(engine)
            engine.dispose()
        server = Gunicorn(environment, instance, workers=WORKERS, app=app)
        try:
            server.start()
            yield server, environment
        finally:
            server.stop()


def measure(folder: Path, requests: int = REQUESTS, reps: int = REPS) -> dict[str, Any]:
    """Return the send's and the bare form's req/s and p95, interleaved reps, and their ratios."""
    figures: dict[str, list[float]] = {"bare": [], "send": [], "bare_p95": [], "send_p95": []}
    with (
        served(folder, "bare", "bench.bare_form:create_app()") as (bare, bare_env),
        served(folder, "send", APP) as (send, send_env),
    ):
        statements = send_statements(send_env)
        # A warm-up for each, not measured: fresh workers compile their statements and
        # templates on their first requests.
        post_all(bare.port, "/form", bare_bodies(bare_env, WARM_UP), "/thanks")
        post_all(send.port, "/check", send_bodies(send_env, WARM_UP), "/done")
        for _rep in range(reps):
            for name, server, path, expect, bodies in (
                ("bare", bare, "/form", "/thanks", bare_bodies(bare_env, requests)),
                ("send", send, "/check", "/done", send_bodies(send_env, requests)),
            ):
                seconds, latencies = post_all(server.port, path, bodies, expect)
                figures[name].append(requests / seconds)
                figures[f"{name}_p95"].append(percentile(latencies, 0.95))
    bare_rps, send_rps = statistics.median(figures["bare"]), statistics.median(figures["send"])
    bare_p95, send_p95 = (
        statistics.median(figures["bare_p95"]),
        statistics.median(figures["send_p95"]),
    )
    return {
        "bare_rps": round(bare_rps, 1),
        "send_rps": round(send_rps, 1),
        "bare_p95_ms": round(bare_p95, 1),
        "send_p95_ms": round(send_p95, 1),
        "send_ratio_vs_bare_form": round(send_rps / bare_rps, 3),
        "send_p95_ratio_vs_bare_form": round(send_p95 / bare_p95, 3),
        "send_sql_statements": len(statements),
        "send_statements": statements,
        "reps": {key: [round(value, 1) for value in values] for key, values in figures.items()},
    }


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--reps", type=int, default=REPS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        figures = measure(Path(folder), args.requests, args.reps)
    print(f"bare form: {figures['bare_rps']} req/s, p95 {figures['bare_p95_ms']} ms")
    print(f"send:      {figures['send_rps']} req/s, p95 {figures['send_p95_ms']} ms")
    print(
        f"ratio {figures['send_ratio_vs_bare_form']} (budget >= 0.5), p95 ratio "
        f"{figures['send_p95_ratio_vs_bare_form']} (budget <= 2), "
        f"{figures['send_sql_statements']} statements {figures['send_statements']} (budget <= 6)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
