"""Check-in links by email: at booking and as a reminder, only to patients who agreed."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.visits import Visit
from tests.harness.app import Clock
from tests.ops.test_alerts import Inbox, inbox  # noqa: F401  (the SMTP sink fixture)
from tests.visits.conftest import AddIntake

LINK = re.compile(r"http://localhost(/checkin/[A-Za-z0-9_-]+)")


def smtp(app: Flask, port: int) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)


def schedule(app: Flask, reference: str, at: str, *options: str) -> str:
    result = app.test_cli_runner().invoke(
        args=["visits", "schedule", reference, "--at", at, *options]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_patient_who_agreed_gets_the_link_at_booking_and_a_new_one_before_the_visit(
    app: Flask,
    client: FlaskClient,
    add_intake: AddIntake,
    clock: Clock,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    smtp(app, port)
    output = schedule(app, add_intake(), "2026-06-03T09:30", "--reminders")
    assert "emailed to the patient" in output
    ((recipients, booked),) = handler.messages
    assert recipients == ["sam@example.org"]
    body = booked.get_payload(decode=True).decode()
    assert "2026-06-03 09:30 EDT" in body and "Sam" not in body
    first = LINK.search(body).group(1)
    assert first in output  # the same link the clinician was shown
    runner = app.test_cli_runner()
    assert "0 sent" in runner.invoke(args=["visits", "remind"]).output  # 49.5 h ahead: not yet
    clock.advance(hours=26)  # 23.5 hours before the visit
    assert "1 sent" in runner.invoke(args=["visits", "remind"]).output
    assert "0 sent" in runner.invoke(args=["visits", "remind"]).output  # once only
    assert len(handler.messages) == 2
    second = LINK.search(handler.messages[1][1].get_payload(decode=True).decode()).group(1)
    assert second != first
    clock.advance(hours=21)  # 07:00 on the morning of the visit
    assert client.get(first).status_code == 404  # replaced by the reminder's
    assert client.get(second).status_code == 200
    with app.app_context():
        visit = db.session.execute(sa.select(Visit)).scalar_one()
        assert visit.reminded_at is not None


def test_no_email_without_agreement(
    app: Flask,
    add_intake: AddIntake,
    clock: Clock,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    smtp(app, port)
    output = schedule(app, add_intake(), "2026-06-02T09:30")
    assert "emailed" not in output
    clock.advance(hours=2)
    assert "0 sent" in app.test_cli_runner().invoke(args=["visits", "remind"]).output
    assert handler.messages == []


def test_the_email_is_in_the_patients_language(
    app: Flask,
    add_intake: AddIntake,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    smtp(app, port)
    schedule(app, add_intake(language="fr-CA"), "2026-06-03T09:30", "--reminders")
    ((_to, message),) = handler.messages
    assert "Votre traitement" in message.get_payload(decode=True).decode()
