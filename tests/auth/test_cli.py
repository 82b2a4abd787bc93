"""`flask clinician create | disable | reset-2fa | list` through the app's CLI runner."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import segno
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent, Clinician
from tests.auth.helpers import FAILED, TEST_PAGE, load, submit_code, submit_password
from tests.harness.app import Clock
from tests.harness.clinician import TestClinician, current_code, sign_in

URI = re.compile(r"otpauth://totp/\S+")
GOOD = "a long enough passphrase"


def create(app: Flask, *args: str, password: str = GOOD) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(
        args=["clinician", "create", *args, "--password-stdin"], input=f"{password}\n"
    )
    return result.exit_code, result.output


def stored(app: Flask) -> list[Clinician]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Clinician).order_by(Clinician.id)))
        db.session.expunge_all()
        return rows


def audit_rows(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return rows


#: segno's compact terminal drawing: each character is two modules, top and bottom (1 dark).
HALF_BLOCKS = {" ": (1, 1), "\u2580": (0, 1), "\u2584": (1, 0), "\u2588": (0, 0)}


def drawn_matrix(output: str) -> list[list[int]]:
    """Read the QR code drawn in the CLI's output back into rows of modules, border removed."""
    lines = [
        line for line in output.splitlines() if line and set(line) <= set(HALF_BLOCKS)
        and line.strip(" ")
    ]  # fmt: skip
    rows: list[list[int]] = []
    for line in lines:
        pairs = [HALF_BLOCKS[char] for char in line]
        rows.append([top for top, _ in pairs])
        rows.append([bottom for _, bottom in pairs])
    border = 2
    return [row[border:-border] for row in rows[border : border + len(rows[0]) - 2 * border]]


def assert_qr_of_the_printed_uri(output: str) -> str:
    """Check the output draws exactly the QR code (segno) of the one URI it prints; return it."""
    [uri] = URI.findall(output)
    expected = [list(row) for row in segno.make(uri, error="m").matrix]
    assert drawn_matrix(output) == expected
    assert output.index("\u2588") < output.index("otpauth://totp")  # the code, then the text
    return uri


@pytest.mark.parametrize("role", [["--admin"], []], ids=["admin", "clinician"])
def test_create_draws_the_qr_code_of_the_printed_uri_in_the_terminal(
    app: Flask, role: list[str]
) -> None:
    """Issue 25: the first admin scans the QR code; the otpauth:// text is printed beside it."""
    code, output = create(app, "qr@clinic.example", "--name", "Q R", *role)
    assert code == 0, output
    uri = assert_qr_of_the_printed_uri(output)
    [clinician] = stored(app)
    assert parse_qs(urlsplit(uri).query)["secret"] == [clinician.totp_secret]


def test_reset_2fa_draws_the_qr_code_of_the_new_secret(app: Flask) -> None:
    """Issue 25, point 14: a reset second factor is scanned like the first one."""
    code, output = create(app, "qr.reset@clinic.example", "--name", "Q Reset")
    assert code == 0, output
    first = assert_qr_of_the_printed_uri(output)
    result = app.test_cli_runner().invoke(
        args=["clinician", "reset-2fa", "qr.reset@clinic.example"]
    )
    assert result.exit_code == 0, result.output
    again = assert_qr_of_the_printed_uri(result.output)
    [clinician] = stored(app)
    assert again != first
    assert parse_qs(urlsplit(again).query)["secret"] == [clinician.totp_secret]


def test_no_account_exists_until_a_person_creates_one(app: Flask) -> None:
    assert stored(app) == []
    result = app.test_cli_runner().invoke(args=["clinician", "list"])
    assert result.exit_code == 0
    assert "No clinicians yet" in result.output


def test_create_stores_argon2id_a_lower_case_email_and_prints_the_uri_once(app: Flask) -> None:
    code, output = create(app, "Ana.Okafor@Clinic.Example", "--name", "Ana Okafor")
    assert code == 0, output
    [clinician] = stored(app)
    assert clinician.email == "ana.okafor@clinic.example"
    assert clinician.name == "Ana Okafor"
    assert clinician.password_hash.startswith("$argon2id$")
    assert GOOD not in clinician.password_hash
    assert not clinician.is_admin and clinician.is_active
    assert clinician.last_totp_step is None

    uris = URI.findall(output)
    assert len(uris) == 1  # printed once
    uri = urlsplit(uris[0])
    query = parse_qs(uri.query)
    assert query["issuer"] == ["Test Clinic"]  # CLINIC_NAME
    assert query["secret"] == [clinician.totp_secret]
    assert "ana.okafor%40clinic.example" in uri.path
    assert GOOD not in output


def test_the_secret_is_kept_only_in_its_column(app: Flask) -> None:
    code, _output = create(app, "ana@clinic.example", "--name", "Ana")
    assert code == 0
    [clinician] = stored(app)
    [event] = audit_rows(app)
    assert event.action == "clinician_created"
    assert event.detail == {"clinician_id": clinician.id, "admin": False, "via": "cli"}
    text = json.dumps([event.detail, event.reference, event.action])
    assert clinician.totp_secret not in text and "otpauth" not in text
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)).all():
                values = [str(value) for value in row]
                holding = [value for value in values if clinician.totp_secret in value]
                expected = [clinician.totp_secret] if table.name == "clinicians" else []
                assert holding == expected, table.name
                assert not any("otpauth" in value or GOOD in value for value in values)


def test_create_with_admin_flag(app: Flask) -> None:
    code, _ = create(app, "lead@clinic.example", "--name", "Lead", "--admin")
    assert code == 0
    assert stored(app)[0].is_admin


def test_create_asks_for_the_password_twice_at_a_hidden_prompt(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["clinician", "create", "ana@clinic.example", "--name", "Ana"],
        input=f"{GOOD}\n{GOOD}\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    assert GOOD not in result.output  # hidden input is not echoed


def test_create_refuses_when_the_two_entries_differ(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["clinician", "create", "ana@clinic.example", "--name", "Ana"],
        input=f"{GOOD}\n{GOOD}x\n{GOOD}\n{GOOD}\n",
    )
    assert "do not match" in result.output
    assert result.exit_code == 0  # the prompt asks again until both entries agree
    assert len(stored(app)) == 1


@pytest.mark.parametrize(
    ("length", "accepted"), [(0, False), (11, False), (12, True), (128, True), (129, False)]
)
def test_password_length_limits(app: Flask, length: int, accepted: bool) -> None:
    code, output = create(app, "ana@clinic.example", "--name", "Ana", password="p" * length)
    if accepted:
        assert code == 0, output
        assert len(stored(app)) == 1
    else:
        assert code == 2
        assert "at least 12" in output and "at most 128" in output
        assert f"has {length} characters" in output
        assert stored(app) == [] and audit_rows(app) == []
        assert "otpauth" not in output


def test_create_refuses_a_duplicate_email_whatever_its_case(app: Flask) -> None:
    assert create(app, "ana@clinic.example", "--name", "Ana")[0] == 0
    code, output = create(app, "  ANA@Clinic.example ", "--name", "Other Ana")
    assert code == 1
    assert "already exists" in output and "otpauth" not in output
    assert [c.name for c in stored(app)] == ["Ana"]


@pytest.mark.parametrize("email", ["not-an-email", "ana@localhost", "ana @clinic.example"])
def test_create_refuses_something_that_is_not_an_email(app: Flask, email: str) -> None:
    code, output = create(app, email, "--name", "Ana")
    assert code == 2
    assert "is not an email address" in output
    assert stored(app) == []


def test_create_needs_a_name(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["clinician", "create", "ana@clinic.example"])
    assert result.exit_code == 2 and "--name" in result.output
    assert create(app, "ana@clinic.example", "--name", "  ")[0] == 2
    assert stored(app) == []


def test_list_shows_email_name_admin_and_active_and_no_secret(app: Flask) -> None:
    create(app, "ana@clinic.example", "--name", "Ana Okafor", "--admin")
    create(app, "ben@clinic.example", "--name", "Ben Roy")
    app.test_cli_runner().invoke(args=["clinician", "disable", "ben@clinic.example"])
    result = app.test_cli_runner().invoke(args=["clinician", "list"])
    assert result.exit_code == 0
    lines = [line.split() for line in result.output.splitlines()]
    assert lines == [
        ["EMAIL", "NAME", "ADMIN", "ACTIVE"],
        ["ana@clinic.example", "Ana", "Okafor", "yes", "yes"],
        ["ben@clinic.example", "Ben", "Roy", "no", "no"],
    ]
    for clinician in stored(app):
        assert clinician.totp_secret not in result.output
        assert clinician.password_hash not in result.output
    assert "argon2" not in result.output and "otpauth" not in result.output


def test_disable_ends_a_live_session_at_once_and_blocks_sign_in(
    app: Flask, signed_in: FlaskClient, clinician: TestClinician, clock: Clock
) -> None:
    assert signed_in.get(TEST_PAGE).status_code == 200
    result = app.test_cli_runner().invoke(args=["clinician", "disable", "ANA@clinic.example"])
    assert result.exit_code == 0, result.output
    after = load(app, clinician.id)
    assert not after.is_active and after.session_version == 2

    response = signed_in.get(TEST_PAGE)
    assert response.status_code == 302
    assert response.location.startswith("/clinic/sign-in")
    events = audit_rows(app)
    assert events[-2].action == "clinician_disabled"
    assert events[-2].detail == {"clinician_id": clinician.id, "via": "cli"}
    assert (events[-1].action, events[-1].detail) == ("session_expired", {"reason": "disabled"})

    clock.advance(seconds=30)
    refused = submit_password(signed_in, clinician.email, clinician.password)
    assert refused.status_code == 400 and FAILED in refused.get_data(as_text=True)


def test_disable_an_unknown_email(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["clinician", "disable", "nobody@clinic.example"])
    assert result.exit_code == 1
    assert "No clinician has the email 'nobody@clinic.example'" in result.output
    assert audit_rows(app) == []


def test_reset_2fa_gives_a_new_secret_ends_sessions_and_refuses_old_codes(
    app: Flask, signed_in: FlaskClient, clinician: TestClinician, clock: Clock
) -> None:
    before = load(app, clinician.id)
    old_code = current_code(app, clinician.email, steps_ahead=1)
    assert before.last_totp_step is not None  # set by signing in

    result = app.test_cli_runner().invoke(args=["clinician", "reset-2fa", clinician.email])
    assert result.exit_code == 0, result.output
    after = load(app, clinician.id)
    assert after.totp_secret != before.totp_secret
    assert after.last_totp_step is None
    assert after.session_version == before.session_version + 1
    [uri] = URI.findall(result.output)
    assert parse_qs(urlsplit(uri).query)["secret"] == [after.totp_secret]
    assert audit_rows(app)[-1].action == "clinician_2fa_reset"
    assert after.totp_secret not in json.dumps([e.detail for e in audit_rows(app)])

    assert signed_in.get(TEST_PAGE).status_code == 302  # the session ended

    clock.advance(seconds=30)
    submit_password(signed_in, clinician.email, clinician.password)
    assert old_code != pyotp.TOTP(after.totp_secret).at(clock())
    assert submit_code(signed_in, old_code).status_code == 400
    assert sign_in(signed_in, app, clinician).status_code == 303


def test_reset_2fa_an_unknown_email(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["clinician", "reset-2fa", "x@clinic.example"])
    assert result.exit_code == 1 and "otpauth" not in result.output


def test_help_texts_come_from_the_docstrings(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert (
        "Create a clinician account" in runner.invoke(args=["clinician", "create", "--help"]).output
    )
    assert (
        "end their open sessions" in runner.invoke(args=["clinician", "disable", "--help"]).output
    )
    assert "new TOTP secret" in runner.invoke(args=["clinician", "reset-2fa", "--help"]).output
    assert "List clinicians" in runner.invoke(args=["clinician", "list", "--help"]).output
