"""Booking: a reviewed intake becomes a patient, visits are stored in UTC, bad input is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent
from questionnaire.records.visits import Patient, Visit
from questionnaire.visits.service import digest
from tests.harness.forms import csrf_token
from tests.visits.conftest import AddIntake, book


def test_the_cli_books_a_visit_in_the_clinic_zone_and_prints_a_link_stored_as_a_hash(
    app: Flask, add_intake: AddIntake
) -> None:
    reference = add_intake()
    path = book(app, reference, "2026-06-02T09:30")
    token = path.removeprefix("/checkin/")
    assert path.startswith("/checkin/") and len(token) >= 40
    with app.app_context():
        visit = db.session.execute(sa.select(Visit)).scalar_one()
        # 09:30 in Toronto (EDT, UTC-4) is 13:30 UTC.
        assert visit.scheduled_at == datetime(2026, 6, 2, 13, 30, tzinfo=UTC)
        assert visit.token_hash == digest(token)
        assert visit.patient.submission.reference == reference
        actions = [e.action for e in db.session.execute(sa.select(AuditEvent)).scalars()]
        assert actions == ["patient_created", "visit_scheduled"]
        # Nothing personal in clear: the rows hold neither the token, a name nor an email.
        for table in ("patients", "visits"):
            rows = db.session.execute(sa.text(f"SELECT * FROM {table}")).all()  # noqa: S608
            text = repr(rows)
            assert token not in text and "Sam" not in text and "example.org" not in text


def test_a_second_visit_reuses_the_patient(app: Flask, add_intake: AddIntake) -> None:
    reference = add_intake()
    book(app, reference, "2026-06-02T09:30")
    book(app, reference, "2026-06-05T09:30")
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Patient)).scalar() == 1
        assert db.session.execute(sa.select(sa.func.count()).select_from(Visit)).scalar() == 2


@pytest.mark.parametrize(
    ("status", "hidden", "at", "message"),
    [
        ("reviewed", False, "2026-05-31T09:30", "already passed"),
        ("reviewed", False, "2036-06-01T09:30", "more than a year ahead"),
        ("reviewed", False, "2026-06-31T09:30", "does not exist"),
        ("reviewed", False, "tomorrow", "YYYY-MM-DDTHH:MM"),
        ("new", False, "2026-06-02T09:30", "not been marked reviewed"),
        ("reviewed", True, "2026-06-02T09:30", "withdrawn"),
    ],
)
def test_bad_bookings_are_refused_with_what_to_do(
    app: Flask, add_intake: AddIntake, status: str, hidden: bool, at: str, message: str
) -> None:
    reference = add_intake(status=status, hidden=hidden)
    result = app.test_cli_runner().invoke(args=["visits", "schedule", reference, "--at", at])
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Visit)).scalar() == 0


def test_an_unknown_reference_is_refused(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["visits", "schedule", "ZZZZ-9999", "--at", "2026-06-02T09:30"]
    )
    assert result.exit_code == 1
    assert "No intake has this reference" in result.output


def test_a_clinician_books_from_the_browser_and_sees_the_link_once(
    app: Flask, as_reviewer: FlaskClient, add_intake: AddIntake
) -> None:
    reference = add_intake()
    token = csrf_token(as_reviewer.get("/clinic/visits/new"))
    page = as_reviewer.post(
        "/clinic/visits/new",
        data={"reference": reference, "at": "2026-06-02T09:30", "csrf_token": token},
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/checkin/" in html and "shown only this once" in html
    with app.app_context():
        patient = db.session.execute(sa.select(Patient)).scalar_one()
        assert patient.created_by_id is not None
    again = as_reviewer.get(f"/clinic/patients/{patient.id}")
    assert again.status_code == 200 and "/checkin/" not in again.get_data(as_text=True)


def test_a_bad_booking_in_the_browser_is_a_400_with_the_reason(
    as_reviewer: FlaskClient, add_intake: AddIntake
) -> None:
    reference = add_intake()
    token = csrf_token(as_reviewer.get("/clinic/visits/new"))
    page = as_reviewer.post(
        "/clinic/visits/new",
        data={"reference": reference, "at": "2020-01-01T09:00", "csrf_token": token},
    )
    assert page.status_code == 400
    assert "already passed" in page.get_data(as_text=True)


def test_booking_needs_a_signed_in_clinician(client: FlaskClient) -> None:
    assert client.get("/clinic/visits/new").status_code == 302
    assert client.get("/clinic/today").status_code == 302


def test_a_reviewed_intakes_page_offers_booking_with_its_reference(
    as_reviewer: FlaskClient, add_intake: AddIntake
) -> None:
    reviewed, new = add_intake(), add_intake(status="new")
    html = as_reviewer.get(f"/clinic/submissions/{reviewed}").get_data(as_text=True)
    assert f"/clinic/visits/new?reference={reviewed}" in html
    form = as_reviewer.get(f"/clinic/visits/new?reference={reviewed}").get_data(as_text=True)
    assert f'value="{reviewed}"' in form
    other = as_reviewer.get(f"/clinic/submissions/{new}").get_data(as_text=True)
    assert "/clinic/visits/new" not in other
