"""Rotating the answers key: re-seal every stored value with a new one.

Order matters, so that no crash can leave data sealed with a key nobody has:
the new key is written to disk first, then every sealed value is re-written in
one transaction, and only after that commit does the new key replace the old.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from questionnaire import audit
from questionnaire.extensions import db
from questionnaire.questions.blind_index import blind_tokens
from questionnaire.records.crypto import (
    KEY_FILE_NAME,
    NAME_INDEX_KEY_FILE,
    EncryptedJSON,
    Keyring,
    key_id,
    keyring,
    name_index_key,
    new_key,
    write_key_file,
)
from questionnaire.records.models import NameToken, Submission


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


class RotationRefused(ValueError):
    """The key cannot be rotated as asked; the message says what to pass."""


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: how many values, the new key's id, and where the keys are now."""

    values: int
    key_id: str
    #: "file" (instance/answers.key) or "env" (ANSWERS_KEY).
    origin: str
    #: Where the new key was written.
    new_key_path: Path
    #: Where the old key was kept (file keys only).
    previous_path: Path | None


def rotate(new_key_file: Path | None) -> Rotation:
    """Write a new key, re-seal every value with it in one transaction, then switch to it."""
    old = keyring()
    key_path = Path(current_app.instance_path) / KEY_FILE_NAME
    if old.origin == "env" and new_key_file is None:
        raise RotationRefused(
            "The key comes from ANSWERS_KEY: pass --new-key-file PATH to receive the new key."
        )
    fresh = new_key()
    staged = new_key_file or key_path.with_name(key_path.name + ".next")
    write_key_file(staged, fresh)
    with db.engine.begin() as connection:
        count = reseal(connection, old, Keyring(fresh))
    previous = None
    if old.origin == "file":
        previous = key_path.with_name(key_path.name + ".previous")
        write_key_file(previous, old.current)
        staged.replace(key_path)
    current_app.extensions["keyring"] = Keyring(fresh, [old.current, *old.older], origin=old.origin)
    audit.record(db.session, "keys_rotated", detail={"values": count, "key": key_id(fresh)})
    db.session.commit()
    return Rotation(count, key_id(fresh), old.origin, staged, previous)


# --- the name index's key (issue 25) -------------------------------------------------------


def rebuild_name_index(key: bytes) -> int:
    """Replace every submission's name tokens by their blind index under `key`, in one
    transaction (the caller commits); return how many submissions have a name indexed."""
    db.session.execute(sa.delete(NameToken))
    indexed = 0
    rows = db.session.execute(sa.select(Submission.id, Submission.answers)).all()
    for ident, answers in rows:
        digests = blind_tokens(str((answers or {}).get("full_name") or ""), key)
        if digests:
            db.session.execute(
                sa.insert(NameToken), [{"submission_id": ident, "digest": d} for d in digests]
            )
            indexed += 1
    return indexed


@dataclass(frozen=True)
class NameIndexRotation:
    """What a name-index key rotation did, and where the new key is."""

    submissions: int
    key_id: str
    #: Where the new key was written (instance/name-index.key, or the file asked for).
    new_key_path: Path
    #: True when NAME_INDEX_KEY must now be set to the new key and the app restarted.
    set_environment: bool


def reindex_names() -> int:
    """Index every stored submission's name under the current key (after the migration)."""
    count = rebuild_name_index(name_index_key())
    audit.record(db.session, "name_index_rebuilt", detail={"submissions": count})
    db.session.commit()
    return count


def rotate_name_index(new_key_file: Path | None) -> NameIndexRotation:
    """Make a new name-index key, rebuild the index under it in one transaction, switch to it.

    The new key is written before the rebuild, so no commit ever leaves an index whose key
    nobody has. With NAME_INDEX_KEY set, the new key goes to `new_key_file`; the running
    app uses it at once, and every other worker after the variable is changed and it restarts.
    """
    from_environment = bool(current_app.config.get("NAME_INDEX_KEY"))
    key_path = Path(current_app.instance_path) / NAME_INDEX_KEY_FILE
    if from_environment and new_key_file is None:
        raise RotationRefused(
            "The key comes from NAME_INDEX_KEY: pass --new-key-file PATH to receive the new key."
        )
    fresh = new_key()
    staged = new_key_file or key_path.with_name(key_path.name + ".next")
    write_key_file(staged, fresh)
    count = rebuild_name_index(fresh)
    audit.record(
        db.session, "name_index_rotated", detail={"submissions": count, "key": key_id(fresh)}
    )
    db.session.commit()
    if not from_environment:
        staged.replace(key_path)
    current_app.extensions["name_index_key"] = fresh
    return NameIndexRotation(count, key_id(fresh), staged if from_environment else key_path,
                             from_environment)  # fmt: skip
