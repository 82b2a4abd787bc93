"""MIN_AGE_ONLINE: below it the form stops at the date of birth and keeps nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.questions.catalogue import PAGES
from questionnaire.records.models import Draft
from tests.answers import baseline
from tests.harness.app import CASE_DAY, Clock, make_app
from tests.harness.forms import visible_text
from tests.harness.patient import Patient

ABOUT_YOU = PAGES[0]
TODAY = CASE_DAY.date()


def born_years_ago(years: int, days_more: int = 0) -> str:
    birthday = date(TODAY.year - years, TODAY.month, TODAY.day)
    return date.fromordinal(birthday.toordinal() - days_more).isoformat()


def drafts(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) or 0)


@pytest.mark.parametrize("action", [None, "later"])
def test_a_child_below_the_minimum_age_stops_at_the_date_of_birth(
    app: Flask, client: FlaskClient, action: str | None
) -> None:
    patient = Patient(client)
    patient.start()
    extra = {"action": action} if action else {}
    # One day short of 14.
    answers = {**baseline(), "date_of_birth": born_years_ago(14, days_more=-1)}
    response = patient.answer(ABOUT_YOU, answers, **extra)
    assert response.status_code == 200
    text = visible_text(response)
    assert "parent or guardian" in text and "9\u20118\u20118" in text and "416 555 0100" in text
    assert "Sam" not in text
    assert drafts(app) == 0
    assert client.get(f"/questions/{PAGES[1].id}").status_code == 303  # nothing more is asked


def test_from_the_minimum_age_the_form_goes_on(app: Flask, client: FlaskClient) -> None:
    patient = Patient(client)
    patient.start()
    answers = {**baseline(), "date_of_birth": born_years_ago(14)}
    assert patient.answer(ABOUT_YOU, answers).status_code == 303
    assert drafts(app) == 1


def test_the_minimum_age_is_a_setting(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, MIN_AGE_ONLINE=16, CLOCK=clock)
    with app.app_context():
        db.create_all()
    patient = Patient(app.test_client())
    patient.start()
    response = patient.answer(ABOUT_YOU, {**baseline(), "date_of_birth": born_years_ago(15)})
    assert response.status_code == 200 and "16 and older" in visible_text(response)
    assert drafts(app) == 0
