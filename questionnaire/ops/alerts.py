"""Urgent-intake alerts: an email to the on-call addresses, after the submission commits.

The email carries the reference code only: no name, no answer, no flag text.
One Notification row per submission and address (unique), claimed before each
attempt, so a retry never sends twice and a failure stays visible to admins.
"""

from __future__ import annotations

import smtplib
import ssl
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from questionnaire import audit
from questionnaire.extensions import DbSession, now
from questionnaire.models import Notification
from questionnaire.references import format_reference

SMTP_TIMEOUT_SECONDS = 10
#: A claimed alert still pending after this long belongs to a worker that died mid-send.
CLAIM_LEASE = timedelta(minutes=2)


def on_call_addresses(config: Mapping[str, Any]) -> list[str]:
    """Return the configured on-call addresses (ON_CALL_EMAILS, comma-separated)."""
    raw = str(config.get("ON_CALL_EMAILS") or "")
    return [address.strip() for address in raw.split(",") if address.strip()]


def escalation_addresses(config: Mapping[str, Any]) -> list[str]:
    """Return where second alerts go (ESCALATION_EMAILS, else the on-call addresses)."""
    raw = str(config.get("ESCALATION_EMAILS") or "")
    chosen = [address.strip() for address in raw.split(",") if address.strip()]
    return chosen or on_call_addresses(config)


def alert_message(
    reference: str,
    sender: str,
    recipient: str,
    clinic: str,
    kind: str = "urgent",
    unsent: bool = False,
) -> EmailMessage:
    """Return the alert email: the reference and where to sign in, nothing about the patient."""
    shown = format_reference(reference)
    what = "urgent intake (not sent by the patient)" if unsent else "urgent intake"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    if kind == "escalation":
        message["Subject"] = f"Not opened yet: {what} {shown}"
        message.set_content(
            f"No clinician has opened the {what} at {clinic}, reference {shown}, "
            "since it was raised; sign in to review it now.\n"
        )
    else:
        message["Subject"] = f"Urgent intake {shown}" + (" (not sent)" if unsent else "")
        article = "An " + what
        message.set_content(
            f"{article} arrived at {clinic}, reference {shown}; sign in to review.\n"
        )
    return message


def _send(config: Mapping[str, Any], message: EmailMessage) -> None:
    host = str(config.get("SMTP_HOST") or "localhost")
    port = int(config.get("SMTP_PORT") or 25)
    with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USERNAME"):
            smtp.login(str(config["SMTP_USERNAME"]), str(config.get("SMTP_PASSWORD") or ""))
        smtp.send_message(message)


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
        )
        try:
            _send(config, message)
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


@click.group("notifications")
def notifications_cli() -> None:
    """Urgent-intake alert emails."""


@notifications_cli.command("send")
@with_appcontext
def send_command() -> None:
    """Send every urgent alert not yet sent (run it from cron to retry failures)."""
    from questionnaire.extensions import db

    outcome = deliver_pending(db.session, current_app.config)
    click.echo(f"{outcome['sent']} sent, {outcome['failed']} failed.")
    if outcome["failed"]:
        sys.exit(1)
