"""The service dashboard: the week's numbers."""

from __future__ import annotations

from flask import current_app, render_template

from questionnaire import audit
from questionnaire.auth import signed_in_clinician
from questionnaire.clinic_time import zone_of
from questionnaire.extensions import db, now
from questionnaire.review import dashboard as work
from questionnaire.review.routes.blueprint import bp


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
