"""Unsent urgent intakes: a saved draft whose answers raise an urgent flag reaches the clinic.

Only with the patient's separate consent, and only from what was posted and
saved. The rule table decides what is urgent, never a hard-coded item. Each
draft raises at most one entry (draft_id is unique), with its alerts in the
same transaction, so two sweeps at once make one entry and one email each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from questionnaire import audit
from questionnaire.clinic_time import local_date, zone_of
from questionnaire.extensions import DbSession, now
from questionnaire.flagging.table import evaluate
from questionnaire.questions import catalogue
from questionnaire.questions.crisis import fill_numbers
from questionnaire.questions.forms import partial_answers
from questionnaire.questions.wording import N_, Phrase
from questionnaire.records.models import (
    UNSENT_OUTCOMES,
    Clinician,
    Draft,
    Note,
    Submission,
    UnsentIntake,
)
from questionnaire.records.references import new_reference
from questionnaire.rules import RuleTable
from questionnaire.urgent.outbox import queue_alerts

#: What a clinician needs to reach the patient, and nothing more.
CONTACT_ITEMS = tuple(item.id for item in catalogue.CONTACT_ITEMS)


@catalogue.on_install
def _refresh() -> None:
    """Name another definition's contact items (catalogue.install)."""
    global CONTACT_ITEMS
    CONTACT_ITEMS = tuple(item.id for item in catalogue.CONTACT_ITEMS)


class CloseRefused(ValueError):
    """An unsent intake cannot be closed as asked; the message (marked, args[0]) says what to do."""


def is_enabled(config: Mapping[str, Any]) -> bool:
    """Return whether the clinic runs this feature (ALERT_UNSENT_URGENT)."""
    return bool(config.get("ALERT_UNSENT_URGENT", True))


def urgent_findings(
    table: RuleTable, raw: Mapping[str, Any], today: date, settings: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Return the urgent findings the rule table raises for a draft's saved answers."""
    answers, facts = partial_answers(raw, today, bool(settings.get("CSSRS_SCREENER_ENABLED")))
    found = [finding.to_dict() for finding in evaluate(table, answers, facts)]
    urgent = [finding for finding in found if finding["level"] == "urgent"]
    for finding in urgent:
        finding["message"] = fill_numbers(finding["message"], settings)
    return urgent


def _contact(raw: Mapping[str, Any], language: str) -> dict[str, str]:
    """Return what a clinician needs to reach the patient, and the language to speak."""
    found = {key: str(raw[key]) for key in CONTACT_ITEMS if raw.get(key)}
    return found | {"language": language}


def find_for_draft(session: DbSession, draft: Draft) -> UnsentIntake | None:
    """Return the entry a draft raised, if any."""
    return session.scalar(sa.select(UnsentIntake).where(UnsentIntake.draft_id == draft.id))


def raise_for_draft(
    session: DbSession,
    draft: Draft,
    table: RuleTable,
    settings: Mapping[str, Any],
    addresses: Sequence[str],
    now: datetime,
) -> UnsentIntake | None:
    """Raise the draft's unsent urgent intake, with its alerts, if its saved answers call for it.

    Returns the entry (new or raised before), or None when nothing is raised:
    the feature is off, the patient did not consent, or no urgent flag is raised.
    """
    if not is_enabled(settings) or not draft.contact_consent:
        return None
    existing = find_for_draft(session, draft)
    if existing is not None:
        return existing
    findings = urgent_findings(table, draft.answers, local_date(now, zone_of(settings)), settings)
    if not findings:
        draft.judged_at = now
        session.commit()
        return None
    intake = UnsentIntake(
        reference=new_reference(),
        draft_id=draft.id,
        raised_at=now,
        saved_at=draft.updated_at,
        contact=_contact(draft.answers, draft.language),
        findings=findings,
    )
    session.add(intake)
    try:
        session.flush()
        queue_alerts(
            session, addresses, intake.reference, now, kind="urgent", unsent_intake_id=intake.id
        )
        session.commit()
    except IntegrityError:
        # Another request or sweep raised it first (or, very rarely, the reference was
        # taken: the next sweep tries again). Theirs stands, with its alerts.
        session.rollback()
        return find_for_draft(session, draft)
    return intake


def note_saved(
    session: DbSession,
    draft: Draft,
    table: RuleTable,
    settings: Mapping[str, Any],
    now: datetime,
) -> None:
    """Keep an open entry in step with a newly saved draft; mark it when the answer changed."""
    if not is_enabled(settings):
        return
    intake = find_for_draft(session, draft)
    if intake is None or intake.closed_at is not None:
        return
    findings = urgent_findings(table, draft.answers, local_date(now, zone_of(settings)), settings)
    if findings:
        intake.findings = findings
        intake.contact = _contact(draft.answers, draft.language)
        intake.saved_at = draft.updated_at
        intake.answer_changed_at = None
    elif intake.answer_changed_at is None:
        # The alert went out already: the entry stays, so a clinician still reaches out.
        intake.answer_changed_at = now
    session.commit()


def still_open() -> sa.ColumnElement[bool]:
    """Return the condition for an entry the queue still shows (and the sweep escalates).

    Not closed, and not replaced by the sent form, unless the patient changed the
    answer after the alert: then the sent form may not be urgent, and only a
    clinician closing the entry ends it.
    """
    return sa.and_(
        UnsentIntake.closed_at.is_(None),
        sa.or_(UnsentIntake.submission_id.is_(None), UnsentIntake.answer_changed_at.is_not(None)),
    )


def open_intakes(session: DbSession) -> list[UnsentIntake]:
    """Return the entries the queue shows above every submission, oldest first."""
    return list(
        session.scalars(
            sa.select(UnsentIntake)
            .where(still_open())
            # The queue lists them by reference: nothing sealed is opened for it.
            .options(
                defer(UnsentIntake.contact),
                defer(UnsentIntake.findings),
                defer(UnsentIntake.outcome_note),
            )
            .order_by(UnsentIntake.raised_at, UnsentIntake.id)
        )
    )


def languages_of(session: DbSession, intakes: Sequence[UnsentIntake]) -> dict[int, str]:
    """Return each entry's patient language (BCP 47), from its draft or the submission that
    replaced it, in one statement and without opening anything sealed."""
    if not intakes:
        return {}
    rows = session.execute(
        sa.select(UnsentIntake.id, sa.func.coalesce(Draft.language, Submission.language))
        .outerjoin(Draft, Draft.id == UnsentIntake.draft_id)
        .outerjoin(Submission, Submission.id == UnsentIntake.submission_id)
        .where(UnsentIntake.id.in_([intake.id for intake in intakes]))
    ).all()
    return {ident: str(tag) for ident, tag in rows if tag}


def find_by_reference(session: DbSession, reference: str) -> UnsentIntake | None:
    """Return the entry with this reference code, or None."""
    return session.scalar(sa.select(UnsentIntake).where(UnsentIntake.reference == reference))


def replaced(session: DbSession, submission: Submission) -> UnsentIntake | None:
    """Return the unsent entry a submission replaced, if any."""
    return session.scalar(
        sa.select(UnsentIntake).where(UnsentIntake.submission_id == submission.id)
    )


def open_intake(session: DbSession, clinician: Clinician, intake: UnsentIntake) -> None:
    """Record that a clinician viewed an entry (the first view stops its escalation)."""
    if intake.first_opened_at is None:
        intake.first_opened_at = now()
    audit.record(session, "view_unsent_intake", actor=clinician, reference=intake.reference)
    session.commit()


def close_intake(
    session: DbSession, clinician: Clinician, intake: UnsentIntake, outcome: str, note: str
) -> None:
    """Mark an entry "contacted" or "could not reach" with a note; it then follows retention."""
    if intake.closed_at is not None:
        raise CloseRefused(N_("This entry was already marked."))
    if outcome not in UNSENT_OUTCOMES:
        raise CloseRefused(N_("Choose whether you reached the patient."))
    text = note.strip()
    if not text:
        raise CloseRefused(N_("Write a note saying what happened."))
    if len(text) > Note.MAX_LENGTH:
        raise CloseRefused(
            Phrase(N_("Keep the note under %(limit)s characters."), limit=Note.MAX_LENGTH)
        )
    intake.outcome = outcome
    intake.outcome_note = text
    intake.closed_at = now()
    intake.closed_by_id = clinician.id
    audit.record(
        session,
        "close_unsent_intake",
        actor=clinician,
        reference=intake.reference,
        detail={"outcome": outcome},
    )
    session.commit()


def stale_drafts(session: DbSession, after_minutes: int, now: datetime) -> list[Draft]:
    """Return consented live drafts untouched for that long that have raised nothing yet.

    A draft judged since its last change is left out: its answers raised nothing then.
    """
    cutoff = now - timedelta(minutes=after_minutes)
    return list(
        session.scalars(
            sa.select(Draft)
            .where(
                Draft.contact_consent.is_(True),
                Draft.updated_at <= cutoff,
                Draft.expires_at > now,
                sa.or_(Draft.judged_at.is_(None), Draft.judged_at <= Draft.updated_at),
                ~sa.exists().where(UnsentIntake.draft_id == Draft.id),
            )
            .order_by(Draft.id)
        )
    )
