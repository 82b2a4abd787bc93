"""A clinician's work on a submission: corrections, acknowledgements, notes, status, taking it."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from questionnaire import language as languages
from questionnaire.auth import signed_in_clinician
from questionnaire.extensions import db
from questionnaire.questions.text import parse_row_id
from questionnaire.questions.wording import N_, Phrase
from questionnaire.records.models import Submission
from questionnaire.review import actions, assignment
from questionnaire.review import requests as patient_requests
from questionnaire.review.replies import flash_done, submission_or_404
from questionnaire.review.routes.blueprint import bp
from questionnaire.review.routes.submission import render_submission


def _act(reference: str, act: Any) -> BaseResponse | tuple[str, int]:
    found = submission_or_404(reference)
    try:
        done = act(found)
    except actions.ActionRefused as refused:
        db.session.rollback()
        return render_submission(found, error=refused.args[0], status=400)
    flash_done(done)
    return redirect(url_for("review.submission", reference=found.reference), code=303)


@bp.post("/submissions/<reference>/corrections")
def add_correction(reference: str) -> BaseResponse | tuple[str, int]:
    """Record a correction the patient asked for against one answer (the answer stays)."""
    item_id, text = request.form.get("item", ""), request.form.get("text", "")

    def act(found: Submission) -> Any:
        patient_requests.add_correction(db.session, signed_in_clinician(), found, item_id, text)
        return N_("Correction recorded. The original answer stays as the patient sent it.")

    return _act(reference, act)


@bp.post("/submissions/<reference>/flags/<int:flag_id>/acknowledge")
def acknowledge(reference: str, flag_id: int) -> BaseResponse | tuple[str, int]:
    """Acknowledge one flag, with an optional note."""
    note = request.form.get("note", "")

    def act(found: Submission) -> str:
        flag = actions.acknowledge_flag(db.session, signed_in_clinician(), found, flag_id, note)
        return Phrase(N_("Flag %(rule)s acknowledged."), rule=flag.rule)

    return _act(reference, act)


@bp.post("/submissions/<reference>/notes")
def add_note(reference: str) -> BaseResponse | tuple[str, int]:
    """Add a note to a submission."""
    text = request.form.get("text", "")

    def act(found: Submission) -> str:
        actions.add_note(db.session, signed_in_clinician(), found, text)
        return N_("Note added.")

    return _act(reference, act)


@bp.post("/submissions/<reference>/status")
def set_status(reference: str) -> BaseResponse | tuple[str, int]:
    """Set the status of a submission and, when reviewed, its outcome."""
    status = request.form.get("status", "")
    outcome = request.form.get("outcome") or None

    def act(found: Submission) -> str:
        actions.set_status(db.session, signed_in_clinician(), found, status, outcome)
        return N_("Status saved.")

    return _act(reference, act)


def _assign(reference: str, act: Any) -> BaseResponse:
    """Run a take, hand over or release; say what happened (or who has it) on the next page."""
    found = submission_or_404(reference)
    try:
        done = act(found)
    except actions.ActionRefused as refused:
        db.session.rollback()
        flash(languages.translate(refused.args[0]), "error")
    else:
        flash_done(done)
    if request.form.get("back") == "queue":
        return redirect(url_for("review.queue"), code=303)
    return redirect(url_for("review.submission", reference=found.reference), code=303)


def _holder() -> int:
    """Return the holder the clinician saw (the form's `holder`); 0 when missing or not a number."""
    return parse_row_id(request.form.get("holder", "")) or 0


@bp.post("/submissions/<reference>/take")
def take(reference: str) -> BaseResponse:
    """Take a submission ("Assigned to me"); if someone was quicker, say who has it."""

    def act(found: Submission) -> str:
        assignment.take(db.session, signed_in_clinician(), found)
        return N_("Assigned to you.")

    return _assign(reference, act)


@bp.post("/submissions/<reference>/hand-over")
def hand_over(reference: str) -> BaseResponse:
    """Hand a taken submission to an active colleague."""
    to = request.form.get("to", "")

    def act(found: Submission) -> str:
        colleague = assignment.hand_over(
            db.session, signed_in_clinician(), found, _holder(), parse_row_id(to) or 0
        )
        return Phrase(N_("Handed over to %(name)s."), name=colleague.name)

    return _assign(reference, act)


@bp.post("/submissions/<reference>/release")
def release(reference: str) -> BaseResponse:
    """Release a taken submission so anyone may take it."""

    def act(found: Submission) -> str:
        assignment.release(db.session, signed_in_clinician(), found, _holder())
        return N_("Released: anyone can take it now.")

    return _assign(reference, act)
