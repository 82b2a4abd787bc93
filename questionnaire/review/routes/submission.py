"""One submission: its page, its printable copy, its FHIR bundle."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from flask import Response, abort, current_app, render_template

from questionnaire import audit, security
from questionnaire import language as languages
from questionnaire.auth import signed_in_clinician
from questionnaire.clinic_time import clinic_today
from questionnaire.exports import fhir
from questionnaire.extensions import db, now
from questionnaire.flagging import versions
from questionnaire.questions import catalogue
from questionnaire.questions.version import screener_of
from questionnaire.questions.words import section_rows
from questionnaire.records.models import OUTCOMES, STATUSES, Submission
from questionnaire.records.references import format_reference
from questionnaire.review import actions, assignment
from questionnaire.review import requests as patient_requests
from questionnaire.review.present import evidence_rows, flagged_items, identity, text_readings
from questionnaire.review.replies import download, submission_or_404
from questionnaire.review.routes.blueprint import bp
from questionnaire.review.scores import cssrs_summary, score_rows
from questionnaire.urgent import unsent


def evidence_in_words(evidence: list[dict[str, Any]], screener: bool = False) -> Any:
    """Return a flag's evidence as rows of words in the reader's language.

    `screener`: the submission was answered with the C-SSRS screener on, so its questions
    are named in the words the patient was asked.
    """
    return evidence_rows(evidence, languages.translate, screener)


def asked_with_screener(submission: Submission) -> bool:
    """Return whether this submission was answered with the C-SSRS screener on (as stored)."""
    return screener_of(submission.questionnaire_version, submission.answers)


def pages_as_answered(submission: Submission, screener: bool) -> tuple[catalogue.Section, ...]:
    """Return the pages this submission was asked: its own version's, in the words it read."""
    return tuple(
        catalogue.accepted_section(page, screener)
        for page in versions.pages_of(db.session, submission.questionnaire_version)
    )


def render_submission(
    submission: Submission, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    opened_at = now()  # shown on paper: "Printed … on 2026-06-01 08:00 EDT"
    # The one "today" of this page (the patient's age): the clinic's own day.
    today = clinic_today()
    # The words the patient was asked (the screener's or the clinic's), as stored.
    screener = asked_with_screener(submission)
    return (
        render_template(
            "review/submission.html",
            submission=submission,
            patient=identity(submission.answers, today, languages.translate),
            opened_at=opened_at,
            evidence=partial(evidence_in_words, screener=screener),
            flagged=flagged_items(submission),
            readings=text_readings(
                current_app.extensions["rule_table"], submission.answers, languages.translate
            ),
            sections=[
                (
                    section,
                    section_rows(
                        section, submission.answers, languages.translate, languages.number
                    ),
                )
                for section in pages_as_answered(submission, screener)
                if section.instrument is None  # the instruments: one compact row each
            ],
            scores=score_rows(submission.answers, submission.language),
            cssrs=cssrs_summary(submission.answers),
            statuses=STATUSES,
            outcomes=OUTCOMES,
            colleagues=assignment.colleagues(db.session),
            corrections=patient_requests.corrections_by_item(submission),
            correctable=[catalogue.variant(i, screener) for i in patient_requests.correctable()],
            error=error,
            replaced=unsent.replaced(db.session, submission),
        ),
        status,
    )


@bp.get("/submissions/<reference>")
def submission(reference: str) -> tuple[str, int]:
    """Show one submission: its flags with their evidence and sources, then every answer."""
    found = submission_or_404(reference)
    try:
        found = actions.open_submission(db.session, signed_in_clinician(), found)
    except actions.SubmissionGone:
        abort(404)
    return render_submission(found)


@bp.get("/submissions/<reference>/print")
def submission_print(reference: str) -> tuple[str, int]:
    """Show one submission laid out for A4: one line per flag, the answers in two columns.

    A plain link from the submission page (no script needed); viewing it is audited.
    """
    found = submission_or_404(reference)
    try:
        found = actions.open_submission(db.session, signed_in_clinician(), found, view="print")
    except actions.SubmissionGone:
        abort(404)
    flagged = flagged_items(found)
    today = clinic_today()
    screener = asked_with_screener(found)
    return (
        render_template(
            "review/print.html",
            submission=found,
            patient=identity(found.answers, today, languages.translate),
            opened_at=now(),
            evidence=partial(evidence_in_words, screener=screener),
            worded=catalogue.WORDED_BY_SCREENER,
            # An answer a flag already shows is not printed again below it.
            sections=[
                (section, [row for row in rows if row.item.id not in flagged])
                for section in pages_as_answered(found, screener)
                if section.instrument is None
                and (
                    rows := section_rows(
                        section, found.answers, languages.translate, languages.number
                    )
                )
            ],
            scores=score_rows(found.answers, found.language),
            cssrs=cssrs_summary(found.answers),
        ),
        200,
    )


def _base_url() -> str:
    return security.base_url()


@bp.get("/submissions/<reference>/fhir")
def submission_fhir(reference: str) -> Response:
    """Download one submission as a FHIR R4 Bundle (QuestionnaireResponse and DetectedIssues)."""
    found = submission_or_404(reference)
    bundle = fhir.submission_bundle(
        found,
        _base_url(),
        current_app.config["CLINIC_NAME"],
        sections=versions.sections_of(db.session, found.questionnaire_version),
    )
    audit.record(db.session, "export_fhir", actor=signed_in_clinician(), submission=found)
    db.session.commit()
    return download(
        json.dumps(bundle, indent=2),
        "application/fhir+json",
        f"{format_reference(found.reference)}.json",
    )
