"""The urgent-alert outbox: an email to the on-call addresses, after the submission commits.

The email carries the reference code only: no name, no answer, no flag text.
One Notification row per submission and address (unique), claimed before each
attempt, so a retry never sends twice and a failure stays visible to admins.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from werkzeug.wrappers import Response

from questionnaire import audit
from questionnaire.extensions import DbSession, db, now
from questionnaire.records.models import Notification
from questionnaire.urgent.mail import alert_message, send

#: A claimed alert still pending after this long belongs to a worker that died mid-send.
CLAIM_LEASE = timedelta(minutes=2)


def queue_alerts(
    session: DbSession,
    addresses: Iterable[str],
    reference: str,
    at: datetime,
    **about: Any,
) -> None:
    """Add one pending alert per address (once each) for a reference; the caller commits.

    `about` names what it is about: submission_id=…, unsent_intake_id=… with kind=…, or
    visit_id=… (a check-in's hold).
    """
    session.add_all(
        Notification(reference=reference, address=address, state="pending", created_at=at, **about)
        for address in dict.fromkeys(addresses)
    )


def on_call_addresses(config: Mapping[str, Any]) -> list[str]:
    """Return the configured on-call addresses (ON_CALL_EMAILS, comma-separated)."""
    raw = str(config.get("ON_CALL_EMAILS") or "")
    return [address.strip() for address in raw.split(",") if address.strip()]


def escalation_addresses(config: Mapping[str, Any]) -> list[str]:
    """Return where second alerts go (ESCALATION_EMAILS, else the on-call addresses)."""
    raw = str(config.get("ESCALATION_EMAILS") or "")
    chosen = [address.strip() for address in raw.split(",") if address.strip()]
    return chosen or on_call_addresses(config)


def _claim(session: DbSession, ident: int, seen_attempts: int, at: datetime) -> bool:
    """Take one attempt at a notification; False when another worker took it or it is done.

    `seen_attempts` is the count read when the batch was chosen, not a reloaded one:
    a commit expires the ORM's objects, and a reloaded count would let this worker
    claim again what another worker claimed a moment ago.
    """
    claimed = session.execute(
        sa.update(Notification)
        .where(
            Notification.id == ident,
            Notification.state != "sent",
            Notification.attempts == seen_attempts,
        )
        .values(attempts=Notification.attempts + 1, claimed_at=at)
    )
    session.commit()
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def deliver_pending(session: DbSession, config: Mapping[str, Any]) -> dict[str, int]:
    """Try every unsent alert that has attempts left; return counts of sent and failed."""
    outcome = {"sent": 0, "failed": 0}
    moment = now()
    waiting = session.execute(
        sa.select(Notification.id, Notification.attempts)
        .where(
            Notification.state != "sent",
            Notification.attempts < Notification.MAX_ATTEMPTS,
            # Never tried, failed, or claimed by a worker that must have died: a pending
            # alert claimed a moment ago may be on its way right now.
            sa.or_(
                Notification.attempts == 0,
                Notification.state == "failed",
                Notification.claimed_at < moment - CLAIM_LEASE,
            ),
        )
        .order_by(Notification.id)
    ).all()
    for ident, seen_attempts in waiting:
        if not _claim(session, ident, seen_attempts, moment):
            continue
        notification = session.get(Notification, ident)
        if notification is None:  # purged in between
            continue
        session.refresh(notification)
        message = alert_message(
            notification.reference,
            str(config.get("SMTP_FROM") or "intake@localhost"),
            notification.address,
            str(config.get("CLINIC_NAME") or "the clinic"),
            kind=notification.kind,
            unsent=notification.unsent_intake_id is not None,
            hold=notification.visit_id is not None,
        )
        try:
            send(config, message)
        except (OSError, smtplib.SMTPException) as error:
            # The class only: an SMTP error text can quote addresses or server details.
            notification.state = "failed"
            notification.last_error = type(error).__name__
            audit.record(
                session, "notification_failed", detail={"reference": notification.reference}
            )
            outcome["failed"] += 1
            current_app.logger.warning(
                "Urgent alert %s not sent (%s)", notification.id, type(error).__name__
            )
        else:
            notification.state = "sent"
            notification.sent_at = now()
            notification.last_error = None
            outcome["sent"] += 1
        session.commit()
    return outcome


def failed_alerts(session: DbSession) -> list[Notification]:
    """Return the alerts that are not sent after at least one attempt (shown to admins)."""
    return list(
        session.scalars(
            sa.select(Notification)
            .where(Notification.state == "failed")
            .order_by(Notification.created_at)
        )
    )


def deliver_after(response: Response) -> None:
    """Send the pending alerts once the patient has their page (when the response closes)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def deliver() -> None:
        # After the response: a failure here must not reach the patient or the log's
        # traceback; the alert stays pending for `flask notifications send`.
        try:
            with app.app_context():
                deliver_pending(db.session, app.config)
        except Exception as error:
            app.logger.error("Urgent alert delivery failed (%s)", type(error).__name__)

    response.call_on_close(deliver)
