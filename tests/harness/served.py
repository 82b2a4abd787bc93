"""The app served for real: gunicorn on 127.0.0.1 and a free port, started and stopped here.

(An app object of the test's own, with its clock and settings, is served from a thread
in this process by ``serve_in_thread``: for the browser tests.)

Gunicorn runs with the project's production config (questionnaire.ops.gunicorn_conf),
in its own process group, logging to a file in the caller's folder; stopping it ends the
whole group. The database is the caller's: a URL (the fault tests' throwaway cluster), or
a fresh PostgreSQL schema or SQLite file from ``fresh_database`` (``served_app`` does it
all: database, migrations, gunicorn, and the clean-up).

Everything listens on 127.0.0.1 only and every wait is bounded.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The local test database, when neither the caller nor the environment names one.
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: What gunicorn is started with: the production config, and the app factory.
GUNICORN_CONFIG = "python:questionnaire.ops.gunicorn_conf"
APP = "questionnaire:create_app()"


#: Ports handed out here lie below Linux's ephemeral range (32768-60999), where no outgoing
#: connection (to PostgreSQL, to Redis) can hold one between the probe and gunicorn's bind;
#: each pytest-xdist worker (and the process outside xdist) draws from its own slice.
PORT_SLICE = 1000
FIRST_PORT = 10000
_port_counter: itertools.count[int] | None = None


def worker_name() -> str:
    """Return this pytest-xdist worker's name (gw0, gw1, ...); "main" outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER") or "main"


def worker_index() -> int:
    """Return 0 outside xdist, else the worker's number plus one (gw0 gives 1)."""
    name = worker_name()
    return int(name[2:]) + 1 if name.startswith("gw") and name[2:].isdigit() else 0


def _next_candidate() -> int:
    global _port_counter
    if _port_counter is None:
        # A random start in the slice: two runs at once (two checkouts) rarely meet.
        _port_counter = itertools.count(secrets.randbelow(PORT_SLICE))
    slice_start = FIRST_PORT + (worker_index() % 22) * PORT_SLICE
    return slice_start + next(_port_counter) % PORT_SLICE


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on just now (this worker's slice)."""
    for _ in range(PORT_SLICE):
        port = _next_candidate()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in this worker's slice of {PORT_SLICE} on 127.0.0.1")


def tail(path: Path, lines: int = 40) -> str:
    """Return the end of a log file (for failure messages)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def new_answers_key() -> str:
    """Return a fresh ANSWERS_KEY (32 random bytes, urlsafe base64)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def app_environment(
    database_url: str,
    instance: Path,
    *,
    secret_key: str | None = None,
    answers_key: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """Return the environment gunicorn and the flask CLI run the app with.

    Nothing of the caller's app settings leaks in (FLASK_*, GUNICORN_*, RATELIMIT_*,
    SMTP_*, the keys, the on-call addresses). Rate limits are off (every client here is
    127.0.0.1), alert emails go to a closed port, the keys are new unless given.
    `extra` comes last and wins.
    """
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLASK_", "GUNICORN_", "RATELIMIT_", "SMTP_"))
        and key
        not in {
            "APP_ENV",
            "BIND",
            "WEB_CONCURRENCY",
            "ON_CALL_EMAILS",
            "DATABASE_URL",
            "SECRET_KEY",
            "ANSWERS_KEY",
            "NAME_INDEX_KEY",
        }
    }
    return {
        **inherited,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key or secrets.token_urlsafe(48),
        "ANSWERS_KEY": answers_key or new_answers_key(),
        # The names' blind-index key (issue 25): its own, new unless given in `extra`.
        "NAME_INDEX_KEY": new_answers_key(),
        "RATELIMIT_ENABLED": "false",
        # Production refuses to start without the number patients are told to call.
        "CLINIC_PHONE": os.environ.get("CLINIC_PHONE") or "416 555 0100",
        "INSTANCE_PATH": str(instance),
        "RULES_PATH": str(PROJECT_ROOT / "rules.yaml"),
        "GUNICORN_ACCESSLOG": "",
        # Alert emails go nowhere: a closed port on 127.0.0.1 refuses at once.
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(free_port()),
        "PYTHONDONTWRITEBYTECODE": "1",
        **extra,
    }


def run_flask(
    environment: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 120
) -> str:
    """Run `flask --app questionnaire ARGS` with this environment; return its output."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "questionnaire", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"flask {' '.join(args[:2])} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def migrate(environment: dict[str, str]) -> None:
    """Create the schema the way a deployment does: `flask --app questionnaire db upgrade`."""
    run_flask(environment, "db", "upgrade", timeout=90)


def stop_group(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """Stop a process started with start_new_session=True and its whole group.

    SIGTERM to the group, a grace period, then SIGKILL to whatever of it is left.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Write a throwaway certificate for 127.0.0.1 and its key; return their paths."""
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
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class Gunicorn:
    """The app under gunicorn (the project's production config), on 127.0.0.1:port.

    `workers` overrides the config's number of sync workers; `tls` serves HTTPS with a
    throwaway certificate (`verify` is then its path, for requests); `options` are more
    gunicorn flags; `app` is another app to serve with the same settings (its "/" must
    answer 200). The log (gunicorn's, and the app's) is `folder`/gunicorn.log.
    """

    def __init__(
        self,
        environment: dict[str, str],
        folder: Path,
        *,
        workers: int | None = None,
        tls: bool = False,
        options: Sequence[str] = (),
        port: int | None = None,
        app: str = APP,
    ) -> None:
        self.environment = environment
        self.app = app
        self.folder = folder
        self.workers = workers
        self.tls = tls
        self.options = list(options)
        self.port = port or free_port()
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.log = folder / "gunicorn.log"
        #: What requests verifies the server with: the throwaway certificate under TLS.
        self.verify: str | bool = True
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG]
        command += ["--bind", f"127.0.0.1:{self.port}", "--pid", str(self.folder / "gunicorn.pid")]
        if self.workers:
            command += ["--workers", str(self.workers)]
        if self.tls:
            cert, key = self_signed_certificate(self.folder)
            self.verify = str(cert)
            command += ["--certfile", str(cert), "--keyfile", str(key)]
        command += [*self.options, self.app]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stopped whole
            )
        self.wait_ready()

    def wait_ready(self, seconds: float = 60) -> None:
        """Wait until the start page answers 200 (and every worker is up, if counted)."""
        assert self.process is not None
        deadline = time.monotonic() + seconds
        with requests.Session() as probe:
            probe.trust_env = False
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"gunicorn exited ({self.process.returncode}):\n{tail(self.log)}"
                    )
                with contextlib.suppress(requests.RequestException):
                    response = probe.get(self.base_url + "/", timeout=2, verify=self.verify)
                    if response.status_code == 200 and (
                        not self.workers or len(self.worker_pids()) == self.workers
                    ):
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
        if self.process is not None:
            stop_group(self.process)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_summary(self) -> dict[str, int]:
        """Count worker deaths, timeouts and unhandled errors in the log (no lines)."""
        text = self.log_text()
        return {
            "unhandled errors": text.count("Unhandled "),
            "worker timeouts": text.count("WORKER TIMEOUT"),
            "workers killed": text.count("SIGKILL"),
            "tracebacks": text.count("Traceback"),
        }

    def flask(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        """Run `flask --app questionnaire ARGS` against this app's database; return stdout."""
        return run_flask(self.environment, *args, stdin=stdin, timeout=timeout)

    def create_app(self) -> Flask:
        """Return the app in this process, on the same database and keys (to read results)."""
        from questionnaire import create_app

        return create_app(
            {
                "SQLALCHEMY_DATABASE_URI": self.environment["DATABASE_URL"],
                "ANSWERS_KEY": self.environment["ANSWERS_KEY"],
                "SECRET_KEY": self.environment["SECRET_KEY"],
                "INSTANCE_PATH": self.environment["INSTANCE_PATH"],
                "RATELIMIT_ENABLED": False,
            }
        )

    @property
    def database(self) -> str:
        """Say what the app runs on, for messages (never a password)."""
        import sqlalchemy as sa

        url = sa.make_url(self.environment["DATABASE_URL"])
        if url.get_backend_name() == "sqlite":
            return f"SQLite {url.database}"
        schema = re.search(r"search_path=(\w+)", str(url.query.get("options", "")))
        return f"PostgreSQL schema {schema.group(1)}" if schema else url.render_as_string()


@contextlib.contextmanager
def running_gunicorn(
    environment: dict[str, str], folder: Path, **options: Any
) -> Iterator[Gunicorn]:
    """Start gunicorn (see Gunicorn for the options), yield it, stop it whatever happens."""
    server = Gunicorn(environment, folder, **options)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def postgres_url(*variables: str, default: str = DEFAULT_POSTGRES) -> str:
    """Return the first of these environment variables that is set, else TEST_DATABASE_URL,
    else `default` (the local test database; tests pass "" and skip on it).

    Under pytest, TEST_DATABASE_URL names the database of this pytest process (each
    xdist worker has its own: tests/fixtures.py).
    """
    for name in (*variables, "TEST_DATABASE_URL"):
        if os.environ.get(name):
            return os.environ[name]
    return default


@contextlib.contextmanager
def fresh_database(
    kind: str, folder: Path, postgres: str | None = None, prefix: str = "bench_"
) -> Iterator[str]:
    """Yield the URL of an empty database; remove it afterwards.

    kind "sqlite": a file in `folder`. kind "postgres": a new schema (`prefix` and a
    random suffix) in the database `postgres` (default: postgres_url()), its URL's
    search_path set to it, dropped at the end.
    """
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'intake.db'}"
        return
    if kind != "postgres":
        raise ValueError("the database kind is postgres or sqlite")
    import sqlalchemy as sa

    admin_url = postgres or postgres_url()
    schema = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            scoped = sa.make_url(admin_url).update_query_dict(
                {"options": f"-csearch_path={schema}"}
            )
            yield scoped.render_as_string(hide_password=False)
        finally:
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextlib.contextmanager
def served_app(
    db: str = "postgres",
    *,
    postgres: str | None = None,
    workers: int | None = None,
    tls: bool = False,
    **extra: str,
) -> Iterator[Gunicorn]:
    """Serve the app on a fresh database: make it, migrate it, start gunicorn; yield it.

    Leaving stops gunicorn's process group, drops the schema (or the SQLite file) and
    removes the temporary folder, whatever happened. `extra` is more environment.
    """
    port = free_port()
    # Production builds every absolute link from PUBLIC_BASE_URL: it must be known first.
    extra = {"PUBLIC_BASE_URL": f"{'https' if tls else 'http'}://127.0.0.1:{port}", **extra}
    with tempfile.TemporaryDirectory(prefix="intake-serve-") as name:
        folder = Path(name)
        with fresh_database(db, folder, postgres) as url:
            environment = app_environment(url, folder / "instance", **extra)
            migrate(environment)
            with running_gunicorn(
                environment, folder, workers=workers, tls=tls, port=port
            ) as server:
                yield server


@contextlib.contextmanager
def serve_in_thread(app: Flask, name: str = "live-server") -> Iterator[str]:
    """Serve this app object on 127.0.0.1 (a free port) from a daemon thread; yield its URL.

    Leaving shuts the server down and lets go of the app's database connections.
    """
    from werkzeug.serving import make_server

    from questionnaire.extensions import db

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


_LOG_ENTRY = re.compile(r"^\[\d{4}-\d\d-\d\d[ T]", re.MULTILINE)
#: gunicorn's line for an exception that escaped the app: the method and the path.
REQUEST_ERROR = re.compile(r"Error handling request (\w+) (\S+)")


def log_entries(log: str) -> list[str]:
    """Split a gunicorn log into entries: a dated line and what follows it (a traceback)."""
    starts = [match.start() for match in _LOG_ENTRY.finditer(log)] + [len(log)]
    return [log[start:end] for start, end in itertools.pairwise(starts)]
