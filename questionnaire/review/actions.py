"""What a clinician does to a submission: open it, acknowledge flags, add notes, set its status.

Each action records who and when on the row it changes and writes one audit
event, in the same transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from questionnaire import audit
from questionnaire.extensions import DbSession, now
from questionnaire.questions.wording import N_, Phrase
from questionnaire.records import locks
from questionnaire.records.models import OUTCOMES, STATUSES, Clinician, Flag, Note, Submission


class ActionRefused(ValueError):
    """The action cannot be done as asked; the message (marked, args[0]) says what to do instead."""


def find_submission(session: DbSession, reference: str) -> Submission | None:
    """Return the submission with this reference code, or None."""
    return session.scalar(sa.select(Submission).where(Submission.reference == reference))


class SubmissionGone(LookupError):
    """The submission was deleted a moment ago (on the patient's request): a 404."""


def lock_submission(session: DbSession, submission_id: int) -> Submission:
    """Start a transaction holding the submission's lock; return it read afresh.

    Opening a submission and deleting it on request both take this lock first, so
    they happen one after the other: the open finds it deleted (SubmissionGone), or
    the delete finds it opened (clinical use, refused). Any earlier read is rolled
    back first, so on SQLite the write lock is taken on a fresh snapshot.
    """
    session.rollback()
    locks.hold(session, f"submission|{submission_id}")
    found = session.get(Submission, submission_id, populate_existing=True)
    if found is None:
        raise SubmissionGone(submission_id)
    return found


def open_submission(
    session: DbSession, clinician: Clinician, submission: Submission, view: str = ""
) -> Submission:
    """Record that a clinician viewed a submission (`view`: "print" for the print view),
    committed before anything is shown.

    Returns the submission as stored now; raises SubmissionGone when it was deleted.
    """
    found = lock_submission(session, submission.id)
    detail = {"view": view} if view else None
    audit.record(session, "view_submission", actor=clinician, submission=found, detail=detail)
    session.commit()
    return found


def acknowledge_flag(
    session: DbSession, clinician: Clinician, submission: Submission, flag_id: int, note: str
) -> Flag:
    """Mark one flag of a submission as seen, with an optional note."""
    flag = next((flag for flag in submission.flags if flag.id == flag_id), None)
    if flag is None:
        raise ActionRefused(N_("That flag is not part of this submission. Reload the page."))
    if flag.acknowledged_at is not None:
        raise ActionRefused(N_("That flag was already acknowledged."))
    text = note.strip()
    if len(text) > Note.MAX_LENGTH:
        raise ActionRefused(
            Phrase(N_("Keep the note under %(limit)s characters."), limit=Note.MAX_LENGTH)
        )
    flag.acknowledged_at = now()
    flag.acknowledged_by_id = clinician.id
    flag.acknowledgement_note = text or None
    audit.record(
        session,
        "acknowledge_flag",
        actor=clinician,
        submission=submission,
        detail={"rule": flag.rule},
    )
    session.commit()
    return flag


def add_note(session: DbSession, clinician: Clinician, submission: Submission, text: str) -> Note:
    """Add a clinician's note to a submission."""
    text = text.strip()
    if not text:
        raise ActionRefused(N_("Write the note before adding it."))
    if len(text) > Note.MAX_LENGTH:
        raise ActionRefused(
            Phrase(N_("Keep the note under %(limit)s characters."), limit=Note.MAX_LENGTH)
        )
    note = Note(submission=submission, clinician_id=clinician.id, created_at=now(), text=text)
    session.add(note)
    audit.record(session, "add_note", actor=clinician, submission=submission)
    session.commit()
    return note


def set_status(
    session: DbSession,
    clinician: Clinician,
    submission: Submission,
    status: str,
    outcome: str | None,
) -> None:
    """Set a submission's status; "reviewed" needs an outcome, the others clear it."""
    if status not in STATUSES:
        raise ActionRefused(N_("Choose a status from the list."))
    outcome = outcome or None
    if status == "reviewed":
        if outcome not in OUTCOMES:
            raise ActionRefused(N_("Choose an outcome to mark the submission reviewed."))
    elif outcome is not None:
        raise ActionRefused(N_("An outcome is only set when the submission is reviewed."))
    submission.status = status
    submission.outcome = outcome
    submission.status_changed_at = now()
    submission.status_changed_by_id = clinician.id
    detail = {"status": status} | ({"outcome": outcome} if outcome else {})
    audit.record(session, "set_status", actor=clinician, submission=submission, detail=detail)
    session.commit()
