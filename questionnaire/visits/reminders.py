"""Check-in links by email: when a visit is booked, and as a reminder before it.

Only to a patient who agreed to reminders, at the email address of their intake; the
email holds the link and the visit's time in the clinic's zone, never an answer, in
the patient's language. Only the SHA-256 of a link is stored, so a reminder carries a
new link that replaces the earlier one (the reminder is claimed by a conditional
UPDATE first: two workers never send it twice).
"""

from __future__ import annotations

import secrets
import smtplib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext

from questionnaire.clinic_time import format_in_zone, zone_of
from questionnaire.extensions import DbSession
from questionnaire.records.models import Submission
from questionnaire.records.visits import Patient, Visit
from questionnaire.urgent.mail import resume_link_message, send
from questionnaire.visits.service import digest

#: Builds the absolute check-in link of a token (PUBLIC_BASE_URL, never the Host header).
LinkOf = Callable[[str], str]


def address_of(patient: Patient) -> str | None:
    """Return the email address of the patient's intake, if they agreed to reminders."""
    if not patient.reminders_agreed or patient.submission.hidden_at is not None:
        return None
    address = (patient.submission.answers or {}).get("email")
    return str(address) if address else None


def message_for(visit: Visit, link: str, address: str, config: Mapping[str, Any]) -> Any:
    """Return the email: the link and the time, in the patient's language; no answer."""
    tag = visit.patient.submission.language or "en"
    when = format_in_zone(visit.scheduled_at, zone_of(config))
    clinic = str(config.get("CLINIC_NAME") or "")
    with force_locale(tag.replace("-", "_")):
        subject = gettext("Before your treatment on %(when)s", when=when)
        body = "\n\n".join(
            (
                gettext(
                    "Your treatment at %(clinic)s is booked for %(when)s.", clinic=clinic, when=when
                ),
                gettext(
                    "On the day of your treatment, please answer a few short questions before "
                    "you come. Open this link on that day: %(link)s",
                    link=link,
                ),
                gettext(
                    "The link works once. It replaces any earlier link for this treatment. "
                    "Follow the clinic's instructions about eating and drinking before your "
                    "treatment."
                ),
                gettext(
                    "If you are thinking about ending your life, call or text %(line)s at any "
                    "time, or call %(emergency)s in an emergency.",
                    line=str(config.get("CRISIS_LINE_NUMBER") or ""),
                    emergency=str(config.get("EMERGENCY_NUMBER") or ""),
                ),
            )
        )
    sender = str(config.get("SMTP_FROM") or "intake@localhost")
    return resume_link_message(link, sender, address, subject, body + "\n")


def email_link(visit: Visit, token: str, link_of: LinkOf, config: Mapping[str, Any]) -> bool:
    """Email a visit's link to a patient who agreed; return whether an email went out."""
    address = address_of(visit.patient)
    if address is None:
        return False
    try:
        send(config, message_for(visit, link_of(token), address, config))
    except (OSError, smtplib.SMTPException) as error:
        # The class only: an SMTP error can quote the address.
        current_app.logger.warning("Check-in email not sent (%s)", type(error).__name__)
        return False
    return True


def remind_due(
    session: DbSession, config: Mapping[str, Any], now: datetime, link_of: LinkOf
) -> dict[str, int]:
    """Send each reminder now due (VISIT_REMINDER_HOURS before the visit); return counts."""
    ahead = timedelta(hours=float(config.get("VISIT_REMINDER_HOURS") or 24))
    due = session.execute(
        sa.select(Visit.id)
        .join(Visit.patient)
        .join(Patient.submission)
        .where(
            Visit.checked_in_at.is_(None),
            Visit.reminded_at.is_(None),
            Visit.scheduled_at > now,
            Visit.scheduled_at <= now + ahead,
            Patient.reminders_agreed.is_(True),
            Submission.hidden_at.is_(None),
        )
        .order_by(Visit.scheduled_at)
    ).scalars()
    outcome = {"sent": 0, "failed": 0}
    for visit_id in list(due):
        token = secrets.token_urlsafe(32)
        claimed = session.execute(
            sa.update(Visit)
            .where(Visit.id == visit_id, Visit.reminded_at.is_(None))
            .values(reminded_at=now, token_hash=digest(token))
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        visit = session.get(Visit, visit_id)
        if visit is not None and email_link(visit, token, link_of, config):
            outcome["sent"] += 1
        else:
            outcome["failed"] += 1
    return outcome
