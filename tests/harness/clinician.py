"""A clinician on the served app: created with the CLI, signed in through the real pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pyotp

from tests.harness.patient import Browser
from tests.harness.served import Gunicorn


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


def sign_in(clinician: Browser, email: str, password: str, secret: str) -> None:
    """Sign in through /clinic/sign-in and /clinic/sign-in/code; raise if any step fails."""
    step = clinician.post_form("/clinic/sign-in", {"email": email, "password": password})
    if step.status_code != 303:
        raise RuntimeError(f"the password step answered {step.status_code}")
    step = clinician.post_form("/clinic/sign-in/code", {"code": pyotp.TOTP(secret).now()})
    if step.status_code != 303:
        raise RuntimeError(f"the code step answered {step.status_code}")
    if clinician.get("/clinic/").status_code != 200:
        raise RuntimeError("signed in, but the queue does not open")
