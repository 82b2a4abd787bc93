"""The sign-in limits: failures counted per account and per client address, in the database.

A limit passed is refused with 429 and Retry-After (never by sleeping in a
worker). The per-account limit does not apply from a known device: one that
completed the password and the code for that clinician before (known_devices.py),
so a flood of wrong passwords from elsewhere cannot lock a clinician out.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context

from questionnaire.records.models import LoginAttempt

#: Five failures for one account within fifteen minutes pause that account's sign-in.
ACCOUNT_FAILURES = 5
#: Twenty failures from one address within fifteen minutes pause sign-in from that address.
ADDRESS_FAILURES = 20
WINDOW = timedelta(minutes=15)


def account_key(email: str) -> str:
    """Return the key failures are counted under for an email, known account or not.

    Keyed with SECRET_KEY, so the table holds no guessable hash of an address, and an
    unknown email locks exactly as a real one does (the 429 tells nobody it exists).
    """
    secret = str(current_app.config["SECRET_KEY"]) if has_app_context() else ""
    normalised = email.strip().lower().encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), b"sign-in|" + normalised, hashlib.sha256).hexdigest()


def _retry_after(failures: list[datetime], limit: int, now: datetime) -> int | None:
    """Return seconds until fewer than `limit` of these failures are inside the window."""
    if len(failures) < limit:
        return None
    # Oldest first: once the (n - limit + 1)th oldest leaves the window, one more try is allowed.
    leaving = sorted(failures)[len(failures) - limit]
    return max(1, math.ceil((leaving + WINDOW - now).total_seconds()))


def _recent_failures(session: Any, where: sa.ColumnElement[bool], now: datetime) -> list[datetime]:
    query = sa.select(LoginAttempt.at).where(
        where, LoginAttempt.succeeded.is_(False), LoginAttempt.at > now - WINDOW
    )
    return list(session.scalars(query))


def account_retry_after(session: Any, key: str, now: datetime) -> int | None:
    """Return seconds to wait when the account has too many recent failures, else None.

    Failures before the account's last successful sign-in do not count.
    """
    last_success = session.scalar(
        sa.select(sa.func.max(LoginAttempt.id)).where(
            LoginAttempt.account_key == key, LoginAttempt.succeeded.is_(True)
        )
    )
    where = sa.and_(LoginAttempt.account_key == key, LoginAttempt.id > (last_success or 0))
    return _retry_after(_recent_failures(session, where, now), ACCOUNT_FAILURES, now)


def address_retry_after(session: Any, address: str | None, now: datetime) -> int | None:
    """Return seconds to wait when this client address has too many recent failures, else None."""
    if not address:
        return None
    where = LoginAttempt.client_address == address
    return _retry_after(_recent_failures(session, where, now), ADDRESS_FAILURES, now)
