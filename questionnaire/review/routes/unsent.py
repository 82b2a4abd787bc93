"""Unsent urgent intakes: the page a clinician reads and marks."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from questionnaire.auth import signed_in_clinician
from questionnaire.extensions import db
from questionnaire.questions.wording import N_
from questionnaire.records.models import UNSENT_OUTCOMES, UnsentIntake
from questionnaire.review.replies import flash_done, found_or_404
from questionnaire.review.routes.blueprint import bp
from questionnaire.review.routes.submission import evidence_in_words
from questionnaire.urgent import unsent


def _unsent_or_404(reference: str) -> UnsentIntake:
    return found_or_404(reference, unsent.find_by_reference)


def _render_unsent(
    intake: UnsentIntake, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "review/unsent.html",
            intake=intake,
            evidence=evidence_in_words,
            outcomes=UNSENT_OUTCOMES,
            error=error,
        ),
        status,
    )


@bp.get("/unsent/<reference>")
def unsent_intake(reference: str) -> tuple[str, int]:
    """Show an unsent urgent intake: who to reach, how, and the answers that raised it."""
    found = _unsent_or_404(reference)
    unsent.open_intake(db.session, signed_in_clinician(), found)
    return _render_unsent(found)


@bp.post("/unsent/<reference>/close")
def close_unsent(reference: str) -> BaseResponse | tuple[str, int]:
    """Mark an unsent urgent intake "contacted" or "could not reach", with a note."""
    found = _unsent_or_404(reference)
    try:
        unsent.close_intake(
            db.session,
            signed_in_clinician(),
            found,
            request.form.get("outcome", ""),
            request.form.get("note", ""),
        )
    except unsent.CloseRefused as refused:
        db.session.rollback()
        return _render_unsent(found, error=refused.args[0], status=400)
    flash_done(N_("Marked. It now follows the submissions' retention."))
    return redirect(url_for("review.unsent_intake", reference=found.reference), code=303)
