"""Several instances, one database: nginx in front of two gunicorn instances of the app.

Usage (from the project root, with the project venv; bench/cluster.sh makes the prefix and
cleans up after it, whatever happens)::

    bench/cluster.sh                                   # or: make cluster
    bench/cluster.sh --users 60 --seconds 60

Both instances run the project's production gunicorn config on their own 127.0.0.1 port, with
their own instance folder, and share what docs/clinic-it.md says must be shared: SECRET_KEY,
ANSWERS_KEY, DATABASE_URL (one fresh PostgreSQL schema, made with `flask db upgrade`),
RATELIMIT_STORAGE_URI (Redis, under a key prefix of this run's own) and PUBLIC_BASE_URL (the
nginx address). TRUSTED_PROXY_HOPS=1: the client address is the one nginx appends to
X-Forwarded-For.

It prints one PASS or FAIL line per check, with figures:

1. handoff: a draft started on instance A (start, the first half of the pages) continues on
   instance B (the pages saved on A read back there, the rest answered, sent); exactly one
   submission holds the reference B showed, with its journey's answers and expected flags.
2. rate limits: with RATELIMIT_START at a low figure, starts alternating A, B, A ... from one
   client address are refused (429) after the limit summed over both, not after twice it.
3. load: locust (bench/locustfile.py, headless) through nginx, round robin over both; instance
   A's gunicorn master gets SIGTERM mid-run. Afterwards every reference any patient was
   shown is stored exactly once with its expected flags, and nothing is stored that no
   patient sent; failed requests are counted, and B carried on alone.

Exit status 1 when any check fails. Every process started here (both gunicorn masters with
their workers, nginx, locust) is stopped by its pid, also on failure; the schema is dropped
and the run's Redis keys deleted. The pids, the schema and the key prefix are written to the
prefix as they are made, so `--cleanup PREFIX` (what cluster.sh runs on exit) finishes the
job if this process itself was killed. Nothing printed holds an answer or a contact detail.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import requests  # noqa: E402

from bench.load import (  # noqa: E402
    Journey,
    Results,
    stored_submissions,
    verify,
)
from questionnaire.questions.catalogue import PAGES  # noqa: E402
from tests.harness.forms import as_lists, form_values  # noqa: E402
from tests.harness.patient import (  # noqa: E402
    Case,
    JourneyFailed,
    Patient,
    expect_redirect,
    page_answers,
    usable_cases,
)
from tests.harness.served import (  # noqa: E402
    Gunicorn,
    app_environment,
    free_port,
    fresh_database,
    migrate,
    new_answers_key,
    postgres_url,
    stop_group,
    tail,
)

REDIS = "redis://127.0.0.1:6379/0"
#: --break: what B does not share with A in steps 1 and 2, to see those checks fail.
BREAKS = {
    "secret": {"secret_key": secrets.token_urlsafe(48)},
    "limits": {"RATELIMIT_STORAGE_URI": "memory://"},
}
#: Limits for the load step: on (counted in Redis), high enough never to bite.
HIGH_LIMIT = "1000000 per hour"
#: Addresses (TEST-NET-1, never routed) each direct step claims through X-Forwarded-For, so
#: its rate-limit counts are its own.
HANDOFF_CLIENT = "192.0.2.10"
LIMIT_CLIENT = "192.0.2.20"


def say(message: str) -> None:
    print(f"cluster: {message}", flush=True)


def verdict(name: str, ok: bool, figures: str) -> bool:
    print(f"{'PASS' if ok else 'FAIL'} {name}: {figures}", flush=True)
    return ok


# --- what was started, written down as it starts (for --cleanup) ------------------------


class Ledger:
    """The run's prefix: every pid, the schema and the Redis key prefix, one per line."""

    def __init__(self, prefix: Path) -> None:
        self.path = prefix / "started"

    def note(self, kind: str, value: str | int) -> None:
        with self.path.open("a") as out:
            out.write(f"{kind} {value}\n")

    def entries(self) -> list[tuple[str, str]]:
        if not self.path.exists():
            return []
        return [
            (kind, value)
            for kind, _, value in (
                line.partition(" ") for line in self.path.read_text().split("\n")
            )
            if value
        ]


def is_ours(pid: int, kind: str) -> bool:
    """Whether pid still runs the program we started under it (not a reused pid)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return {"gunicorn": "gunicorn", "nginx": "nginx", "locust": "locust"}[kind] in command


def end_group(pid: int, grace: float = 10.0) -> None:
    """SIGTERM to the process group led by pid (started in a session of its own), then KILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def drop_schema(schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url("BENCH_DATABASE_URL"))
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def delete_redis_keys(key_prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        keys = list(client.scan_iter(match=f"*{key_prefix}*", count=1000))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


def cleanup(prefix: Path) -> int:
    """Stop whatever the run left running, drop its schema, delete its Redis keys."""
    left = 0
    for kind, value in Ledger(prefix).entries():
        if kind in {"gunicorn", "nginx", "locust"} and is_ours(int(value), kind):
            say(f"cleanup: stopping {kind} (pid {value}), left running")
            end_group(int(value))
            left += 1
        elif kind == "schema":
            drop_schema(value)
        elif kind == "redis":
            delete_redis_keys(value)
    return left


# --- the servers -------------------------------------------------------------------------


class Cluster:
    """Two gunicorn instances on one database, nginx in front; each started once known."""

    def __init__(self, prefix: Path, ledger: Ledger, database_url: str, workers: int) -> None:
        self.prefix = prefix
        self.ledger = ledger
        self.workers = workers
        self.ports = {"A": free_port(), "B": free_port()}
        self.nginx_port = free_port()
        self.nginx_url = f"http://127.0.0.1:{self.nginx_port}"
        self.key_prefix = f"cluster-{secrets.token_hex(6)}"
        ledger.note("redis", self.key_prefix)
        # What every instance shares; each has its own instance folder all the same.
        self.shared = {
            "secret_key": secrets.token_urlsafe(48),
            "answers_key": new_answers_key(),
            # One name-index key for both instances, as for the answers key.
            "NAME_INDEX_KEY": new_answers_key(),
            "PUBLIC_BASE_URL": self.nginx_url,
            "TRUSTED_PROXY_HOPS": "1",
            "RATELIMIT_ENABLED": "true",
            "RATELIMIT_STORAGE_URI": REDIS,
            "RATELIMIT_KEY_PREFIX": self.key_prefix,
        }
        self.database_url = database_url
        self.servers: dict[str, Gunicorn] = {}
        self.nginx: subprocess.Popen[bytes] | None = None

    def environment(self, name: str, **settings: str) -> dict[str, str]:
        folder = self.prefix / name
        return app_environment(
            self.database_url, folder / "instance", **{**self.shared, **settings}
        )

    def start_instances(self, only_b: dict[str, str] | None = None, **settings: str) -> None:
        """Start A and B (stopping any earlier pair first) with these settings (and B with
        `only_b` on top: how --break makes the two disagree)."""
        self.stop_instances()
        for name, port in self.ports.items():
            limits = {**settings, **((only_b or {}) if name == "B" else {})}
            folder = self.prefix / name
            folder.mkdir(exist_ok=True)
            server = Gunicorn(
                self.environment(name, **limits),
                folder,
                workers=self.workers,
                port=port,
                options=["--no-control-socket"],
            )
            self.servers[name] = server
            try:
                server.start()
            finally:
                if server.process is not None:
                    self.ledger.note("gunicorn", server.process.pid)

    def stop_instances(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    def start_nginx(self) -> None:
        config = self.prefix / "nginx.conf"
        config.write_text(nginx_config(self.prefix, self.ports, self.nginx_port))
        error_log = self.prefix / "nginx-error.log"
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.nginx = subprocess.Popen(  # noqa: S603 - Debian's nginx, our own config
            [nginx, "-p", str(self.prefix), "-e", str(error_log), "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.prefix / "nginx-stderr.log").open("ab"),
            start_new_session=True,
        )
        self.ledger.note("nginx", self.nginx.pid)
        deadline = time.monotonic() + 15
        with requests.Session() as probe:
            probe.trust_env = False
            while time.monotonic() < deadline:
                if self.nginx.poll() is not None:
                    raise RuntimeError(f"nginx exited:\n{tail(error_log)}")
                with contextlib.suppress(requests.RequestException):
                    if probe.get(self.nginx_url + "/", timeout=2).status_code == 200:
                        return
                time.sleep(0.1)
        raise RuntimeError(f"nginx not ready:\n{tail(error_log)}")

    def stop(self) -> None:
        """Stop nginx and both instances (each process group by its leader's pid)."""
        if self.nginx is not None:
            stop_group(self.nginx)
            self.nginx = None
        self.stop_instances()

    def reader(self) -> Gunicorn:
        """A Gunicorn that is never started: its create_app reads the shared database."""
        return Gunicorn(self.environment("reader"), self.prefix)


def nginx_config(prefix: Path, ports: dict[str, int], listen: int) -> str:
    temp = prefix / "nginx-temp"
    temp.mkdir(exist_ok=True)
    user = ""
    if os.geteuid() == 0:  # the workers drop to nobody: let them reach their temp folders
        nobody = pwd.getpwnam("nobody")
        prefix.chmod(0o711)
        os.chown(temp, nobody.pw_uid, nobody.pw_gid)
        user = "user nobody nogroup;"
    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in ports.values()
    )
    return f"""\
# Written by bench/cluster.py for one run; everything under {prefix}.
{user}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/nginx-error.log warn;
events {{ worker_connections 1024; }}

http {{
    # Which instance answered, and how: no path, no query string, no client address.
    log_format cluster '$msec "$upstream_addr" $status $request_method';
    access_log {prefix}/nginx-access.log cluster;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server_tokens off;
    client_max_body_size 64k;

    upstream intake {{
{servers}
    }}

    server {{
        listen 127.0.0.1:{listen};

        location / {{
            proxy_pass http://intake;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_hide_header Server;
            # Try the other instance only when this one could not be reached (refused, reset
            # before an answer, no connection in time). Without non_idempotent, nginx never
            # sends a POST again once it went out: the patient sees a 502 and sends again.
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_next_upstream_timeout 10s;
            proxy_connect_timeout 2s;
            proxy_read_timeout 35s;
        }}
    }}
}}
"""


# --- 1. a draft started on A continues on B ----------------------------------------------


def check_handoff(cluster: Cluster, cases: list[Case], sent: list[Journey]) -> bool:
    a, b = cluster.servers["A"], cluster.servers["B"]
    case = next(c for c in cases if len(c.expect) >= 2)
    answers = {**case.answers, "full_name": "Cluster Handoff"}
    half = len(PAGES) // 2
    patient = Patient(a.base_url)
    assert patient.http is not None
    patient.http.headers["X-Forwarded-For"] = HANDOFF_CLIENT
    problems: list[str] = []
    fields_equal = fields_total = on_a = on_b = 0
    reference = ""
    try:
        expect_redirect(patient.start(), f"/questions/{PAGES[0].id}", "start on A")
        for index, section in enumerate(PAGES[:half]):
            response = patient.answer(section, answers, action="continue")
            expect_redirect(response, f"/questions/{PAGES[index + 1].id}", f"page {index} on A")
        on_a = len(patient.exchanges)
        patient.base_url = b.base_url  # the same browser, the same cookie, the other instance
        for section in PAGES[:half]:  # what A saved, as B shows it
            shown = as_lists(form_values(patient.get(f"/questions/{section.id}")))
            posted = as_lists(page_answers(section, answers))
            fields_total += len(posted)
            fields_equal += sum(shown.get(key) == value for key, value in posted.items())
        for index, section in enumerate(PAGES[half:], start=half):
            following = f"/questions/{PAGES[index + 1].id}" if index + 1 < len(PAGES) else "/check"
            response = patient.answer(section, answers, action="continue")
            expect_redirect(response, following, f"page {index} on B")
        reference = patient.send_for_reference()
        on_b = len(patient.exchanges) - on_a
        sent.append(Journey(answers["full_name"], case, reference))
    except JourneyFailed as error:
        problems.append(str(error))
    finally:
        patient.close()
    if fields_equal != fields_total or not fields_total:
        problems.append(f"B showed {fields_equal} of {fields_total} answers saved on A")
    rows = [row for row in stored_submissions(cluster.reader()) if row[0] == reference]
    if reference and len(rows) != 1:
        problems.append(f"{reference} stored {len(rows)} times")
    elif reference and (rows[0][1] != answers["full_name"] or rows[0][2] != case.expect):
        problems.append(f"{reference} holds other answers or flags than the journey's")
    code = f"{reference[:4]}-{reference[4:]}" if reference else "none"
    figures = (
        f"started + {half} pages on A ({on_a} requests), "
        f"{len(PAGES) - half} pages + send on B ({on_b} requests); B showed {fields_equal}/"
        f"{fields_total} answers saved on A; reference {code} stored {len(rows)} time(s) "
        f"with flags {'as expected' if rows and rows[0][2] == case.expect else 'NOT as expected'}"
        f" ({len(case.expect)})"
    )
    return verdict("1 handoff A->B", not problems, figures + "".join(f"; {p}" for p in problems))


# --- 2. rate limits count across both ------------------------------------------------------


def check_rate_limit(cluster: Cluster, limit: int) -> bool:
    order = ["A", "B"] * (limit * 3 // 2 + 1)
    order = order[: limit * 3]
    patient = Patient(cluster.servers["A"].base_url)
    assert patient.http is not None
    patient.http.headers["X-Forwarded-For"] = LIMIT_CLIENT
    statuses: list[tuple[str, int | None]] = []
    try:
        for name in order:
            patient.base_url = cluster.servers[name].base_url
            patient.http.cookies.clear()
            response = patient.start()
            statuses.append((name, response.status_code))
    finally:
        patient.close()
    accepted = sum(status == 303 for _, status in statuses)
    refused = Counter(name for name, status in statuses if status == 429)
    ok = (
        all(status == 303 for _, status in statuses[:limit])
        and all(status == 429 for _, status in statuses[limit:])
        and len(refused) == 2
    )
    other = Counter(status for _, status in statuses if status not in {303, 429})
    figures = (
        f"RATELIMIT_START={limit} per hour; {len(statuses)} starts alternating A/B from one "
        f"address: {accepted} accepted, then {sum(refused.values())} refused with 429 "
        f"(A {refused['A']}, B {refused['B']}); counted per instance it would accept "
        f"{min(2 * limit, len(statuses))}" + (f"; other answers {dict(other)}" if other else "")
    )
    return verdict("2 rate limits across A+B", ok, figures)


# --- 3. locust through nginx, one instance stopped mid-run -------------------------------


def read_journeys(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def as_results(records: list[dict[str, Any]]) -> Results:
    """The journeys locust's patients wrote down, as bench/load.py's verify reads them."""
    results = Results()
    for record in records:
        journey = Journey(record["marker"], Case(record["case"], {}, frozenset(record["expect"])))
        journey.reference = record["reference"]
        journey.sent_uncertain = record["sent_uncertain"]
        journey.failed_at = record["failed_at"]
        results.journeys.append(journey)
    return results


def locust_figures(prefix: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The aggregated row of locust's stats CSV, and its failures."""
    stats_path, failures_path = prefix / "locust_stats.csv", prefix / "locust_failures.csv"
    total: dict[str, str] = {}
    if stats_path.exists():
        with stats_path.open() as stats:
            total = next((row for row in csv.DictReader(stats) if row["Name"] == "Aggregated"), {})
    failures: list[dict[str, str]] = []
    if failures_path.exists():
        with failures_path.open() as rows:
            failures = list(csv.DictReader(rows))
    return total, failures


_LOG_LINE = re.compile(r'^(\d+\.\d+) "([^"]*)" (\d+) (\w+)$')


def upstream_counts(
    log: Path, ports: dict[str, int], signalled: float, gone: float
) -> dict[str, Counter[str]]:
    """Count nginx's answers by instance: before A's master got SIGTERM, while it shut
    down, and after it was gone.

    "A->B" is a request nginx could not pass to A and passed to B; "A 502" one it had sent
    to A that A never answered (a POST, not sent again: the patient sends it again).
    """
    names = {f"127.0.0.1:{port}": name for name, port in ports.items()}
    counts: dict[str, Counter[str]] = {"before": Counter(), "during": Counter(), "after": Counter()}
    for line in log.read_text().splitlines() if log.exists() else []:
        match = _LOG_LINE.match(line)
        if not match:
            continue
        when, upstreams, status, _method = match.groups()
        tried = [names.get(u.strip(), u.strip()) for u in upstreams.split(",") if u.strip()]
        key = "->".join(tried) if tried else "none"
        if status.startswith("5"):
            key += f" {status}"
        moment = float(when)
        period = "before" if moment < signalled else "during" if moment < gone else "after"
        counts[period][key] += 1
    return counts


#: An nginx error-log entry: "... [error] 12#12: *345 connect() failed (111: ...) while ...".
_UPSTREAM_ERROR = re.compile(r"\[(\w+)\] \d+#\d+: \*\d+ (.+?) while .*upstream")


def upstream_errors(log: Path) -> Counter[str]:
    """Count nginx's error-log entries about the instances, by what happened (no request)."""
    kinds: Counter[str] = Counter()
    for line in log.read_text().splitlines() if log.exists() else []:
        found = _UPSTREAM_ERROR.search(line)
        if found:
            kinds[f"{found.group(1)}: {found.group(2)}"] += 1
    return kinds


def check_load(cluster: Cluster, args: argparse.Namespace, earlier: list[Journey]) -> bool:
    prefix = cluster.prefix
    journeys_file = prefix / "journeys.jsonl"
    command = [
        str(PROJECT_ROOT / ".venv" / "bin" / "locust"),
        "-f",
        str(PROJECT_ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(args.users),
        "-r",
        str(args.spawn_rate),
        "-t",
        f"{args.seconds}s",
        "--stop-timeout",
        "35",
        "--host",
        cluster.nginx_url,
        "--csv",
        str(prefix / "locust"),
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--journeys",
        str(journeys_file),
    ]
    say(
        f"load: locust, {args.users} users (spawn {args.spawn_rate}/s) for {args.seconds} s "
        f"through nginx {cluster.nginx_url}; SIGTERM to A's master after {args.stop_after} s"
    )
    with (prefix / "locust.log").open("ab") as log:
        locust = subprocess.Popen(  # noqa: S603 - the venv's locust, fixed arguments
            command,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    cluster.ledger.note("locust", locust.pid)
    a = cluster.servers["A"]
    assert a.process is not None
    access_log = prefix / "nginx-access.log"
    lines_before = len(access_log.read_text().splitlines()) if access_log.exists() else 0
    try:
        # The clock starts at locust's first request (its start-up takes seconds here).
        wait_until = time.monotonic() + 60
        while time.monotonic() < wait_until and locust.poll() is None:
            if len(access_log.read_text().splitlines()) > lines_before:
                break
            time.sleep(0.1)
        started = time.time()
        time.sleep(args.stop_after)
        signalled = time.time()
        os.kill(a.process.pid, signal.SIGTERM)  # the master only: it stops its workers
        try:
            a.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            say("A's master still running 40 s after SIGTERM")
        gone = time.time()
        try:
            locust.wait(timeout=args.seconds + 35 + 30)
        except subprocess.TimeoutExpired:
            say("locust did not finish in time; stopping it")
    finally:
        stop_group(locust)
    a_exit = a.process.poll()

    records = read_journeys(journeys_file)
    results = as_results(records)
    results.journeys.extend(earlier)  # the handoff's submission is in the same schema
    total, failures = locust_figures(prefix)
    counts = upstream_counts(prefix / "nginx-access.log", cluster.ports, signalled, gone)
    acknowledged = [r for r in records if r["reference"]]
    after_stop = [r for r in acknowledged if r["ended"] > gone]
    trouble = Counter(str(t) for r in records for t in r["trouble"])
    unfinished = Counter(
        f"{r['failed_at'][:80]} after {r['requests']} requests"
        for r in records
        if not r["reference"]
    )
    exceptions_csv = prefix / "locust_exceptions.csv"
    task_errors = 0
    if exceptions_csv.exists():
        with exceptions_csv.open() as rows:
            task_errors = sum(int(row["Count"]) for row in csv.DictReader(rows))
    say(
        f"load: A got SIGTERM at {signalled - started:.1f} s, its master exited "
        f"({a_exit}) {gone - signalled:.1f} s later; locust's load lasted "
        f"{time.time() - started:.0f} s"
    )
    say(
        f"load: locust: {total.get('Request Count', '?')} requests, "
        f"{total.get('Failure Count', '?')} failed, {float(total.get('Requests/s') or 0):.0f} "
        f"req/s, p50 {total.get('50%', '?')} ms, p95 {total.get('95%', '?')} ms, "
        f"p99 {total.get('99%', '?')} ms"
    )
    for failure in failures:
        say(
            f"load:   failed {failure['Occurrences']}x {failure['Method']} {failure['Name']}: "
            f"{failure['Error'][:120]}"
        )
    say(f"load: 5xx or no answer met by patients, each then sent again: {dict(trouble) or 0}")
    say(f"load: nginx's upstream errors: {dict(upstream_errors(prefix / 'nginx-error.log')) or 0}")
    say(
        f"load: nginx answers by instance, before SIGTERM: {dict(counts['before'])}; while A "
        f"shut down: {dict(counts['during'])}; after: {dict(counts['after'])}"
    )
    say(
        f"load: journeys {len(records)}, acknowledged {len(acknowledged)} "
        f"({len(after_stop)} after A was gone), not acknowledged: {dict(unfinished) or 0}; "
        f"errors raised in locust tasks: {task_errors}"
    )
    stored_ok = verify(cluster.reader(), results)
    served_by_a_after = sum(n for k, n in counts["after"].items() if k in {"A", "B->A"})
    problems = []
    if a_exit is None:
        problems.append("A's master did not exit")
    if not counts["before"].get("A") or not counts["before"].get("B"):
        problems.append("both instances did not serve before the stop")
    if served_by_a_after:
        problems.append(f"A answered {served_by_a_after} requests after its master exited")
    if not after_stop:
        problems.append("no journey was acknowledged after A was gone")
    if not stored_ok:
        problems.append("the stored submissions do not match what patients were shown")
    failed = total.get("Failure Count", "?")
    figures = (
        f"{len(acknowledged)} references acknowledged ({len(after_stop)} after A stopped), "
        f"each stored exactly once with its expected flags: {'yes' if stored_ok else 'NO'}; "
        f"{failed} of {total.get('Request Count', '?')} requests failed; "
        f"{len(records) - len(acknowledged)} journeys unacknowledged"
    )
    return verdict(
        "3 load through nginx, A stopped mid-run",
        not problems,
        figures + "".join(f"; {p}" for p in problems),
    )


def schema_of(url: str) -> str:
    """The schema fresh_database made: the search_path in its URL's options."""
    import sqlalchemy as sa

    options = str(sa.make_url(url).query.get("options", ""))
    found = re.search(r"search_path=(\w+)", options)
    if found is None:
        raise RuntimeError("no schema in the database URL")
    return found.group(1)


# --- the run -------------------------------------------------------------------------------


def run(args: argparse.Namespace, prefix: Path) -> int:
    ledger = Ledger(prefix)
    cases, left_out = usable_cases(date.today())
    results: list[bool] = []
    handoff: list[Journey] = []
    started = time.monotonic()
    with fresh_database(
        "postgres", prefix, postgres_url("BENCH_DATABASE_URL"), prefix="cluster_"
    ) as url:
        schema = schema_of(url)
        ledger.note("schema", schema)
        cluster = Cluster(prefix, ledger, url, args.workers)
        try:
            migrate(cluster.environment("migrate"))
            say(
                f"PostgreSQL schema {schema} migrated; "
                f"Redis key prefix {cluster.key_prefix}; {len(cases)} rules.yaml cases "
                f"({len(left_out)} dated ones left out)"
            )
            limit = args.rate_limit
            broken = BREAKS[args.break_] if args.break_ else {}
            if broken:
                say(f"--break {args.break_}: B runs with {sorted(broken)} of its own (steps 1-2)")
            cluster.start_instances(
                broken, RATELIMIT_START=f"{limit} per hour", RATELIMIT_SUBMIT=f"{limit} per hour"
            )
            say(
                f"instances A :{cluster.ports['A']} and B :{cluster.ports['B']} up "
                f"({args.workers} sync workers each), low rate limits"
            )
            results.append(check_handoff(cluster, cases, handoff))
            results.append(check_rate_limit(cluster, limit))
            if args.break_:
                say("--break: step 3 (load) left out")
            else:
                cluster.start_instances(RATELIMIT_START=HIGH_LIMIT, RATELIMIT_SUBMIT=HIGH_LIMIT)
                cluster.start_nginx()
                say(f"instances restarted with high rate limits; nginx on {cluster.nginx_url}")
                results.append(check_load(cluster, args, handoff))
            for name, server in cluster.servers.items():
                say(f"instance {name} log: {server.log_summary()}")
        finally:
            cluster.stop()
            removed = delete_redis_keys(cluster.key_prefix)
            say(f"stopped nginx, A and B; deleted {removed} Redis keys")
    say(f"schema dropped; {time.monotonic() - started:.0f} s in all")
    passed = sum(results)
    print(
        f"{'PASS' if all(results) and len(results) == 3 else 'FAIL'}: {passed} of 3 checks passed"
    )
    return 0 if all(results) and len(results) == 3 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", type=Path, help="an empty folder for the run (made if not)")
    parser.add_argument("--cleanup", type=Path, metavar="PREFIX", help="finish a run's clean-up")
    parser.add_argument("--users", type=int, default=40, help="locust users")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started per second")
    parser.add_argument("--seconds", type=int, default=40, help="locust's run time")
    parser.add_argument("--stop-after", type=float, default=15, help="SIGTERM to A after (s)")
    parser.add_argument("--workers", type=int, default=3, help="sync workers per instance")
    parser.add_argument("--rate-limit", type=int, default=5, help="starts per hour in step 2")
    parser.add_argument(
        "--break",
        dest="break_",
        choices=sorted(BREAKS),
        help="B keeps its own SECRET_KEY or counts limits in memory in steps 1-2 (must FAIL)",
    )
    args = parser.parse_args(argv)
    if args.cleanup:
        return 1 if cleanup(args.cleanup) else 0

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)  # so the clean-up below runs
    with contextlib.ExitStack() as stack:
        prefix = args.prefix
        if prefix is None:
            prefix = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cluster-")))
        prefix.mkdir(parents=True, exist_ok=True)
        try:
            return run(args, prefix)
        finally:
            cleanup(prefix)


if __name__ == "__main__":
    sys.exit(main())
