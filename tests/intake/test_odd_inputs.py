"""Odd inputs on the patient side: control characters, Unicode forms, crafted dates, consent."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.questions.catalogue import PAGES
from questionnaire.records.models import Draft
from tests.answers import baseline
from tests.harness.forms import csrf_token, visible_text
from tests.harness.patient import Patient

ABOUT_YOU = PAGES[0]
MEDICINES = next(section for section in PAGES if section.id == "medicines")


def stored(app: Flask) -> dict:
    with app.app_context():
        [draft] = db.session.scalars(sa.select(Draft))
        return dict(draft.answers)


@pytest.mark.parametrize("hidden", ["\x00", "\x1b[31m", "\x7f", "\x85", "\n", "\t"])
def test_a_control_character_in_a_name_is_a_field_error_that_keeps_the_other_answers(
    app: Flask, client: FlaskClient, hidden: str
) -> None:
    patient = Patient(client)
    patient.start()
    answers = {**baseline(), "full_name": f"Sam{hidden}Example"}
    response = patient.answer(ABOUT_YOU, answers)
    assert response.status_code == 400
    text = visible_text(response)
    assert "There is a problem" in text and "hidden character" in text
    assert 'value="sam@example.com"' in response.get_data(as_text=True)
    assert "full_name" not in stored(app)


def test_line_breaks_and_tabs_are_kept_in_a_multi_line_answer(
    app: Flask, client: FlaskClient
) -> None:
    patient = Patient(client)
    patient.start()
    answers = {**baseline(), "medications": "sertraline 50 mg\r\n\tvitamin D"}
    assert patient.answer(MEDICINES, answers).status_code == 303
    assert stored(app)["medications"] == "sertraline 50 mg\r\n\tvitamin D"


def test_an_escape_in_a_multi_line_answer_is_refused(app: Flask, client: FlaskClient) -> None:
    patient = Patient(client)
    patient.start()
    response = patient.answer(MEDICINES, {**baseline(), "medications": "sertraline\x00"})
    assert response.status_code == 400
    assert "hidden character" in visible_text(response)


def test_text_is_stored_in_nfc(app: Flask, client: FlaskClient) -> None:
    patient = Patient(client)
    patient.start()
    decomposed = "Rene\u0301e Ce\u0301line"
    assert patient.answer(ABOUT_YOU, {**baseline(), "full_name": decomposed}).status_code == 303
    assert stored(app)["full_name"] == "Ren\u00e9e C\u00e9line"


@pytest.mark.parametrize(
    "written", ["1985W133", "19850327", "1985-086", "\uff11\uff19\uff18\uff15-03-27", "85-03-27"]
)
def test_a_date_of_birth_must_be_written_year_month_day(
    app: Flask, client: FlaskClient, written: str
) -> None:
    patient = Patient(client)
    patient.start()
    response = patient.answer(ABOUT_YOU, {**baseline(), "date_of_birth": written})
    assert response.status_code == 400
    assert "1985-03-27" in visible_text(response)
    assert "date_of_birth" not in stored(app)


@pytest.mark.parametrize("value", ["n", "no", "false", "0", "on", "Y", "yes"])
def test_only_the_box_own_value_counts_as_consent(
    app: Flask, client: FlaskClient, value: str
) -> None:
    token = csrf_token(client.get("/"))
    response = client.post("/start", data={"privacy_consent": value, "csrf_token": token})
    assert response.status_code == 400
    assert "Select to confirm that you agree to the privacy notice" in visible_text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0


def test_a_control_character_in_a_query_or_another_form_is_a_plain_400(
    client: FlaskClient,
) -> None:
    response = client.get("/privacy", query_string={"x": "a\x00b"})
    assert response.status_code == 400
    assert "hidden control character" in visible_text(response)
    token = csrf_token(client.get("/"))
    response = client.post(
        "/start", data={"privacy_consent": "y", "website": "\x00", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "hidden control character" in visible_text(response)


def test_the_resume_date_is_checked_as_a_date_and_odd_forms_do_not_count(
    app: Flask, client: FlaskClient
) -> None:
    from tests.intake.test_drafts import save_for_later

    link = save_for_later(client)
    other = Patient(app.test_client())
    for written in ("19800517", "1980W201", "1980-05-17\x00"):
        assert other.post_form(link, {"date_of_birth": written}).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(Draft.resume_failures)) == 0
    assert other.post_form(link, {"date_of_birth": " 1980-05-17 "}).status_code == 303


def test_save_for_later_with_errors_and_no_date_of_birth_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    patient = Patient(client)
    patient.start()
    answers = {**baseline(), "date_of_birth": "", "email": "not an email"}
    response = patient.answer(ABOUT_YOU, answers, action="later")
    assert response.status_code == 400
    assert set(stored(app)) == {"privacy_consent"}


def test_an_unusual_weight_is_asked_again_on_its_page_and_may_be_confirmed(
    client: FlaskClient,
) -> None:
    """Issue 25: 900 kg is caught where it is typed; the patient may say it is right."""
    patient = Patient(client, confirms_weight=False)
    patient.start()
    heavy = dict(baseline(), weight_value="900", weight_unit="kg")
    asked = patient.answer(PAGES[0], heavy)
    assert asked.status_code == 400
    text = visible_text(asked)
    assert "Check your weight. It is outside the usual range." in text
    assert "This weight is right" in text
    # 154 lb is 70 kg: usual, no question.
    light = patient.answer(PAGES[0], dict(baseline(), weight_value="154", weight_unit="lb"))
    assert light.status_code == 303
    confirmed = patient.answer(PAGES[0], heavy, weight_is_right="y")
    assert confirmed.status_code == 303
    check = visible_text(client.get("/check"))
    assert "Your weight 900 kg" in check


def test_an_unusual_weight_is_kept_when_the_patient_saves_for_later(
    app: Flask, client: FlaskClient
) -> None:
    """The check asks on Continue; "Save and come back later" keeps what was typed."""
    patient = Patient(client, confirms_weight=False)
    patient.start()
    heavy = dict(baseline(), weight_value="900", weight_unit="kg")
    saved = patient.answer(PAGES[0], heavy, action="later")
    assert saved.status_code == 303 and saved.headers["Location"] == "/saved"
    with app.app_context():
        draft = db.session.scalars(sa.select(Draft)).one()
        assert draft.answers["weight_value"] == "900"  # a draft keeps the typed text


@pytest.mark.parametrize(
    "address",
    [
        "victim?bcc=someone@elsewhere.example",
        "a&cc=b@elsewhere.example",
        "sam%40x@example.com",
        "sam#x@example.com",
        "sam@example.com?bcc=x@y.example",
        "sam@localhost",
    ],
)
def test_an_email_that_would_change_a_mailto_link_is_a_field_error(
    app: Flask, client: FlaskClient, address: str
) -> None:
    patient = Patient(client)
    patient.start()
    response = patient.answer(ABOUT_YOU, {**baseline(), "email": address})
    assert response.status_code == 400
    assert "email" not in stored(app)
