"""`flask visits schedule`: book a treatment visit from the shell and print its check-in link."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from questionnaire.clinic_time import zone_of
from questionnaire.extensions import db, now
from questionnaire.security import external_url
from questionnaire.visits.reminders import email_link, remind_due
from questionnaire.visits.service import VisitError, schedule_by_reference


@click.group("visits")
def visits_cli() -> None:
    """Treatment visits: book them and print their check-in links."""


@visits_cli.command("schedule")
@click.argument("reference")
@click.option(
    "--at",
    "at",
    required=True,
    help="The visit's date and time in the clinic's zone (CLINIC_TIMEZONE): 2027-01-05T09:30.",
)
@click.option(
    "--reminders",
    is_flag=True,
    help="The patient agreed to email reminders: email them the link now and before the visit.",
)
@with_appcontext
def schedule_command(reference: str, at: str, reminders: bool) -> None:
    """Book a visit for the patient of a reviewed intake and print its one-time check-in link.

    The link is shown once: only its SHA-256 is kept. Send it to the patient yourself,
    or let the clinic's booking system pass it on.
    """
    try:
        booking = schedule_by_reference(
            db.session, reference, at, zone=zone_of(current_app.config), actor=None, now=now()
        )
    except VisitError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    if reminders:
        booking.visit.patient.reminders_agreed = True
    db.session.commit()
    emailed = email_link(booking.visit, booking.token, _link_of, current_app.config)
    click.echo(f"Visit booked for {at} ({current_app.config['CLINIC_TIMEZONE']}).")
    if emailed:
        click.echo("The link was emailed to the patient.")
    click.echo(f"Check-in link (shown once): {_link_of(booking.token)}")


def _link_of(token: str) -> str:
    """Return a check-in link on the app's public address (no request: the CLI)."""
    with current_app.test_request_context("/"):
        return external_url("visits.checkin_page", token=token)


@visits_cli.command("remind")
@with_appcontext
def remind_command() -> None:
    """Email each due reminder (VISIT_REMINDER_HOURS before a visit) to patients who agreed.

    Run it from cron every few minutes. Each reminder carries a new link that replaces
    the earlier one; it is sent once.
    """
    outcome = remind_due(db.session, current_app.config, now(), _link_of)
    click.echo(f"Reminders: {outcome['sent']} sent, {outcome['failed']} not sent.")


@visits_cli.command("check-rules")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@with_appcontext
def check_rules_command(path: str | None) -> None:
    """Load the check-in's rule table (CHECKIN_RULES_PATH, or PATH) and run every case."""
    from questionnaire.rules import RuleTableError
    from questionnaire.visits.rules import load_checkin_table

    try:
        table = load_checkin_table(path or current_app.config["CHECKIN_RULES_PATH"])
    except RuleTableError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"{len(table.rules)} rules, {len(table.cases)} cases pass (version {table.version})."
    )
