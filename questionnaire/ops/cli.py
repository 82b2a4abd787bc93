"""`flask keys rotate`, `purge`, `notifications send` and `alerts sweep`: thin Click wrappers."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from questionnaire.extensions import db, now
from questionnaire.ops.keys import RotationRefused, reindex_names, rotate, rotate_name_index
from questionnaire.ops.purge import purge
from questionnaire.urgent.outbox import deliver_pending
from questionnaire.urgent.sweep import sweep


@click.group("keys")
def keys_cli() -> None:
    """The key that seals patient data at rest."""


@keys_cli.command("make-secret")
def make_secret_command() -> None:
    """Print a new random SECRET_KEY (32 random bytes, URL-safe base64) for production."""
    click.echo(secrets.token_urlsafe(32))


@keys_cli.command("rotate")
@click.option(
    "--new-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the new key when the current one comes from ANSWERS_KEY.",
)
@with_appcontext
def rotate_command(new_key_file: Path | None) -> None:
    """Make a new answers key and re-seal every stored value with it.

    With the key in instance/answers.key, the file is replaced (the old key is
    kept as answers.key.previous until you delete it). With ANSWERS_KEY, pass
    --new-key-file: the new key is written there (mode 600); then set ANSWERS_KEY
    to its contents and restart, keeping the old key in ANSWERS_OLD_KEYS until then.
    """
    try:
        done = rotate(new_key_file)
    except RotationRefused as refused:
        click.echo(str(refused), err=True)
        sys.exit(2)
    click.echo(f"Re-sealed {done.values} values with key {done.key_id}.")
    if done.previous_path is None:
        click.echo(
            f"Now set ANSWERS_KEY to the contents of {done.new_key_path}, put the old key in "
            "ANSWERS_OLD_KEYS, restart, then remove ANSWERS_OLD_KEYS."
        )
    else:
        click.echo(f"The old key is in {done.previous_path}: delete it once backups are rotated.")


@keys_cli.command("reindex-names")
@with_appcontext
def reindex_names_command() -> None:
    """Index every stored submission's name for name search (run once after upgrading)."""
    click.echo(f"Indexed the names of {reindex_names()} submissions.")


@keys_cli.command("rotate-name-index")
@click.option(
    "--new-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the new key when the current one comes from NAME_INDEX_KEY.",
)
@with_appcontext
def rotate_name_index_command(new_key_file: Path | None) -> None:
    """Make a new name-index key and rebuild the name index under it.

    With the key in instance/name-index.key, the file is replaced. With NAME_INDEX_KEY,
    pass --new-key-file: the new key is written there (mode 600); set NAME_INDEX_KEY to
    its contents and restart every worker (until then, their name searches find nothing).
    """
    try:
        done = rotate_name_index(new_key_file)
    except RotationRefused as refused:
        click.echo(str(refused), err=True)
        sys.exit(2)
    click.echo(f"Rebuilt the name index of {done.submissions} submissions with key {done.key_id}.")
    if done.set_environment:
        click.echo(f"Now set NAME_INDEX_KEY to the contents of {done.new_key_path} and restart.")


@click.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    default=None,
    help="Delete submissions sent more than this many days ago (default RETENTION_DAYS).",
)
@with_appcontext
def purge_command(days: int | None) -> None:
    """Delete old submissions (with their flags, notes and alerts) and expired drafts.

    The audit trail is kept, without patient data, and records the purge.
    """
    days = days or int(current_app.config["RETENTION_DAYS"])
    result = purge(db.session, days, now())
    click.echo(
        f"Deleted {result.submissions} submissions older than {days} days "
        f"({result.flags} flags, {result.notes} notes, {result.notifications} alerts), "
        f"{result.unsent_intakes} marked unsent urgent intakes "
        f"and {result.drafts} expired drafts. The audit trail is kept."
    )


@click.group("notifications")
def notifications_cli() -> None:
    """Urgent-intake alert emails."""


@notifications_cli.command("send")
@with_appcontext
def send_command() -> None:
    """Send every urgent alert not yet sent (run it from cron to retry failures)."""
    outcome = deliver_pending(db.session, current_app.config)
    click.echo(f"{outcome['sent']} sent, {outcome['failed']} failed.")
    if outcome["failed"]:
        sys.exit(1)


@click.group("alerts")
def alerts_cli() -> None:
    """Urgent-intake alerts: the sweep cron runs every minute."""


@alerts_cli.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Raise unsent urgent intakes, send second alerts, retry unsent alerts (idempotent)."""
    outcome = sweep(db.session, current_app.extensions["rule_table"], current_app.config, now())
    click.echo(
        f"{outcome.raised} unsent urgent intakes raised, {outcome.escalated} escalated, "
        f"{outcome.sent} alerts sent, {outcome.failed} failed, "
        f"{outcome.exports_expired} export jobs expired."
    )
    if outcome.failed:
        sys.exit(1)
