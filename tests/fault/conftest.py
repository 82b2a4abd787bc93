"""Fault-injection fixtures: a throwaway PostgreSQL cluster, and the app as it runs there.

The app under gunicorn and the patients over HTTP come from tests.harness. Everything
here listens on 127.0.0.1 only, is bounded in time, and is stopped by the fixture that
started it (process groups are killed, temp dirs removed). The main PostgreSQL cluster
on 5432 is never touched: the throwaway cluster lives in its own temp dir, on a free
port, with its sockets in that dir.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
import pytest

from tests.harness.app import TEST_KEY
from tests.harness.served import app_environment, free_port, tail

PG_BIN = Path("/usr/lib/postgresql/15/bin")
INITDB = PG_BIN / "initdb"
PG_CTL = PG_BIN / "pg_ctl"
#: Longest a fault test may run, set-up included, before it is stopped (seconds).
TEST_TIME_LIMIT = 150
SECRET_KEY = "fault-tests-secret-key-not-for-production-0123456789"
#: gunicorn here: a stuck request ends sooner, and stopping does not wait long.
GUNICORN_OPTIONS = ("--timeout", "20", "--graceful-timeout", "3")


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


def fault_environment(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """Return the environment the app runs with here: the test keys, so make_app reads it."""
    return app_environment(
        database_url,
        instance,
        secret_key=SECRET_KEY,
        answers_key=TEST_KEY,
        CLINIC_NAME="Fault Clinic",
        **extra,
    )


# --- threads ---------------------------------------------------------------------------


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
