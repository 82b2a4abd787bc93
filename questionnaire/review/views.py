"""Clinician pages: parse the request, call a service, render. Every route needs a sign-in
(the auth guard denies by default); admin pages say so with admin_required."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from questionnaire import audit, crypto, security
from questionnaire import language as languages
from questionnaire.audit import trail
from questionnaire.auth import admin_required, export_required, signed_in_clinician
from questionnaire.clinic_time import clinic_today, zone_of
from questionnaire.exports import fhir
from questionnaire.exports import jobs as export_jobs
from questionnaire.extensions import db, now
from questionnaire.flagging import versions
from questionnaire.models import (
    OUTCOMES,
    STATUSES,
    UNSENT_OUTCOMES,
    Submission,
    UnsentIntake,
)
from questionnaire.ops import alerts as notify
from questionnaire.questions.text import parse_row_id
from questionnaire.questions.wording import N_, Phrase
from questionnaire.questions.words import section_rows
from questionnaire.references import format_reference
from questionnaire.review import actions, assignment, name_search
from questionnaire.review import dashboard as work
from questionnaire.review import requests as patient_requests
from questionnaire.review.present import (
    evidence_rows,
    flagged_items,
    identity,
    named,
    text_readings,
)
from questionnaire.review.queue import (
    NO_FLAG,
    TAKEN,
    BadFilter,
    Cursor,
    QueueFilter,
    all_in_queue,
    queue_page,
)
from questionnaire.review.replies import (
    bad_filter,
    download,
    flash_done,
    found_or_404,
    submission_or_404,
)
from questionnaire.review.rows import RowWords, queue_rows
from questionnaire.review.scores import cssrs_summary, score_rows
from questionnaire.rules import LEVELS
from questionnaire.urgent import unsent

bp = Blueprint("review", __name__, url_prefix="/clinic")


def _evidence(evidence: list[dict[str, Any]]) -> Any:
    return evidence_rows(evidence, languages.translate)


security.never_cache(bp)


@bp.app_template_filter("named")
def _named(code: str | None) -> str:
    """Return the words for a level, status, outcome or export code, in the reader's language."""
    return named(code, languages.translate)


@bp.get("/")
def queue() -> str | tuple[str, int]:
    """Show submissions, urgent first, then review, info-only and unflagged; oldest first."""
    clinician = signed_in_clinician()
    try:
        wanted = QueueFilter.parse(request.args.to_dict(), me=clinician.id)
        after = Cursor.decode(request.args["after"]) if request.args.get("after") else None
    except BadFilter as error:
        return bad_filter(error)
    page = queue_page(db.session, wanted, after)
    audit.record(db.session, "view_queue", actor=clinician, detail=wanted.as_detail())

    def queue_link(**changes: str) -> str:
        values: dict[str, Any] = wanted.as_args() | changes
        return url_for("review.queue", **{name: value for name, value in values.items() if value})

    clock = now()
    html = render_template(
        "review/queue.html",
        page=page,
        # Opened for this page only: names and ages live in the HTML, never in a link or a log.
        # Ages on the clinic's own date, as the rules judge them.
        rows=queue_rows(
            page.rows,
            page.answers,
            page.flags,
            current_app.extensions["rule_table"],
            today=clinic_today(),
            now=clock,
        ),
        say=RowWords(),
        me=clinician,
        wanted=wanted,
        # Exports have no "mine" of their own: their links leave the taken filter out.
        export_args={name: value for name, value in wanted.as_args().items() if name != "taken"},
        excel_args={
            **{name: value for name, value in wanted.as_args().items() if name != "taken"},
            "for": "excel",
        },
        queue_link=queue_link,
        levels=(*LEVELS, NO_FLAG),
        taken_filters=TAKEN,
        statuses=STATUSES,
        # Retired ids too: old submissions keep the flags they were judged with.
        rules=[
            *(rule.id for rule in current_app.extensions["rule_table"].rules),
            *current_app.extensions["rule_table"].retired,
        ],
        failed_alerts=notify.failed_alerts(db.session) if clinician.is_admin else [],
        unsent_intakes=(intakes := unsent.open_intakes(db.session)),
        unsent_languages=unsent.languages_of(db.session, intakes),
        can_export=clinician.can_export,
    )
    # Committed after rendering: a commit expires every loaded row, and rendering after it
    # would load each one again. If the audit row cannot be stored, nothing is shown.
    db.session.commit()
    return html


def _unsent_or_404(reference: str) -> UnsentIntake:
    return found_or_404(reference, unsent.find_by_reference)


def _render_unsent(
    intake: UnsentIntake, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "review/unsent.html",
            intake=intake,
            evidence=_evidence,
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


def _render_submission(
    submission: Submission, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    opened_at = now()  # shown on paper: "Printed … on 2026-06-01 08:00 EDT"
    # The one "today" of this page (the patient's age): the clinic's own day.
    today = clinic_today()
    return (
        render_template(
            "review/submission.html",
            submission=submission,
            patient=identity(submission.answers, today, languages.translate),
            opened_at=opened_at,
            evidence=_evidence,
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
                for section in versions.pages_of(db.session, submission.questionnaire_version)
                if section.instrument is None  # the instruments: one compact row each
            ],
            scores=score_rows(submission.answers, submission.language),
            cssrs=cssrs_summary(submission.answers),
            statuses=STATUSES,
            outcomes=OUTCOMES,
            colleagues=assignment.colleagues(db.session),
            corrections=patient_requests.corrections_by_item(submission),
            correctable=patient_requests.correctable(),
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
    return _render_submission(found)


class NameSearchForm(FlaskForm):
    """The name search: one field, sent by POST with its CSRF token."""

    name = StringField(validators=[DataRequired(), Length(max=200)])


@bp.route("/search", methods=["GET", "POST"])
def search_by_name() -> str:
    """Find submissions by the patient's name (a POST: the name never goes in a URL)."""
    form = NameSearchForm()
    results = None
    if form.validate_on_submit():
        found = name_search.find_by_name(
            db.session, signed_in_clinician(), form.name.data or "", crypto.name_index_key()
        )
        today = clinic_today()
        results = [
            (submission, identity(submission.answers, today, languages.translate))
            for submission in found
        ]
    return render_template("review/search.html", form=form, results=results)


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
    return (
        render_template(
            "review/print.html",
            submission=found,
            patient=identity(found.answers, today, languages.translate),
            opened_at=now(),
            evidence=_evidence,
            # An answer a flag already shows is not printed again below it.
            sections=[
                (section, [row for row in rows if row.item.id not in flagged])
                for section in versions.pages_of(db.session, found.questionnaire_version)
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


def _act(reference: str, act: Any) -> BaseResponse | tuple[str, int]:
    found = submission_or_404(reference)
    try:
        done = act(found)
    except actions.ActionRefused as refused:
        db.session.rollback()
        return _render_submission(found, error=refused.args[0], status=400)
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
            db.session,
            signed_in_clinician(),
            found,
            _holder(),
            parse_row_id(to) or 0,
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


#: The byte-order mark that tells Excel a CSV file is UTF-8 (without it, accents break).
EXCEL_BOM = "\ufeff"


def _export(kind: str, rows_of: str, name: str) -> BaseResponse | tuple[str, int]:
    asked = request.args.to_dict()
    # "CSV for Excel": the same file, UTF-8 with a byte-order mark (README, "Exports").
    excel = asked.pop("for", None) == "excel"
    try:
        wanted = QueueFilter.parse(asked)
    except BadFilter as error:
        return bad_filter(error)
    rows = export_jobs.count_rows(db.session, rows_of, wanted)
    if rows > current_app.config["EXPORT_STREAM_MAX_ROWS"]:
        # Too long for one request (a worker timeout would cut it short): prepare it as a job.
        args: dict[str, Any] = {"kind": rows_of, **wanted.as_args()}
        return redirect(url_for("review.new_export", **args), code=303)
    detail: dict[str, Any] = {**wanted.as_detail(), "rows": rows}
    if excel:
        detail["for"] = "excel"
    audit.record(db.session, kind, actor=signed_in_clinician(), detail=detail)
    db.session.commit()

    def stream() -> Iterator[str]:
        if excel:
            yield EXCEL_BOM
        yield from export_jobs.csv_lines(rows_of, all_in_queue(db.session, wanted), db.session)

    if excel:
        name = name.replace(".csv", "-excel.csv")
    return download(stream_with_context(stream()), "text/csv; charset=utf-8", name)


@bp.get("/export/submissions.csv")
@export_required
def export_submissions() -> BaseResponse | tuple[str, int]:
    """Download the submissions of the current queue filter as CSV (coded answers)."""
    return _export("export_csv", "submissions", "submissions.csv")


@bp.get("/export/flags.csv")
@export_required
def export_flags() -> BaseResponse | tuple[str, int]:
    """Download the flags of the current queue filter as CSV."""
    return _export("export_flags_csv", "flags", "flags.csv")


@bp.get("/audit")
@admin_required
def audit_log() -> str | tuple[str, int]:
    """Show the audit trail, newest first, with filters (admins only)."""
    try:
        wanted = trail.TrailFilter.parse(request.args.to_dict())
    except trail.BadTrailFilter as error:
        return bad_filter(error)
    page = trail.trail_page(db.session, wanted)
    audit.record(db.session, "view_audit", actor=signed_in_clinician(), detail=wanted.as_args())
    db.session.commit()
    return render_template(
        "review/audit.html",
        page=page,
        wanted=wanted,
        actions=sorted(audit.ACTIONS),
        failed_alerts=notify.failed_alerts(db.session),
    )


@bp.get("/dashboard")
def dashboard() -> str:
    """Show submissions per week by level and how soon each was first opened (no patient data)."""
    moment, zone = now(), zone_of(current_app.config)
    weeks = work.weekly_counts(db.session, moment, zone)
    times = work.delays(work.first_views(db.session, moment))
    audit.record(db.session, "view_dashboard", actor=signed_in_clinician())
    html = render_template(
        "review/dashboard.html",
        weeks=weeks,
        total=work.totals(weeks),
        chart=work.chart(weeks),
        levels=work.DASHBOARD_LEVELS,
        times=times,
        window_days=work.WINDOW_DAYS,
        duration=work.duration,
    )
    db.session.commit()
    return html
