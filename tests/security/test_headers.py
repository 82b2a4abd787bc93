"""Headers on every response (error pages too), methods, cookies, proxies and body size."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.security import CONTENT_SECURITY_POLICY
from tests.harness.app import make_app
from tests.harness.forms import csrf_token

URLS = [
    "/",
    "/privacy",
    "/questions/about_you",
    "/no-such-page",
    "/clinic/",
    "/clinic/sign-in",
    "/fhir/Questionnaire",
    "/static/style.css",
]


@pytest.mark.parametrize("url", URLS)
def test_every_response_carries_the_security_headers(plain_app: Flask, url: str) -> None:
    response = plain_app.test_client().get(url)
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        assert directive in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "Server" not in headers
    assert "Strict-Transport-Security" not in headers  # development: no HSTS on http
    response.close()


def test_no_page_needs_inline_script_or_style(plain_app: Flask) -> None:
    client = plain_app.test_client()
    for url in ["/", "/privacy", "/clinic/sign-in"]:
        html = client.get(url).get_data(as_text=True)
        assert "<script>" not in html and "style=" not in html and "<style" not in html
        assert "onclick" not in html and "javascript:" not in html


def test_production_sends_hsts_and_secure_cookies(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        APP_ENV="production",
        PUBLIC_BASE_URL="https://intake.clinic.example",
        SECRET_KEY="Zk3vQ2xL7pW4mZ8rB3nH6yJ1cF5sD0gA-_eUq9Tn4Rw",
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
    )
    with app.app_context():
        from questionnaire.extensions import db

        db.create_all()
    client = app.test_client()
    response = client.get("/")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    token = csrf_token(response)
    started = client.post("/start", data={"privacy_consent": "y", "csrf_token": token})
    cookie = started.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_only_get_post_and_head(plain_app: Flask, method: str) -> None:
    response = plain_app.test_client().open("/", method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, POST"


def test_a_body_too_large_is_a_413_page_not_a_500(client: FlaskClient) -> None:
    response = client.post("/start", data={"privacy_consent": "y", "filler": "x" * 70_000})
    assert response.status_code == 413
    assert "too much to send" in response.get_data(as_text=True)


def test_the_client_address_comes_from_trusted_hops_only(tmp_path: Path) -> None:
    from questionnaire.audit import client_address

    seen: list[str | None] = []
    for hops in (0, 1):
        app = make_app(tmp_path, TRUSTED_PROXY_HOPS=hops)

        @app.get("/whoami")
        def whoami() -> str:
            seen.append(client_address())
            return "ok"

        app.test_client().get(
            "/whoami",
            headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
    # No proxy trusted: the socket's address. One hop: the address our proxy saw, not the
    # one the client wrote into the header.
    assert seen == ["10.0.0.2", "198.51.100.7"]


def test_clinicians_can_sign_in_over_https_without_a_referer(tmp_path: Path) -> None:
    """Browsers send no Referer (our Referrer-Policy): the CSRF check must not need one."""
    from tests.harness.clinician import make_clinician

    app = make_app(
        tmp_path,
        APP_ENV="production",
        PUBLIC_BASE_URL="https://intake.clinic.example",
        SECRET_KEY="Zk3vQ2xL7pW4mZ8rB3nH6yJ1cF5sD0gA-_eUq9Tn4Rw",
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
        RATELIMIT_KEY_PREFIX=f"https-sign-in-{uuid.uuid4().hex}",
    )
    with app.app_context():
        from questionnaire.extensions import db

        db.create_all()
    make_clinician(app, email="ada@clinic.example")
    client = app.test_client()
    page = client.get("/clinic/sign-in", base_url="https://localhost")
    token = csrf_token(page)
    response = client.post(
        "/clinic/sign-in",
        base_url="https://localhost",
        data={
            "email": "ada@clinic.example",
            "password": "correct horse battery staple",
            "csrf_token": token,
        },
    )
    assert response.status_code in (302, 303)
    assert "/clinic/sign-in/code" in response.headers["Location"]
