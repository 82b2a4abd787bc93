"""Clinician accounts and the two sign-in steps, as plain functions over a database session.

The functions add rows (clinicians, login attempts, audit events) and leave
the commit to the caller, so a change and its audit event commit together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from questionnaire import audit
from questionnaire.auth import devices, passwords, throttle, totp
from questionnaire.auth.guard import ABSOLUTE_TIMEOUT, session_digest
from questionnaire.auth.passwords import PasswordPolicyError
from questionnaire.extensions import DbSession, now
from questionnaire.questions.text import checked_email
from questionnaire.records import locks
from questionnaire.records.models import Clinician, EndedSession, LoginAttempt

__all__ = [
    "AccountError",
    "DuplicateEmail",
    "InvalidEmail",
    "InvalidName",
    "NewClinician",
    "PasswordPolicyError",
    "SignInRefused",
    "SignInThrottled",
    "UnknownClinician",
    "change_password",
    "check_code",
    "check_name",
    "check_new_email",
    "check_password",
    "create_clinician",
    "end_sessions",
    "find_clinician",
    "list_clinicians",
    "normalise_email",
    "reset_2fa",
    "set_export_permission",
]

#: A session, or Flask-SQLAlchemy's scoped db.session.

EMAIL_MAX = 254
NAME_MAX = 200


class AccountError(Exception):
    """A clinician account cannot be created or changed; the message says why."""


class InvalidEmail(AccountError):
    """The email address is not one a clinician can sign in with."""


class InvalidName(AccountError):
    """The name is empty or too long."""


class DuplicateEmail(AccountError):
    """A clinician with this email already exists."""


class UnknownClinician(AccountError):
    """No clinician has this email."""


class SignInRefused(Exception):
    """A sign-in step failed. `reason` is for the audit trail only, never for the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignInThrottled(SignInRefused):
    """A sign-in limit is passed; try again after `retry_after` seconds (a 429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("throttled")
        self.retry_after = retry_after


@dataclass(frozen=True)
class NewClinician:
    """A clinician just created or given a new second factor, with the URI shown once."""

    clinician: Clinician
    provisioning_uri: str


def normalise_email(email: str) -> str:
    """Return the email as it is stored: stripped and lower-case."""
    return email.strip().lower()


def check_new_email(session: DbSession, email: str) -> str:
    """Return the email as it would be stored, or raise InvalidEmail or DuplicateEmail."""
    email = _check_email(email)
    if find_clinician(session, email) is not None:
        raise DuplicateEmail(f"A clinician with the email {email!r} already exists.")
    return email


def _check_email(email: str) -> str:
    email = normalise_email(email)
    if len(email) > EMAIL_MAX or checked_email(email) is None:
        raise InvalidEmail(f"{email!r} is not an email address (like name@clinic.example).")
    return email


def check_name(name: str) -> str:
    """Return the name stripped, or raise InvalidName when it is empty or too long."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise InvalidName(f"Give a name of 1 to {NAME_MAX} characters.")
    return name


def find_clinician(session: DbSession, email: str, *, lock: bool = False) -> Clinician | None:
    """Return the clinician with this email (any case), or None.

    With lock, the row stays locked until the commit (PostgreSQL; SQLite
    serialises writers anyway), so parallel sign-in attempts queue up.
    """
    query = sa.select(Clinician).where(Clinician.email == normalise_email(email))
    return session.scalar(query.with_for_update() if lock else query)


def _get(session: DbSession, email: str) -> Clinician:
    clinician = find_clinician(session, email)
    if clinician is None:
        raise UnknownClinician(f"No clinician has the email {normalise_email(email)!r}.")
    return clinician


def create_clinician(
    session: DbSession, *, email: str, name: str, password: str, is_admin: bool, issuer: str
) -> NewClinician:
    """Add a clinician with an argon2id password hash and a new TOTP secret."""
    email = check_new_email(session, email)
    name = check_name(name)
    password_hash = passwords.hash_password(password)
    secret = totp.new_secret()
    clinician = Clinician(
        email=email,
        name=name,
        password_hash=password_hash,
        totp_secret=secret,
        is_admin=is_admin,
        is_active=True,
        session_version=1,
        created_at=now(),
    )
    try:
        with session.begin_nested():
            session.add(clinician)
    except sa.exc.IntegrityError:
        # Another process created the same email between the check and here.
        raise DuplicateEmail(f"A clinician with the email {email!r} already exists.") from None
    audit.record(
        session,
        "clinician_created",
        detail={"clinician_id": clinician.id, "admin": is_admin, "via": "cli"},
    )
    return NewClinician(clinician, totp.provisioning_uri(secret, email, issuer))


def end_sessions(clinician: Clinician, *, forget_devices: bool = True) -> None:
    """End every signed-in session of this clinician at their next request.

    Unless told otherwise (a plain sign-out), their known devices are forgotten too.
    """
    clinician.session_version = (clinician.session_version or 0) + 1
    if forget_devices:
        clinician.device_version = (clinician.device_version or 0) + 1


def reset_2fa(session: DbSession, email: str, issuer: str) -> NewClinician:
    """Give a clinician a new TOTP secret, end their sessions, and return the new URI."""
    clinician = _get(session, email)
    clinician.totp_secret = totp.new_secret()
    clinician.last_totp_step = None
    end_sessions(clinician)
    audit.record(
        session, "clinician_2fa_reset", detail={"clinician_id": clinician.id, "via": "cli"}
    )
    return NewClinician(
        clinician, totp.provisioning_uri(clinician.totp_secret, clinician.email, issuer)
    )


def set_export_permission(session: DbSession, email: str, allowed: bool) -> Clinician:
    """Grant or take back the permission to download every submission as CSV (audited)."""
    clinician = _get(session, email)
    clinician.can_export = allowed
    action = "export_permission_granted" if allowed else "export_permission_revoked"
    audit.record(session, action, detail={"clinician_id": clinician.id, "via": "cli"})
    return clinician


def change_password(clinician: Clinician, new_password: str) -> None:
    """Set a new password (12 to 128 characters) and end the clinician's sessions.

    There is no audit action for this yet (see the report on issue 4).
    """
    clinician.password_hash = passwords.hash_password(new_password)
    end_sessions(clinician)


def list_clinicians(session: DbSession) -> list[Clinician]:
    """Return every clinician, by email."""
    return list(session.scalars(sa.select(Clinician).order_by(Clinician.email)))


def _attempt(
    session: DbSession, clinician: Clinician | None, now: datetime, ok: bool, key: str
) -> None:
    session.add(
        LoginAttempt(
            clinician_id=clinician.id if clinician is not None else None,
            at=now,
            succeeded=ok,
            client_address=audit.client_address(),
            account_key=key,
        )
    )


def _refuse(
    session: DbSession,
    clinician: Clinician | None,
    now: datetime,
    step: str,
    reason: str,
    key: str,
) -> SignInRefused:
    """Record a failed step (attempt row and audit event) and return the exception to raise."""
    _attempt(session, clinician, now, ok=False, key=key)
    audit.record(
        session, "sign_in_failed", actor=clinician, detail={"step": step, "reason": reason}
    )
    return SignInRefused(reason)


def _check_limits(
    session: DbSession,
    clinician: Clinician | None,
    key: str,
    now: datetime,
    step: str,
    known_devices: Mapping[int, int],
) -> None:
    """Raise SignInThrottled when this address, or this account from an unknown device, is paused.

    Not counted as a failure: a pause lifts fifteen minutes after the failures that caused it.
    """
    wait = throttle.address_retry_after(session, audit.client_address(), now)
    limit = "address"
    if wait is None and not (clinician is not None and devices.is_known(known_devices, clinician)):
        wait, limit = throttle.account_retry_after(session, key, now), "account"
    if wait is not None:
        audit.record(
            session, "sign_in_throttled", actor=clinician, detail={"step": step, "limit": limit}
        )
        raise SignInThrottled(wait)


def _lock(session: DbSession, clinician_id: int) -> Clinician | None:
    """Load the clinician and lock the row until the commit (see find_clinician)."""
    return session.scalar(
        sa.select(Clinician).where(Clinician.id == clinician_id).with_for_update()
    )


def check_password(
    session: DbSession,
    email: str,
    password: str,
    now: datetime,
    known_devices: Mapping[int, int] | None = None,
) -> Clinician:
    """Run the password step; return the clinician or raise SignInRefused (or SignInThrottled).

    The password is always checked against a hash, a dummy one for an unknown
    email, so the time taken does not tell whether an account exists; a paused
    account or address is refused before any hash is computed. Attempts on one account
    key (known email or not) queue on a lock named after the key, so the failures are
    counted one attempt at a time: exactly ACCOUNT_FAILURES are checked however many
    arrive at once.
    """
    key = throttle.account_key(email)
    locks.hold(session, f"sign-in|{key}")
    clinician = find_clinician(session, email, lock=True)
    _check_limits(session, clinician, key, now, "password", known_devices or {})
    matches = passwords.verify(clinician.password_hash if clinician else None, password)
    if clinician is None:
        raise _refuse(session, None, now, "password", "unknown_email", key)
    if not clinician.is_active:
        raise _refuse(session, clinician, now, "password", "disabled", key)
    if not matches:
        raise _refuse(session, clinician, now, "password", "wrong_password", key)
    if passwords.needs_rehash(clinician.password_hash):
        clinician.password_hash = passwords.hasher.hash(password)
    return clinician


def check_code(
    session: DbSession,
    clinician_id: int,
    session_version: int,
    code: str,
    now: datetime,
    known_devices: Mapping[int, int] | None = None,
) -> Clinician:
    """Run the code step for a clinician who passed the password step; return them or raise.

    The accepted code's time step is stored with a conditional UPDATE, so a code
    is accepted once even when two requests carry it at the same moment.
    """
    clinician = session.get(Clinician, clinician_id)
    if clinician is None:
        raise SignInRefused("unknown_clinician")
    key = throttle.account_key(clinician.email)
    locks.hold(session, f"sign-in|{key}")
    clinician = _lock(session, clinician_id)
    if clinician is None:
        raise SignInRefused("unknown_clinician")
    _check_limits(session, clinician, key, now, "code", known_devices or {})
    if not clinician.is_active:
        raise _refuse(session, clinician, now, "code", "disabled", key)
    if clinician.session_version != session_version:
        # The account changed (new second factor, disabled) between the two steps.
        raise _refuse(session, clinician, now, "code", "account_changed", key)
    wrong = totp.matching_step(clinician.totp_secret, code, now, after=None) is None
    step = totp.matching_step(clinician.totp_secret, code, now, after=clinician.last_totp_step)
    if step is None:
        reason = "wrong_code" if wrong else "reused_code"
        raise _refuse(session, clinician, now, "code", reason, key)
    claimed = session.execute(
        sa.update(Clinician)
        .where(
            Clinician.id == clinician.id,
            sa.or_(Clinician.last_totp_step.is_(None), Clinician.last_totp_step < step),
        )
        .values(last_totp_step=step)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(claimed) != 1:
        raise _refuse(session, clinician, now, "code", "reused_code", key)
    session.refresh(clinician)
    _attempt(session, clinician, now, ok=True, key=key)
    audit.record(session, "sign_in", actor=clinician)
    return clinician


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0))


def sign_out_here(
    session: DbSession, clinician: Clinician, session_id: str | None, now: datetime
) -> None:
    """End only this browser's session: its id is remembered as ended until it would expire anyway."""
    session.execute(sa.delete(EndedSession).where(EndedSession.ended_at < now - ABSOLUTE_TIMEOUT))
    if session_id:
        hashed = session_digest(session_id)
        if session.get(EndedSession, hashed) is None:
            session.add(EndedSession(session_hash=hashed, clinician_id=clinician.id, ended_at=now))
    audit.record(session, "sign_out", actor=clinician)
