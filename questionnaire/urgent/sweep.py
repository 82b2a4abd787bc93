"""The alerts sweep: unsent urgent drafts, second alerts for unopened urgent intakes, retries,
and expired export files.

`flask --app questionnaire alerts sweep` runs it; cron runs that every minute.
It is idempotent and safe with several instances at once: one run at a time holds
the sweep's lock (locks.one_run), and a run started meanwhile on another host does
nothing; each entry and each alert also has a unique key, so even a run that slipped
past the lock could not double an alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from questionnaire.exports import jobs as export_jobs
from questionnaire.extensions import DbSession
from questionnaire.records import locks
from questionnaire.records.models import (
    AuditEvent,
    Notification,
    Submission,
    SweepRun,
    UnsentIntake,
)
from questionnaire.rules import RuleTable
from questionnaire.urgent import outbox as notify
from questionnaire.urgent import unsent

SWEEP = "alerts"
#: /healthz fails when the sweep has not finished for this long (cron runs it every minute).
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Swept:
    """What one sweep did."""

    raised: int
    escalated: int
    sent: int
    failed: int
    exports_expired: int = 0
    #: True when another run (another host) held the sweep's lock: this one did nothing.
    skipped: bool = False


def _minutes(config: Mapping[str, Any], setting: str) -> timedelta:
    return timedelta(minutes=int(config[setting]))


def raise_stale_drafts(
    session: DbSession, table: RuleTable, config: Mapping[str, Any], now: datetime
) -> int:
    """Raise an unsent urgent intake for each consented draft left untouched long enough."""
    if not unsent.is_enabled(config):
        return 0
    raised = 0
    addresses = notify.on_call_addresses(config)
    after = int(config["UNSENT_URGENT_AFTER_MINUTES"])
    for draft in unsent.stale_drafts(session, after, now):
        intake = unsent.raise_for_draft(session, draft, table, config, addresses, now)
        raised += intake is not None and intake.raised_at == now
    return raised


def _escalate(
    session: DbSession, addresses: list[str], reference: str, now: datetime, **about: int
) -> bool:
    """Queue one second alert per address for a reference; False when a sweep did it first."""
    notify.queue_alerts(session, addresses, reference, now, kind="escalation", **about)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # another sweep escalated it first
        return False
    return True


def escalate(session: DbSession, config: Mapping[str, Any], now: datetime) -> int:
    """Queue a second alert, once, for each urgent intake no clinician opened in time."""
    addresses = list(dict.fromkeys(notify.escalation_addresses(config)))
    if not addresses:
        return 0
    cutoff = now - _minutes(config, "URGENT_ESCALATE_MINUTES")
    escalated = 0
    submissions = session.execute(
        sa.select(Submission.id, Submission.reference).where(
            Submission.highest_level == "urgent",
            Submission.submitted_at <= cutoff,
            ~sa.exists().where(
                AuditEvent.submission_id == Submission.id,
                AuditEvent.action == "view_submission",
            ),
            ~sa.exists().where(
                Notification.submission_id == Submission.id, Notification.kind == "escalation"
            ),
        )
    ).all()
    for ident, reference in submissions:
        escalated += _escalate(session, addresses, reference, now, submission_id=ident)
    intakes = session.execute(
        sa.select(UnsentIntake.id, UnsentIntake.reference).where(
            UnsentIntake.first_opened_at.is_(None),
            unsent.still_open(),
            UnsentIntake.raised_at <= cutoff,
            ~sa.exists().where(
                Notification.unsent_intake_id == UnsentIntake.id,
                Notification.kind == "escalation",
            ),
        )
    ).all()
    for ident, reference in intakes:
        escalated += _escalate(session, addresses, reference, now, unsent_intake_id=ident)
    return escalated


def record_run(session: DbSession, now: datetime) -> None:
    """Record that the sweep finished now (for /healthz)."""
    updated: Any = session.execute(
        sa.update(SweepRun).where(SweepRun.name == SWEEP).values(last_run_at=now)
    )
    if not updated.rowcount:
        session.add(SweepRun(name=SWEEP, last_run_at=now))
        try:
            session.commit()
        except IntegrityError:  # another sweep recorded its run first; either time is true
            session.rollback()
        return
    session.commit()


def sweep(session: DbSession, table: RuleTable, config: Mapping[str, Any], now: datetime) -> Swept:
    """Run one sweep: raise stale urgent drafts, escalate unopened ones, send what is pending.

    When another host's sweep is running, return at once with skipped=True.
    """
    with locks.one_run(session, SWEEP) as mine:
        if not mine:
            return Swept(0, 0, 0, 0, 0, skipped=True)
        raised = raise_stale_drafts(session, table, config, now)
        escalated = escalate(session, config, now)
        delivered = notify.deliver_pending(session, config)
        # Export files hold patient data: gone after EXPORT_KEEP_HOURS with no worker running.
        expired = export_jobs.expire_jobs(session, config, now)
        record_run(session, now)
    return Swept(raised, escalated, delivered["sent"], delivered["failed"], expired)


def last_run(session: DbSession) -> datetime | None:
    """Return when the sweep last finished, or None if it never ran."""
    return session.scalar(sa.select(SweepRun.last_run_at).where(SweepRun.name == SWEEP))


def failed_count(session: DbSession) -> int:
    """Return how many alerts could not be sent."""
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.state == "failed")
        )
        or 0
    )
