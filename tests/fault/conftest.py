"""Fault-injection harness: a throwaway PostgreSQL cluster, gunicorn, and patients over HTTP.

Everything here listens on 127.0.0.1 only, is bounded in time, and is stopped by
the fixture that started it (process groups are killed, temp dirs removed).
The main PostgreSQL cluster on 5432 is never touched: the throwaway cluster
lives in its own temp dir, on a free port, with its sockets in that dir.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import requests

from questionnaire.questions.catalogue import PAGES, Section
from tests.conftest import PROJECT_ROOT, TEST_KEY

PG_BIN = Path("/usr/lib/postgresql/15/bin")
INITDB = PG_BIN / "initdb"
PG_CTL = PG_BIN / "pg_ctl"
VENV_BIN = Path(sys.executable).parent
#: Longest a fault test may run, set-up included, before it is stopped (seconds).
TEST_TIME_LIMIT = 150
#: Timeouts of one HTTP request: connecting, then reading the answer (seconds).
HTTP_TIMEOUT = (3.0, 20.0)
SECRET_KEY = "fault-tests-secret-key-not-for-production-0123456789"

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
REFERENCE = re.compile(r'class="reference">\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*<')


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fault: fault injection against a throwaway PostgreSQL cluster and gunicorn "
        "(needs /usr/lib/postgresql/15/bin; slow, about a minute)",
    )


class FaultTimeout(Exception):
    """A fault test ran past TEST_TIME_LIMIT."""


@pytest.fixture(autouse=True)
def _time_limit() -> Iterator[None]:
    """Stop a fault test that runs too long: its finally blocks then stop what it started."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise FaultTimeout(f"fault test ran past {TEST_TIME_LIMIT} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, TEST_TIME_LIMIT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tail(path: Path, lines: int = 40) -> str:
    """Return the end of a log file (for failure messages)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


# --- PostgreSQL ------------------------------------------------------------------------


class PostgresCluster:
    """A PostgreSQL 15 cluster in a temp dir owned by postgres, on 127.0.0.1:port."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.log = root / "postgres.log"

    def _run(self, *args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(arg) for arg in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=timeout, check=False
        )

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            raise RuntimeError(
                f"{what} failed ({result.returncode}): {result.stdout}{result.stderr}\n"
                f"{tail(self.log)}"
            )

    def init(self) -> None:
        self._check(
            self._run(
                INITDB,
                "-D",
                self.data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ),
            "initdb",
        )
        # fsync off: a stop with -m immediate is a crash of PostgreSQL, not of the kernel,
        # so committed work is still in the page cache and recovery replays it.
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "60",
            "shared_buffers": "32MB",
            "fsync": "off",
            "logging_collector": "off",
        }
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# fault tests\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        self._check(
            self._run(
                PG_CTL, "start", "-D", self.data, "-l", self.log, "-w", "-t", "30", timeout=45
            ),
            "pg_ctl start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._check(
            self._run(PG_CTL, "stop", "-D", self.data, "-m", mode, "-w", "-t", "30", timeout=45),
            f"pg_ctl stop -m {mode}",
        )

    def is_running(self) -> bool:
        return self._run(PG_CTL, "status", "-D", self.data, timeout=15).returncode == 0

    def kill_leftovers(self) -> None:
        """SIGKILL the postmaster if it is somehow still there (its pid file says which)."""
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres", autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=autocommit,
            connect_timeout=5,
        )

    def create_database(self, name: str) -> None:
        assert re.fullmatch(r"[a-z_]+", name)
        with self.connect() as connection:
            connection.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """Yield a running throwaway cluster; stop it and remove its files afterwards."""
    if not INITDB.exists():
        pytest.skip(
            f"fault tests need PostgreSQL 15 server binaries: {INITDB} is missing "
            "(apt-get install postgresql-15)"
        )
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("fault tests run initdb as the 'postgres' user, and there is none")
    if os.geteuid() not in (0, account.pw_uid):
        pytest.skip("fault tests run initdb as 'postgres': run them as root or as postgres")
    root = Path(tempfile.mkdtemp(prefix="fault-pg-", dir="/tmp"))
    os.chown(root, account.pw_uid, account.pw_gid)
    os.chmod(root, 0o700)
    cluster = PostgresCluster(root, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            if cluster.is_running():
                cluster.stop("immediate")
        cluster.kill_leftovers()
        shutil.rmtree(root, ignore_errors=True)


def app_environment(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """Return the environment gunicorn and the flask CLI run the app with."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLASK_", "GUNICORN_", "RATELIMIT_", "SMTP_"))
        and key not in {"BIND", "WEB_CONCURRENCY", "ON_CALL_EMAILS", "APP_ENV"}
    }
    return {
        **inherited,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "ANSWERS_KEY": TEST_KEY,
        "RATELIMIT_ENABLED": "false",
        "INSTANCE_PATH": str(instance),
        "RULES_PATH": str(PROJECT_ROOT / "rules.yaml"),
        "CLINIC_NAME": "Fault Clinic",
        "GUNICORN_ACCESSLOG": "",
        # Alert emails go nowhere: a closed port on 127.0.0.1 refuses at once.
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(free_port()),
        **extra,
    }


def upgrade_schema(environment: dict[str, str]) -> None:
    """Create the schema the way a deployment does: `flask --app questionnaire db upgrade`."""
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "questionnaire", "db", "upgrade"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, f"db upgrade failed:\n{result.stdout}\n{result.stderr}"


# --- gunicorn --------------------------------------------------------------------------


class Gunicorn:
    """The app under gunicorn (the project's production config), on 127.0.0.1:port."""

    def __init__(self, environment: dict[str, str], workers: int, folder: Path) -> None:
        self.environment = environment
        self.workers = workers
        self.folder = folder
        self.port = free_port()
        self.log = folder / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            str(VENV_BIN / "gunicorn"),
            "-c",
            "python:questionnaire.ops.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--timeout",
            "20",
            "--graceful-timeout",
            "3",
            "--no-control-socket",
            "--pid",
            str(self.folder / "gunicorn.pid"),
            "--error-logfile",
            "-",
            "questionnaire:create_app()",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: killed whole at the end
            )
        self.wait_ready()

    def wait_ready(self, seconds: float = 30) -> None:
        """Wait until every worker is up and the start page answers 200."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited ({self.process.returncode}):\n{tail(self.log)}"
                )
            with contextlib.suppress(requests.RequestException):
                response = requests.get(self.base_url + "/", timeout=2)
                if response.status_code == 200 and len(self.worker_pids()) == self.workers:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not ready in {seconds} s:\n{tail(self.log)}")

    def worker_pids(self) -> list[int]:
        """Return the pids of the master's children (its sync workers), from /proc."""
        assert self.process is not None
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                # Fields after the command name, which is in parentheses and may hold spaces.
                state, ppid = stat.rsplit(")", 1)[1].split()[:2]
                if int(ppid) == self.process.pid and state != "Z":
                    children.append(int(entry.name))
        return sorted(children)

    def stop(self) -> None:
        """Stop the master and every worker: SIGTERM to the group, then SIGKILL."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=8)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def running_gunicorn(environment: dict[str, str], workers: int, folder: Path) -> Iterator[Gunicorn]:
    server = Gunicorn(environment, workers, folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --- a patient over HTTP ----------------------------------------------------------------


def page_answers(section: Section, answers: dict[str, Any]) -> dict[str, Any]:
    """Return the part of an answer set that one page posts."""
    return {item.id: answers[item.id] for item in section.items if item.id in answers}


def as_lists(values: dict[str, Any]) -> dict[str, list[str]]:
    """Return form values as name -> sorted non-empty strings (a browser's view of a form)."""
    shaped: dict[str, list[str]] = {}
    for name, value in values.items():
        many = value if isinstance(value, list) else [value]
        kept = sorted(str(one) for one in many if one not in (None, ""))
        if kept:
            shaped[name] = kept
    return shaped


class _FormReader(HTMLParser):
    """Read what a browser would post from the first POST form of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self._in_form = False
        self._done = False
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form" and not self._done and found.get("method", "").lower() == "post":
            self._in_form = True
        if not self._in_form:
            return
        name = found.get("name", "")
        if tag == "input" and name:
            kind = found.get("type", "text").lower()
            if kind in {"radio", "checkbox"}:
                if "checked" in found:
                    self.pairs.append((name, found.get("value", "on")))
            elif kind not in {"submit", "button", "image", "reset", "file"}:
                self.pairs.append((name, found.get("value", "")))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in found:
            self.pairs.append((self._select, found.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.pairs.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)


def form_values(html: str) -> dict[str, Any]:
    """Return the values the page's POST form holds (lists for repeated names)."""
    reader = _FormReader()
    reader.feed(html)
    values: dict[str, Any] = {}
    for name, value in reader.pairs:
        if name in values:
            values[name] = [*(values[name] if isinstance(values[name], list) else [values[name]])]
            values[name].append(value)
        else:
            values[name] = value
    return values


@dataclass
class Exchange:
    """One request a patient made and what came back (status None: no answer at all)."""

    method: str
    path: str
    started: float
    ended: float
    status: int | None
    retry_after: str | None = None
    error: str | None = None
    #: The page's posted answers, for question-page POSTs.
    posted: dict[str, Any] | None = None
    #: The body, kept for 5xx answers only.
    body: str | None = None


class JourneyFailed(AssertionError):
    """A journey met an answer a patient should never get."""


@dataclass
class HttpPatient:
    """One browser over real HTTP: a cookie jar, every exchange recorded."""

    base_url: str
    exchanges: list[Exchange] = field(default_factory=list)
    #: Set by the test when it gives up: the patient stops retrying at once.
    cancel: threading.Event | None = None
    retry_wait: float = 0.25
    #: Seconds spent reading and typing on each question page, at most (chosen at random).
    think_time: float = 0.0

    def __post_init__(self) -> None:
        self.http = requests.Session()

    def close(self) -> None:
        self.http.close()

    def request(
        self, method: str, path: str, data: dict[str, Any] | None = None, posted: Any = None
    ) -> requests.Response | None:
        """Send one request; return the response, or None when the connection failed."""
        started = time.monotonic()
        try:
            response = self.http.request(
                method, self.base_url + path, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT
            )
        except requests.RequestException as error:
            self.exchanges.append(
                Exchange(method, path, started, time.monotonic(), None, error=type(error).__name__)
            )
            return None
        body = response.text if response.status_code >= 500 else None
        self.exchanges.append(
            Exchange(
                method,
                path,
                started,
                time.monotonic(),
                response.status_code,
                retry_after=response.headers.get("Retry-After"),
                posted=posted,
                body=body,
            )
        )
        return response

    def persist(
        self,
        method: str,
        path: str,
        data: dict[str, Any] | None,
        deadline: float,
        page: Section | None = None,
    ) -> requests.Response:
        """Send until the answer is not a 5xx (or a dropped connection), as a patient would.

        Every answer is recorded: the test asserts on the 5xx afterwards.

        After a 503 on a question page the patient presses Continue on the page that came
        back, so the retry posts that page's form (it must still hold every answer).
        """
        posted = as_lists(page_answers(page, data or {})) if page else None
        while True:
            response = self.request(method, path, data, posted)
            if response is not None and response.status_code < 500:
                return response
            if time.monotonic() > deadline or (self.cancel and self.cancel.is_set()):
                raise JourneyFailed(f"{method} {path} still failing at the deadline")
            if response is not None and response.status_code == 503 and page and method == "POST":
                shown = form_values(response.text)
                if "csrf_token" in shown:
                    data = {**shown, "action": "continue"}
            time.sleep(self.retry_wait)

    def token(self, path: str, deadline: float) -> str:
        response = self.persist("GET", path, None, deadline)
        if response.status_code != 200:
            raise JourneyFailed(f"GET {path}: {response.status_code}")
        match = CSRF.search(response.text)
        if not match:
            raise JourneyFailed(f"GET {path}: no CSRF token")
        return match.group(1)

    def expect_redirect(self, response: requests.Response, where: str, what: str) -> None:
        location = urlsplit(response.headers.get("Location", "")).path
        if response.status_code != 303 or location != where:
            raise JourneyFailed(f"{what}: {response.status_code} to {location!r}, not {where}")

    def start(self, deadline: float) -> None:
        token = self.token("/", deadline)
        response = self.persist(
            "POST", "/start", {"privacy_consent": "y", "csrf_token": token}, deadline
        )
        self.expect_redirect(response, f"/questions/{PAGES[0].id}", "start")

    def answer_all(self, answers: dict[str, Any], deadline: float) -> None:
        for index, section in enumerate(PAGES):
            path = f"/questions/{section.id}"
            token = self.token(path, deadline)
            if self.think_time:
                time.sleep(random.uniform(0, self.think_time))
            data = {**page_answers(section, answers), "csrf_token": token, "action": "continue"}
            response = self.persist("POST", path, data, deadline, page=section)
            following = f"/questions/{PAGES[index + 1].id}" if index + 1 < len(PAGES) else "/check"
            self.expect_redirect(response, following, f"page {section.id}")

    def send_form(self, deadline: float) -> dict[str, str]:
        """GET the check page; return the send form's data (as the button would post it)."""
        return {"understands_review": "y", "csrf_token": self.token("/check", deadline)}

    def send(self, deadline: float, form: dict[str, str] | None = None) -> str:
        """Send (retrying on 503), then return the reference the confirmation page shows."""
        response = self.persist("POST", "/check", form or self.send_form(deadline), deadline)
        self.expect_redirect(response, "/done", "send")
        return self.reference(deadline)

    def reference(self, deadline: float) -> str:
        response = self.persist("GET", "/done", None, deadline)
        match = REFERENCE.search(response.text) if response.status_code == 200 else None
        if match is None:
            raise JourneyFailed(f"/done: {response.status_code} without a reference")
        return match.group(1).replace("-", "")

    def journey(self, answers: dict[str, Any], deadline: float) -> str:
        """Start, answer every page, send; return the acknowledged reference."""
        self.start(deadline)
        self.answer_all(answers, deadline)
        return self.send(deadline)


def start_threads(targets: list[Any]) -> list[threading.Thread]:
    """Start one daemon thread per target; return them (join with a bound, see join_all)."""
    threads = [threading.Thread(target=target, daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    return threads


def join_all(threads: list[threading.Thread], deadline: float) -> list[threading.Thread]:
    """Join threads until the deadline; return those still running."""
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [thread for thread in threads if thread.is_alive()]


_LOG_ENTRY = re.compile(r"^\[\d{4}-\d\d-\d\d[ T]", re.MULTILINE)
REQUEST_ERROR = re.compile(r"Error handling request (\w+) (\S+)")


def log_entries(log: str) -> list[str]:
    """Split a gunicorn log into entries: a dated line and what follows it (a traceback)."""
    starts = [match.start() for match in _LOG_ENTRY.finditer(log)] + [len(log)]
    return [log[start:end] for start, end in itertools.pairwise(starts)]
