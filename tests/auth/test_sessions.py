"""Sessions: idle and absolute timeouts, ending at once on the server, sign-out, coming back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.auth.signin import service
from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent, Clinician
from tests.auth.helpers import TEST_PAGE, load, sign_out, submit_password
from tests.harness.app import Clock
from tests.harness.clinician import TestClinician, sign_in
from tests.harness.forms import csrf_token


def sent_to_sign_in(response: object, next_url: str | None = None) -> bool:
    """Return whether the response redirects to sign-in (with this next, when given)."""
    if response.status_code not in (302, 303):  # type: ignore[attr-defined]
        return False
    location = urlsplit(response.location)  # type: ignore[attr-defined]
    query = parse_qs(location.query)
    wanted = [next_url] if next_url is not None else query.get("next")
    return location.path == "/clinic/sign-in" and query.get("next") == wanted


def last_event(app: Flask) -> AuditEvent:
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        db.session.expunge(event)
        return event


def test_an_anonymous_visit_goes_to_sign_in_and_comes_back(
    app: Flask, client: FlaskClient, clinician: TestClinician, test_page: str
) -> None:
    response = client.get(test_page, query_string={"tab": "flags"})
    assert sent_to_sign_in(response, f"{test_page}?tab=flags")
    arrived = sign_in(client, app, clinician, next_url=f"{test_page}?tab=flags")
    assert arrived.location == f"{test_page}?tab=flags"


def test_activity_keeps_the_session_and_31_idle_minutes_end_it(
    app: Flask, signed_in: FlaskClient, clinician: TestClinician, clock: Clock
) -> None:
    clock.advance(minutes=29)
    assert signed_in.get(TEST_PAGE).status_code == 200
    clock.advance(minutes=30)  # 30 minutes after the last request: still fine
    assert signed_in.get(TEST_PAGE).status_code == 200
    clock.advance(minutes=31)
    response = signed_in.get(TEST_PAGE)
    assert sent_to_sign_in(response, TEST_PAGE)
    event = last_event(app)
    assert (event.action, event.actor_id) == ("session_expired", clinician.id)
    assert event.detail == {"reason": "idle_timeout"}
    with signed_in.session_transaction() as browser:
        assert "_user_id" not in browser
    assert sent_to_sign_in(signed_in.get(TEST_PAGE), TEST_PAGE)  # stays signed out


def test_twelve_hours_end_a_session_even_when_it_is_busy(
    app: Flask, signed_in: FlaskClient, clock: Clock
) -> None:
    for _ in range(11 * 2 + 1):  # every 29 minutes for 11 h 7 min
        clock.advance(minutes=29)
        assert signed_in.get(TEST_PAGE).status_code == 200
    clock.advance(minutes=53)  # 12 hours after signing in
    assert sent_to_sign_in(signed_in.get(TEST_PAGE), TEST_PAGE)
    assert last_event(app).detail == {"reason": "absolute_timeout"}


def test_after_expiry_signing_in_returns_to_the_same_submission(
    app: Flask, signed_in: FlaskClient, clinician: TestClinician, clock: Clock
) -> None:
    page = "/clinic/test-page/WXYZ6789"
    assert signed_in.get(page).status_code == 200
    clock.advance(minutes=45)
    response = signed_in.get(page)
    assert sent_to_sign_in(response, page)
    back = sign_in(
        signed_in, app, clinician, next_url=parse_qs(urlsplit(response.location).query)["next"][0]
    )
    assert back.location == page
    assert "WXYZ6789" in signed_in.get(back.location).get_data(as_text=True)


def test_a_form_sent_after_expiry_is_not_processed_and_returns_to_its_page(
    app: Flask, signed_in: FlaskClient, clock: Clock
) -> None:
    token = csrf_token(signed_in.get(TEST_PAGE))
    clock.advance(minutes=31)
    response = signed_in.post(f"{TEST_PAGE}/notes", data={"csrf_token": token, "text": "x"})
    assert response.status_code == 303
    assert sent_to_sign_in(response, TEST_PAGE)
    assert "note stored" not in response.get_data(as_text=True)


def test_changing_the_password_ends_live_sessions(
    app: Flask, signed_in: FlaskClient, clinician: TestClinician, clock: Clock
) -> None:
    with app.app_context():
        stored = db.session.get(Clinician, clinician.id)
        assert stored is not None
        service.change_password(stored, "a brand new passphrase")
        db.session.commit()
    assert sent_to_sign_in(signed_in.get(TEST_PAGE), TEST_PAGE)
    assert last_event(app).detail == {"reason": "revoked"}
    clock.advance(seconds=30)
    assert submit_password(signed_in, clinician.email, clinician.password).status_code == 400
    assert submit_password(signed_in, clinician.email, "a brand new passphrase").status_code == 303


def test_a_copied_cookie_stops_working_when_sessions_are_ended(
    app: Flask, signed_in: FlaskClient, clinician: TestClinician
) -> None:
    cookie = signed_in.get_cookie("session")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("session", cookie.value)
    assert copy.get(TEST_PAGE).status_code == 200
    with app.app_context():
        stored = db.session.get(Clinician, clinician.id)
        assert stored is not None
        service.end_sessions(stored)
        db.session.commit()
    assert sent_to_sign_in(copy.get(TEST_PAGE))
    assert sent_to_sign_in(signed_in.get(TEST_PAGE))


def test_sign_out_is_a_post_with_csrf(
    app: Flask, signed_in: FlaskClient, clinician: TestClinician
) -> None:
    assert signed_in.get("/clinic/sign-out").status_code == 405
    assert signed_in.post("/clinic/sign-out").status_code == 400  # no CSRF token
    assert signed_in.get(TEST_PAGE).status_code == 200  # still signed in
    version = load(app, clinician.id).session_version

    response = sign_out(signed_in)
    assert response.status_code == 303 and response.location == "/clinic/sign-in"
    event = last_event(app)
    assert (event.action, event.actor_id) == ("sign_out", clinician.id)
    assert event.client_address == "127.0.0.1"
    # Only this browser's session ends ("Sign out everywhere" raises the version).
    assert load(app, clinician.id).session_version == version
    with signed_in.session_transaction() as browser:
        assert dict(browser) == {}
    assert sent_to_sign_in(signed_in.get(TEST_PAGE), TEST_PAGE)


def test_a_cookie_copied_before_sign_out_is_dead_after_it(
    app: Flask, signed_in: FlaskClient
) -> None:
    cookie = signed_in.get_cookie("session")
    assert cookie is not None
    sign_out(signed_in)
    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    assert sent_to_sign_in(replay.get(TEST_PAGE), TEST_PAGE)


def test_the_account_box_shows_the_name_and_a_sign_out_form(
    signed_in: FlaskClient, clinician: TestClinician
) -> None:
    text = signed_in.get(TEST_PAGE).get_data(as_text=True)
    assert f"Signed in as {clinician.name}" in text
    assert 'action="/clinic/sign-out"' in text and 'method="post"' in text
    assert 'name="csrf_token"' in text


def test_the_account_box_renders_nothing_for_an_anonymous_visitor(app: Flask) -> None:
    with app.test_request_context("/clinic/sign-in"):
        from flask import render_template

        assert render_template("auth/_account.html").strip() == ""


def test_an_account_made_inactive_in_the_database_loses_its_session_at_once(
    app: Flask, signed_in: FlaskClient, clinician: TestClinician
) -> None:
    with app.app_context():
        stored = db.session.get(Clinician, clinician.id)
        assert stored is not None
        stored.is_active = False  # no session_version change: the active flag alone is enough
        db.session.commit()
    assert sent_to_sign_in(signed_in.get(TEST_PAGE), TEST_PAGE)
    assert last_event(app).detail == {"reason": "disabled"}
