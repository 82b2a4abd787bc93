"""Accounts managed in the browser: invitations, enrolment links, roles, passwords, sign-out.

Plain functions over a database session, like service.py: they add rows and
audit events and leave the commit to the caller. An enrolment link's token is
returned once, to be shown once; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from questionnaire import audit
from questionnaire.auth import passwords, totp
from questionnaire.auth.signin import service
from questionnaire.extensions import DbSession
from questionnaire.records import locks
from questionnaire.records.models import Clinician, EnrolmentLink

#: Stored as an invited clinician's password hash: no password ever matches it.
UNUSABLE_HASH = "!enrolment-pending"


class LinkRefused(Exception):
    """An enrolment link is unknown, used or expired (one reason for all, on the page)."""


class CodeRefused(Exception):
    """The first code from the authenticator app is not right (or not yet asked for)."""


class SelfChangeRefused(service.AccountError):
    """An admin tried to remove their own admin role or disable their own account."""


class LastAdminRefused(service.AccountError):
    """Removing this admin role (or disabling this admin) would leave no active admin."""


class PasswordChangeRefused(Exception):
    """The current password or the code is not right. `reason` is for the audit trail only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Enrolment:
    """A clinician and the token of their new enrolment link (to show once, in a link)."""

    clinician: Clinician
    token: str


def digest(token: str) -> str:
    """Return the SHA-256 of a token: only this is stored, so a database copy opens no link."""
    return hashlib.sha256(token.encode()).hexdigest()


def _detail(clinician: Clinician, **extra: Any) -> dict[str, Any]:
    return {"clinician_id": clinician.id, "via": "browser", **extra}


def _new_link(
    session: DbSession, clinician: Clinician, purpose: str, by: Clinician, now: datetime
) -> str:
    """Make a link for the clinician and return its token; any earlier unused link stops working."""
    session.execute(
        sa.delete(EnrolmentLink).where(
            EnrolmentLink.clinician_id == clinician.id, EnrolmentLink.used_at.is_(None)
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        EnrolmentLink(
            clinician_id=clinician.id,
            token_hash=digest(token),
            purpose=purpose,
            created_by_id=by.id,
            created_at=now,
            expires_at=now + timedelta(hours=EnrolmentLink.LIFETIME_HOURS),
        )
    )
    return token


def invite(session: DbSession, *, email: str, name: str, by: Clinician, now: datetime) -> Enrolment:
    """Add a clinician who can sign in only after enrolling through the returned link.

    Raises InvalidEmail, InvalidName or DuplicateEmail (service.py).
    """
    email = service.check_new_email(session, email)
    name = service.check_name(name)
    clinician = Clinician(
        email=email,
        name=name,
        password_hash=UNUSABLE_HASH,
        # A secret nobody is shown: enrolment replaces it.
        totp_secret=totp.new_secret(),
        is_admin=False,
        can_export=False,
        is_active=True,
        session_version=1,
        device_version=1,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(clinician)
    except sa.exc.IntegrityError:
        raise service.DuplicateEmail(
            f"A clinician with the email {email!r} already exists."
        ) from None
    token = _new_link(session, clinician, "invite", by, now)
    audit.record(session, "clinician_invited", actor=by, detail=_detail(clinician))
    return Enrolment(clinician, token)


def usable_link(session: DbSession, token: str, now: datetime) -> EnrolmentLink:
    """Return the link this token opens, or raise LinkRefused (unknown, used or expired)."""
    if not token or len(token) > 100:
        raise LinkRefused
    link = session.scalar(sa.select(EnrolmentLink).where(EnrolmentLink.token_hash == digest(token)))
    if link is None or link.used_at is not None or now >= link.expires_at:
        raise LinkRefused
    if not link.clinician.is_active:  # disabled: the link opens nothing, even half-used
        raise LinkRefused
    return link


def choose_password(
    session: DbSession, token: str, password: str, now: datetime, issuer: str
) -> str:
    """Keep the chosen password's hash and a new TOTP secret on the link; return the URI to show.

    Raises LinkRefused, or PasswordPolicyError (12 to 128 characters, as for the CLI).
    Choosing again replaces both: only the last secret shown can be confirmed.
    """
    link = usable_link(session, token, now)
    link.pending_password_hash = passwords.hash_password(password)
    link.pending_totp_secret = totp.new_secret()
    return provisioning_uri(link, issuer)


def provisioning_uri(link: EnrolmentLink, issuer: str) -> str:
    """Return the otpauth:// URI of the secret waiting on the link (CodeRefused if none yet)."""
    if link.pending_totp_secret is None:
        raise CodeRefused
    return totp.provisioning_uri(link.pending_totp_secret, link.clinician.email, issuer)


def confirm_code(session: DbSession, token: str, code: str, now: datetime) -> Clinician:
    """Activate the password and secret chosen on the link once a first code from it is right.

    The link is claimed with a conditional UPDATE, so it is used once even when
    two requests confirm at the same moment. Raises LinkRefused or CodeRefused.
    """
    link = usable_link(session, token, now)
    secret, password_hash = link.pending_totp_secret, link.pending_password_hash
    if secret is None or password_hash is None:
        raise CodeRefused
    step = totp.matching_step(secret, code, now, after=None)
    if step is None:
        raise CodeRefused
    active = sa.select(Clinician.is_active).where(Clinician.id == link.clinician_id)
    claimed = session.execute(
        sa.update(EnrolmentLink)
        .where(
            EnrolmentLink.id == link.id,
            EnrolmentLink.used_at.is_(None),
            active.scalar_subquery().is_(True),
        )
        .values(used_at=now, pending_password_hash=None, pending_totp_secret=None)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(claimed, "rowcount", 0)) != 1:
        raise LinkRefused
    session.refresh(link)
    clinician = link.clinician
    clinician.password_hash = password_hash
    clinician.totp_secret = secret
    clinician.last_totp_step = step
    service.end_sessions(clinician)
    audit.record(
        session,
        "clinician_enrolled",
        actor=clinician,
        detail=_detail(clinician, purpose=link.purpose),
    )
    return clinician


def waiting_for_enrolment(session: DbSession) -> set[int]:
    """Return the ids of clinicians with an unused enrolment link (expired or not)."""
    query = sa.select(EnrolmentLink.clinician_id).where(EnrolmentLink.used_at.is_(None))
    return set(session.scalars(query))


def get_clinician(session: DbSession, clinician_id: int) -> Clinician:
    """Return the clinician with this id, or raise UnknownClinician."""
    clinician = session.get(Clinician, clinician_id)
    if clinician is None:
        raise service.UnknownClinician(f"No clinician has the id {clinician_id}.")
    return clinician


@dataclass(frozen=True)
class Switch:
    """An on/off setting of an account that an admin changes in the browser."""

    #: The Clinician column it sets.
    column: str
    #: The audit actions for turning it on and off.
    on_action: str
    off_action: str
    #: Why an admin may not turn it off on their own account; None when they may.
    refuse_own_off: str | None = None
    #: Turning it off ends the clinician's sessions at once.
    off_ends_sessions: bool = False


#: The switches on the account list, by the name in their URL.
SWITCHES = {
    "active": Switch(
        "is_active",
        "clinician_enabled",
        "clinician_disabled",
        refuse_own_off="You cannot disable your own account.",
        off_ends_sessions=True,
    ),
    "admin": Switch(
        "is_admin",
        "admin_granted",
        "admin_removed",
        refuse_own_off="You cannot remove your own admin role.",
    ),
    "export": Switch("can_export", "export_granted", "export_removed"),
}


#: The lock every change that may remove an active admin takes (see set_switch).
ADMINS_LOCK = "accounts|admins"


def _another_active_admin(clinician_id: int) -> sa.ColumnElement[bool]:
    other = sa.orm.aliased(Clinician)
    return sa.exists().where(
        other.id != clinician_id, other.is_admin.is_(True), other.is_active.is_(True)
    )


def set_switch(
    session: DbSession, clinician: Clinician, name: str, on: bool, by: Clinician
) -> list[int]:
    """Turn one of SWITCHES on or off for a clinician (audited when it changes).

    Disabling ends the clinician's sessions and open enrolment links at once and
    cancels their exports (returns the export job ids whose files the caller removes
    after the commit, with end_exports' remove step). Raises SelfChangeRefused when an
    admin tries to disable their own account or remove their own admin role, and
    LastAdminRefused when the change would leave no active admin.

    Removing an admin role or disabling an admin is one UPDATE conditional on another
    active admin remaining, taken under ADMINS_LOCK: two admins removing each other at
    the same moment run one after the other, and the second finds the condition false.
    """
    switch = SWITCHES[name]
    if clinician.id == by.id and not on and switch.refuse_own_off is not None:
        raise SelfChangeRefused(switch.refuse_own_off)
    column = getattr(Clinician, switch.column)
    where: list[sa.ColumnElement[bool]] = [Clinician.id == clinician.id, column.is_(not on)]
    if not on and name in {"admin", "active"}:
        locks.hold(session, ADMINS_LOCK)
        # The actor must still be an active admin (another admin may have just removed them).
        still_admin = sa.orm.aliased(Clinician)
        where.append(
            sa.exists().where(
                still_admin.id == by.id,
                still_admin.is_admin.is_(True),
                still_admin.is_active.is_(True),
            )
        )
        not_an_admin = Clinician.is_admin.is_(False) if name == "active" else sa.false()
        where.append(sa.or_(not_an_admin, _another_active_admin(clinician.id)))
    changed = session.execute(
        sa.update(Clinician)
        .where(*where)
        .values({switch.column: on})
        .execution_options(synchronize_session=False)
    )
    session.refresh(clinician)
    if _rowcount(changed) != 1:
        if bool(getattr(clinician, switch.column)) == on:
            return []  # already so: nothing to do, nothing to audit
        raise LastAdminRefused(
            "Another active admin must remain: make another clinician an admin first."
        )
    action = switch.on_action if on else switch.off_action
    audit.record(session, action, actor=by, detail=_detail(clinician))
    if not on and switch.off_ends_sessions:
        return end_access(session, clinician, by)
    return []


def disable_clinician(session: DbSession, email: str) -> tuple[Clinician, list[int]]:
    """Stop a clinician from signing in; end their sessions, links and exports at once.

    Returns the clinician and the ids of the export jobs cancelled, whose files the
    caller deletes after the commit (end_access).
    """
    clinician = service.find_clinician(session, email)
    if clinician is None:
        raise service.UnknownClinician(
            f"No clinician has the email {service.normalise_email(email)!r}."
        )
    clinician.is_active = False
    audit.record(session, "clinician_disabled", detail={"clinician_id": clinician.id, "via": "cli"})
    return clinician, end_access(session, clinician, None)


def end_access(session: DbSession, clinician: Clinician, by: Clinician | None) -> list[int]:
    """For a clinician just disabled: end their sessions, links and exports (audited).

    Every open enrolment or reset link of the account stops working, and their queued,
    running and finished exports are cancelled (marked expired; a running one stops at
    its next fenced write). Returns the cancelled job ids: the caller deletes their
    files after the commit (exports.jobs.remove_files).
    """
    from questionnaire.exports import jobs as export_jobs  # exports import auth models

    service.end_sessions(clinician)
    session.execute(
        sa.delete(EnrolmentLink).where(
            EnrolmentLink.clinician_id == clinician.id, EnrolmentLink.used_at.is_(None)
        )
    )
    cancelled = export_jobs.expire_jobs_of(session, clinician.id)
    if cancelled:
        audit.record(
            session,
            "exports_cancelled",
            actor=by,
            detail={"clinician_id": clinician.id, "jobs": len(cancelled)},
        )
    return cancelled


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def set_admin(session: DbSession, email: str) -> Clinician:
    """Give a clinician the admin role from the shell (audited); UnknownClinician if none."""
    clinician = service.find_clinician(session, email)
    if clinician is None:
        raise service.UnknownClinician(
            f"No clinician has the email {service.normalise_email(email)!r}."
        )
    if not clinician.is_admin:
        clinician.is_admin = True
        audit.record(session, "admin_granted", detail={"clinician_id": clinician.id, "via": "cli"})
    return clinician


def reset_second_factor(
    session: DbSession, clinician: Clinician, by: Clinician, now: datetime
) -> Enrolment:
    """Make the clinician's second factor unusable, end their sessions, and return a new link.

    Through the link they choose a password and a new authenticator entry again.
    """
    clinician.totp_secret = totp.new_secret()  # shown to nobody
    clinician.last_totp_step = None
    service.end_sessions(clinician)
    token = _new_link(session, clinician, "reset", by, now)
    audit.record(session, "second_factor_reset", actor=by, detail=_detail(clinician))
    return Enrolment(clinician, token)


def _claim_code(session: DbSession, clinician: Clinician, code: str, now: datetime) -> bool:
    """Accept a code of the clinician's authenticator once (as at sign-in); return whether it was."""
    step = totp.matching_step(clinician.totp_secret, code, now, after=clinician.last_totp_step)
    if step is None:
        return False
    earlier = sa.or_(Clinician.last_totp_step.is_(None), Clinician.last_totp_step < step)
    claimed = session.execute(
        sa.update(Clinician)
        .where(Clinician.id == clinician.id, earlier)
        .values(last_totp_step=step)
        .execution_options(synchronize_session=False)
    )
    session.refresh(clinician)
    return int(getattr(claimed, "rowcount", 0)) == 1


def change_own_password(
    session: DbSession, clinician: Clinician, *, current: str, code: str, new: str, now: datetime
) -> None:
    """Change a clinician's password given the current one and a fresh code; end other sessions.

    Raises PasswordPolicyError for a new password outside 12 to 128 characters,
    or PasswordChangeRefused (audited) when the current password or the code is wrong.
    """
    passwords.check_policy(new)
    reason = None
    if not passwords.verify(clinician.password_hash, current):
        reason = "wrong_password"
    elif not _claim_code(session, clinician, code, now):
        reason = "wrong_code"
    if reason is not None:
        audit.record(session, "password_change_failed", actor=clinician, detail={"reason": reason})
        raise PasswordChangeRefused(reason)
    service.change_password(clinician, new)
    audit.record(session, "password_changed", actor=clinician, detail=_detail(clinician))


def set_password(session: DbSession, email: str, new: str) -> Clinician:
    """Set a clinician's password from the shell (audited) and end their sessions."""
    clinician = service.find_clinician(session, email)
    if clinician is None:
        raise service.UnknownClinician(
            f"No clinician has the email {service.normalise_email(email)!r}."
        )
    service.change_password(clinician, new)
    audit.record(session, "password_changed", detail={"clinician_id": clinician.id, "via": "cli"})
    return clinician


def sign_out_everywhere(session: DbSession, clinician: Clinician) -> None:
    """End every session of this clinician, this browser's included (known devices stay known)."""
    service.end_sessions(clinician, forget_devices=False)
    audit.record(session, "sign_out_everywhere", actor=clinician)
