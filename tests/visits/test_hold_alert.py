"""A hold on a check-in alerts the on-call addresses through the urgent outbox, once."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import Notification
from questionnaire.records.visits import Visit
from tests.harness.app import Clock
from tests.ops.test_alerts import Inbox, configure, inbox  # noqa: F401  (the SMTP sink fixture)
from tests.visits.conftest import AddIntake, book
from tests.visits.test_checkin import CLEAR, on_the_morning, send


def test_a_hold_emails_the_on_call_addresses_the_reference_and_nothing_else(
    app: Flask,
    client: FlaskClient,
    add_intake: AddIntake,
    clock: Clock,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    configure(app, port)
    reference = add_intake()
    path = book(app, reference, "2026-06-02T09:30")
    on_the_morning(clock)
    status, _html = send(client, path, {**CLEAR, "visit_heart_symptoms": "yes"})
    assert status == 200
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Notification)))
        assert {(n.state, n.visit_id is not None, n.submission_id) for n in rows} == {
            ("sent", True, None)
        }
    shown = f"{reference[:4]}-{reference[4:]}"
    assert len(handler.messages) == 2
    for _to, message in handler.messages:
        assert message["Subject"] == f"Hold before treatment: {shown}"
        body = message.get_payload()
        assert "do not dose" in body and "Sam" not in body and "heart" not in body


def test_a_clear_check_in_sends_no_alert(
    app: Flask,
    client: FlaskClient,
    add_intake: AddIntake,
    clock: Clock,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    configure(app, port)
    path = book(app, add_intake(), "2026-06-02T09:30")
    on_the_morning(clock)
    send(client, path, {**CLEAR, "visit_drugs_24h": "yes"})  # review, not a hold
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    assert handler.messages == []


def test_a_crisis_answer_on_a_page_sent_back_is_not_lost(
    app: Flask,
    client: FlaskClient,
    add_intake: AddIntake,
    clock: Clock,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    configure(app, port)
    path = book(app, add_intake(), "2026-06-02T09:30")
    on_the_morning(clock)
    status, html = send(client, path, {"visit_suicidal_thoughts_now": "yes"})
    assert status == 400 and "You do not have to wait to talk to someone" in html
    status, _html = send(client, path, {"visit_suicidal_thoughts_now": "yes"})  # again
    with app.app_context():
        visit = db.session.execute(sa.select(Visit)).scalar_one()
        assert visit.crisis and visit.checked_in_at is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2
    assert len(handler.messages) == 2  # one per address, once
    # The patient can still finish the check-in.
    status, _html = send(client, path, {**CLEAR, "visit_suicidal_thoughts_now": "yes"})
    assert status == 200
