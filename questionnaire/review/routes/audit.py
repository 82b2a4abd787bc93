"""The audit trail, for admins."""

from __future__ import annotations

from flask import render_template, request

from questionnaire import audit
from questionnaire.audit import trail
from questionnaire.auth import admin_required, signed_in_clinician
from questionnaire.extensions import db
from questionnaire.review.replies import bad_filter
from questionnaire.review.routes.blueprint import bp
from questionnaire.urgent import outbox as notify


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
