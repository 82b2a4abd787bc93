"""Drafts: saved page by page, resumed with a link and a date of birth, removed when expired;
and sending one draft from many requests at once stores one submission."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.intake import service as services
from questionnaire.questions.catalogue import PAGES
from questionnaire.records.models import Draft, Submission
from tests.answers import baseline
from tests.harness.app import Clock
from tests.harness.forms import visible_text
from tests.harness.patient import Patient

ABOUT_YOU, LOOKING_FOR = PAGES[0], PAGES[1]
RESUME_LINK = re.compile(r'href="(http://localhost/resume/[A-Za-z0-9_-]+)"')


def save_for_later(client: FlaskClient) -> str:
    """Answer the first page, then press "Save and come back later" on the second."""
    patient = Patient(client)
    patient.start()
    patient.answer(ABOUT_YOU, baseline())
    response = patient.answer(LOOKING_FOR, {"reasons": "anxiety"}, action="later")
    assert response.status_code == 303 and response.headers["Location"].endswith("/saved")
    page = client.get("/saved")
    match = RESUME_LINK.search(page.get_data(as_text=True))
    assert match, visible_text(page)
    assert "72 hours" in visible_text(page)
    return match.group(1).removeprefix("http://localhost")


def drafts(app: Flask) -> list[Draft]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Draft)))


def test_the_cookie_holds_a_token_never_an_answer(app: Flask, client: FlaskClient) -> None:
    patient = Patient(client)
    patient.start()
    patient.answer(ABOUT_YOU, baseline())
    with client.session_transaction() as browser_session:
        assert set(browser_session) <= {"draft", "csrf_token", "language"}
        token = browser_session["draft"]
    cookie = client.get_cookie("session")
    assert cookie is not None
    for secret in ("Sam", "sam@example.com", "1980-05-17"):
        assert secret not in cookie.value
    [draft] = drafts(app)
    assert draft.token_hash == services.digest(token) != token


def test_save_and_come_back_later_keeps_valid_answers_and_gives_a_link(
    app: Flask, client: FlaskClient
) -> None:
    link = save_for_later(client)
    [draft] = drafts(app)
    assert draft.answers["reasons"] == ["anxiety"]
    assert draft.resume_hash == services.digest(link.rsplit("/", 1)[1])
    assert client.get("/saved").status_code == 303  # the link is shown once


def test_the_button_appears_only_once_a_date_of_birth_is_saved(client: FlaskClient) -> None:
    Patient(client).start()
    assert "Save and come back later" not in visible_text(client.get("/questions/about_you"))
    Patient(client).answer(ABOUT_YOU, baseline())
    assert "Save and come back later" in visible_text(client.get("/questions/looking_for"))


def test_resuming_asks_for_the_date_of_birth_before_showing_any_answer(
    app: Flask, client: FlaskClient
) -> None:
    link = save_for_later(client)
    other = app.test_client()  # another device, another day
    page = other.get(link)
    assert page.status_code == 200
    text = visible_text(page)
    assert "Your date of birth" in text
    assert "Sam" not in text and "anxiety" not in text.lower()
    assert other.get("/questions/about_you").status_code == 303  # no draft on this device yet
    refused = Patient(other).post_form(link, {"date_of_birth": "1980-05-18"})
    assert refused.status_code == 400
    assert "does not match" in visible_text(refused)
    opened = Patient(other).post_form(link, {"date_of_birth": "1980-05-17"})
    assert opened.status_code == 303
    # The half-finished page they saved on, not the next one (issue 9).
    assert opened.headers["Location"].endswith("/questions/looking_for")
    assert 'value="Sam Example"' in other.get("/questions/about_you").get_data(as_text=True)
    # The old device's cookie no longer opens the draft, and the link works only once.
    assert client.get("/questions/about_you").status_code == 303
    assert other.get(link).status_code == 404


def test_a_resume_link_stops_working_after_several_wrong_dates(
    app: Flask, client: FlaskClient
) -> None:
    link = save_for_later(client)
    other = Patient(app.test_client())
    for _ in range(Draft.MAX_RESUME_FAILURES):
        other.post_form(link, {"date_of_birth": "2001-01-01"})
    response = other.client.get(link)
    assert response.status_code == 404
    assert "This link no longer works" in visible_text(response)


def test_a_resume_link_expires_after_72_hours(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    link = save_for_later(client)
    clock.advance(hours=71)
    assert app.test_client().get(link).status_code == 200
    clock.advance(hours=2)
    response = app.test_client().get(link)
    assert response.status_code == 404
    assert "This link no longer works" in visible_text(response)


def test_expired_drafts_are_removed(app: Flask, client: FlaskClient, clock: Clock) -> None:
    Patient(client).start()
    clock.advance(hours=73)
    assert client.get("/questions/about_you").status_code == 303  # expired: start again
    Patient(app.test_client()).start()  # any new draft sweeps the expired ones
    assert len(drafts(app)) == 1
    with app.app_context():
        clock.advance(hours=73)
        assert services.remove_expired_drafts(db.session, clock()) == 1
    assert drafts(app) == []


def test_each_continue_keeps_the_draft_alive(app: Flask, client: FlaskClient, clock: Clock) -> None:
    patient = Patient(client)
    patient.start()
    clock.advance(hours=70)
    patient.answer(ABOUT_YOU, baseline())
    clock.advance(hours=70)
    assert client.get("/questions/looking_for").status_code == 200
    [draft] = drafts(app)
    assert draft.expires_at == clock() - timedelta(hours=70) + timedelta(hours=72)


def test_unknown_resume_links_are_refused(client: FlaskClient) -> None:
    response = client.get("/resume/not-a-real-token")
    assert response.status_code == 404
    assert "Sam" not in visible_text(response)


@pytest.mark.postgres
def test_concurrent_sends_of_one_draft_store_one_submission(
    postgres_schema: str, tmp_path, clock: Clock
) -> None:
    """Eight requests send the same draft at the same moment: one row, one reference."""
    from tests.harness.app import make_app

    app = make_app(
        tmp_path,
        SQLALCHEMY_DATABASE_URI=postgres_schema,
        CLOCK=clock,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "pool_pre_ping": True},
    )
    with app.app_context():
        db.create_all()
    client = app.test_client()
    patient = Patient(client)
    patient.start()
    for section in PAGES:
        assert patient.answer(section, baseline()).status_code == 303
    with client.session_transaction() as browser_session:
        token = browser_session["draft"]
    with app.app_context():
        draft = db.session.scalar(sa.select(Draft))
        services.save_answers(
            db.session, draft, ["understands_review"], {"understands_review": "y"}, clock()
        )
    table = app.extensions["rule_table"]
    barrier = threading.Barrier(8)
    references: list[str] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                submission = services.submit(db.session, token, table, clock())
                references.append(submission.reference)
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(references) == 8 and len(set(references)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    "crafted", ["\uff11\uff19\uff18\uff10-05-17", "1980-05-17\x00", "ü" * 500, ""]
)
def test_a_crafted_date_on_the_resume_page_is_refused_without_a_500(
    app: Flask, client: FlaskClient, crafted: str
) -> None:
    link = save_for_later(client)
    response = Patient(app.test_client()).post_form(link, {"date_of_birth": crafted})
    assert response.status_code == 400
    assert "There is a problem" in visible_text(response)


def test_later_locks_this_browser_only_the_link_and_the_date_of_birth_reopen(
    app: Flask, client: FlaskClient
) -> None:
    with client.session_transaction() as before:
        assert "draft" not in before
    link = save_for_later(client)
    stolen = client.get_cookie("session")
    assert stolen is not None
    # This browser (and any copy of its cookie) opens nothing without the link.
    start = client.get("/")
    assert "Carry on" not in visible_text(start) and "1980" not in start.get_data(as_text=True)
    for section in PAGES[:3]:
        response = client.get(f"/questions/{section.id}")
        assert response.status_code == 303 and "expired" in response.headers["Location"]
    assert client.get("/check").status_code == 303
    other = app.test_client()
    other.set_cookie("session", stolen.value)
    assert other.get(f"/questions/{ABOUT_YOU.id}").status_code == 303
    # The link still opens the draft, after the date of birth.
    reopened = Patient(client).post_form(link, {"date_of_birth": "1980-05-17"})
    assert reopened.status_code == 303 and "/questions/" in reopened.headers["Location"]
    assert client.get(reopened.headers["Location"]).status_code == 200
