"""Who has taken a submission: take it, hand it to a colleague, release it.

Each change is one conditional UPDATE on the holder the clinician saw
(`assigned_to_id IS NULL` to take, `= holder` to hand over or release), so when two
clinicians press at once exactly one row changes and the other is told who has it.
Each writes one audit event (clinician ids only) in the same transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from questionnaire import audit
from questionnaire.extensions import DbSession, now
from questionnaire.questions.wording import N_, Phrase
from questionnaire.records.models import Clinician, Submission
from questionnaire.review.actions import ActionRefused


class AssignmentRefused(ActionRefused):
    """Someone else changed who has it first, or this clinician may not make the change."""


def colleagues(session: DbSession) -> list[Clinician]:
    """Return the active clinicians a submission may be handed to, by name."""
    query = sa.select(Clinician).where(Clinician.is_active.is_(True)).order_by(Clinician.name)
    return list(session.scalars(query))


def _move(session: DbSession, submission: Submission, holder: int | None, to: int | None) -> bool:
    """Change the holder only if it is still `holder`; return whether this call changed it."""
    held = (
        Submission.assigned_to_id.is_(None)
        if holder is None
        else Submission.assigned_to_id == holder
    )
    changed: Any = session.execute(
        sa.update(Submission)
        .where(Submission.id == submission.id, held)
        .values(assigned_to_id=to, assigned_at=now() if to is not None else None)
        .execution_options(synchronize_session=False)
    )
    # Read again: the winner's row, whoever won (a new statement sees its commit).
    session.expire(submission, ["assigned_to_id", "assigned_at", "assigned_to"])
    return bool(changed.rowcount == 1)


def _taken_by_someone_else(session: DbSession, submission: Submission) -> AssignmentRefused:
    session.rollback()
    session.refresh(submission)
    holder = submission.assigned_to
    if holder is None:
        return AssignmentRefused(N_("It was released meanwhile. Reload the page and try again."))
    return AssignmentRefused(Phrase(N_("%(name)s has already taken it."), name=holder.name))


def _may_change(clinician: Clinician, holder: int | None) -> None:
    if holder is None:
        raise AssignmentRefused(N_("Nobody has taken it. Take it first."))
    if holder != clinician.id and not clinician.is_admin:
        raise AssignmentRefused(N_("Only the clinician who took it, or an admin, can change this."))


def take(session: DbSession, clinician: Clinician, submission: Submission) -> None:
    """Take a free submission ("Assigned to me"); refuse, naming the holder, if it is taken.

    A new submission taken is being reviewed: its status becomes "in review", audited as a
    status change of its own in the same transaction (a reviewed one keeps its status).
    """
    if not _move(session, submission, None, clinician.id):
        raise _taken_by_someone_else(session, submission)
    audit.record(
        session,
        "submission_taken",
        actor=clinician,
        submission=submission,
        detail={"to": clinician.id},
    )
    if submission.status == "new":
        submission.status = "in_review"
        submission.status_changed_at = now()
        submission.status_changed_by_id = clinician.id
        audit.record(
            session,
            "set_status",
            actor=clinician,
            submission=submission,
            detail={"status": "in_review", "on": "take"},
        )
    session.commit()


def hand_over(
    session: DbSession, clinician: Clinician, submission: Submission, holder: int, to: int
) -> Clinician:
    """Hand a taken submission from `holder` (as the clinician saw it) to an active colleague."""
    _may_change(clinician, holder)
    colleague = session.get(Clinician, to)
    if colleague is None or not colleague.is_active:
        raise AssignmentRefused(N_("Choose an active clinician from the list."))
    if colleague.id == holder:
        raise AssignmentRefused(N_("That clinician already has it."))
    if not _move(session, submission, holder, colleague.id):
        raise _taken_by_someone_else(session, submission)
    audit.record(
        session,
        "submission_handed_over",
        actor=clinician,
        submission=submission,
        detail={"from": holder, "to": colleague.id},
    )
    session.commit()
    return colleague


def release(session: DbSession, clinician: Clinician, submission: Submission, holder: int) -> None:
    """Release a taken submission back to everyone (the holder as the clinician saw it)."""
    _may_change(clinician, holder)
    if not _move(session, submission, holder, None):
        raise _taken_by_someone_else(session, submission)
    audit.record(
        session,
        "submission_released",
        actor=clinician,
        submission=submission,
        detail={"from": holder},
    )
    session.commit()
