"""The code step takes exactly six ASCII digits (spaces removed); anything else is a counted failure."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent, LoginAttempt
from tests.auth.helpers import FAILED, submit_code, submit_password
from tests.harness.clinician import TestClinician, current_code

FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + n) for n in range(10)))
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + n) for n in range(10)))
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def failures(app: Flask) -> tuple[int, int]:
    """Return (failed attempts, failed-code audit events)."""
    with app.app_context():
        attempts = db.session.scalar(
            sa.select(sa.func.count()).where(LoginAttempt.succeeded.is_(False))
        )
        audited = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "sign_in_failed")
        )
        return int(attempts or 0), int(audited or 0)


@pytest.mark.parametrize("digits", [FULL_WIDTH, ARABIC_INDIC, SUPERSCRIPT])
def test_the_right_code_in_other_digits_is_a_counted_failure(
    app: Flask, client: FlaskClient, clinician: TestClinician, digits: dict[int, str]
) -> None:
    assert submit_password(client, clinician.email).status_code == 303
    typed = current_code(app, clinician.email).translate(digits)
    response = submit_code(client, typed)
    assert response.status_code == 400
    assert FAILED in response.get_data(as_text=True)
    assert failures(app) == (1, 1)


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12345a", "1" * 40, "123-456"])
def test_a_malformed_code_is_a_counted_failure(
    app: Flask, client: FlaskClient, clinician: TestClinician, typed: str
) -> None:
    assert submit_password(client, clinician.email).status_code == 303
    response = submit_code(client, typed)
    assert response.status_code == 400
    assert failures(app) == (1, 1)


def test_a_code_with_spaces_is_accepted(
    app: Flask, client: FlaskClient, clinician: TestClinician
) -> None:
    assert submit_password(client, clinician.email).status_code == 303
    code = current_code(app, clinician.email)
    response = submit_code(client, f" {code[:3]} {code[3:]} ")
    assert response.status_code == 303
    assert failures(app) == (0, 0)
