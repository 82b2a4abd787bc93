"""`flask keys rotate`: re-seal every stored value with a new answers key.

Order matters, so that no crash can leave data sealed with a key nobody has:
the new key is written to disk first, then every sealed value is re-written in
one transaction, and only after that commit does the new key replace the old.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from questionnaire import audit
from questionnaire.crypto import (
    KEY_FILE_NAME,
    EncryptedJSON,
    Keyring,
    key_id,
    keyring,
    new_key,
    write_key_file,
)
from questionnaire.extensions import db


def sealed_columns() -> Iterator[tuple[sa.Table, sa.Column[str], str]]:
    """Yield every column stored sealed, with the context it is sealed under."""
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedJSON):
                yield table, column, column.type.context


def reseal(connection: sa.Connection, old: Keyring, new: Keyring) -> int:
    """Re-write every sealed value under the new key; return how many were re-written."""
    count = 0
    for table, column, context in sealed_columns():
        rows = connection.execute(
            sa.select(table.c.id, sa.cast(column, sa.Text)).where(column.is_not(None))
        ).all()
        for ident, stored in rows:
            plaintext = old.open(stored, context)
            connection.execute(
                sa.update(table)
                .where(table.c.id == ident)
                .values({column.name: sa.literal(new.seal(plaintext, context), sa.Text)})
            )
            count += 1
    return count


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
    old = keyring()
    key_path = Path(current_app.instance_path) / KEY_FILE_NAME
    if old.origin == "env" and new_key_file is None:
        click.echo(
            "The key comes from ANSWERS_KEY: pass --new-key-file PATH to receive the new key.",
            err=True,
        )
        sys.exit(2)
    fresh = new_key()
    staged = new_key_file or key_path.with_name(key_path.name + ".next")
    write_key_file(staged, fresh)
    new = Keyring(fresh, [old.current, *old.older], origin=old.origin)
    with db.engine.begin() as connection:
        count = reseal(connection, old, Keyring(fresh))
    if old.origin == "file":
        write_key_file(key_path.with_name(key_path.name + ".previous"), old.current)
        staged.replace(key_path)
    current_app.extensions["keyring"] = new
    audit.record(db.session, "keys_rotated", detail={"values": count, "key": key_id(fresh)})
    db.session.commit()
    click.echo(f"Re-sealed {count} values with key {key_id(fresh)}.")
    if old.origin == "env":
        click.echo(
            f"Now set ANSWERS_KEY to the contents of {staged}, put the old key in "
            "ANSWERS_OLD_KEYS, restart, then remove ANSWERS_OLD_KEYS."
        )
    else:
        click.echo(
            f"The old key is in {key_path.with_name(key_path.name + '.previous')}: delete it once backups are rotated."
        )
