"""Sign-in limits per account and per address (429 + Retry-After), and known devices."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from questionnaire.auth import throttle
from questionnaire.auth.signin import service
from questionnaire.extensions import db
from questionnaire.records.models import Clinician
from tests.auth.helpers import FAILED, submit_code, submit_password
from tests.harness.app import Clock
from tests.harness.clinician import TestClinician, current_code, sign_in

HOME, ATTACKER = "198.51.100.7", "203.0.113.66"


def from_address(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def flood(app: Flask, email: str, count: int, address: str = ATTACKER) -> None:
    attacker = from_address(app, address)
    for number in range(count):
        submit_password(attacker, email, f"guess number {number}")


def test_a_flood_locks_the_account_for_new_devices_with_429_and_retry_after(
    app: Flask, clinician: TestClinician, clock: Clock
) -> None:
    flood(app, clinician.email, throttle.ACCOUNT_FAILURES)
    clock.advance(minutes=5)
    response = submit_password(from_address(app, HOME), clinician.email, clinician.password)
    assert response.status_code == 429
    # The first failure leaves the fifteen-minute window ten minutes from now.
    assert int(response.headers["Retry-After"]) == 10 * 60
    assert "Wait 10 minutes" in response.get_data(as_text=True)


def test_a_known_device_signs_in_while_the_account_is_flooded_from_elsewhere(
    app: Flask, clinician: TestClinician, clock: Clock
) -> None:
    laptop = from_address(app, HOME)
    sign_in(laptop, app, clinician)
    laptop.delete_cookie("session")  # signed out, the device cookie stays
    cookie = laptop.get_cookie("clinic_device", path="/clinic")
    assert cookie is not None and cookie.http_only and cookie.path == "/clinic"
    flood(app, clinician.email, throttle.ACCOUNT_FAILURES * 3)
    clock.advance(seconds=30)
    # The password and a fresh code are still needed from the known device.
    refused = submit_password(laptop, clinician.email, "not the password")
    assert refused.status_code == 400 and FAILED in refused.get_data(as_text=True)
    # Another device, even at the same address, is paused.
    other = submit_password(from_address(app, HOME), clinician.email, clinician.password)
    assert other.status_code == 429
    sign_in(laptop, app, clinician)


def test_too_many_failures_from_one_address_pause_that_address_only(
    app: Flask, clinician: TestClinician
) -> None:
    for number in range(throttle.ADDRESS_FAILURES):
        flood(app, f"nobody{number}@clinic.example", 1)
    response = submit_password(from_address(app, ATTACKER), clinician.email, clinician.password)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    sign_in(from_address(app, HOME), app, clinician)


def test_an_unknown_email_locks_like_a_real_one(app: Flask) -> None:
    flood(app, "nobody@clinic.example", throttle.ACCOUNT_FAILURES)
    response = submit_password(from_address(app, HOME), "nobody@clinic.example", "x" * 12)
    assert response.status_code == 429


def test_account_changes_forget_known_devices_and_sign_out_does_not(
    app: Flask, clinician: TestClinician, clock: Clock
) -> None:
    laptop = from_address(app, HOME)
    sign_in(laptop, app, clinician)
    with app.app_context():
        stored = db.session.get(Clinician, clinician.id)
        assert stored is not None
        version = stored.device_version
        service.end_sessions(stored, forget_devices=False)  # what sign-out does
        db.session.commit()
        assert stored.device_version == version
        service.reset_2fa(db.session, clinician.email, "Test")
        db.session.commit()
    flood(app, clinician.email, throttle.ACCOUNT_FAILURES)
    clock.advance(seconds=30)
    assert submit_password(laptop, clinician.email, clinician.password).status_code == 429


def test_a_forged_device_cookie_is_ignored(
    app: Flask, clinician: TestClinician, clock: Clock
) -> None:
    laptop = from_address(app, HOME)
    laptop.set_cookie("clinic_device", f"[[{clinician.id},1]]", path="/clinic")
    flood(app, clinician.email, throttle.ACCOUNT_FAILURES)
    assert submit_password(laptop, clinician.email, clinician.password).status_code == 429


def test_the_code_step_from_a_known_device_is_not_locked(
    app: Flask, clinician: TestClinician, clock: Clock
) -> None:
    laptop = from_address(app, HOME)
    sign_in(laptop, app, clinician)
    laptop.delete_cookie("session")
    clock.advance(seconds=30)
    assert submit_password(laptop, clinician.email, clinician.password).status_code == 303
    flood(app, clinician.email, throttle.ACCOUNT_FAILURES)
    response = submit_code(laptop, current_code(app, clinician.email))
    assert response.status_code == 303


def test_the_device_cookie_is_secure_in_production(app: Flask, clinician: TestClinician) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    laptop = app.test_client()
    submit_password(laptop, clinician.email, clinician.password)
    response = submit_code(laptop, current_code(app, clinician.email))
    cookies = [value for key, value in response.headers if key == "Set-Cookie"]
    device = next(value for value in cookies if value.startswith("clinic_device="))
    assert "Secure" in device and "HttpOnly" in device and "SameSite=Strict" in device
