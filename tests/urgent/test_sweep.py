"""Urgent follow-through: a second alert, once, when no clinician opened an urgent intake; /healthz."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import Notification
from tests.fixtures import AddSubmission
from tests.harness.app import Clock
from tests.harness.clinician import TestClinician, sign_in
from tests.urgent.test_unsent import begin, intakes, save_and_leave, sweep

ESCALATE = "lead@clinic.example"


def escalations(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Notification).where(Notification.kind == "escalation"))
        return sorted((row.reference, row.address) for row in rows)


def setup(app: Flask) -> None:
    app.config.update(
        ON_CALL_EMAILS="oncall@clinic.example",
        ESCALATION_EMAILS=ESCALATE,
        SMTP_PORT=9,  # nobody listens: these tests look at the alert rows, not the mail
    )


def test_an_unopened_urgent_submission_is_escalated_once_after_the_set_minutes(
    app: Flask, add_submission: AddSubmission, clock: Clock
) -> None:
    setup(app)
    urgent = add_submission(flags=[("suicidal_thoughts_now", "urgent")], at=clock())
    add_submission(flags=[("benzodiazepine", "review")], at=clock())  # not urgent: never
    clock.advance(minutes=59)
    sweep(app)
    assert escalations(app) == []
    clock.advance(minutes=2)
    assert sweep(app).escalated == 1
    assert escalations(app) == [(urgent, ESCALATE)]
    clock.advance(minutes=30)
    assert sweep(app).escalated == 0
    assert escalations(app) == [(urgent, ESCALATE)]


def test_an_opened_urgent_submission_is_not_escalated(
    app: Flask,
    add_submission: AddSubmission,
    clock: Clock,
    client: FlaskClient,
    reviewer: TestClinician,
) -> None:
    setup(app)
    urgent = add_submission(flags=[("suicidal_thoughts_now", "urgent")], at=clock())
    sign_in(client, app, reviewer)
    assert client.get(f"/clinic/submissions/{urgent}").status_code == 200
    clock.advance(minutes=61)
    sweep(app)
    assert escalations(app) == []


def test_escalation_goes_to_the_on_call_addresses_by_default(
    app: Flask, add_submission: AddSubmission, clock: Clock
) -> None:
    setup(app)
    app.config["ESCALATION_EMAILS"] = ""
    urgent = add_submission(flags=[("suicidal_thoughts_now", "urgent")], at=clock())
    clock.advance(minutes=61)
    sweep(app)
    assert escalations(app) == [(urgent, "oncall@clinic.example")]


def test_an_unopened_unsent_urgent_intake_is_escalated_unless_opened(
    app: Flask, client: FlaskClient, clock: Clock, reviewer: TestClinician
) -> None:
    setup(app)
    app.config["URGENT_ESCALATE_MINUTES"] = 15
    save_and_leave(begin(client))
    second = app.test_client()
    save_and_leave(begin(second))
    first_intake, second_intake = intakes(app)
    clinician = app.test_client()
    sign_in(clinician, app, reviewer)
    assert clinician.get(f"/clinic/unsent/{second_intake.reference}").status_code == 200
    clock.advance(minutes=16)
    sweep(app)
    sweep(app)
    assert escalations(app) == [(first_intake.reference, ESCALATE)]


def health(client: FlaskClient) -> tuple[int, dict[str, object]]:
    response = client.get("/healthz")
    return response.status_code, json.loads(response.get_data(as_text=True))


def test_healthz_reports_the_sweep_and_failing_alerts_without_patient_data(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    status, body = health(client)
    assert status == 503 and body["last_sweep"] is None
    assert body["problems"] == ["sweep_not_running"]
    sweep(app)
    status, body = health(client)
    assert (status, body["status"], body["database"]) == (200, "ok", "ok")
    assert body["last_sweep"] == clock().isoformat() and body["unsent_alerts"] == 0
    clock.advance(minutes=4)
    assert health(client)[0] == 200
    clock.advance(minutes=2)  # the sweep has not run for 6 minutes
    status, body = health(client)
    assert status == 503 and body["problems"] == ["sweep_not_running"]
    # An alert that cannot be sent fails the check too, and is counted.
    app.config.update(ON_CALL_EMAILS="oncall@clinic.example", SMTP_PORT=9)
    save_and_leave(begin(app.test_client()))
    sweep(app)
    status, body = health(client)
    assert status == 503 and body["problems"] == ["alerts_failing"]
    assert body["unsent_alerts"] == 1
    text = json.dumps(body)
    for private in ("Sam", "Example", "416", "sam@example.com"):
        assert private not in text


def test_healthz_fails_when_the_database_is_unreachable(tmp_path: object) -> None:
    from pathlib import Path

    from tests.harness.app import make_app

    folder = Path(str(tmp_path))
    app = make_app(folder, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'missing' / 'nowhere.db'}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.get_data(as_text=True))["database"] == "unavailable"
