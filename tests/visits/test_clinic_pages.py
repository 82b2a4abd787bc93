"""The front desk's day view and a patient's course page, in both languages of the clinic side."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire import language
from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent
from questionnaire.records.visits import Patient
from tests.harness.app import Clock
from tests.harness.clinician import TestClinician, sign_in
from tests.visits.conftest import AddIntake, book
from tests.visits.test_checkin import CLEAR, GAD7, on_the_morning, send


def sign_in_now(client: FlaskClient, app: Flask, reviewer: TestClinician) -> FlaskClient:
    """Sign in at the test clock's current time (a session begun a day earlier has ended)."""
    sign_in(client, app, reviewer)
    return client


def phq9(total: int) -> dict[str, str]:
    """Return PHQ-9 answers summing to `total` (item 9 always 0)."""
    answers, left = {}, total
    for n in range(1, 9):
        answers[f"phq9_{n}"] = str(min(3, left))
        left -= min(3, left)
    return {**answers, "phq9_9": "0"}


def test_the_day_view_shows_each_visits_state_and_flag_labels_never_answers(
    app: Flask, client: FlaskClient, reviewer: TestClinician, add_intake: AddIntake, clock: Clock
) -> None:
    patient = app.test_client()
    visits = {
        "not_opened": book(app, add_intake(), "2026-06-02T09:00"),
        "in_progress": book(app, add_intake(), "2026-06-02T09:30"),
        "done": book(app, add_intake(), "2026-06-02T10:00"),
        "hold": book(app, add_intake(), "2026-06-02T10:30"),
        "crisis": book(app, add_intake(), "2026-06-02T11:00"),
    }
    tomorrow = book(app, add_intake(), "2026-06-03T09:00")
    on_the_morning(clock)
    assert patient.get(visits["in_progress"]).status_code == 200
    send(patient, visits["done"], {**CLEAR, "visit_drugs_24h": "yes"})
    send(patient, visits["hold"], {**CLEAR, "visit_bp_reading": "185/125"})
    send(patient, visits["crisis"], {**CLEAR, "visit_suicidal_thoughts_now": "yes"})
    as_reviewer = sign_in_now(client, app, reviewer)
    page = as_reviewer.get("/clinic/today")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    states = [part.split('"', 1)[0] for part in html.split('data-state="')[1:]]
    assert states == ["not_opened", "in_progress", "done", "hold", "crisis"]
    assert "Hold: speak with the patient before dosing" in html
    assert "BP ≥ 180/120" in html and "cannabis or drugs in 24 h" in html
    assert "185/125" not in html  # the reading itself stays on the patient's page
    assert tomorrow.removeprefix("/checkin/") not in html
    with app.app_context():
        assert db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "view_day")
        ).scalar_one()


def test_the_day_view_in_french(
    app: Flask, as_reviewer: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    book(app, add_intake(), "2026-06-01T15:00")
    with as_reviewer.session_transaction() as session:
        session[language.CLINIC_SESSION_KEY] = "fr-CA"
    html = as_reviewer.get("/clinic/today").get_data(as_text=True)
    assert "Pas ouvert" in html and "Visites du" in html


def test_a_bad_day_is_a_400(as_reviewer: FlaskClient) -> None:
    assert as_reviewer.get("/clinic/today?day=2026-13-01").status_code == 400


def test_the_patient_page_charts_and_tabulates_a_course_that_responds(
    app: Flask, client: FlaskClient, reviewer: TestClinician, add_intake: AddIntake, clock: Clock
) -> None:
    reference = add_intake(facts={"phq9_total": 20, "gad7_total": 12})
    first = book(app, reference, "2026-06-02T09:00")
    second = book(app, reference, "2026-06-09T09:00")
    patient = app.test_client()
    on_the_morning(clock)
    send(patient, first, {**CLEAR, **phq9(14), **GAD7})
    clock.advance(days=7)
    send(patient, second, {**CLEAR, **phq9(9), **GAD7})
    with app.app_context():
        patient_id = db.session.execute(sa.select(Patient.id)).scalar_one()
    as_reviewer = sign_in_now(client, app, reviewer)
    html = as_reviewer.get(f"/clinic/patients/{patient_id}").get_data(as_text=True)
    assert html.count("<svg") == 2
    for total in ("20", "14", "9"):
        assert f'data-total="{total}"' in html
    assert 'class="response"' in html and 'class="remission"' in html
    table = html.split('id="course-totals"', 1)[1]
    assert "Intake" in table and "Check-in 1" in table and "Check-in 2" in table
    assert "PHQ-9 response" in table
    with app.app_context():
        visit = db.session.execute(sa.select(Patient)).scalar_one().visits[1]
        assert {f["rule"] for f in visit.flags} == {"phq9_response"}


def test_a_course_that_worsens_is_flagged(
    app: Flask, client: FlaskClient, reviewer: TestClinician, add_intake: AddIntake, clock: Clock
) -> None:
    reference = add_intake(facts={"phq9_total": 8})
    first = book(app, reference, "2026-06-02T09:00")
    on_the_morning(clock)
    send(app.test_client(), first, {**CLEAR, **phq9(14)})
    with app.app_context():
        visit = db.session.execute(sa.select(Patient)).scalar_one().visits[0]
        assert {f["rule"] for f in visit.flags} == {"phq9_worsening"}
        patient_id = visit.patient_id
    as_reviewer = sign_in_now(client, app, reviewer)
    html = as_reviewer.get(f"/clinic/patients/{patient_id}").get_data(as_text=True)
    assert "PHQ-9 worsening" in html


def test_an_unknown_patient_is_a_404(as_reviewer: FlaskClient) -> None:
    assert as_reviewer.get("/clinic/patients/999").status_code == 404


def test_the_course_exports_as_fhir_observations_that_validate(
    app: Flask, client: FlaskClient, reviewer: TestClinician, add_intake: AddIntake, clock: Clock
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    reference = add_intake(facts={"phq9_total": 20, "gad7_total": 12})
    first = book(app, reference, "2026-06-02T09:00")
    on_the_morning(clock)
    send(app.test_client(), first, {**CLEAR, **phq9(9), **GAD7})
    with app.app_context():
        patient_id = db.session.execute(sa.select(Patient.id)).scalar_one()
    as_reviewer = sign_in_now(client, app, reviewer)
    reply = as_reviewer.get(f"/clinic/patients/{patient_id}/fhir")
    assert reply.status_code == 200
    bundle = reply.get_json()
    Bundle.model_validate(bundle)
    observations = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    found = {
        (o["code"]["coding"][0]["code"], o["valueInteger"], o["effectiveDateTime"][:10])
        for o in observations
    }
    assert found == {
        ("44261-6", 20, "2026-06-01"),
        ("70274-6", 12, "2026-06-01"),
        ("44261-6", 9, "2026-06-02"),
        ("70274-6", 7, "2026-06-02"),
    }
    patient_url = bundle["entry"][0]["fullUrl"]
    assert all(o["subject"]["reference"] == patient_url for o in observations)
    texts = [i["text"] for o in observations for i in o["interpretation"]]
    assert "PHQ-9 response (half or less of baseline)" in texts


def test_the_visits_csv_has_one_row_a_visit_with_totals_and_no_answer(
    app: Flask, client: FlaskClient, reviewer: TestClinician, add_intake: AddIntake, clock: Clock
) -> None:
    import csv

    from questionnaire.records.models import Clinician

    reference = add_intake(facts={"phq9_total": 20})
    first = book(app, reference, "2026-06-02T09:00")
    book(app, reference, "2026-06-09T09:00")
    on_the_morning(clock)
    send(app.test_client(), first, {**CLEAR, **phq9(9), "visit_bp_reading": "185/125"})
    as_reviewer = sign_in_now(client, app, reviewer)
    assert as_reviewer.get("/clinic/visits.csv").status_code == 403  # needs the permission
    with app.app_context():
        db.session.execute(sa.update(Clinician).values(can_export=True))
        db.session.commit()
    reply = as_reviewer.get("/clinic/visits.csv")
    assert reply.status_code == 200
    text = reply.get_data(as_text=True)
    assert "185/125" not in text and "Sam" not in text
    header, *lines = list(csv.reader(text.splitlines()))
    rows = [dict(zip(header, line, strict=True)) for line in lines]
    assert len(rows) == 2
    done, booked = rows
    assert done["phq9_total"] == "9" and done["phq9_baseline"] == "20"
    assert done["phq9_response"] == "yes" and done["visit_number"] == "1"
    assert done["highest_level"] == "urgent" and "visit_bp_raised" in done["flags"]
    assert booked["checked_in_at"] == "" and booked["phq9_total"] == ""


def test_a_patient_who_withdrew_leaves_the_day_view(
    app: Flask, as_reviewer: FlaskClient, add_intake: AddIntake
) -> None:
    from questionnaire.records.models import Submission

    kept = add_intake()
    withdrawn = add_intake()
    book(app, kept, "2026-06-01T15:00")
    book(app, withdrawn, "2026-06-01T16:00")
    with app.app_context():
        db.session.execute(
            sa.update(Submission)
            .where(Submission.reference == withdrawn)
            .values(hidden_at=sa.func.now(), hidden_reason="consent_withdrawn")
        )
        db.session.commit()
    html = as_reviewer.get("/clinic/today").get_data(as_text=True)
    assert f"{kept[:4]}-{kept[4:]}" in html
    assert f"{withdrawn[:4]}-{withdrawn[4:]}" not in html


def test_without_an_intake_total_the_first_check_in_is_the_baseline(
    app: Flask, add_intake: AddIntake, clock: Clock
) -> None:
    reference = add_intake()  # the intake's PHQ-9 was incomplete: no phq9_total
    first = book(app, reference, "2026-06-02T09:00")
    second = book(app, reference, "2026-06-09T09:00")
    third = book(app, reference, "2026-06-16T09:00")
    patient = app.test_client()
    on_the_morning(clock)
    send(patient, first, {**CLEAR, **phq9(20)})
    clock.advance(days=7)
    send(patient, second, {**CLEAR, **phq9(16)})
    clock.advance(days=7)
    send(patient, third, {**CLEAR, **phq9(10)})
    with app.app_context():
        visits = db.session.execute(sa.select(Patient)).scalar_one().visits
        # Baseline 20 (the first check-in): 10 is a response; from the previous 16 it is -6.
        assert visits[2].facts["phq9_baseline"] == 20
        assert visits[2].facts["phq9_change_previous"] == -6
        assert {f["rule"] for f in visits[2].flags} == {"phq9_response"}
