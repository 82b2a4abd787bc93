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

`ServedApp` is reused by .ci/scan.py.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
REFERENCE = re.compile(r'class="reference">([A-Z0-9]{4}-[A-Z0-9]{4})<')
REQUEST_TIMEOUT = 30.0


# --- the server -------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_base_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", DEFAULT_POSTGRES
    )


def stop_group(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """Stop a process started with start_new_session=True, and all of its children."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


class ServedApp:
    """The app under gunicorn (questionnaire/gunicorn_conf.py) on 127.0.0.1, on a fresh database.

    A context manager: entering creates the schema (or SQLite file), migrates it, starts
    gunicorn and waits until it answers; leaving stops gunicorn's process group and drops
    the schema, whatever happened.
    """

    def __init__(
        self,
        db: str = "postgres",
        workers: int | None = None,
        extra_env: dict[str, str] | None = None,
        access_log: bool = False,
        tls: bool = False,
    ) -> None:
        if db not in {"postgres", "sqlite"}:
            raise ValueError("db must be postgres or sqlite")
        self.db = db
        self.workers = workers
        self.extra_env = extra_env or {}
        self.access_log = access_log
        self.port = free_port()
        self.tls = tls
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.answers_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        self.secret_key = secrets.token_urlsafe(48)
        self.schema = f"bench_{uuid.uuid4().hex[:12]}"
        self.tmp = tempfile.TemporaryDirectory(prefix="intake-serve-")
        self.database_url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._schema_created = False
        self.log_path = Path(self.tmp.name) / "gunicorn.log"
        #: What requests should verify the server with: the throwaway certificate under TLS.
        self.verify: str | bool = True

    # The environment every process (migrations, gunicorn, CLI commands) gets.
    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RATELIMIT_", "GUNICORN_", "FLASK_"))
            and key not in {"DATABASE_URL", "ANSWERS_KEY", "SECRET_KEY", "WEB_CONCURRENCY"}
        }
        env.update(
            {
                "APP_ENV": "development",
                "SECRET_KEY": self.secret_key,
                "ANSWERS_KEY": self.answers_key,
                "DATABASE_URL": self.database_url,
                "INSTANCE_PATH": str(Path(self.tmp.name) / "instance"),
                "BIND": f"127.0.0.1:{self.port}",
                # Production builds every absolute link from this, never from the Host header.
                "PUBLIC_BASE_URL": self.base_url,
                "GUNICORN_ACCESSLOG": str(self.log_path) if self.access_log else "",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        if self.workers:
            env["WEB_CONCURRENCY"] = str(self.workers)
        env.update(self.extra_env)
        return env

    def flask(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        """Run `flask --app questionnaire ARGS` against this app's database; return stdout."""
        result = subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
            [sys.executable, "-m", "flask", "--app", "questionnaire", *args],
            cwd=PROJECT_ROOT,
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {args[0]} failed ({result.returncode}): {result.stderr}")
        return result.stdout

    def _admin_engine(self) -> Any:
        import sqlalchemy as sa

        return sa.create_engine(postgres_base_url())

    def __enter__(self) -> ServedApp:
        try:
            self._prepare_database()
            self.flask("db", "upgrade")
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _prepare_database(self) -> None:
        if self.db == "sqlite":
            self.database_url = f"sqlite:///{Path(self.tmp.name) / 'intake.db'}"
            return
        import sqlalchemy as sa

        engine = self._admin_engine()
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            self._schema_created = True
        finally:
            engine.dispose()
        url = sa.make_url(postgres_base_url()).update_query_dict(
            {"options": f"-csearch_path={self.schema}"}
        )
        self.database_url = url.render_as_string(hide_password=False)

    def _certificate(self) -> list[str]:
        """Make a throwaway self-signed certificate for 127.0.0.1; return gunicorn's TLS flags."""
        import datetime
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        cert_path = Path(self.tmp.name) / "cert.pem"
        key_path = Path(self.tmp.name) / "key.pem"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_path.chmod(0o600)
        self.verify = str(cert_path)
        return ["--certfile", str(cert_path), "--keyfile", str(key_path)]

    def _start(self) -> None:
        tls_flags = self._certificate() if self.tls else []
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(  # noqa: S603 (our own server, fixed arguments)
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "python:questionnaire.gunicorn_conf",
                    *tls_flags,
                    "questionnaire:create_app()",
                ],
                cwd=PROJECT_ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}); see its log")
            try:
                with requests.Session() as probe:
                    probe.trust_env = False
                    ready = probe.get(self.base_url + "/", timeout=2, verify=self.verify)
                if ready.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def log_summary(self) -> dict[str, int]:
        """Count worker deaths, timeouts and unhandled errors in gunicorn's log (no lines)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return {
            "unhandled errors": text.count("Unhandled "),
            "worker timeouts": text.count("WORKER TIMEOUT"),
            "workers killed": text.count("SIGKILL"),
            "tracebacks": text.count("Traceback"),
        }

    def create_app(self) -> Any:
        """Return the app in this process, on the same database and key (to read results)."""
        from questionnaire import create_app

        return create_app(
            {
                "SQLALCHEMY_DATABASE_URI": self.database_url,
                "ANSWERS_KEY": self.answers_key,
                "SECRET_KEY": self.secret_key,
                "INSTANCE_PATH": str(Path(self.tmp.name) / "instance"),
                "RATELIMIT_ENABLED": False,
            }
        )

    def __exit__(self, *exc: object) -> None:
        try:
            if self.process is not None:
                stop_group(self.process)
        finally:
            try:
                if self._schema_created:
                    import sqlalchemy as sa

                    engine = self._admin_engine()
                    try:
                        with engine.begin() as connection:
                            connection.execute(sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))
                    finally:
                        engine.dispose()
                    self._schema_created = False
            finally:
                self.tmp.cleanup()


# --- the answers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    answers: dict[str, Any]
    expect: frozenset[str]


def usable_cases(today: date) -> tuple[list[Case], list[str]]:
    """Return the rules.yaml cases whose expected flags hold today, and the names left out.

    The cases are dated (ages are computed on the day of the table's cases); the server
    judges with today's date, so a case about an age on that day may raise other flags
    today. Those are left out rather than given an expectation computed by the app itself.
    """
    from questionnaire.forms import validate_answers
    from questionnaire.ruleset import evaluate, load_rule_table
    from tests.answers import RULES_FILE, cases, with_changes

    table = load_rule_table(RULES_FILE)
    kept: list[Case] = []
    left_out: list[str] = []
    for case in cases():
        if "as_of" in case:
            left_out.append(case["name"])
            continue
        answers = with_changes(case.get("answers") or {})
        validated = validate_answers(answers, today)
        expect = frozenset(case["expect"])
        flags = {finding.rule for finding in evaluate(table, validated.answers, validated.facts)}
        if validated.errors or flags != expect:
            left_out.append(case["name"])
            continue
        kept.append(Case(case["name"], answers, expect))
    return kept, left_out


# --- the patients -----------------------------------------------------------------------


@dataclass
class Sample:
    label: str
    seconds: float
    status: int | None  # None: no response (connection error or timeout)
    error: str = ""


@dataclass
class Journey:
    marker: str
    case: Case
    reference: str | None = None
    sent_uncertain: bool = False  # the send POST may have reached the server unanswered
    failed_at: str = ""


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    journeys: list[Journey] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Unexpected(Exception):
    """A response a browser user would see as a failure."""


class SimulatedPatient:
    """One browser: a cookie jar, walking the real pages and recording every request."""

    def __init__(self, base_url: str, results: Results, verify: str | bool = True) -> None:
        self.base_url = base_url
        self.results = results
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy, and no CA bundle from the environment
        self.http.verify = verify
        self.samples: list[Sample] = []

    def request(self, method: str, path: str, label: str, expect: int, **kw: Any) -> Any:
        started = time.perf_counter()
        try:
            response = self.http.request(
                method,
                self.base_url + path,
                allow_redirects=False,
                timeout=REQUEST_TIMEOUT,
                **kw,
            )
        except requests.RequestException as error:
            self.samples.append(
                Sample(label, time.perf_counter() - started, None, type(error).__name__)
            )
            raise
        self.samples.append(Sample(label, time.perf_counter() - started, response.status_code))
        if response.status_code != expect:
            raise Unexpected(f"{label}: {response.status_code}")
        return response

    def token(self, path: str, label: str) -> str:
        page = self.request("GET", path, label, 200)
        match = CSRF.search(page.text)
        if not match:
            raise Unexpected(f"{label}: no csrf_token")
        return match.group(1)

    def walk(self, journey: Journey) -> None:
        """Start, answer every page, send, read the reference. Raises on the first failure."""
        from questionnaire.items import PAGES

        answers = journey.case.answers
        token = self.token("/", "GET /")
        self.request(
            "POST", "/start", "POST /start", 303, data={"privacy_consent": "y", "csrf_token": token}
        )
        for section in PAGES:
            path = f"/questions/{section.id}"
            token = self.token(path, "GET page")
            data: dict[str, Any] = {
                item.id: answers[item.id] for item in section.items if item.id in answers
            }
            data["csrf_token"] = token
            self.request("POST", path, "POST page", 303, data=data)
        token = self.token("/check", "GET /check")
        try:
            sent = self.request(
                "POST",
                "/check",
                "POST /check (send)",
                303,
                data={"understands_review": "y", "csrf_token": token},
            )
        except requests.RequestException:
            journey.sent_uncertain = True
            raise
        if not sent.headers.get("Location", "").endswith("/done"):
            raise Unexpected("send did not lead to /done")
        try:
            done = self.request("GET", "/done", "GET /done", 200)
        except (requests.RequestException, Unexpected):
            journey.sent_uncertain = True
            raise
        match = REFERENCE.search(done.text)
        if not match:
            journey.sent_uncertain = True
            raise Unexpected("no reference on the confirmation page")
        journey.reference = match.group(1).replace("-", "")

    def run(self, cases: list[Case], rng: random.Random, deadline: float, number: int) -> None:
        count = 0
        while time.monotonic() < deadline:
            count += 1
            case = rng.choice(cases)
            marker = f"Load Patient {number}-{count}"
            answers = dict(case.answers)
            answers["full_name"] = marker  # ties a stored submission to this journey
            journey = Journey(marker, Case(case.name, answers, case.expect))
            self.http.cookies.clear()
            try:
                self.walk(journey)
            except Unexpected as error:
                journey.failed_at = str(error)
            except requests.RequestException as error:
                journey.failed_at = type(error).__name__
            with self.results.lock:
                self.results.journeys.append(journey)
                self.results.samples.extend(self.samples)
            self.samples = []


# --- the report -------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def print_figures(results: Results, elapsed: float, cases_used: int) -> None:
    acknowledged = [j for j in results.journeys if j.reference]
    samples = results.samples
    print(f"\n== figures ({elapsed:.1f} s of load, {cases_used} rules.yaml cases in rotation)")
    print(f"journeys started: {len(results.journeys)}, acknowledged: {len(acknowledged)}")
    print(f"submissions/s: {len(acknowledged) / elapsed:.1f}")
    print(f"requests/s:    {len(samples) / elapsed:.1f} ({len(samples)} requests)")
    by_label: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        if sample.status is not None:
            by_label[sample.label].append(sample.seconds * 1000)
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


def verify(served: ServedApp, results: Results) -> bool:
    """Compare the stored submissions with what the patients saw; print problems; ok?"""
    import sqlalchemy as sa
    from sqlalchemy.orm import selectinload

    from questionnaire.extensions import db
    from questionnaire.models import Submission

    app = served.create_app()
    with app.app_context():
        rows = db.session.scalars(sa.select(Submission).options(selectinload(Submission.flags)))
        stored = [
            (s.reference, s.answers.get("full_name"), frozenset(f.rule for f in s.flags))
            for s in rows
        ]
        db.session.remove()
        db.engine.dispose()

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
    with ServedApp(
        args.db, workers=args.workers, extra_env={"RATELIMIT_ENABLED": "false"}
    ) as served:
        workers = served.env().get("WEB_CONCURRENCY") or f"{2 * (os.cpu_count() or 1) + 1}"
        print(f"load: gunicorn on {served.base_url}, {workers} sync workers")
        start = time.monotonic()
        deadline = start + args.seconds
        threads = [
            threading.Thread(
                target=SimulatedPatient(served.base_url, results).run,
                args=(cases, random.Random(args.seed * 100_003 + number), deadline, number),
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
