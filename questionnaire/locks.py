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

import hashlib

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


def try_hold(session: DbSession, name: str) -> bool:
    """Take the lock called `name` until this transaction ends, or return False at once.

    False means another transaction holds it (another host runs the same job now).
    On SQLite, one host only by nature: it waits for the write lock and returns True.
    """
    if _dialect(session) == "postgresql":
        taken = session.scalar(
            sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key_of(name)}
        )
        return bool(taken)
    session.execute(_SQLITE_TOUCH)
    return True
