"""`flask visits schedule`: book a treatment visit from the shell and print its check-in link."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from questionnaire.clinic_time import zone_of
from questionnaire.extensions import db, now
from questionnaire.security import external_url
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
@with_appcontext
def schedule_command(reference: str, at: str) -> None:
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
    db.session.commit()
    with current_app.test_request_context("/"):
        link = external_url("visits.checkin_page", token=booking.token)
    click.echo(f"Visit booked for {at} ({current_app.config['CLINIC_TIMEZONE']}).")
    click.echo(f"Check-in link (shown once): {link}")


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
