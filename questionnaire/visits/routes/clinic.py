"""The clinic's visit pages: the front desk's day view, a patient's course, booking a visit."""

from __future__ import annotations

import json
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request
from sqlalchemy.orm import selectinload

from questionnaire import audit, security
from questionnaire import language as languages
from questionnaire.auth import export_required, signed_in_clinician
from questionnaire.clinic_time import clinic_today, zone_of
from questionnaire.extensions import db, now
from questionnaire.records.models import Submission
from questionnaire.records.visits import Patient, Visit
from questionnaire.security import external_url
from questionnaire.visits import course_view
from questionnaire.visits.fhir import patient_bundle
from questionnaire.visits.reminders import email_link
from questionnaire.visits.service import VisitError, day_bounds, schedule_by_reference
from questionnaire.visits.visits_csv import visits_csv

bp = Blueprint("clinic_visits", __name__, url_prefix="/clinic")
security.never_cache(bp)

#: A visit's check-in state at a glance, most pressing first.
STATES = ("crisis", "hold", "done", "in_progress", "not_opened")


def state_of(visit: Visit) -> str:
    """Return the visit's check-in state for the day view."""
    if visit.crisis:  # sent, or raised by a page sent back with a missing answer
        return "crisis"
    if visit.checked_in_at is None:
        return "in_progress" if visit.opened_at is not None else "not_opened"
    return "hold" if visit.highest_level == "urgent" else "done"


def _day(text: str | None) -> date:
    if not text:
        return clinic_today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400)


@bp.get("/today")
def today() -> str:
    """Show one day's visits in the clinic's zone, each with its check-in state."""
    clinician = signed_in_clinician()
    day = _day(request.args.get("day"))
    start, end = day_bounds(day, zone_of(current_app.config))
    visits = list(
        db.session.execute(
            sa.select(Visit)
            .join(Visit.patient)
            .join(Patient.submission)
            # A patient who withdrew is not expected: their visits leave the day view.
            .where(
                Visit.scheduled_at >= start,
                Visit.scheduled_at < end,
                Submission.hidden_at.is_(None),
            )
            .options(selectinload(Visit.patient).selectinload(Patient.submission))
            .order_by(Visit.scheduled_at, Visit.id)
        ).scalars()
    )
    audit.record(db.session, "view_day", actor=clinician, detail={"day": day.isoformat()})
    db.session.commit()
    return render_template(
        "visits/today.html",
        day=day,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        visits=[(visit, state_of(visit)) for visit in visits],
    )


def _patient_page(patient: Patient, link: str | None = None, emailed: bool = False) -> str:
    return render_template(
        "visits/patient.html",
        patient=patient,
        rows=course_view.rows(patient),
        charts=course_view.charts(patient, languages.translate),
        link=link,
        emailed=emailed,
        state_of=state_of,
    )


@bp.get("/patients/<int:patient_id>")
def patient_page(patient_id: int) -> str:
    """Show a patient's visits and the PHQ-9 and GAD-7 totals across the course."""
    clinician = signed_in_clinician()
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        abort(404)
    audit.record(
        db.session,
        "view_patient",
        actor=clinician,
        submission=patient.submission,
        detail={"patient_id": patient.id},
    )
    db.session.commit()
    return _patient_page(patient)


@bp.get("/patients/<int:patient_id>/fhir")
def patient_fhir(patient_id: int) -> Response:
    """Download the patient's course as FHIR R4 JSON: the Patient and each total's Observation."""
    clinician = signed_in_clinician()
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        abort(404)
    bundle = patient_bundle(patient, security.base_url())
    audit.record(
        db.session,
        "export_fhir",
        actor=clinician,
        submission=patient.submission,
        detail={"patient_id": patient.id},
    )
    db.session.commit()
    return Response(
        json.dumps(bundle, ensure_ascii=False, indent=2),
        mimetype="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="course-{patient.id}.json"'},
    )


@bp.get("/visits.csv")
@export_required
def visits_csv_export() -> Response:
    """Download every visit as CSV (one row a visit; totals and course facts as columns)."""
    clinician = signed_in_clinician()
    patients = db.session.execute(
        sa.select(Patient)
        .options(selectinload(Patient.visits), selectinload(Patient.submission))
        .order_by(Patient.id)
    ).scalars()
    text = visits_csv(patients)
    audit.record(db.session, "export_csv", actor=clinician, detail={"what": "visits"})
    db.session.commit()
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="visits.csv"'},
    )


@bp.route("/visits/new", methods=["GET", "POST"])
def book() -> str | tuple[str, int]:
    """Book a visit for the patient of a reviewed intake; show its link once."""
    clinician = signed_in_clinician()
    if request.method == "GET":
        return render_template("visits/book.html", error=None, values=request.args)
    try:
        booking = schedule_by_reference(
            db.session,
            request.form.get("reference", ""),
            request.form.get("at", ""),
            zone=zone_of(current_app.config),
            actor=clinician,
            now=now(),
        )
    except VisitError as error:
        db.session.rollback()
        return render_template("visits/book.html", error=str(error), values=request.form), 400
    if request.form.get("reminders"):
        booking.visit.patient.reminders_agreed = True
    db.session.commit()
    link = external_url("visits.checkin_page", token=booking.token)
    emailed = email_link(booking.visit, booking.token, lambda token: link, current_app.config)
    return _patient_page(booking.visit.patient, link=link, emailed=emailed)
