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
