"""Odd inputs on the clinician side: control characters are a 400, bidi text is shown harmlessly."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent, Note
from tests.fixtures import AddSubmission
from tests.harness.forms import csrf_token

SPOOFED = "Sam \u202eelpmaxE"
SHOWN = "Sam [U+202E]elpmaxE"


def test_a_nul_in_the_sign_in_email_is_a_400_not_an_outage(client: FlaskClient) -> None:
    token = csrf_token(client.get("/clinic/sign-in"))
    data = {"email": "ana\x00@clinic.example", "password": "x" * 12, "csrf_token": token}
    response = client.post("/clinic/sign-in", data=data)
    assert response.status_code == 400
    assert "hidden control character" in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["actor", "action", "reference", "since"])
def test_a_nul_in_an_audit_filter_is_a_400(as_admin: FlaskClient, field: str) -> None:
    response = as_admin.get("/clinic/audit", query_string={field: "a\x00b"})
    assert response.status_code == 400


def test_a_nul_in_a_note_is_refused_and_nothing_is_stored(
    app: Flask, as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    reference = add_submission()
    page = as_reviewer.get(f"/clinic/submissions/{reference}")
    response = as_reviewer.post(
        f"/clinic/submissions/{reference}/notes",
        data={"text": "call back\x00", "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "add_note")
            )
            == 0
        )


def test_bidi_characters_are_shown_as_codes_on_the_page_in_csv_and_in_fhir(
    app: Flask, as_admin: FlaskClient, add_submission: AddSubmission
) -> None:
    reference = add_submission(answers={"full_name": SPOOFED, "date_of_birth": "1980-05-17"})
    page = as_admin.get(f"/clinic/submissions/{reference}").get_data(as_text=True)
    assert SHOWN in page and "\u202e" not in page
    with app.app_context():
        from questionnaire.records.models import Clinician

        db.session.execute(sa.update(Clinician).values(can_export=True))
        db.session.commit()
    exported = as_admin.get("/clinic/export/submissions.csv").get_data(as_text=True)
    assert SHOWN in exported and "\u202e" not in exported
    bundle = json.loads(as_admin.get(f"/clinic/submissions/{reference}/fhir").get_data())
    texts = list(strings(bundle))
    assert SHOWN in texts and not any("\u202e" in text for text in texts)


def strings(value: object) -> Iterator[str]:
    """Yield every string inside parsed JSON."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from strings(inner)
