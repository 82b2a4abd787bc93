"""Resume lands where the patient left off: the first page not continued past, or a page gone bad."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.questions.catalogue import PAGES
from questionnaire.records.models import Draft
from tests.answers import baseline, with_changes
from tests.harness.forms import csrf_token, visible_text
from tests.harness.patient import Patient
from tests.ops.test_alerts import Inbox, configure, inbox

__all__ = ["inbox"]  # the SMTP fixture, used by name below

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


def saved_page(client: FlaskClient, page: int = 1) -> str:
    """Continue the pages before `page`, save and leave on it; return the saved page's HTML."""
    patient = Patient(client)
    patient.start()
    for section in PAGES[:page]:
        assert patient.answer(section, baseline()).status_code == 303
    assert patient.answer(PAGES[page], {}, action="later").status_code == 303
    return client.get("/saved").get_data(as_text=True)


def test_the_saved_page_says_what_the_link_does_and_offers_to_email_it(
    app: Flask, client: FlaskClient, inbox: tuple[Inbox, int]
) -> None:
    """Issue 25: the link works once; the patient may have it emailed (link only, no answer)."""
    handler, port = inbox
    configure(app, port)
    html = saved_page(client)
    text = visible_text(html)
    assert "It works once." in text
    assert "We can email this link to sam@example.com" in text
    link = RESUME_LINK.search(html)
    assert link
    sent = client.post("/saved/email", data={"csrf_token": csrf_token(html)})
    assert sent.status_code == 200
    assert "Your link was emailed" in visible_text(sent)
    [(recipients, message)] = handler.messages
    assert recipients == ["sam@example.com"]
    body = message.get_payload(decode=True).decode()
    assert link.group(1) in body and "It works once" in body
    for answer in ("Sam Example", "Depression", "1980", "416 555"):
        assert answer not in body and answer not in message["Subject"]
    # Once: a second press sends nothing more.
    again = client.post("/saved/email", data={"csrf_token": csrf_token(html)})
    assert again.status_code == 303 and len(handler.messages) == 1


def test_a_french_draft_asks_for_the_date_of_birth_in_french_in_an_english_browser(
    app: Flask, client: FlaskClient
) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA"
    link = RESUME_LINK.search(saved_page(client))
    assert link
    english_browser = app.test_client()
    english_browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = english_browser.get(link.group(1)).get_data(as_text=True)
    assert '<html lang="fr-CA">' in page
    assert "date de naissance" in visible_text(page).lower()
    # A language chosen in that browser still wins.
    chosen = app.test_client()
    chosen.get("/language/en?next=/")
    assert '<html lang="en">' in chosen.get(link.group(1)).get_data(as_text=True)
