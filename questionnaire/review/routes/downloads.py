"""The CSV downloads of the queue (submissions, flags), streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import current_app, redirect, request, stream_with_context, url_for
from werkzeug.wrappers import Response as BaseResponse

from questionnaire import audit
from questionnaire.auth import export_required, signed_in_clinician
from questionnaire.exports import jobs as export_jobs
from questionnaire.extensions import db
from questionnaire.records.queue import BadFilter, QueueFilter, all_in_queue
from questionnaire.review.replies import bad_filter, download
from questionnaire.review.routes.blueprint import bp


def _export(kind: str, rows_of: str) -> BaseResponse | tuple[str, int]:
    asked = request.args.to_dict()
    # "CSV for Excel": the same file, UTF-8 with a byte-order mark (docs/clinicians-exports.md).
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
            yield export_jobs.EXCEL_BOM
        yield from export_jobs.csv_lines(rows_of, all_in_queue(db.session, wanted), db.session)

    name = export_jobs.download_name(rows_of, "excel" if excel else "plain")
    return download(stream_with_context(stream()), "text/csv; charset=utf-8", name)


@bp.get("/export/submissions.csv")
@export_required
def export_submissions() -> BaseResponse | tuple[str, int]:
    """Download the submissions of the current queue filter as CSV (coded answers)."""
    return _export("export_csv", "submissions")


@bp.get("/export/flags.csv")
@export_required
def export_flags() -> BaseResponse | tuple[str, int]:
    """Download the flags of the current queue filter as CSV."""
    return _export("export_flags_csv", "flags")
