"""Patients and visits: turn a reviewed submission into a patient, book visits, find a link.

Plain functions that take the session explicitly and raise VisitError, whose message
tells the reader what to do next; the caller commits. Times are booked in the
clinic's zone and stored in UTC.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa

from questionnaire.audit.record import record
from questionnaire.extensions import DbSession as Session
from questionnaire.questions.wording import N_
from questionnaire.records.models import Clinician, Submission
from questionnaire.records.references import parse_reference
from questionnaire.records.visits import Patient, Visit

#: A visit booked further ahead than this is refused as a typing mistake (a course of
#: ketamine or esketamine is weeks to months; a maintenance visit rarely a year away).
MAX_DAYS_AHEAD = 366
#: The shape the CLI and the booking form accept: 2027-01-05T09:30 (or a space for the T).
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}$")


class VisitError(ValueError):
    """A booking that cannot be made; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Booking:
    """A visit just booked, with the one-time token of its check-in link (shown once)."""

    visit: Visit
    token: str


def digest(token: str) -> str:
    """Return the SHA-256 of a link's token: only this is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def reviewed_submission(session: Session, reference: str) -> Submission:
    """Return the reviewed, visible submission a reference names, or raise VisitError."""
    code = parse_reference(reference or "")
    submission = (
        session.execute(sa.select(Submission).where(Submission.reference == code)).scalars().first()
        if code
        else None
    )
    if submission is None:
        raise VisitError(
            N_(
                "No intake has this reference. Check the 8 characters on the patient's "
                "confirmation (letters and digits, dashes optional) and try again."
            )
        )
    if submission.hidden_at is not None:
        raise VisitError(
            N_(
                "This intake was withdrawn at the patient's request: no visit can be booked on it. "
                "If the patient comes back, ask them to send a new intake."
            )
        )
    if submission.status != "reviewed":
        raise VisitError(
            N_(
                "This intake has not been marked reviewed yet. Open it in the queue, review it "
                "and set its status to reviewed, then book the visit."
            )
        )
    return submission


def patient_for(session: Session, submission: Submission, actor: Clinician | None) -> Patient:
    """Return the submission's patient record, making it (audited) the first time."""
    patient = (
        session.execute(sa.select(Patient).where(Patient.submission_id == submission.id))
        .scalars()
        .first()
    )
    if patient is None:
        patient = Patient(submission=submission, created_by_id=actor.id if actor else None)
        session.add(patient)
        session.flush()
        record(
            session,
            "patient_created",
            actor=actor,
            submission=submission,
            detail={"patient_id": patient.id},
        )
    return patient


def parse_local(text: str, zone: tzinfo) -> datetime:
    """Return a clinic-zone date and time written 2027-01-05T09:30 as an aware moment."""
    text = (text or "").strip()
    if not _LOCAL_TIME.match(text):
        raise VisitError(
            N_(
                "Write the visit's date and time as YYYY-MM-DDTHH:MM in the clinic's time zone, "
                "like 2027-01-05T09:30."
            )
        )
    try:
        naive = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise VisitError(
            N_(
                "That date or time does not exist. Write it as YYYY-MM-DDTHH:MM, like 2027-01-05T09:30."
            )
        ) from None
    return naive.replace(tzinfo=zone)


def schedule(
    session: Session,
    patient: Patient,
    at: datetime,
    *,
    actor: Clinician | None,
    now: datetime,
) -> Booking:
    """Book a visit at an aware moment and return it with its link's token (audited)."""
    if at <= now:
        raise VisitError(
            N_(
                "That time has already passed. Book the visit at a time still to come "
                "(in the clinic's time zone)."
            )
        )
    if at - now > timedelta(days=MAX_DAYS_AHEAD):
        raise VisitError(
            N_(
                "That is more than a year ahead; check the year. Book visits within the coming year."
            )
        )
    token = secrets.token_urlsafe(32)
    visit = Visit(
        patient=patient,
        scheduled_at=at,
        token_hash=digest(token),
        created_at=now,
        created_by_id=actor.id if actor else None,
    )
    session.add(visit)
    session.flush()
    record(
        session,
        "visit_scheduled",
        actor=actor,
        submission=patient.submission,
        detail={"visit_id": visit.id},
    )
    return Booking(visit, token)


def schedule_by_reference(
    session: Session,
    reference: str,
    local_time: str,
    *,
    zone: tzinfo,
    actor: Clinician | None,
    now: datetime,
) -> Booking:
    """Book a visit for the patient of a reviewed submission (made a patient if need be)."""
    submission = reviewed_submission(session, reference)
    at = parse_local(local_time, zone)
    patient = patient_for(session, submission, actor)
    return schedule(session, patient, at, actor=actor, now=now)


def day_bounds(day: Any, zone: tzinfo) -> tuple[datetime, datetime]:
    """Return the UTC moments a clinic-zone calendar day starts and ends at."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
