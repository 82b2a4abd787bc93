"""Helpers of the sign-in tests: each step on its own, a clinic test page, signing out.

Clinicians themselves (made, and signed in through the real pages) are in
tests.harness.clinician; their fixtures are in tests/fixtures.py.
"""

from __future__ import annotations

from flask import Flask, render_template_string
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from questionnaire.extensions import db
from questionnaire.records.models import Clinician
from tests.harness.clinician import PASSWORD
from tests.harness.forms import csrf_token

FAILED = "The email, password or code is not right, or the account is locked for a while."


def load(app: Flask, clinician_id: int) -> Clinician:
    """Return the stored clinician, detached, with every column loaded."""
    with app.app_context():
        clinician = db.session.get(Clinician, clinician_id)
        assert clinician is not None
        db.session.expunge(clinician)
        return clinician


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
