"""A patient's requests in the clinician's pages: look one up, copy, hide, delete (admins);
record a correction (any clinician). The work is in requests.py.

An admin answering a request sees the submission's standing (sent, status, whether a
clinician has used it), never its answers, unless they make the patient's copy.
"""

from __future__ import annotations

import json

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from werkzeug.wrappers import Response as BaseResponse

from questionnaire import audit, security
from questionnaire import language as languages
from questionnaire.auth import admin_required, signed_in_clinician
from questionnaire.clinic_time import clinic_today
from questionnaire.exports import fhir
from questionnaire.extensions import db, now
from questionnaire.questions import catalogue
from questionnaire.questions.version import screener_of
from questionnaire.questions.wording import N_, Phrase
from questionnaire.questions.words import section_rows
from questionnaire.records.models import REQUEST_REASONS, Submission
from questionnaire.records.references import format_reference, parse_reference
from questionnaire.review import actions
from questionnaire.review import requests as patient_requests
from questionnaire.review.present import identity
from questionnaire.review.replies import download, flash_done, submission_or_404
from questionnaire.review.routes.blueprint import bp


def _render_lookup(
    code: str | None, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    found = actions.find_submission(db.session, code) if code else None
    return (
        render_template(
            "review/requests.html",
            asked=code,
            standing=patient_requests.standing(db.session, found) if found else None,
            reasons=REQUEST_REASONS,
            error=error,
        ),
        status,
    )


@bp.get("/requests")
@admin_required
def requests_page() -> tuple[str, int]:
    """Find a submission by the reference the patient quotes; show what can be done."""
    typed = request.args.get("q", "")
    code = parse_reference(typed) if typed else None
    if typed and code is None:
        return _render_lookup(
            None, N_("That is not a reference code. Codes look like ABCD-2345."), 400
        )
    if code:
        audit.record(db.session, "request_looked_up", actor=signed_in_clinician(), reference=code)
        db.session.commit()
    return _render_lookup(code)


def _refused(found: Submission, refused: actions.ActionRefused) -> tuple[str, int]:
    db.session.rollback()
    return _render_lookup(found.reference, refused.args[0], 400)


@bp.post("/requests/<reference>/delete")
@admin_required
def delete_on_request(reference: str) -> BaseResponse | tuple[str, int]:
    """Delete a submission no clinician has used, at the patient's request (confirmed)."""
    found = submission_or_404(reference)
    if request.form.get("confirmed") != "yes":
        return _render_lookup(
            found.reference,
            N_("Tick the box to confirm you checked who is asking, then delete."),
            400,
        )
    try:
        patient_requests.delete_on_request(
            db.session,
            signed_in_clinician(),
            found,
            request.form.get("reason", ""),
            current_app.config,
        )
    except actions.ActionRefused as refused:
        return _refused(found, refused)
    flash_done(
        Phrase(
            N_("%(code)s and everything made from it are deleted. The audit keeps the reason."),
            code=format_reference(reference),
        )
    )
    return redirect(url_for("review.requests_page"), code=303)


@bp.post("/requests/<reference>/hide")
@admin_required
def hide_on_request(reference: str) -> BaseResponse | tuple[str, int]:
    """Hide a clinically used submission from the queue and exports, at the patient's request."""
    found = submission_or_404(reference)
    try:
        patient_requests.hide_on_request(
            db.session, signed_in_clinician(), found, request.form.get("reason", "")
        )
    except actions.ActionRefused as refused:
        return _refused(found, refused)
    flash_done(N_("Hidden from the queue and the exports. It is kept for the retention period."))
    return redirect(url_for("review.requests_page", q=found.reference), code=303)


@bp.post("/requests/<reference>/show")
@admin_required
def show_again(reference: str) -> BaseResponse | tuple[str, int]:
    """Put a submission hidden by mistake back in the queue and the exports."""
    found = submission_or_404(reference)
    try:
        patient_requests.show_again(db.session, signed_in_clinician(), found)
    except actions.ActionRefused as refused:
        return _refused(found, refused)
    flash_done(N_("It is back in the queue and the exports."))
    return redirect(url_for("review.requests_page", q=found.reference), code=303)


@bp.get("/requests/<reference>/copy")
@admin_required
def patient_copy(reference: str) -> str:
    """Show the patient's copy of their submission, in their language, ready to print."""
    found = submission_or_404(reference)
    patient_requests.record_copy(db.session, signed_in_clinician(), found, "print")
    with force_locale(found.language):
        return render_template(
            "review/patient_copy.html",
            submission=found,
            patient=identity(found.answers, clinic_today(), languages.translate),
            made_at=now(),
            corrections=patient_requests.corrections_by_item(found),
            sections=[
                (
                    section,
                    section_rows(section, found.answers, languages.translate, languages.number),
                )
                # In the words the patient was asked (the C-SSRS screener's, if it was on).
                for section in catalogue.pages_as_answered(
                    screener_of(found.questionnaire_version, found.answers)
                )
            ],
        )


@bp.get("/requests/<reference>/copy.json")
@admin_required
def patient_copy_fhir(reference: str) -> BaseResponse:
    """Download the patient's copy of their submission as a FHIR R4 Bundle (answers only)."""
    found = submission_or_404(reference)
    bundle = fhir.submission_bundle(
        found, security.base_url(), current_app.config["CLINIC_NAME"], answers_only=True
    )
    patient_requests.record_copy(db.session, signed_in_clinician(), found, "fhir")
    return download(
        json.dumps(bundle, indent=2),
        "application/fhir+json",
        f"{format_reference(found.reference)}-copy.json",
    )
