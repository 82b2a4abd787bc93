"""Sign-in: a password, then a TOTP code; one message for every failure; throttling."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent, Clinician, LoginAttempt
from tests.auth.helpers import FAILED, TEST_PAGE, load, submit_code, submit_password
from tests.harness.app import Clock
from tests.harness.clinician import PASSWORD, TestClinician, current_code, make_clinician, sign_in
from tests.harness.forms import csrf_token

ADDRESS = "203.0.113.9"


def failed(response: object) -> bool:
    return response.status_code == 400 and FAILED in response.get_data(as_text=True)  # type: ignore[attr-defined]


def paused(response: object) -> bool:
    """Return whether a sign-in step was refused by a limit: 429 with Retry-After."""
    return (
        response.status_code == 429  # type: ignore[attr-defined]
        and int(response.headers["Retry-After"]) > 0  # type: ignore[attr-defined]
        and "Sign-in is paused" in response.get_data(as_text=True)  # type: ignore[attr-defined]
    )


def events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return rows


def attempts(app: Flask) -> list[tuple[int | None, bool]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(LoginAttempt.clinician_id, LoginAttempt.succeeded).order_by(LoginAttempt.id)
        )
        return [(row[0], row[1]) for row in rows]


def test_the_right_password_then_the_right_code_signs_in(
    app: Flask, client: FlaskClient, clinician: TestClinician, test_page: str
) -> None:
    step_one = submit_password(client, clinician.email, clinician.password)
    assert step_one.status_code == 303
    assert step_one.location == "/clinic/sign-in/code"
    assert client.get(test_page).status_code == 302  # not signed in yet

    step_two = submit_code(client, current_code(app, clinician.email))
    assert step_two.status_code == 303
    assert step_two.location == "/clinic/"  # review.queue
    page = client.get(test_page)
    assert page.status_code == 200
    assert f"Signed in as {clinician.name}" in page.get_data(as_text=True)
    assert attempts(app) == [(clinician.id, True)]
    assert load(app, clinician.id).last_totp_step is not None


def test_the_email_is_matched_whatever_its_case(
    app: Flask, client: FlaskClient, clinician: TestClinician
) -> None:
    sign_in(client, app, " ANA@Clinic.Example ")


@pytest.mark.parametrize("steps", [-1, 1])
def test_a_code_one_step_either_side_is_accepted(
    app: Flask, client: FlaskClient, clinician: TestClinician, steps: int
) -> None:
    submit_password(client, clinician.email)
    assert submit_code(client, current_code(app, clinician.email, steps)).status_code == 303


@pytest.mark.parametrize("steps", [-2, 2])
def test_a_code_two_steps_away_is_refused(
    app: Flask, client: FlaskClient, clinician: TestClinician, steps: int
) -> None:
    submit_password(client, clinician.email)
    assert failed(submit_code(client, current_code(app, clinician.email, steps)))


def test_the_code_page_without_a_right_password_goes_back_to_sign_in(
    client: FlaskClient, clinician: TestClinician
) -> None:
    response = client.get("/clinic/sign-in/code")
    assert response.status_code == 303 and response.location == "/clinic/sign-in"
    # A valid CSRF token (from the sign-in page), so the post reaches the missing-step guard
    # instead of stopping at CSRFProtect's 400.
    token = csrf_token(client.get("/clinic/sign-in"))
    response = client.post("/clinic/sign-in/code", data={"code": "123456", "csrf_token": token})
    assert response.status_code == 303 and response.location == "/clinic/sign-in"
    with client.session_transaction() as browser:
        assert "_user_id" not in browser


def test_the_password_step_lasts_five_minutes(
    app: Flask, client: FlaskClient, clinician: TestClinician, clock: Clock
) -> None:
    submit_password(client, clinician.email)
    clock.advance(minutes=5, seconds=1)
    response = client.get("/clinic/sign-in/code")
    assert response.status_code == 303 and response.location == "/clinic/sign-in"


def test_the_pending_step_cannot_be_forged_in_the_cookie(
    app: Flask, client: FlaskClient, clinician: TestClinician
) -> None:
    client.get("/clinic/sign-in")
    cookie = client.get_cookie("session")
    assert cookie is not None
    # A hand-made cookie is not signed with the app's key, so it is ignored.
    client.set_cookie("session", '{"clinician_pending": {"clinician_id": 1}}')
    response = client.get("/clinic/sign-in/code")
    assert response.status_code == 303 and response.location == "/clinic/sign-in"


@pytest.mark.parametrize(
    "case", ["wrong_password", "unknown_email", "wrong_code", "reused_code", "disabled"]
)
def test_every_failure_gives_the_same_message(
    app: Flask, client: FlaskClient, clock: Clock, case: str
) -> None:
    ana = make_clinician(app, is_active=case != "disabled")
    if case == "reused_code":
        sign_in(client, app, ana)
        used = current_code(app, ana.email)
        client.delete_cookie("session")
        clock.advance(seconds=5)  # still the same 30-second step
        assert submit_password(client, ana.email).status_code == 303
        response = submit_code(client, used)
    elif case == "wrong_code":
        submit_password(client, ana.email)
        right = current_code(app, ana.email)
        response = submit_code(client, f"{(int(right) + 1) % 1_000_000:06d}")
    elif case == "wrong_password":
        response = submit_password(client, ana.email, PASSWORD + "!")
    elif case == "unknown_email":
        response = submit_password(client, "nobody@clinic.example", PASSWORD)
    else:
        response = submit_password(client, ana.email, PASSWORD)
    assert failed(response)
    assert "otpauth" not in response.get_data(as_text=True)
    with client.session_transaction() as browser:
        assert "_user_id" not in browser
    last = events(app)[-1]
    assert last.action == "sign_in_failed"
    assert last.detail["reason"] == case
    assert last.actor_id == (None if case == "unknown_email" else ana.id)


def test_an_older_code_is_refused_after_a_newer_one_was_used(
    app: Flask, client: FlaskClient, clinician: TestClinician, clock: Clock
) -> None:
    older = current_code(app, clinician.email)
    submit_password(client, clinician.email)
    assert submit_code(client, current_code(app, clinician.email, 1)).status_code == 303
    client.delete_cookie("session")
    submit_password(client, clinician.email)
    assert failed(submit_code(client, older))


def test_an_empty_form_gives_the_same_message(
    client: FlaskClient, clinician: TestClinician
) -> None:
    assert failed(submit_password(client, "", ""))


def test_a_post_without_csrf_token_is_refused(
    app: Flask, client: FlaskClient, clinician: TestClinician
) -> None:
    data = {"email": clinician.email, "password": clinician.password}
    response = client.post("/clinic/sign-in", data=data)
    assert response.status_code == 400
    assert "timed out" in response.get_data(as_text=True)
    assert attempts(app) == [] and events(app) == []


def test_five_failures_throttle_the_account_only_and_lift_after_fifteen_minutes(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    ana = make_clinician(app)
    ben = make_clinician(app, "ben@clinic.example", "Ben Roy")
    for _ in range(5):
        assert failed(submit_password(client, ana.email, "not the password"))
        clock.advance(minutes=2)
    # The right password (and a right code) are now refused with 429 and Retry-After.
    assert paused(submit_password(client, ana.email, ana.password))
    assert events(app)[-1].action == "sign_in_throttled"
    assert events(app)[-1].actor_id == ana.id

    other = app.test_client()
    sign_in(other, app, ben)  # another account is not affected

    clock.advance(minutes=6, seconds=1)  # 15 minutes after the first failure
    sign_in(app.test_client(), app, ana)


def test_code_failures_count_and_a_throttled_code_step_is_refused(
    app: Flask, client: FlaskClient, clinician: TestClinician, clock: Clock
) -> None:
    assert submit_password(client, clinician.email).status_code == 303
    for _ in range(5):
        assert failed(submit_code(client, "000000"))
    clock.advance(seconds=30)
    assert paused(submit_code(client, current_code(app, clinician.email)))
    assert [e.action for e in events(app)][-1] == "sign_in_throttled"
    assert events(app)[-1].detail == {"step": "code", "limit": "account"}


def test_a_success_clears_earlier_failures(
    app: Flask, client: FlaskClient, clinician: TestClinician, clock: Clock
) -> None:
    for _ in range(4):
        assert failed(submit_password(client, clinician.email, "not the password"))
    sign_in(client, app, clinician)
    client.delete_cookie("session")
    clock.advance(seconds=30)
    for _ in range(4):
        assert failed(submit_password(client, clinician.email, "not the password"))
    sign_in(client, app, clinician)  # 8 failures in the window, but never 5 since a success


def test_throttling_holds_across_workers(
    app: Flask, clinician: TestClinician, tmp_path: object
) -> None:
    # Two clients stand for two workers: the count lives in the database, not in memory.
    for number in range(5):
        worker = app.test_client()
        assert failed(submit_password(worker, clinician.email, f"wrong {number}"))
    assert paused(submit_password(app.test_client(), clinician.email, clinician.password))


def test_a_disabled_account_is_refused_even_with_the_right_password_and_code(
    app: Flask, client: FlaskClient, clinician: TestClinician
) -> None:
    assert submit_password(client, clinician.email).status_code == 303
    with app.app_context():
        stored = db.session.get(Clinician, clinician.id)
        assert stored is not None
        stored.is_active = False
        db.session.commit()
    assert failed(submit_code(client, current_code(app, clinician.email)))
    with client.session_transaction() as browser:
        assert "_user_id" not in browser


def test_sign_in_starts_a_fresh_session(
    app: Flask, client: FlaskClient, clinician: TestClinician
) -> None:
    client.get("/clinic/sign-in")
    with client.session_transaction() as browser:
        browser["planted"] = "by someone else"
        before_token = browser.get("csrf_token")
    before_cookie = client.get_cookie("session")
    assert before_cookie is not None and before_token
    submit_password(client, clinician.email)
    submit_code(client, current_code(app, clinician.email))
    with client.session_transaction() as browser:
        assert "planted" not in browser
        assert "clinician_pending" not in browser
        assert browser.get("csrf_token") != before_token
        assert browser["_user_id"] == str(clinician.id)
        assert set(browser) <= {
            "_user_id",
            "_fresh",
            "_id",
            "clinician_session_version",
            "clinician_signed_in_at",
            "clinician_last_seen",
            "clinician_session_id",
            "csrf_token",
        }
    after_cookie = client.get_cookie("session")
    assert after_cookie is not None and after_cookie.value != before_cookie.value


def test_every_sign_in_event_is_audited_with_the_address_and_never_a_secret(
    app: Flask, clinician: TestClinician, clock: Clock
) -> None:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    wrong_password = "a wrong password 123"
    submit_password(client, "nobody@clinic.example", wrong_password)
    submit_password(client, clinician.email, wrong_password)
    submit_password(client, clinician.email)
    wrong_code = f"{(int(current_code(app, clinician.email)) + 7) % 1_000_000:06d}"
    submit_code(client, wrong_code)
    right_code = current_code(app, clinician.email)
    submit_code(client, right_code)
    client.delete_cookie("session")
    client.delete_cookie("clinic_device", path="/clinic")  # not a known device any more
    for _ in range(5):
        submit_password(client, clinician.email, wrong_password)
    submit_password(client, clinician.email, wrong_password)  # the throttled one

    rows = events(app)
    assert [(e.action, e.actor_id, e.detail.get("reason")) for e in rows] == [
        ("sign_in_failed", None, "unknown_email"),
        ("sign_in_failed", clinician.id, "wrong_password"),
        ("sign_in_failed", clinician.id, "wrong_code"),
        ("sign_in", clinician.id, None),
        *[("sign_in_failed", clinician.id, "wrong_password")] * 5,
        ("sign_in_throttled", clinician.id, None),
    ]
    assert {e.client_address for e in rows} == {ADDRESS}
    assert {e.at for e in rows} == {clock()}
    text = json.dumps([e.detail for e in rows])
    for secret in (wrong_password, clinician.password, wrong_code, right_code, "nobody@"):
        assert secret not in text
    with app.app_context():
        addresses = db.session.scalars(sa.select(LoginAttempt.client_address)).all()
    assert set(addresses) == {ADDRESS}


def test_a_hash_made_with_old_parameters_is_renewed_at_sign_in(
    app: Flask, client: FlaskClient, clinician: TestClinician
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(clinician.password)
    with app.app_context():
        stored = db.session.get(Clinician, clinician.id)
        assert stored is not None
        stored.password_hash = weak
        db.session.commit()
    sign_in(client, app, clinician)
    renewed = load(app, clinician.id).password_hash
    assert renewed != weak and renewed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PasswordHasher().verify(renewed, clinician.password)


def test_the_sign_in_pages_are_not_cached_and_say_what_to_do(client: FlaskClient) -> None:
    page = client.get("/clinic/sign-in")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert 'autocomplete="current-password"' in text and 'type="password"' in text
    assert "Signed in as" not in text and "Sign out" not in text


def test_a_signed_in_clinician_on_the_sign_in_page_goes_on(
    app: Flask, signed_in: FlaskClient
) -> None:
    response = signed_in.get("/clinic/sign-in", query_string={"next": TEST_PAGE})
    assert response.status_code == 303 and response.location == TEST_PAGE
