"""The date of birth as three inputs (day, month, year) on the question and resume pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.questions.catalogue import PAGES, DateProblem, parse_date_parts
from questionnaire.records.models import Draft
from tests.answers import baseline
from tests.harness.app import CASE_DAY
from tests.harness.forms import visible_text
from tests.harness.patient import Patient
from tests.intake.test_resume import leave_on

ABOUT_YOU = PAGES[0]
TODAY = CASE_DAY.date()
NEXT_YEAR = str(TODAY.year + 1)

#: (day, month, year typed), the message, the parts marked in error.
WRONG = [
    (("", "3", "1985"), "Date of birth must include a day", ("day",)),
    (("27", "", "1985"), "Date of birth must include a month", ("month",)),
    (("27", "3", ""), "Date of birth must include a year", ("year",)),
    (("", "", "1985"), "Date of birth must include a day and month", ("day", "month")),
    (("31", "2", "2000"), "Date of birth must be a real date", ("day",)),
    (("27", "13", "1985"), "Date of birth must be a real date", ("month",)),
    (("27", "3", NEXT_YEAR), "Date of birth must be in the past", ("day", "month", "year")),
    (("27", "3", "85"), "Year must include 4 numbers", ("year",)),
    (("1", "1", "1850"), "Date of birth must be the same as or after 1 January 1900", ("year",)),
]


def parts(day: str, month: str, year: str) -> dict[str, str]:
    return {"date_of_birth-day": day, "date_of_birth-month": month, "date_of_birth-year": year}


def draft_answers(app: Flask) -> dict:
    with app.app_context():
        draft = db.session.scalar(sa.select(Draft))
        return dict(draft.answers) if draft else {}


def marked(html: str) -> set[str]:
    return set(re.findall(r'input--error"\s+id="date_of_birth-(day|month|year)"', html))


def about_you_with(client: FlaskClient, typed: dict[str, str]):
    patient = Patient(client)
    patient.start()
    answers = {key: value for key, value in baseline().items() if key != "date_of_birth"}
    return patient.answer(ABOUT_YOU, answers, **typed)


def test_the_question_is_three_labelled_boxes_in_a_fieldset(client: FlaskClient) -> None:
    Patient(client).start()
    html = client.get("/questions/about_you").get_data(as_text=True)
    fieldset = re.search(r'<fieldset role="group"[^>]*>.*?</fieldset>', html, re.S)
    assert fieldset is not None
    group = fieldset.group(0)
    assert re.search(r'<legend class="question">Date of birth</legend>', group)
    assert '<p class="hint" id="date_of_birth-hint">For example, 27 3 2007</p>' in group
    assert 'aria-describedby="date_of_birth-hint"' in group
    for part, width in (("day", 2), ("month", 2), ("year", 4)):
        box = re.search(rf'<input[^>]*id="date_of_birth-{part}"[^>]*>', group)
        assert box is not None, part
        tag = box.group(0)
        assert f'name="date_of_birth-{part}"' in tag
        assert 'inputmode="numeric"' in tag and 'type="text"' in tag
        assert f'autocomplete="bday-{part}"' in tag
        assert f"input--width-{width}" in tag
        assert f'<label class="date-input__label" for="date_of_birth-{part}">' in group


@pytest.mark.parametrize(("typed", "message", "wrong"), WRONG)
def test_a_wrong_date_says_what_is_wrong_and_marks_only_that_part(
    app: Flask, client: FlaskClient, typed: tuple[str, str, str], message: str, wrong: tuple
) -> None:
    response = about_you_with(client, parts(*typed))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in visible_text(response)
    assert f'<a href="#date_of_birth-{wrong[0]}">{message}</a>' in html
    assert marked(html) == set(wrong)
    for part, value in zip(("day", "month", "year"), typed, strict=True):
        assert re.search(rf'id="date_of_birth-{part}"[^>]*value="{value}"', html), part
    assert "date_of_birth" not in draft_answers(app)


def test_nothing_typed_asks_for_the_date(client: FlaskClient) -> None:
    response = about_you_with(client, parts("", "", ""))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<a href="#date_of_birth-day">Enter your date of birth</a>' in html
    assert marked(html) == {"day", "month", "year"}


@pytest.mark.parametrize(
    "typed",
    [("7", "3", "1985"), (" 07 ", "03", " 1985 "), ("7", "March", "1985"), ("7", "mar", "1985")],
)
def test_a_real_date_is_stored_as_year_month_day(
    app: Flask, client: FlaskClient, typed: tuple[str, str, str]
) -> None:
    assert about_you_with(client, parts(*typed)).status_code == 303
    assert draft_answers(app)["date_of_birth"] == "1985-03-07"
    html = client.get("/questions/about_you").get_data(as_text=True)
    assert re.search(r'id="date_of_birth-month"[^>]*value="3"', html)


def test_below_the_minimum_age_the_three_boxes_stop_the_form(
    app: Flask, client: FlaskClient
) -> None:
    young = date(TODAY.year - 13, TODAY.month, TODAY.day)
    response = about_you_with(client, parts(str(young.day), str(young.month), str(young.year)))
    assert response.status_code == 200
    assert "parent or guardian" in visible_text(response)
    assert draft_answers(app) == {}


def test_the_parser_refuses_digits_that_are_not_ascii() -> None:
    with pytest.raises(DateProblem) as problem:
        parse_date_parts("٢٧", "3", "1985", TODAY)
    assert problem.value.parts == ("day",)
    assert parse_date_parts("27", "Sept", "1985", TODAY) == date(1985, 9, 27)


def resume_link(client: FlaskClient) -> str:
    return leave_on(client, 1, baseline())


@pytest.mark.parametrize(("typed", "message", "wrong"), WRONG)
def test_the_resume_page_gives_the_same_messages_without_counting_a_guess(
    app: Flask, client: FlaskClient, typed: tuple[str, str, str], message: str, wrong: tuple
) -> None:
    link = resume_link(client)
    other = Patient(app.test_client())
    response = other.post_form(link, parts(*typed))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'<a href="#date_of_birth-{wrong[0]}">{message}</a>' in html
    assert marked(html) == set(wrong)
    with app.app_context():
        assert db.session.scalar(sa.select(Draft.resume_failures)) == 0


def test_the_resume_page_opens_with_the_right_date_in_three_boxes(
    app: Flask, client: FlaskClient
) -> None:
    link = resume_link(client)
    other = Patient(app.test_client())
    html = other.get(link).get_data(as_text=True)
    assert 'autocomplete="bday-year"' in html and "For example, 27 3 2007" in html
    refused = other.post_form(link, parts("18", "5", "1980"))
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert '<a href="#date_of_birth-day">That date of birth does not match.' in text
    assert re.search(r'id="date_of_birth-day"[^>]*value="18"', text)
    with app.app_context():
        assert db.session.scalar(sa.select(Draft.resume_failures)) == 1
    opened = other.post_form(link, parts("17", "May", "1980"))
    assert opened.status_code == 303
