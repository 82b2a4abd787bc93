"""Retention: `flask purge` deletes old submissions and expired drafts; the audit trail stays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from questionnaire import audit
from questionnaire.extensions import DbSession
from questionnaire.records import locks
from questionnaire.records.drafts import remove_expired_drafts
from questionnaire.records.models import (
    Correction,
    Flag,
    Note,
    Notification,
    Submission,
    UnsentIntake,
)


@dataclass(frozen=True)
class Purged:
    """How many rows a purge deleted."""

    submissions: int
    flags: int
    notes: int
    notifications: int
    drafts: int
    unsent_intakes: int = 0
    #: True when another run (another host) held the purge's lock: this one did nothing.
    skipped: bool = False


def purge(session: DbSession, older_than_days: int, now: datetime) -> Purged:
    """Delete submissions sent before the cut-off with their flags, notes, corrections, alerts.

    Hidden ones (withdrawn after clinical use) go the same way: kept until the cut-off.

    An unsent urgent intake is deleted on the same cut-off once a clinician has
    marked it, never before: draft expiry leaves it alone.

    The audit trail is kept: it holds no answer, only who did what to which
    reference and when. The purge itself is recorded in it.

    One run at a time (locks.one_run): a purge started while another host's runs does
    nothing and returns skipped=True.
    """
    with locks.one_run(session, "purge") as mine:
        if not mine:
            return Purged(0, 0, 0, 0, 0, 0, skipped=True)
        return _purge(session, older_than_days, now)


def _purge(session: DbSession, older_than_days: int, now: datetime) -> Purged:
    cutoff = now - timedelta(days=older_than_days)
    old = sa.select(Submission.id).where(Submission.submitted_at < cutoff)

    def delete(statement: Any) -> int:
        result: Any = session.execute(statement)  # a CursorResult: it has a rowcount
        return int(result.rowcount or 0)

    flags = delete(sa.delete(Flag).where(Flag.submission_id.in_(old)))
    notes = delete(sa.delete(Note).where(Note.submission_id.in_(old)))
    notes += delete(sa.delete(Correction).where(Correction.submission_id.in_(old)))
    alerts = delete(sa.delete(Notification).where(Notification.submission_id.in_(old)))
    submissions = delete(sa.delete(Submission).where(Submission.submitted_at < cutoff))
    marked = sa.select(UnsentIntake.id).where(
        UnsentIntake.closed_at.is_not(None), UnsentIntake.raised_at < cutoff
    )
    alerts += delete(sa.delete(Notification).where(Notification.unsent_intake_id.in_(marked)))
    intakes = delete(
        sa.delete(UnsentIntake).where(
            UnsentIntake.closed_at.is_not(None), UnsentIntake.raised_at < cutoff
        )
    )
    session.commit()
    drafts = remove_expired_drafts(session, now)
    result = Purged(submissions, flags, notes, alerts, drafts, intakes)
    audit.record(
        session,
        "purge",
        detail={"older_than_days": older_than_days, **result.__dict__},
    )
    session.commit()
    return result
