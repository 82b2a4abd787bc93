"""`flask audit export`: the audit trail since a day, as CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from flask.cli import with_appcontext

from questionnaire import audit
from questionnaire.audit.export import audit_csv
from questionnaire.audit.trail import TrailFilter, events_query
from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent


@click.group("audit")
def audit_cli() -> None:
    """The audit trail."""


@audit_cli.command("export")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="First day to include (YYYY-MM-DD, UTC).",
)
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="File to write (default standard output).",
)
@with_appcontext
def export_command(since: datetime, output: Any) -> None:
    """Write the audit trail since a day as CSV, oldest first."""
    query = events_query(TrailFilter(since=since.date())).order_by(None).order_by(AuditEvent.id)
    for chunk in audit_csv(db.session.scalars(query)):
        output.write(chunk)
    audit.record(db.session, "export_audit", detail={"since": since.date().isoformat()})
    db.session.commit()
