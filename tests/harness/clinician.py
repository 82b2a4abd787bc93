"""A clinician in tests: stored (in the app, or with the CLI of a served app) and signed in.

``sign_in`` is the one way every test, benchmark and scan signs a clinician in: through
the real pages (the password step, then the code step), whatever drives them: Flask's
test client, a harness Browser over HTTP, or a Playwright page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlencode, urlparse

import pyotp
from flask import Flask

from questionnaire.auth import passwords, totp
from questionnaire.extensions import db
from questionnaire.records.models import Clinician
from tests.harness.forms import page_html, visible_text
from tests.harness.patient import Browser

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from tests.harness.served import Gunicorn

#: Every test clinician's password unless the test gives another.
PASSWORD = "correct horse battery staple"


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


def current_code(app: Flask, email: str, steps_ahead: int = 0) -> str:
    """Return the TOTP code for the stored secret at the app clock's time (a real pyotp code)."""
    with app.app_context():
        stored_email = email.strip().lower()
        secret = db.session.scalar(db.select(Clinician.totp_secret).filter_by(email=stored_email))
        now = app.config["CLOCK"]()
    generator = pyotp.TOTP(secret)
    return generator.generate_otp(generator.timecode(now) + steps_ahead)


def create_clinician(
    served: Gunicorn, email: str, password: str, *options: str, name: str = "Bench Clinician"
) -> str:
    """Create a clinician with the CLI; return the TOTP secret from the printed otpauth URI."""
    output = served.flask(
        "clinician", "create", email, "--name", name, "--password-stdin", *options,
        stdin=password + "\n",
    )  # fmt: skip
    # The URI itself, not the sentence that names the otpauth:// scheme above the QR code.
    uri = next(
        word for word in output.split() if word.startswith("otpauth://") and "secret=" in word
    )
    return parse_qs(urlparse(uri).query)["secret"][0]


def cookie_header(opened: Browser) -> str:
    """Return the Cookie header a browser's jar would send."""
    assert opened.http is not None
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in opened.http.cookies)


class LiveApp(Protocol):
    """A server shared by a whole session, serving an app object on a test Clock."""

    app: Flask


class SignInFailed(AssertionError):
    """A step of signing in did not answer as a right password and code do."""


def _code(codes: Flask | str | LiveApp, email: str) -> str:
    """Return the one-time code now: see sign_in's `codes`."""
    if isinstance(codes, str):
        return pyotp.TOTP(codes).now()
    if isinstance(codes, Flask):
        return current_code(codes, email)
    # A live server's codes were seen before by the same session: a fresh 30-second step.
    codes.app.config["CLOCK"].advance(seconds=30)
    return current_code(codes.app, email)


def sign_in(
    browser: FlaskClient | Browser | Any,
    codes: Flask | str | LiveApp,
    clinician: TestClinician | str,
    password: str | None = None,
    *,
    next_url: str | None = None,
) -> Any:
    """Sign in through /clinic/sign-in and /clinic/sign-in/code; raise SignInFailed if a step fails.

    `browser`: Flask's test client, a harness Browser (test client or HTTP), or a
    Playwright page (which must then land on `next_url`, else on the queue). `codes`: where the one-time code
    comes from: the app (its stored secret at the app's clock), the TOTP secret itself
    (a served app, on the real clock), or a live server (its clock first moved to a
    fresh 30-second step). `clinician`: a TestClinician, or an email with `password`
    (default PASSWORD). A code is accepted once: to sign the same clinician in again on
    the same app, move its clock on by 30 seconds first.

    Returns the code step's response (a 303 to the destination); None for a page.
    """
    email = clinician if isinstance(clinician, str) else clinician.email
    if password is None:
        password = PASSWORD if isinstance(clinician, str) else clinician.password
    path = "/clinic/sign-in" + (f"?{urlencode({'next': next_url})}" if next_url else "")
    if type(browser).__module__.startswith("playwright"):
        _sign_in_page(browser, path, email, password, _code(codes, email), next_url or "/clinic/")
        return None
    opened = browser if isinstance(browser, Browser) else Browser(browser)
    for what, step in (
        ("password", lambda: opened.post_form(path, {"email": email, "password": password})),
        ("code", lambda: opened.post_form("/clinic/sign-in/code", {"code": _code(codes, email)})),
    ):
        response = step()
        if response.status_code != 303:
            raise SignInFailed(
                f"the {what} step answered {response.status_code}: "
                f"{visible_text(response) if page_html(response) else ''}"
            )
    return response


def _sign_in_page(page: Any, path: str, email: str, password: str, code: str, landing: str) -> None:
    """Type the email, password and code into the real pages; land on `landing`."""
    import re

    from playwright.sync_api import expect

    page.goto(path)
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.fill("#code", code)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(landing) + "$"))


def signed_in_client(app: Flask, clinician: TestClinician) -> FlaskClient:
    """Return a new test client (another browser) signed in as the clinician."""
    client = app.test_client()
    sign_in(client, app, clinician)
    return client
