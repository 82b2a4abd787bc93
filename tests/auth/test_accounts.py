"""Accounts in the browser: invite, enrol, manage, change password, sign out here or everywhere.

Every test runs on SQLite and PostgreSQL (the `app` fixture).
"""

from __future__ import annotations

import hashlib
import html
import re
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import TestResponse

from questionnaire.auth.accounts import service as account_service
from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent, Clinician, EndedSession, EnrolmentLink
from tests.auth.helpers import TEST_PAGE, load, sign_out, submit_code, submit_password
from tests.harness.app import Clock
from tests.harness.clinician import (
    TestClinician,
    current_code,
    make_clinician,
    sign_in,
    signed_in_client,
)
from tests.harness.forms import csrf_token, forms

NEW_PASSWORD = "a fresh and long passphrase"
LINK = re.compile(r'value="(http://localhost/clinic/enrol/[^"]+)"')
URI = re.compile(r'value="(otpauth://[^"]+)"')


@pytest.fixture(autouse=True)
def _test_page(test_page: str) -> None:
    """Every test here may open TEST_PAGE (it has the account menu)."""


@pytest.fixture
def admin(app: Flask) -> TestClinician:
    return make_clinician(app, "lead@clinic.example", "Lead Admin", is_admin=True)


@pytest.fixture
def admin_client(app: Flask, admin: TestClinician) -> FlaskClient:
    return signed_in_client(app, admin)


@pytest.fixture
def staff(app: Flask) -> TestClinician:
    """A clinician who is not an admin (Ana Okafor)."""
    return make_clinician(app)


@pytest.fixture
def two_browsers(app: Flask, clock: Clock, staff: TestClinician) -> tuple[FlaskClient, FlaskClient]:
    """Return two browsers, each signed in as `staff` (30 seconds apart, each with its own code)."""
    one = signed_in_client(app, staff)
    clock.advance(seconds=30)
    return one, signed_in_client(app, staff)


def switch(client: FlaskClient, clinician_id: int, change: str, value: str) -> TestResponse:
    """Press a switch (active, admin, export) on the account list; return the response."""
    token = csrf_token(client.get("/clinic/accounts/"))
    return client.post(
        f"/clinic/accounts/{clinician_id}/{change}", data={"value": value, "csrf_token": token}
    )


def events(app: Flask, *actions: str) -> list[AuditEvent]:
    with app.app_context():
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        if actions:
            query = query.where(AuditEvent.action.in_(actions))
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def invite(client: FlaskClient, name: str = "Bea Nwosu", email: str = "bea@clinic.example") -> str:
    """Invite a clinician through the admin's page; return the enrolment link shown."""
    token = csrf_token(client.get("/clinic/accounts/invite"))
    response = client.post(
        "/clinic/accounts/invite", data={"name": name, "email": email, "csrf_token": token}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    found = LINK.search(response.get_data(as_text=True))
    assert found is not None
    return urlsplit(found.group(1)).path


def posted_form(page: TestResponse, **data: str) -> tuple[str, dict[str, str]]:
    """Return where the page's one POST form goes and what a browser posts (with data)."""
    (form,) = [form for form in forms(page) if form.method == "post"]
    return form.action, {**dict(form.pairs), **data}


def choose_password(client: FlaskClient, path: str, password: str = NEW_PASSWORD) -> TestResponse:
    """Open the link, then post the password form the way a browser does (token in the body)."""
    action, data = posted_form(client.get(path), password=password, confirm=password)
    assert path.rsplit("/", 1)[-1] not in action  # the token travels in no URL after the GET
    return client.post(action, data=data)


def secret_on(page: TestResponse) -> str:
    found = URI.search(page.get_data(as_text=True))
    assert found is not None
    return parse_qs(urlsplit(html.unescape(found.group(1))).query)["secret"][0]


def code_for(app: Flask, secret: str, steps_ahead: int = 0) -> str:
    generator = pyotp.TOTP(secret)
    return generator.generate_otp(generator.timecode(app.config["CLOCK"]()) + steps_ahead)


def confirm(client: FlaskClient, path: str, page: TestResponse, code: str) -> TestResponse:
    action, data = posted_form(page, code=code)
    assert path.rsplit("/", 1)[-1] not in action
    return client.post(action, data=data)


def enrol(app: Flask, client: FlaskClient, path: str) -> TestResponse:
    """Choose a password and confirm the first code; return the confirmation's response."""
    page = choose_password(client, path)
    assert page.status_code == 200
    return confirm(client, path, page, code_for(app, secret_on(page)))


def stored(app: Flask, email: str) -> Clinician:
    with app.app_context():
        clinician = db.session.scalar(sa.select(Clinician).where(Clinician.email == email))
        assert clinician is not None
        db.session.expunge(clinician)
        return clinician


def test_invite_enrol_first_code_then_sign_in(
    app: Flask, admin_client: FlaskClient, admin: TestClinician, clock: Clock
) -> None:
    path = invite(admin_client)
    bea = stored(app, "bea@clinic.example")
    # Before enrolment nobody can sign in to the account.
    newcomer = app.test_client()
    assert submit_password(newcomer, "bea@clinic.example", NEW_PASSWORD).status_code == 400

    page = choose_password(newcomer, path)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<svg" in body and "otpauth://totp/" in body
    # Not active yet: the password chosen works only once the first code is confirmed.
    assert submit_password(app.test_client(), bea.email, NEW_PASSWORD).status_code == 400
    wrong = confirm(newcomer, path, page, "000000")
    assert wrong.status_code == 400 and "<svg" in wrong.get_data(as_text=True)

    done = confirm(newcomer, path, page, code_for(app, secret_on(page)))
    assert done.status_code == 303 and done.location == "/clinic/"
    assert newcomer.get(TEST_PAGE).status_code == 200  # signed in at once

    clock.advance(seconds=30)
    later = app.test_client()
    sign_in(later, app, TestClinician(bea.id, bea.email, bea.name, NEW_PASSWORD, False))
    assert later.get(TEST_PAGE).status_code == 200

    invited, enrolled = events(app, "clinician_invited", "clinician_enrolled")
    assert (invited.actor_id, invited.detail) == (
        admin.id,
        {"clinician_id": bea.id, "via": "browser"},
    )
    assert enrolled.actor_id == bea.id and enrolled.detail["purpose"] == "invite"


def test_only_the_links_hash_is_stored_and_the_link_works_once(
    app: Flask, admin_client: FlaskClient
) -> None:
    path = invite(admin_client)
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        link = db.session.scalar(sa.select(EnrolmentLink))
        assert link is not None
        assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in repr(db.session.execute(sa.text("SELECT * FROM enrolment_links")).all())
    assert not any(token in repr(event.detail) for event in events(app))

    assert enrol(app, app.test_client(), path).status_code == 303
    again = app.test_client()
    assert again.get(path).status_code == 404
    assert "does not work" in again.get(path).get_data(as_text=True)
    assert app.test_client().get(f"/clinic/enrol/{'x' * 43}").status_code == 404


def test_a_link_expires_after_72_hours(app: Flask, admin_client: FlaskClient, clock: Clock) -> None:
    path = invite(admin_client)
    clock.advance(hours=71, minutes=59)
    assert app.test_client().get(path).status_code == 200
    clock.advance(minutes=1)
    assert app.test_client().get(path).status_code == 404


def test_a_link_cannot_be_confirmed_twice(app: Flask, admin_client: FlaskClient) -> None:
    path = invite(admin_client)
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        uri = account_service.choose_password(
            db.session, token, NEW_PASSWORD, app.config["CLOCK"](), "Test"
        )
        db.session.commit()
        secret = parse_qs(urlsplit(uri).query)["secret"][0]
        moment = app.config["CLOCK"]()
        account_service.confirm_code(db.session, token, code_for(app, secret), moment)
        db.session.commit()
        with pytest.raises(account_service.LinkRefused):
            account_service.confirm_code(db.session, token, code_for(app, secret, 1), moment)


def test_resetting_the_second_factor_ends_sessions_and_needs_enrolment_again(
    app: Flask, admin_client: FlaskClient, staff: TestClinician, clock: Clock
) -> None:
    theirs = signed_in_client(app, staff)
    old_code_later = current_code(app, staff.email, steps_ahead=1)

    token = csrf_token(admin_client.get("/clinic/accounts/"))
    page = admin_client.post(
        f"/clinic/accounts/{staff.id}/second-factor", data={"csrf_token": token}
    )
    assert page.status_code == 200
    found = LINK.search(page.get_data(as_text=True))
    assert found is not None
    assert theirs.get(TEST_PAGE).status_code == 302  # their session ended

    clock.advance(seconds=30)
    again = app.test_client()
    assert submit_password(again, staff.email, staff.password).status_code == 303
    assert submit_code(again, old_code_later).status_code == 400  # the old secret is dead

    assert enrol(app, app.test_client(), urlsplit(found.group(1)).path).status_code == 303
    (event,) = events(app, "second_factor_reset")
    assert event.detail == {"clinician_id": staff.id, "via": "browser"}


def test_an_admin_cannot_disable_themselves_or_remove_their_own_admin_role(
    app: Flask, admin_client: FlaskClient, admin: TestClinician
) -> None:
    for change, message in (
        ("active", "You cannot disable your own account"),
        ("admin", "You cannot remove your own admin role"),
    ):
        response = switch(admin_client, admin.id, change, "off")
        assert response.status_code == 303
        assert message in admin_client.get(response.location).get_data(as_text=True)
    lead = load(app, admin.id)
    assert lead.is_active and lead.is_admin
    assert events(app, "clinician_disabled", "admin_removed") == []


def test_every_change_is_audited_and_says_what_it_did(
    app: Flask, admin_client: FlaskClient, admin: TestClinician, staff: TestClinician
) -> None:
    steps = [
        (
            "active",
            "off",
            "clinician_disabled",
            "Ana Okafor is disabled; their sessions have ended.",
        ),
        ("active", "on", "clinician_enabled", "Ana Okafor can sign in again."),
        ("admin", "on", "admin_granted", "Ana Okafor is now an admin."),
        ("admin", "off", "admin_removed", "Ana Okafor is no longer an admin."),
        ("export", "on", "export_granted", "Ana Okafor may now download CSV exports."),
        ("export", "off", "export_removed", "Ana Okafor may no longer download CSV exports."),
    ]
    for change, value, _action, message in steps:
        response = switch(admin_client, staff.id, change, value)
        assert response.status_code == 303
        page = admin_client.get(response.location).get_data(as_text=True)
        assert message in html.unescape(page)
    actions = [action for _change, _value, action, _message in steps]
    recorded = [(event.action, event.actor_id, event.detail) for event in events(app, *actions)]
    detail = {"clinician_id": staff.id, "via": "browser"}
    assert recorded == [(action, admin.id, detail) for action in actions]
    final = load(app, staff.id)
    assert final.is_active and not final.is_admin and not final.can_export


def test_disabling_ends_the_clinicians_sessions(
    app: Flask, admin_client: FlaskClient, staff: TestClinician
) -> None:
    theirs = signed_in_client(app, staff)
    switch(admin_client, staff.id, "active", "off")
    assert theirs.get(TEST_PAGE).status_code == 302


def test_a_bad_switch_value_changes_nothing(
    app: Flask, admin_client: FlaskClient, staff: TestClinician
) -> None:
    assert switch(admin_client, staff.id, "admin", "yes").status_code == 400
    assert not load(app, staff.id).is_admin


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/clinic/accounts/"),
        ("GET", "/clinic/accounts/invite"),
        ("POST", "/clinic/accounts/invite"),
        ("POST", "/clinic/accounts/1/active"),
        ("POST", "/clinic/accounts/1/admin"),
        ("POST", "/clinic/accounts/1/export"),
        ("POST", "/clinic/accounts/1/second-factor"),
    ],
)
def test_a_clinician_who_is_not_an_admin_gets_403(
    app: Flask, admin: TestClinician, staff: TestClinician, method: str, path: str
) -> None:
    client = signed_in_client(app, staff)
    token = csrf_token(client.get(TEST_PAGE))
    response = client.open(path, method=method, data={"csrf_token": token, "value": "off"})
    assert response.status_code == 403
    assert load(app, admin.id).is_active and load(app, admin.id).is_admin


def change_password(
    app: Flask, client: FlaskClient, current: str, code: str, new: str = NEW_PASSWORD
) -> TestResponse:
    token = csrf_token(client.get("/clinic/account/password"))
    data = {"current": current, "code": code, "password": new, "confirm": new, "csrf_token": token}
    return client.post("/clinic/account/password", data=data)


def test_a_clinician_changes_their_password_with_the_current_one_and_a_fresh_code(
    app: Flask, clock: Clock, staff: TestClinician, two_browsers: tuple[FlaskClient, FlaskClient]
) -> None:
    here, elsewhere = two_browsers
    clock.advance(seconds=30)

    wrong_password = change_password(app, here, "not my password", current_code(app, staff.email))
    assert wrong_password.status_code == 400
    wrong_code = change_password(app, here, staff.password, "000000")
    assert wrong_code.status_code == 400
    failures = events(app, "password_change_failed")
    assert [event.detail for event in failures] == [
        {"reason": "wrong_password"},
        {"reason": "wrong_code"},
    ]

    done = change_password(app, here, staff.password, current_code(app, staff.email))
    assert done.status_code == 303
    assert here.get(TEST_PAGE).status_code == 200  # this session carries on
    assert elsewhere.get(TEST_PAGE).status_code == 302  # every other one ended
    (event,) = events(app, "password_changed")
    assert (event.actor_id, event.detail) == (
        staff.id,
        {"clinician_id": staff.id, "via": "browser"},
    )
    clock.advance(seconds=30)
    assert submit_password(app.test_client(), staff.email, staff.password).status_code == 400
    assert submit_password(app.test_client(), staff.email, NEW_PASSWORD).status_code == 303


def test_a_used_code_does_not_change_a_password(app: Flask, staff: TestClinician) -> None:
    client = signed_in_client(app, staff)  # uses the current step's code
    response = change_password(app, client, staff.password, current_code(app, staff.email))
    assert response.status_code == 400


def test_set_password_from_the_shell(app: Flask, clock: Clock, staff: TestClinician) -> None:
    client = signed_in_client(app, staff)
    result = app.test_cli_runner().invoke(
        args=["clinician", "set-password", staff.email.upper(), "--password-stdin"],
        input=f"{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    assert client.get(TEST_PAGE).status_code == 302
    clock.advance(seconds=30)
    assert submit_password(app.test_client(), staff.email, NEW_PASSWORD).status_code == 303
    (event,) = events(app, "password_changed")
    assert event.detail == {"clinician_id": staff.id, "via": "cli"}

    short = app.test_cli_runner().invoke(
        args=["clinician", "set-password", staff.email, "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 2 and "at least 12" in short.output
    unknown = app.test_cli_runner().invoke(
        args=["clinician", "set-password", "nobody@clinic.example", "--password-stdin"],
        input=f"{NEW_PASSWORD}\n",
    )
    assert unknown.exit_code == 1


def test_sign_out_ends_this_browser_only_and_a_copy_of_its_cookie(
    app: Flask, clock: Clock, staff: TestClinician, two_browsers: tuple[FlaskClient, FlaskClient]
) -> None:
    one, two = two_browsers
    cookie = one.get_cookie("session")
    assert cookie is not None

    sign_out(one)
    assert one.get(TEST_PAGE).status_code == 302
    assert two.get(TEST_PAGE).status_code == 200
    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    assert replay.get(TEST_PAGE).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EndedSession)) == 1
    # Rows are kept only as long as a session could have lived anyway.
    clock.advance(hours=13)
    sign_out(signed_in_client(app, staff))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EndedSession)) == 1


def test_sign_out_everywhere_ends_every_session(
    app: Flask, staff: TestClinician, two_browsers: tuple[FlaskClient, FlaskClient]
) -> None:
    one, two = two_browsers
    token = csrf_token(one.get(TEST_PAGE))
    assert one.post("/clinic/sign-out/everywhere").status_code == 400  # no CSRF token
    response = one.post("/clinic/sign-out/everywhere", data={"csrf_token": token})
    assert response.status_code == 303 and response.location == "/clinic/sign-in"
    assert one.get(TEST_PAGE).status_code == 302
    assert two.get(TEST_PAGE).status_code == 302
    (event,) = events(app, "sign_out_everywhere")
    assert event.actor_id == staff.id


def test_the_account_menu_has_both_sign_outs_and_an_admins_accounts_link(
    app: Flask, admin_client: FlaskClient
) -> None:
    body = admin_client.get(TEST_PAGE).get_data(as_text=True)
    assert 'action="/clinic/sign-out"' in body
    assert 'action="/clinic/sign-out/everywhere"' in body
    assert 'href="/clinic/accounts/"' in body
    listing = admin_client.get("/clinic/accounts/").get_data(as_text=True)
    assert "lead@clinic.example" in listing


def test_inviting_a_taken_email_is_refused(app: Flask, admin_client: FlaskClient) -> None:
    token = csrf_token(admin_client.get("/clinic/accounts/invite"))
    response = admin_client.post(
        "/clinic/accounts/invite",
        data={"name": "Someone", "email": "LEAD@clinic.example", "csrf_token": token},
    )
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)


def test_the_enrolment_link_is_built_on_public_base_url_never_the_forwarded_host(
    app: Flask, admin_client: FlaskClient
) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://intake.clinic.example"
    app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1, x_proto=1)  # type: ignore[method-assign]
    token = csrf_token(admin_client.get("/clinic/accounts/invite"))
    page = admin_client.post(
        "/clinic/accounts/invite",
        data={"name": "Bea Nwosu", "email": "bea@clinic.example", "csrf_token": token},
        headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    ).get_data(as_text=True)
    assert re.search(r'value="https://intake\.clinic\.example/clinic/enrol/[\w-]{40,}"', page)
    assert "evil.example" not in page


def test_after_the_first_get_no_url_carries_the_enrolment_token(
    app: Flask, admin_client: FlaskClient
) -> None:
    path = invite(admin_client)
    token = path.rsplit("/", 1)[-1]
    newcomer = app.test_client()
    page = choose_password(newcomer, path)  # asserts the form's action holds no token
    assert token not in confirm(newcomer, path, page, "000000").headers.get("Location", "")
    # The old POST-to-the-link address is gone: a token in a POST's path is never read.
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf_token(page)}
    refused = newcomer.post(path, data=form)
    assert refused.status_code in {303, 405}
    assert "otpauth://" not in refused.get_data(as_text=True)
