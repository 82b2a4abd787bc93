"""`flask clinician create | set-password | disable | set-admin | reset-2fa | grant-export |
revoke-export | list`.

Thin wrappers over service.py.
"""

from __future__ import annotations

import io
import sys
from typing import NoReturn

import click
import segno
from flask import current_app
from flask.cli import AppGroup

from questionnaire.auth.accounts import service as account_service
from questionnaire.auth.signin import service
from questionnaire.exports import jobs as export_jobs
from questionnaire.extensions import db

EXIT_FAILED = 1
EXIT_INVALID = 2

clinician_group = AppGroup("clinician", help="Create, disable and list clinician accounts.")


def _fail(message: str, code: int) -> NoReturn:
    db.session.rollback()
    click.echo(message, err=True)
    sys.exit(code)


def qr_for_terminal(uri: str) -> str:
    """Return the URI's QR code drawn in text blocks (two rows a line), for a terminal."""
    drawn = io.StringIO()
    segno.make(uri, error="m").terminal(out=drawn, compact=True, border=2)
    return drawn.getvalue()


def _show_uri(uri: str) -> None:
    click.echo("")
    click.echo("Add this to the clinician's authenticator app now: scan the QR code, or paste")
    click.echo("the otpauth:// text below it. It is shown only this once:")
    click.echo("")
    click.echo(qr_for_terminal(uri), nl=False)
    click.echo("")
    click.echo(f"  {uri}")
    click.echo("")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@clinician_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The clinician's name, as colleagues see it.")
@click.option("--admin", is_flag=True, help="Let this clinician see the audit log and admin pages.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of a prompt.",
)
def create_command(email: str, name: str, admin: bool, password_stdin: bool) -> None:
    """Create a clinician account and print its TOTP provisioning URI once.

    The password (12 to 128 characters) is asked twice at a hidden prompt, or
    read from one line of standard input with --password-stdin. The email is
    stored lower-case and must not be taken already.
    """
    try:
        service.check_new_email(db.session, email)
        service.check_name(name)
    except (service.InvalidEmail, service.InvalidName) as error:
        _fail(f"Not created: {error}", EXIT_INVALID)
    except service.DuplicateEmail as error:
        _fail(f"Not created: {error}", EXIT_FAILED)
    password = _read_password(password_stdin)
    try:
        created = service.create_clinician(
            db.session,
            email=email,
            name=name,
            password=password,
            is_admin=admin,
            issuer=current_app.config["CLINIC_NAME"],
        )
    except (service.PasswordPolicyError, service.InvalidEmail, service.InvalidName) as error:
        _fail(f"Not created: {error}", EXIT_INVALID)
    except service.AccountError as error:
        _fail(f"Not created: {error}", EXIT_FAILED)
    db.session.commit()
    clinician = created.clinician
    role = "admin" if clinician.is_admin else "clinician"
    click.echo(f"Created {role} {clinician.email} ({clinician.name}).")
    _show_uri(created.provisioning_uri)


@clinician_group.command("set-password")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of a prompt.",
)
def set_password_command(email: str, password_stdin: bool) -> None:
    """Set a clinician's password (12 to 128 characters) and end their sessions (audited).

    The password is asked twice at a hidden prompt, or read from one line of
    standard input with --password-stdin.
    """
    from questionnaire.auth.accounts import service as account_service

    if service.find_clinician(db.session, email) is None:
        _fail(f"No clinician has the email {service.normalise_email(email)!r}.", EXIT_FAILED)
    password = _read_password(password_stdin)
    try:
        clinician = account_service.set_password(db.session, email, password)
    except service.PasswordPolicyError as error:
        _fail(f"Not changed: {error}", EXIT_INVALID)
    db.session.commit()
    click.echo(f"New password for {clinician.email}; their sessions have ended.")


@clinician_group.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Stop a clinician from signing in, and end their open sessions at once."""
    try:
        clinician, cancelled = account_service.disable_clinician(db.session, email)
    except service.UnknownClinician as error:
        _fail(str(error), EXIT_FAILED)
    db.session.commit()
    for job_id in cancelled:
        export_jobs.remove_files(current_app.config, job_id)
    click.echo(f"Disabled {clinician.email}; their sessions, open links and exports have ended.")


@clinician_group.command("set-admin")
@click.argument("email")
def set_admin_command(email: str) -> None:
    """Give a clinician the admin role (audited): the way back when no admin is left."""
    try:
        clinician = account_service.set_admin(db.session, email)
    except service.UnknownClinician as error:
        _fail(str(error), EXIT_FAILED)
    db.session.commit()
    note = "" if clinician.is_active else " (the account is disabled: it cannot sign in)"
    click.echo(f"{clinician.email} is now an admin{note}.")


@clinician_group.command("reset-2fa")
@click.argument("email")
def reset_2fa_command(email: str) -> None:
    """Give a clinician a new TOTP secret, end their sessions, and print the new URI once.

    Codes from the old authenticator entry stop working at once.
    """
    try:
        reset = service.reset_2fa(db.session, email, current_app.config["CLINIC_NAME"])
    except service.UnknownClinician as error:
        _fail(str(error), EXIT_FAILED)
    db.session.commit()
    click.echo(f"New second factor for {reset.clinician.email}; their sessions have ended.")
    _show_uri(reset.provisioning_uri)


@clinician_group.command("grant-export")
@click.argument("email")
def grant_export_command(email: str) -> None:
    """Let a clinician download every submission and flag as CSV (bulk export).

    Every clinician can still download one submission as FHIR; the grant is audited.
    """
    _set_export(email, True)


@clinician_group.command("revoke-export")
@click.argument("email")
def revoke_export_command(email: str) -> None:
    """Take back a clinician's permission to download CSV exports."""
    _set_export(email, False)


def _set_export(email: str, allowed: bool) -> None:
    try:
        clinician = service.set_export_permission(db.session, email, allowed)
    except service.UnknownClinician as error:
        _fail(str(error), EXIT_FAILED)
    db.session.commit()
    may = "may now" if allowed else "may no longer"
    click.echo(f"{clinician.email} {may} download CSV exports.")


@clinician_group.command("list")
def list_command() -> None:
    """List clinicians: email, name, admin or not, active or disabled."""
    clinicians = service.list_clinicians(db.session)
    if not clinicians:
        click.echo("No clinicians yet. Create one with: flask clinician create EMAIL --name NAME")
        return
    rows = [("EMAIL", "NAME", "ADMIN", "ACTIVE")] + [
        (
            clinician.email,
            clinician.name,
            "yes" if clinician.is_admin else "no",
            "yes" if clinician.is_active else "no",
        )
        for clinician in clinicians
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
