"""Patient data never reaches logs, URLs, cookies or error pages, whatever path a request takes."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import OperationalError

from questionnaire.extensions import db
from questionnaire.intake import service as services
from questionnaire.questions.catalogue import PAGES
from tests.answers import with_changes
from tests.harness.app import Clock, make_app
from tests.harness.forms import csrf_token
from tests.harness.patient import Patient

SENTINEL = "Pxqzwv"
ANSWERS = with_changes(
    {
        "full_name": f"{SENTINEL} Name",
        "email": f"{SENTINEL.lower()}@example.com",
        "phone": "416 555 0199",
        "medications": f"{SENTINEL}ine 5 mg",
        "bp_reading": "152/94",
    }
)


def _fail_with_data(*args: object, **kwargs: object) -> None:
    raise OperationalError(f"INSERT {SENTINEL}", {"full_name": SENTINEL}, OSError(SENTINEL))


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError(f"unexpected failure while handling {SENTINEL}")


def test_no_path_leaks_patient_data(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    app: Flask = make_app(
        tmp_path,
        CLOCK=clock,
        RATELIMIT_ENABLED=True,
        RATELIMIT_SUBMIT="1 per hour",
        # Sends are limited per draft; the second patient meets the per-address ceiling.
        RATELIMIT_SUBMIT_ADDRESS="1 per hour",
        RATELIMIT_KEY_PREFIX=f"sentinel-{uuid.uuid4().hex}",  # fresh counts in a shared Redis
    )
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)  # real error handling
    with app.app_context():
        db.create_all()
    exposed: list[str] = []  # URLs, cookies and error-page bodies the browser saw

    def keep(response, error_page: bool = False) -> None:
        exposed.append(response.headers.get("Location", ""))
        exposed.extend(response.headers.getlist("Set-Cookie"))
        if error_page:
            exposed.append(response.get_data(as_text=True))

    with caplog.at_level(logging.DEBUG):
        # Success.
        patient = Patient(app.test_client())
        keep(patient.start())
        for section in PAGES:
            keep(patient.answer(section, ANSWERS))
        keep(patient.send())
        # A validation error (the page shows the patient's own values back: not an error page).
        other = Patient(app.test_client())
        other.start()
        keep(other.answer(PAGES[0], with_changes({**ANSWERS, "date_of_birth": "nope"})))
        # A CSRF error on a protected clinician form, with patient data in the body.
        keep(other.client.post("/clinic/sign-in", data={"email": SENTINEL}), error_page=True)
        # A rate limit on sending.
        for section in PAGES:
            other.answer(section, ANSWERS)
        keep(other.send(), error_page=True)
        # A 500 with patient data in the exception.
        monkeypatch.setattr(services, "issue_resume_link", _boom)
        keep(other.answer(PAGES[1], ANSWERS, action="later"), error_page=True)
        monkeypatch.undo()
        # A database outage whose error carries the statement and parameters.
        monkeypatch.setattr(services, "find_draft", _fail_with_data)
        keep(other.client.get("/questions/about_you"), error_page=True)
        monkeypatch.undo()
        # A token that does not match.
        token = csrf_token(other.client.get("/questions/about_you"))
        keep(
            other.client.post(
                "/start", data={"privacy_consent": "y", "csrf_token": token + "x", "website": ""}
            )
        )
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.exc_info or ''}"
        for record in caplog.records
    )
    assert "Unhandled RuntimeError" in logged and "Database unavailable" in logged
    everything = logged + "\n".join(exposed)
    for secret in (SENTINEL, SENTINEL.lower(), "416 555 0199", "152/94"):
        assert secret not in everything, secret
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("submissions"))) == 1
        )
