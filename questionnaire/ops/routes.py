"""/healthz for the clinic's monitoring: the database, the alerts sweep, failed alerts; no patient data."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from questionnaire.extensions import db, now
from questionnaire.urgent import sweep as alerts

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report the database, the last sweep and unsent alerts; 503 when any is wrong."""
    moment = now()
    try:
        last = alerts.last_run(db.session)
        failed = alerts.failed_count(db.session)
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.warning("Health check: database error (%s)", type(error).__name__)
        return jsonify(status="failing", database="unavailable"), 503
    problems = []
    if last is None or moment - last > alerts.STALE_AFTER:
        problems.append("sweep_not_running")
    if failed:
        problems.append("alerts_failing")
    body = {
        "status": "failing" if problems else "ok",
        "database": "ok",
        "last_sweep": last.isoformat() if last else None,
        "unsent_alerts": failed,
        "problems": problems,
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 503 if problems else 200
