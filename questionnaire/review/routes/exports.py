"""Bulk export jobs in the clinician's pages: prepare one, watch it, download it.

Every route needs the bulk-export permission, and a job is shown only to the
clinician who asked for it (anyone else gets 404: a job id tells nothing).
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from questionnaire import audit
from questionnaire.auth import export_required, signed_in_clinician
from questionnaire.exports import jobs
from questionnaire.exports.sealed import SealedFileError
from questionnaire.extensions import db, now
from questionnaire.questions.text import MAX_ROW_ID
from questionnaire.records.crypto import keyring
from questionnaire.records.models import EXPORT_KINDS, ExportJob
from questionnaire.records.queue import BadFilter, QueueFilter
from questionnaire.review.replies import bad_filter
from questionnaire.review.routes.blueprint import bp

#: While a job is pending or running its page reloads itself this often (no script needed).
REFRESH_SECONDS = 3


def _kind(value: str | None) -> str:
    if value not in EXPORT_KINDS:
        raise BadFilter("kind")
    return value


def _own_job(job_id: int) -> ExportJob:
    # An id no row can have (a forged link) is not found, never a database error.
    job = db.session.get(ExportJob, job_id) if 1 <= job_id <= MAX_ROW_ID else None
    if job is None or job.requester_id != signed_in_clinician().id:
        abort(404)
    return job


@bp.get("/exports")
@export_required
def exports() -> str:
    """List the exports this clinician asked for, newest first."""
    mine = (
        db.session.query(ExportJob)
        .filter(ExportJob.requester_id == signed_in_clinician().id)
        .order_by(ExportJob.id.desc())
        .limit(50)
        .all()
    )
    return render_template("review/exports.html", jobs=mine)


@bp.get("/exports/new")
@export_required
def new_export() -> str | tuple[str, int]:
    """Offer to prepare an export of the queue filter in the background (a POST button)."""
    try:
        kind = _kind(request.args.get("kind"))
        wanted = QueueFilter.parse(request.args.to_dict())
    except BadFilter as error:
        return bad_filter(error)
    rows = jobs.count_rows(db.session, kind, wanted)
    return render_template(
        "review/export_new.html",
        kind=kind,
        wanted=wanted,
        rows=rows,
        limit=current_app.config["EXPORT_STREAM_MAX_ROWS"],
    )


@bp.post("/exports")
@export_required
def create_export() -> BaseResponse | tuple[str, int]:
    """Queue an export of the queue filter's submissions or flags; show its page."""
    try:
        kind = _kind(request.form.get("kind"))
        wanted = QueueFilter.parse(request.form.to_dict())
    except BadFilter as error:
        return bad_filter(error)
    try:
        job = jobs.create_job(
            db.session, signed_in_clinician(), kind, wanted, current_app.config, now()
        )
    except jobs.ExportRefused:
        db.session.rollback()
        abort(403)
    return redirect(url_for("review.export_job", job_id=job.id), code=303)


@bp.get("/exports/<int:job_id>")
@export_required
def export_job(job_id: int) -> str:
    """Show an export's progress (reloading itself while it runs), then its download link."""
    job = _own_job(job_id)
    return render_template(
        "review/export_job.html",
        job=job,
        refresh=REFRESH_SECONDS if job.state in ("pending", "running") else None,
        file_name=jobs.download_name(job.kind),
        excel_name=jobs.download_name(job.kind, "excel"),
    )


@bp.get("/exports/<int:job_id>/download")
@export_required
def download_export(job_id: int) -> BaseResponse:
    """Download a finished export: every chunk is checked before the first byte is sent."""
    job = _own_job(job_id)
    if job.state != "done":
        return redirect(url_for("review.export_job", job_id=job.id), code=303)
    # "CSV for Excel" is the same file after a byte-order mark, as for the direct downloads.
    flavour = "excel" if request.args.get("for") == "excel" else "plain"
    try:
        chunks, size = jobs.open_download(job, current_app.config, keyring(), flavour)
    except (SealedFileError, FileNotFoundError) as error:
        # Class and job only: say it, fail the job so nobody is offered a bad file again.
        current_app.logger.error("Export %s would not open: %s", job.id, type(error).__name__)
        jobs.fail_job(db.session, job, current_app.config, type(error).__name__, now())
        return redirect(url_for("review.export_job", job_id=job.id), code=303)
    audit.record(
        db.session,
        "export_downloaded",
        actor=signed_in_clinician(),
        detail={
            "job": job.id,
            "kind": job.kind,
            "rows": job.rows_done,
            **job.filters,
            **({"for": "excel"} if flavour == "excel" else {}),
        },
    )
    db.session.commit()

    def body() -> Iterator[bytes]:
        yield from chunks

    response = Response(body(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Length"] = str(size)
    name = jobs.download_name(job.kind, flavour)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
