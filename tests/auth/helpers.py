"""Helpers for tests that need clinicians: create one, sign in, sign out.

Reusable from any test package: ``from tests.auth.helpers import make_clinician, sign_in``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pyotp
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from questionnaire.auth import passwords, totp
from questionnaire.extensions import db
from questionnaire.records.models import Clinician
from tests.harness.forms import csrf_token

PASSWORD = "correct horse battery staple"
FAILED = "The email, password or code is not right, or the account is locked for a while."


@dataclass(frozen=True)
class TestClinician:
    """What a test knows about a clinician it made (a plain value, usable outside the app)."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    id: int
    email: str
    name: str
    password: str
    is_admin: bool


@cache
def _hash(password: str) -> str:
    # argon2 is slow by design; one hash per password per test run is enough.
    return passwords.hasher.hash(password)


def make_clinician(
    app: Flask,
    email: str = "ana@clinic.example",
    name: str = "Ana Okafor",
    *,
    password: str = PASSWORD,
    is_admin: bool = False,
    is_active: bool = True,
) -> TestClinician:
    """Store a clinician with an argon2id hash and a new TOTP secret; return its facts."""
    with app.app_context():
        clinician = Clinician(
            email=email.lower(),
            name=name,
            password_hash=_hash(password),
            totp_secret=totp.new_secret(),
            is_admin=is_admin,
            is_active=is_active,
        )
        db.session.add(clinician)
        db.session.commit()
        return TestClinician(clinician.id, clinician.email, name, password, is_admin)


def load(app: Flask, clinician_id: int) -> Clinician:
    """Return the stored clinician, detached, with every column loaded."""
    with app.app_context():
        clinician = db.session.get(Clinician, clinician_id)
        assert clinician is not None
        db.session.expunge(clinician)
        return clinician


def current_code(app: Flask, email: str, steps_ahead: int = 0) -> str:
    """Return the TOTP code for the stored secret at the app clock's time (a real pyotp code)."""
    with app.app_context():
        stored_email = email.strip().lower()
        secret = db.session.scalar(db.select(Clinician.totp_secret).filter_by(email=stored_email))
        now = app.config["CLOCK"]()
    generator = pyotp.TOTP(secret)
    return generator.generate_otp(generator.timecode(now) + steps_ahead)


def submit_password(
    client: FlaskClient, email: str, password: str = PASSWORD, next_url: str | None = None
) -> TestResponse:
    """Send the email and password step; return the response (303 to the code page if right)."""
    url = "/clinic/sign-in"
    query = {"next": next_url} if next_url is not None else {}
    token = csrf_token(client.get(url, query_string=query))
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post(url, query_string=query, data=data)


def submit_code(client: FlaskClient, code: str) -> TestResponse:
    """Send the code step; return the response (303 to the destination if right)."""
    token = csrf_token(client.get("/clinic/sign-in/code"))
    return client.post("/clinic/sign-in/code", data={"code": code, "csrf_token": token})


def sign_in(
    client: FlaskClient,
    app: Flask,
    clinician: TestClinician | str,
    *,
    next_url: str | None = None,
) -> TestResponse:
    """Sign in with the password and a code computed from the stored secret; assert it worked.

    A code is accepted once: to sign the same clinician in again, move the
    clock on by 30 seconds first (clock.advance(seconds=30)).
    """
    email = clinician if isinstance(clinician, str) else clinician.email
    password = PASSWORD if isinstance(clinician, str) else clinician.password
    step_one = submit_password(client, email, password, next_url)
    assert step_one.status_code == 303, step_one.get_data(as_text=True)
    response = submit_code(client, current_code(app, email))
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def signed_in_client(app: Flask, clinician: TestClinician) -> FlaskClient:
    """Return a new test client (another browser) signed in as the clinician."""
    client = app.test_client()
    sign_in(client, app, clinician)
    return client


#: A clinic page made for tests: it shows a reference and includes auth/_account.html.
TEST_PAGE = "/clinic/test-page/ABCD2345"
_TEST_PAGE_TEMPLATE = """{% extends "clinic_base.html" %}
{% block title %}Test page{% endblock %}
{% block header_actions %}{% include "auth/_account.html" %}{% endblock %}
{% block content %}<h1>Submission {{ reference }}</h1>{% endblock %}"""


def add_test_page(app: Flask) -> None:
    """Register a clinic page (GET /clinic/test-page/REF, POST .../notes) before any request."""

    def test_page(reference: str) -> str:
        return render_template_string(_TEST_PAGE_TEMPLATE, reference=reference)

    def test_page_note(reference: str) -> str:
        return "note stored"

    app.add_url_rule("/clinic/test-page/<reference>", "test_page", test_page)
    app.add_url_rule(
        "/clinic/test-page/<reference>/notes", "test_page_note", test_page_note, methods=["POST"]
    )


def sign_out(client: FlaskClient, page: str = TEST_PAGE) -> TestResponse:
    """Press "Sign out" in the header of a clinic page (a POST with that page's CSRF token)."""
    token = csrf_token(client.get(page))
    return client.post("/clinic/sign-out", data={"csrf_token": token})
