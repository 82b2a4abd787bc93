"""Urgent intakes email the on-call addresses: reference only, retried, never sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent, Notification, Submission
from questionnaire.urgent import outbox as notify
from tests.answers import with_changes
from tests.harness.forms import csrf_token
from tests.harness.patient import Patient
from tests.harness.served import free_port

URGENT = {"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "yes"}
ON_CALL = "oncall@clinic.example, backup@clinic.example"


class Inbox:
    """Collects what the local SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def configure(app: Flask, port: int) -> None:
    app.config.update(ON_CALL_EMAILS=ON_CALL, SMTP_HOST="127.0.0.1", SMTP_PORT=port)


def send_urgent(client: FlaskClient, changes: dict[str, Any] | None = None) -> None:
    response = Patient(client).complete(with_changes({**URGENT, **(changes or {})}))
    assert response.status_code == 303
    response.close()  # the alert goes out once the patient has their page


def notifications(app: Flask) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Notification).order_by(Notification.id)))


def test_an_urgent_intake_emails_each_on_call_address_once(
    app: Flask, client: FlaskClient, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    configure(app, port)
    send_urgent(client, {"full_name": "Zebulon Quixote", "medications": "Ativan"})
    with app.app_context():
        reference = db.session.scalar(sa.select(Submission.reference))
    assert sorted(rcpt for rcpts, _ in handler.messages for rcpt in rcpts) == [
        "backup@clinic.example",
        "oncall@clinic.example",
    ]
    shown = f"{reference[:4]}-{reference[4:]}"
    for _, message in handler.messages:
        body = message.get_payload(decode=True).decode()
        assert message["Subject"] == f"Urgent intake {shown}"
        assert f"reference {shown}; sign in to review" in body
        for private in ("Zebulon", "Quixote", "Ativan", "suicid", "ending", "Reports"):
            assert private not in body and private not in message["Subject"]
    assert [n.state for n in notifications(app)] == ["sent", "sent"]


def test_an_intake_that_is_not_urgent_sends_nothing(
    app: Flask, client: FlaskClient, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    configure(app, port)
    send_urgent(client, {"suicidal_thoughts_now": "no"})
    assert handler.messages == []
    assert notifications(app) == []


def test_a_failed_alert_is_recorded_retried_and_never_sent_twice(
    app: Flask, client: FlaskClient, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    configure(app, free_port())  # nobody listens there: the send fails
    send_urgent(client)
    failed = notifications(app)
    assert [(n.state, n.attempts, n.last_error) for n in failed] == [
        ("failed", 1, "ConnectionRefusedError"),
        ("failed", 1, "ConnectionRefusedError"),
    ]
    with app.app_context():
        assert len(notify.failed_alerts(db.session)) == 2
        actions = list(db.session.scalars(sa.select(AuditEvent.action)))
        assert actions.count("notification_failed") == 2
    configure(app, port)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "2 sent, 0 failed" in result.output
    again = runner.invoke(args=["notifications", "send"])
    assert "0 sent, 0 failed" in again.output
    assert len(handler.messages) == 2
    assert [n.state for n in notifications(app)] == ["sent", "sent"]


def test_one_alert_row_per_address_even_when_sent_twice(app: Flask, client: FlaskClient) -> None:
    app.config["ON_CALL_EMAILS"] = "oncall@clinic.example, oncall@clinic.example"
    patient = Patient(client)
    patient.start()
    patient.answer_all(with_changes(URGENT))
    form = {"understands_review": "y", "csrf_token": csrf_token(client.get("/check"))}
    with client.session_transaction() as browser_session:
        before = dict(browser_session)
    assert client.post("/check", data=form).status_code == 303
    with client.session_transaction() as browser_session:  # a double click
        browser_session.clear()
        browser_session.update(before)
    assert client.post("/check", data=form).status_code == 303
    rows = notifications(app)
    assert [(n.address, n.reference) for n in rows] == [
        ("oncall@clinic.example", rows[0].reference)
    ]


def test_alerts_stop_after_the_last_attempt(app: Flask, client: FlaskClient) -> None:
    configure(app, free_port())
    send_urgent(client)
    with app.app_context():
        for _ in range(Notification.MAX_ATTEMPTS + 2):
            notify.deliver_pending(db.session, app.config)
    assert {n.attempts for n in notifications(app)} == {Notification.MAX_ATTEMPTS}


def test_admins_see_alerts_that_failed(app: Flask, client: FlaskClient) -> None:
    from tests.harness.clinician import make_clinician, sign_in

    configure(app, free_port())
    send_urgent(client)
    reviewer = make_clinician(app, email="reviewer@clinic.example")
    admin = make_clinician(app, email="admin@clinic.example", is_admin=True)
    as_reviewer, as_admin = app.test_client(), app.test_client()
    sign_in(as_reviewer, app, reviewer)
    sign_in(as_admin, app, admin)
    banner = "2 urgent alert emails could not be sent."
    assert banner in as_admin.get("/clinic/").get_data(as_text=True)
    assert banner not in as_reviewer.get("/clinic/").get_data(as_text=True)
    audit_page = as_admin.get("/clinic/audit").get_data(as_text=True)
    assert "Urgent alerts not sent" in audit_page and "oncall@clinic.example" in audit_page
