"""Nothing lost: an expired form token, a database outage; and retention by purge."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy.exc import OperationalError

from questionnaire.extensions import db
from questionnaire.intake import service as services
from questionnaire.questions.catalogue import PAGES
from questionnaire.records.models import AuditEvent, Draft, Flag, Submission
from tests.answers import baseline, with_changes
from tests.harness.app import Clock, make_app
from tests.harness.forms import csrf_token, visible_text
from tests.harness.patient import Patient, page_answers


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_a_token_that_expired_mid_form_keeps_every_answer_and_sending_again_works(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CSRF tokens are timed by the test's Clock, moved by hand: no sleep, so a busy
    # machine cannot expire a fresh token between its page and its post.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda signer: int(clock().timestamp()))
    app = make_app(tmp_path, CLOCK=clock, WTF_CSRF_TIME_LIMIT=1)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    patient = Patient(client)
    patient.start()
    for section in PAGES[:-1]:
        patient.answer(section, baseline())
    last = PAGES[-1]
    stale = csrf_token(client.get(f"/questions/{last.id}"))
    clock.advance(seconds=2)  # the patient stepped away; the token's one second passes
    posted = page_answers(last, with_changes({"travel_home": "public_transit"}))
    response = client.post(f"/questions/{last.id}", data={**posted, "csrf_token": stale})
    assert response.status_code == 400
    assert "This page timed out" in visible_text(response)
    html = response.get_data(as_text=True)
    # Every answer is still on the page.
    assert re.search(r'value="public_transit"\s+checked', html)
    fresh = csrf_token(response)
    assert fresh != stale
    assert (
        client.post(f"/questions/{last.id}", data={**posted, "csrf_token": fresh}).status_code
        == 303
    )
    # The send step times out too, then works, and stores one submission.
    stale = csrf_token(client.get("/check"))
    clock.advance(seconds=2)
    timed_out = client.post("/check", data={"understands_review": "y", "csrf_token": stale})
    assert timed_out.status_code == 400 and "This page timed out" in visible_text(timed_out)
    again = client.post(
        "/check", data={"understands_review": "y", "csrf_token": csrf_token(timed_out)}
    )
    assert again.status_code == 303
    assert count(app, Submission) == 1


def _fail(*args: object, **kwargs: object) -> None:
    raise OperationalError(
        "UPDATE drafts SET answers=%(answers)s", {"answers": "secret"}, OSError()
    )


def test_a_database_outage_gives_a_503_page_that_holds_the_answers(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = Patient(client)
    patient.start()
    section = PAGES[0]
    answers = with_changes({"full_name": "Quentin Outage", "weight_value": "81"})
    monkeypatch.setattr(services, "save_answers", _fail)
    response = patient.answer(section, answers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    html = response.get_data(as_text=True)
    assert "We could not save this page just now" in html
    assert 'value="Quentin Outage"' in html and 'value="81"' in html
    assert "Traceback" not in html and "UPDATE drafts" not in html
    monkeypatch.undo()  # the database is back: the same page sends
    assert patient.answer(section, answers).status_code == 303


def test_a_database_outage_elsewhere_is_a_plain_503(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "find_draft", _fail)
    response = client.get("/")
    assert response.status_code == 503
    assert "Your answers so far are saved" in visible_text(response)


def test_purge_deletes_old_submissions_and_keeps_the_audit_trail(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    Patient(client).complete(with_changes({"medications": "Ativan"}))
    with app.app_context():
        old_reference = db.session.scalar(sa.select(Submission.reference))
        db.session.add(AuditEvent(action="view_submission", reference=old_reference, detail={}))
        db.session.commit()
    clock.advance(days=400)
    Patient(app.test_client()).complete(baseline())
    Patient(app.test_client()).start()  # a draft that will expire
    clock.advance(days=4)
    result = app.test_cli_runner().invoke(args=["purge", "--older-than", "365"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 submissions older than 365 days" in result.output
    assert "1 expired drafts" in result.output
    assert count(app, Submission) == 1 and count(app, Draft) == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) == 0
        kept = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.reference == old_reference))
        assert kept is not None  # the trail outlives the submission, without its answers
        purge = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "purge"))
        assert purge is not None and purge.detail["submissions"] == 1


def test_purge_defaults_to_the_configured_retention(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    app.config["RETENTION_DAYS"] = 30
    Patient(client).complete(baseline())
    clock.advance(days=31)
    result = app.test_cli_runner().invoke(args=["purge"])
    assert "Deleted 1 submissions older than 30 days" in result.output
