"""Anti-automation: rate limits per address (Redis in CI), the honeypot, nothing stored."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from questionnaire.extensions import db, limiter
from questionnaire.records.models import Draft, Submission
from tests.answers import baseline
from tests.harness.app import Clock, make_app
from tests.harness.forms import csrf_token, visible_text
from tests.harness.patient import Patient


def limited_app(tmp_path: Path, clock: Clock, **limits: str) -> Flask:
    """An app with rate limits on, in Redis when RATELIMIT_STORAGE_URI says so (CI)."""
    app = make_app(
        tmp_path,
        CLOCK=clock,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",  # no test sees another's counts
        **limits,
    )
    with app.app_context():
        db.create_all()
    return app


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_starting_is_limited_per_address_and_the_429_page_says_answers_are_kept(
    tmp_path: Path, clock: Clock
) -> None:
    app = limited_app(tmp_path, clock, RATELIMIT_START="3 per hour")
    client = app.test_client()
    for _ in range(3):
        assert Patient(client).start().status_code == 303
    refused = Patient(client).start()
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Your answers are saved" in visible_text(refused)
    assert count(app, Draft) == 3
    # Another address is not affected.
    other = app.test_client()
    token = csrf_token(other.get("/", environ_base={"REMOTE_ADDR": "192.0.2.44"}))
    response = other.post(
        "/start",
        data={"privacy_consent": "y", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )
    assert response.status_code == 303


def test_sending_is_limited_and_the_draft_survives_the_429(tmp_path: Path, clock: Clock) -> None:
    # The per-address ceiling (against floods) is what two patients on one address meet.
    app = limited_app(tmp_path, clock, RATELIMIT_SUBMIT_ADDRESS="1 per hour")
    first, second = Patient(app.test_client()), Patient(app.test_client())
    assert first.complete(baseline()).status_code == 303
    second.start()
    second.answer_all(baseline())
    refused = second.send()
    assert refused.status_code == 429
    assert count(app, Submission) == 1 and count(app, Draft) == 1  # the answers wait
    clock.advance(hours=1, minutes=1)
    if os.environ.get("RATELIMIT_STORAGE_URI", "memory://").startswith("memory"):
        # The memory store follows the real clock, not the test's: start a fresh window.
        limiter.reset()
        assert second.send().status_code == 303
        assert count(app, Submission) == 2


def test_patients_on_one_connection_each_send_and_only_real_sends_count(
    tmp_path: Path, clock: Clock
) -> None:
    """Issue 25: the 11th send from a clinic's Wi-Fi or a family was refused, and failed
    attempts counted. The send limit is per draft; the address ceiling counts real sends."""
    app = limited_app(
        tmp_path, clock, RATELIMIT_SUBMIT="1 per hour", RATELIMIT_SUBMIT_ADDRESS="3 per hour"
    )
    patients = [Patient(app.test_client()) for _ in range(3)]
    for patient in patients:
        patient.start()
        patient.answer_all(baseline())
        # Sent without the last tick: refused (400), and not counted.
        for _ in range(2):
            token = csrf_token(patient.client.get("/check"))
            assert patient.client.post("/check", data={"csrf_token": token}).status_code == 400
        assert patient.send().status_code == 303
    assert count(app, Submission) == 3  # one address, three drafts, six failed attempts
    fourth = Patient(app.test_client())
    fourth.start()
    fourth.answer_all(baseline())
    assert fourth.send().status_code == 429  # the ceiling: three real sends an hour here
    assert count(app, Draft) == 1


def test_sign_in_is_limited_per_address(tmp_path: Path, clock: Clock) -> None:
    app = limited_app(tmp_path, clock, RATELIMIT_SIGN_IN="2 per 15 minutes")
    client = app.test_client()
    statuses = []
    for _ in range(3):
        token = csrf_token(client.get("/clinic/sign-in"))
        response = client.post(
            "/clinic/sign-in",
            data={"email": "nobody@clinic.example", "password": "x" * 12, "csrf_token": token},
        )
        statuses.append(response.status_code)
    assert statuses[-1] == 429 and 429 not in statuses[:2]


def test_a_filled_honeypot_stores_nothing_and_gets_a_plain_answer(
    tmp_path: Path, clock: Clock
) -> None:
    app = limited_app(tmp_path, clock)
    client = app.test_client()
    token = csrf_token(client.get("/"))
    response = client.post(
        "/start",
        data={"privacy_consent": "y", "website": "http://spam.example", "csrf_token": token},
    )
    assert response.status_code == 200
    assert "Thank you" in visible_text(response)
    assert count(app, Draft) == 0


def test_an_autofilled_honeypot_never_discards_a_draft_based_send(
    tmp_path: Path, clock: Clock
) -> None:
    # A person walked every page to a draft: a filled hidden field is autofill, not a bot.
    app = limited_app(tmp_path, clock)
    patient = Patient(app.test_client())
    patient.start()
    patient.answer_all(baseline())
    sent = patient.post_form("/check", {"understands_review": "y", "website": "Sam Example"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/done")
    assert count(app, Submission) == 1 and count(app, Draft) == 0


def test_the_honeypot_is_hidden_from_people(tmp_path: Path, clock: Clock) -> None:
    html = limited_app(tmp_path, clock).test_client().get("/").get_data(as_text=True)
    assert 'class="hp" aria-hidden="true"' in html and 'tabindex="-1"' in html


@pytest.mark.parametrize("field", ["medications", "full_name"])
def test_text_over_its_limit_is_a_field_message_not_a_500(
    tmp_path: Path, clock: Clock, field: str
) -> None:
    app = limited_app(tmp_path, clock)
    patient = Patient(app.test_client())
    patient.start()
    section = "medicines" if field == "medications" else "about_you"
    response = patient.post_form(f"/questions/{section}", {field: "x" * 5000})
    assert response.status_code == 400
    assert "characters or fewer" in visible_text(response)
