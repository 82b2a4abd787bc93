"""Sending costs a fixed few statements: one draft read, two inserts, one delete."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from questionnaire.extensions import db
from questionnaire.records.models import Flag, Submission
from tests.answers import with_changes
from tests.exports import BLOOD_PRESSURE
from tests.harness.patient import Patient
from tests.harness.statements import counting

#: Raises several flags (blood pressure, substances, few treatments tried).
FLAGGED = BLOOD_PRESSURE


def send_counted(app: Flask, answers: dict) -> tuple[int, list[str]]:
    patient = Patient(app.test_client())
    patient.walk_to_check(answers)
    form = patient.send_form()
    with app.app_context(), counting(db.engine) as seen:
        response = patient.send(form)
    return response.status_code, seen


def test_a_flagged_send_reads_the_draft_once_and_inserts_its_flags_in_one_statement(
    app: Flask,
) -> None:
    status, seen = send_counted(app, FLAGGED)
    assert status == 303
    # The draft (locked), the submission, every flag at once, the name's blind-index tokens
    # at once (issue 25), the draft's delete; no second draft read and no reload after.
    assert seen == ["SELECT", "INSERT", "INSERT", "INSERT", "DELETE"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) >= 2


def test_an_unflagged_send_needs_no_flag_insert(app: Flask) -> None:
    status, seen = send_counted(app, with_changes({}))
    assert status == 303
    assert seen == ["SELECT", "INSERT", "INSERT", "DELETE"]  # the name's tokens: one statement
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 1
