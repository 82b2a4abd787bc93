"""A patient's requests about their answers: a copy, a correction, a withdrawal.

What the privacy notice promises, as PHIPA and Quebec's Law 25 expect:

- access: an admin makes a copy of one submission (printable, or FHIR); audited;
- correction: a clinician records a correction against one answer; the answer stays
  as the patient sent it, and the correction is shown beside it;
- withdrawal: before any clinical use the submission is deleted with everything made
  from it; after clinical use it is hidden from the queue and the exports and kept
  for the retention period (a health record cannot be destroyed on request).

The audit trail keeps the reference, who, when and the coded reason; never the content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from questionnaire import audit
from questionnaire.exports import jobs as export_jobs
from questionnaire.extensions import DbSession, now
from questionnaire.questions import catalogue
from questionnaire.questions.instruments import INSTRUMENT_OF
from questionnaire.questions.wording import N_, Phrase
from questionnaire.records.models import (
    REQUEST_REASONS,
    AuditEvent,
    Clinician,
    Correction,
    Draft,
    Flag,
    Note,
    Notification,
    Submission,
    UnsentIntake,
)
from questionnaire.review import actions
from questionnaire.review.actions import ActionRefused

#: What a clinician does that counts as clinical use: after any of them, a withdrawal hides
#: the submission instead of deleting it. An admin's copy for the patient is not one.
CLINICAL_ACTIONS = (
    "view_submission",
    "acknowledge_flag",
    "add_note",
    "add_correction",
    "set_status",
    "submission_taken",
    "submission_handed_over",
    "submission_released",
    "export_fhir",
)


class RequestRefused(ActionRefused):
    """The request cannot be carried out as asked; the message says what to do instead."""


@dataclass(frozen=True)
class Standing:
    """What an admin needs to answer a request, without a single answer in it."""

    submission: Submission
    #: Why it counts as clinically used (marked words), empty when it does not.
    uses: tuple[str, ...]

    @property
    def used(self) -> bool:
        return bool(self.uses)


def standing(session: DbSession, submission: Submission) -> Standing:
    """Return whether a submission has had clinical use, and which."""
    uses: list[str] = []
    if submission.status != "new":
        uses.append(N_("its status was changed"))
    if submission.assigned_to_id is not None:
        uses.append(N_("a clinician has taken it"))
    if session.scalar(sa.select(_acted_on(submission.id))):
        uses.append(N_("a clinician has opened or acted on it"))
    # The unsent urgent intake it replaced: a clinician may have called the patient from it.
    reached = session.scalar(
        sa.select(sa.func.count())
        .select_from(UnsentIntake)
        .where(
            UnsentIntake.submission_id == submission.id,
            sa.or_(UnsentIntake.first_opened_at.is_not(None), UnsentIntake.closed_at.is_not(None)),
        )
    )
    if reached:
        uses.append(N_("a clinician opened the urgent answers it replaced"))
    return Standing(submission, tuple(uses))


def _acted_on(ident: int) -> Any:
    """Return an EXISTS: a clinician opened or acted on this submission (the audit says so)."""
    return sa.exists().where(
        AuditEvent.submission_id == ident, AuditEvent.action.in_(CLINICAL_ACTIONS)
    )


def _reason(reason: str) -> str:
    if reason not in REQUEST_REASONS:
        raise RequestRefused(N_("Choose the reason the patient gave from the list."))
    return reason


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Deleted:
    """What a deletion on request removed (counts only)."""

    reference: str
    flags: int
    notes: int
    corrections: int
    notifications: int
    unsent_intakes: int
    drafts: int
    export_files: int


def delete_on_request(
    session: DbSession,
    admin: Clinician,
    submission: Submission,
    reason: str,
    config: Mapping[str, Any],
) -> Deleted:
    """Delete a submission no clinician has used, and everything made from it; audited.

    Its flags, notes and corrections, its alert emails waiting or sent (the outbox rows),
    the unsent urgent intake it replaced with that intake's alerts, any draft left with
    its key, and the export files that may hold it. The audit keeps the reference and
    the coded reason.
    """
    code = _reason(reason)
    try:
        # One at a time with a clinician opening it (actions.lock_submission).
        submission = actions.lock_submission(session, submission.id)
    except actions.SubmissionGone:
        raise RequestRefused(
            N_("It changed a moment ago. Look it up again and try once more.")
        ) from None
    if standing(session, submission).used:
        raise RequestRefused(
            N_(
                "A clinician has already used this submission, so it cannot be deleted."
                " Hide it instead: it leaves the queue and is kept for the retention period."
            )
        )
    reference, ident, sent_at = submission.reference, submission.id, submission.submitted_at

    def delete(statement: Any) -> int:
        return _rowcount(session.execute(statement.execution_options(synchronize_session=False)))

    replaced = sa.select(UnsentIntake.id).where(UnsentIntake.submission_id == ident)
    notifications = delete(
        sa.delete(Notification).where(
            sa.or_(
                Notification.submission_id == ident,
                Notification.unsent_intake_id.in_(replaced),
            )
        )
    )
    unsent = delete(sa.delete(UnsentIntake).where(UnsentIntake.submission_id == ident))
    drafts = delete(sa.delete(Draft).where(Draft.token_hash == submission.draft_key))
    flags = delete(sa.delete(Flag).where(Flag.submission_id == ident))
    notes = delete(sa.delete(Note).where(Note.submission_id == ident))
    corrections = delete(sa.delete(Correction).where(Correction.submission_id == ident))
    # Guarded again in the statement: a clinician who opened it since the standing was
    # read leaves it in place, and nothing is deleted.
    gone = delete(
        sa.delete(Submission).where(
            Submission.id == ident,
            Submission.status == "new",
            Submission.assigned_to_id.is_(None),
            ~_acted_on(ident),
        )
    )
    if gone != 1:
        session.rollback()
        raise RequestRefused(N_("It changed a moment ago. Look it up again and try once more."))
    expired = export_jobs.expire_jobs_since(session, sent_at)
    session.expunge(submission)
    audit.record(
        session,
        "submission_deleted_on_request",
        actor=admin,
        reference=reference,
        detail={"submission_id": ident, "reason": code, "export_jobs_expired": len(expired)},
    )
    session.commit()
    files = sum(export_jobs.remove_files(config, job_id) for job_id in expired)
    return Deleted(reference, flags, notes, corrections, notifications, unsent, drafts, files)


def hide_on_request(
    session: DbSession, admin: Clinician, submission: Submission, reason: str
) -> None:
    """Hide a clinically used submission from the queue and exports; it is kept; audited."""
    code = _reason(reason)
    if submission.hidden_at is not None:
        raise RequestRefused(N_("It is already hidden. Nothing changed."))
    if not standing(session, submission).used:
        raise RequestRefused(
            N_(
                "No clinician has used this submission yet, so the patient's request is met"
                " by deleting it. Delete it instead."
            )
        )
    _set_hidden(session, admin, submission, code, "submission_hidden_on_request", {"reason": code})


def show_again(session: DbSession, admin: Clinician, submission: Submission) -> None:
    """Put a hidden submission back in the queue and the exports (hidden by mistake); audited.

    The audit keeps the reason it had been hidden for; the hiding's own event stays.
    """
    if submission.hidden_at is None:
        raise RequestRefused(N_("It is not hidden. Nothing changed."))
    detail = {"hidden_for": submission.hidden_reason}
    _set_hidden(session, admin, submission, None, "submission_shown_again", detail)


def _set_hidden(
    session: DbSession,
    admin: Clinician,
    submission: Submission,
    reason: str | None,
    action: str,
    detail: dict[str, Any],
) -> None:
    """Hide a submission for `reason` (None: show it again), audit `action`, and commit."""
    submission.hidden_at = now() if reason else None
    submission.hidden_reason = reason
    submission.hidden_by_id = admin.id if reason else None
    audit.record(session, action, actor=admin, submission=submission, detail=detail)
    session.commit()


def record_copy(session: DbSession, admin: Clinician, submission: Submission, form: str) -> None:
    """Audit that an admin made the patient a copy of their submission ("print" or "fhir")."""
    audit.record(
        session, "access_copy", actor=admin, submission=submission, detail={"format": form}
    )
    session.commit()


def add_correction(
    session: DbSession, clinician: Clinician, submission: Submission, item_id: str, text: str
) -> Correction:
    """Record a correction the patient asked for against one answer; the answer stays."""
    if item_id not in catalogue.ITEMS:
        raise RequestRefused(N_("Choose the question the correction is about."))
    if item_id in INSTRUMENT_OF:
        # A standard measure is scored as answered: a corrected item would make its total
        # neither the patient's answers nor a valid score.
        raise RequestRefused(
            N_(
                "A standard measure's answers are scored as given and cannot be corrected."
                " Ask the patient to answer it again, and add a note."
            )
        )
    text = text.strip()
    if not text:
        raise RequestRefused(N_("Write what the patient says the answer should be."))
    if len(text) > Correction.MAX_LENGTH:
        raise RequestRefused(
            Phrase(
                N_("Keep the correction under %(limit)s characters."), limit=Correction.MAX_LENGTH
            )
        )
    correction = Correction(
        submission=submission,
        item_id=item_id,
        clinician_id=clinician.id,
        created_at=now(),
        text=text,
    )
    session.add(correction)
    audit.record(
        session, "add_correction", actor=clinician, submission=submission, detail={"item": item_id}
    )
    session.commit()
    return correction


def correctable() -> list[catalogue.Item]:
    """Return the items a correction may be recorded against, in page order."""
    return [
        item
        for section in catalogue.PAGES
        for item in section.items
        if item.unit_of is None and item.id not in INSTRUMENT_OF
    ]


def corrections_by_item(submission: Submission) -> dict[str, list[Correction]]:
    """Return a submission's corrections grouped by the item they are about, oldest first."""
    grouped: dict[str, list[Correction]] = {}
    for correction in submission.corrections:
        grouped.setdefault(correction.item_id, []).append(correction)
    return grouped
