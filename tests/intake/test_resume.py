"""Resume lands where the patient left off: the first page not continued past, or a page gone bad."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.models import Draft
from questionnaire.questions.catalogue import PAGES
from tests.answers import baseline, with_changes
from tests.harness.patient import Patient

RESUME_LINK = re.compile(r'href="http://localhost(/resume/[A-Za-z0-9_-]+)"')


def leave_on(client: FlaskClient, page: int, answers: dict[str, object]) -> str:
    """Continue every page before `page`, then save and leave on it; return the link."""
    patient = Patient(client)
    patient.start()
    for section in PAGES[:page]:
        assert patient.answer(section, answers).status_code == 303
    half = {key: value for key, value in answers.items() if key in {"reasons", "treatments"}}
    assert patient.answer(PAGES[page], half, action="later").status_code == 303
    match = RESUME_LINK.search(client.get("/saved").get_data(as_text=True))
    assert match
    return match.group(1)


def resume(app: Flask, link: str) -> str:
    other = Patient(app.test_client())
    opened = other.post_form(link, {"date_of_birth": "1980-05-17"})
    assert opened.status_code == 303
    return str(opened.headers["Location"])


def test_resume_opens_the_half_finished_page(app: Flask, client: FlaskClient) -> None:
    # about_you skips its optional questions (phone, weight): that does not hold them back.
    answers = with_changes({"phone": None, "weight_value": None, "weight_unit": None})
    link = leave_on(client, 1, answers)  # "What you are looking for", half answered
    assert resume(app, link).endswith(f"/questions/{PAGES[1].id}")


def test_resume_opens_a_later_half_finished_page_past_complete_ones(
    app: Flask, client: FlaskClient
) -> None:
    link = leave_on(client, 4, baseline())
    assert resume(app, link).endswith(f"/questions/{PAGES[4].id}")


def test_resume_opens_an_earlier_page_whose_saved_answers_are_no_longer_valid(
    app: Flask, client: FlaskClient
) -> None:
    link = leave_on(client, 4, baseline())
    with app.app_context():
        draft = db.session.scalar(sa.select(Draft))
        assert draft is not None and draft.pages_done == 4
        # As if the questionnaire changed: a required answer on page 2 is now missing.
        draft.answers = {k: v for k, v in draft.answers.items() if k != "antidepressants_tried"}
        db.session.commit()
    assert resume(app, link).endswith(f"/questions/{PAGES[1].id}")


def test_resume_after_every_page_opens_the_check_page(app: Flask, client: FlaskClient) -> None:
    patient = Patient(client)
    patient.start()
    for section in PAGES:
        assert patient.answer(section, baseline()).status_code == 303
    assert patient.answer(PAGES[-1], baseline(), action="later").status_code == 303
    match = RESUME_LINK.search(client.get("/saved").get_data(as_text=True))
    assert match
    assert resume(app, match.group(1)).endswith("/check")


def test_the_start_page_carries_on_where_the_patient_stopped(client: FlaskClient) -> None:
    patient = Patient(client)
    patient.start()
    for section in PAGES[:2]:
        assert patient.answer(section, baseline()).status_code == 303
    html = client.get("/").get_data(as_text=True)
    assert f'href="/questions/{PAGES[2].id}">Continue your answers' in html
