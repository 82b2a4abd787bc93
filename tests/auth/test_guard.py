"""Deny by default: every /clinic rule refuses an anonymous visitor; admin pages need an admin."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.routing.converters import IntegerConverter, PathConverter, UUIDConverter

from questionnaire.auth import admin_required, current_clinician
from questionnaire.auth.guard import PUBLIC_ENDPOINTS, safe_next, start_session
from questionnaire.extensions import db
from questionnaire.records.models import Clinician
from tests.auth.helpers import TEST_PAGE, add_test_page
from tests.harness.clinician import TestClinician, make_clinician, sign_in

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def dummy_values(rule: Rule) -> dict[str, Any]:
    """Return a value for each URL variable that its converter accepts."""
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, UUIDConverter):
            values[name] = uuid.UUID(int=1)
        elif isinstance(converter, PathConverter):
            values[name] = "a/b"
        else:
            values[name] = "ABCD2345"
    return values


def clinic_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/clinic")]


def test_every_clinic_rule_refuses_an_anonymous_visitor(app: Flask, client: FlaskClient) -> None:
    add_test_page(app)
    # Replace every protected view with one that records a call: none may run.
    called: list[str] = []

    def make_spy(endpoint: str) -> Callable[..., str]:
        def spy(**_: Any) -> str:
            called.append(endpoint)
            return "processed"

        return spy

    rules = clinic_rules(app)
    protected = [rule for rule in rules if rule.endpoint not in PUBLIC_ENDPOINTS]
    assert {"review.queue", "auth.sign_out", "test_page"} <= {r.endpoint for r in protected}
    for rule in protected:
        app.view_functions[rule.endpoint] = make_spy(rule.endpoint)

    problems = []
    for rule in protected:
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **dummy_values(rule))
        for method in sorted(set(METHODS) | (rule.methods or set())):
            response = client.open(url, method=method)
            location = urlsplit(response.location or "")
            redirected = response.status_code in (302, 303) and location.path == "/clinic/sign-in"
            if not (redirected or response.status_code in (404, 405)):
                problems.append(f"{method} {url} ({rule.endpoint}) -> {response.status_code}")
            if redirected and method in {"GET", "HEAD"}:
                assert parse_qs(location.query)["next"] == [url]
    assert problems == []
    assert called == []
    with client.session_transaction() as browser:
        assert "_user_id" not in browser


def test_only_the_sign_in_enrolment_and_language_pages_are_public(app: Flask) -> None:
    public = {rule.endpoint for rule in clinic_rules(app) if rule.endpoint in PUBLIC_ENDPOINTS}
    # The enrolment pages open nothing without a valid one-time link (tests/auth/test_accounts.py);
    # the switch stores a language and redirects: it shows nothing and changes no record.
    assert public == {
        "auth.sign_in",
        "auth.sign_in_code",
        "auth.switch_language",
        "accounts.enrol_link",
        "accounts.enrol",
        "accounts.enrol_code",
    }


def test_an_unknown_clinic_path_is_not_a_way_in(client: FlaskClient) -> None:
    for path in ("/clinic/no-such-page", "/clinic", "/clinicians", "/clinic//evil"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert urlsplit(response.location).path == "/clinic/sign-in"


def test_patient_pages_stay_open(client: FlaskClient) -> None:
    assert client.get("/").status_code == 200


def test_admin_required_gives_a_non_admin_403_and_an_admin_the_page(app: Flask) -> None:
    @admin_required
    def admin_only() -> str:
        return "admin page"

    app.add_url_rule("/clinic/test-admin-only", "test_admin_only", admin_only)
    staff = make_clinician(app)
    lead = make_clinician(app, "lead@clinic.example", "Lead", is_admin=True)

    anonymous = app.test_client()
    response = anonymous.get("/clinic/test-admin-only")
    assert response.status_code == 302 and "admin page" not in response.get_data(as_text=True)

    clinician = app.test_client()
    sign_in(clinician, app, staff)
    response = clinician.get("/clinic/test-admin-only")
    assert response.status_code == 403
    assert "admin page" not in response.get_data(as_text=True)

    admin = app.test_client()
    sign_in(admin, app, lead)
    response = admin.get("/clinic/test-admin-only")
    assert response.status_code == 200 and response.get_data(as_text=True) == "admin page"


def test_admin_required_outside_the_clinic_area_still_asks_to_sign_in(app: Flask) -> None:
    @admin_required
    def admin_report() -> str:
        return "admin report"

    app.add_url_rule("/reports/admin", "test_admin_report", admin_report)
    response = app.test_client().get("/reports/admin")
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/clinic/sign-in"


def test_current_clinician_is_the_signed_in_one_or_none(
    app: Flask, client: FlaskClient, clinician: TestClinician
) -> None:
    seen: list[Any] = []

    @app.get("/whoami")
    def whoami() -> str:
        found = current_clinician()
        seen.append(found.id if found else None)
        return "ok"

    sign_in(client, app, clinician)
    client.get("/whoami")
    app.test_client().get("/whoami")
    assert seen == [clinician.id, None]


HOSTILE = [
    "//evil.example",
    "/\\evil.example",
    "https://evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "/clinic/\r\nLocation: https://evil.example",
    "/\t/evil.example",
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_safe_next_refuses_anything_but_a_local_path(value: str) -> None:
    assert safe_next(value) is None


@pytest.mark.parametrize(
    "value", ["/clinic/submissions/ABCD2345", "/clinic/?level=urgent&page=2", "/clinic/"]
)
def test_safe_next_keeps_a_local_path(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize("value", [v for v in HOSTILE if v and v.isprintable()])
def test_a_hostile_next_leads_to_the_queue_after_sign_in(
    app: Flask, client: FlaskClient, clinician: TestClinician, value: str
) -> None:
    response = sign_in(client, app, clinician, next_url=value)
    assert response.location == "/clinic/"


@pytest.mark.parametrize("value", [v for v in HOSTILE if not v.isprintable()])
def test_a_next_with_control_characters_is_refused_before_sign_in(
    client: FlaskClient, value: str
) -> None:
    # Every query parameter passes the input filter (security.py).
    assert client.get("/clinic/sign-in", query_string={"next": value}).status_code == 400


def test_a_local_next_is_followed_after_sign_in(
    app: Flask, client: FlaskClient, clinician: TestClinician
) -> None:
    response = sign_in(client, app, clinician, next_url="/clinic/submissions/ABCD2345")
    assert response.location == "/clinic/submissions/ABCD2345"


def test_the_test_page_helper_needs_a_sign_in(app: Flask, client: FlaskClient) -> None:
    add_test_page(app)
    assert client.get(TEST_PAGE).status_code == 302


def test_a_session_begun_in_this_request_holds_for_the_rest_of_it(
    app: Flask, clinician: TestClinician
) -> None:
    # start_session sets the clinician without load_clinician, which is where the guard
    # learns whether a session id was signed out: the new id must count as not signed out.
    with app.test_request_context("/clinic/"):
        stored = db.session.get(Clinician, clinician.id)
        assert stored is not None
        start_session(stored)
        assert current_clinician() is stored
