"""Named locks held until the transaction ends, on PostgreSQL and SQLite alike.

For work that must happen once however many requests, workers or hosts attempt it at
the same moment: sign-in failures counted per account key (auth/service.py), and the
cron jobs every app host may run (ops/, urgent/, exports/).

- PostgreSQL: a transaction-level advisory lock on a 64-bit key derived from the name
  (pg_advisory_xact_lock), released by the commit or rollback.
- SQLite: the database has one write lock; taking it (a write that changes nothing)
  serialises every writer until the commit, which is what a named lock gives here.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from questionnaire.extensions import DbSession

#: The table the SQLite fallback writes nothing to, to take the database's write lock.
_SQLITE_TOUCH = sa.text("DELETE FROM login_attempts WHERE 0 = 1")


def key_of(name: str) -> int:
    """Return the signed 64-bit advisory-lock key of a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _dialect(session: DbSession) -> str:
    return str(session.get_bind().dialect.name)


def hold(session: DbSession, name: str) -> None:
    """Wait for the lock called `name` and hold it until this transaction ends."""
    if _dialect(session) == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key_of(name)})
    else:
        session.execute(_SQLITE_TOUCH)


# --- one run of a job at a time, across its commits ----------------------------------------


@contextmanager
def one_run(session: DbSession, job: str) -> Iterator[bool]:
    """Hold the lock of a job (the alerts sweep, the purge, the export expiry) for one run.

    Yields True when this run holds it, False at once when another process or host
    runs the same job now: the caller then does nothing. Held across the run's commits:

    - PostgreSQL: a session advisory lock (pg_try_advisory_lock) on a connection of its
      own, released at the end of the run or when that connection closes (a killed run
      never leaves it held).
    - SQLite (one machine by nature): an exclusive lock on a file beside the database
      (flock), released at the end of the run or when the process dies.
    """
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, sa.engine.Connection) else bind
    if engine.dialect.name == "postgresql":
        key = {"key": key_of(f"job|{job}")}
        with engine.connect() as connection:
            taken = bool(connection.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), key))
            connection.commit()
            try:
                yield taken
            finally:
                if taken:
                    connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), key)
                    connection.commit()
        return
    with open(_lock_file(engine, job), "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_file(engine: sa.Engine, job: str) -> str:
    """Return the lock file of a job beside a SQLite database (the temp folder for :memory:)."""
    database = engine.url.database
    name = f"questionnaire-{job}.lock"
    if not database or database == ":memory:":
        return os.path.join(tempfile.gettempdir(), name)
    return f"{database}.{name}"
