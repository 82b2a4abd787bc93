"""Seal patient data at rest: answers, facts, evidence, drafts, notes and TOTP secrets

Revision ID: 0003_sealed
Revises: 0002_review
Create Date: 2026-11-22

Each value is re-written as AES-GCM ciphertext with the app's answers key
(questionnaire.records.crypto), so `flask db upgrade` must run with the same key the
app uses (ANSWERS_KEY or instance/answers.key).
"""

from alembic import op
import sqlalchemy as sa

from questionnaire.records.crypto import keyring

revision = "0003_sealed"
down_revision = "0002_review"
branch_labels = None
depends_on = None

#: (table, column, was JSON, old type) for every sealed column.
SEALED = [
    ("submissions", "answers", True, sa.JSON()),
    ("submissions", "facts", True, sa.JSON()),
    ("flags", "evidence", True, sa.JSON()),
    ("flags", "acknowledgement_note", False, sa.Text()),
    ("drafts", "answers", True, sa.JSON()),
    ("notes", "text", False, sa.Text()),
    ("clinicians", "totp_secret", False, sa.String(length=64)),
]


def _rewrite(table, column, change):
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")
    ).all()
    for ident, value in rows:
        connection.execute(
            sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
            {"value": change(value), "id": ident},
        )


def upgrade():
    ring = keyring()
    for table, column, _was_json, old_type in SEALED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=old_type,
                type_=sa.Text(),
                postgresql_using=f"{column}::text",
            )
        context = f"{table}.{column}"
        _rewrite(
            table, column, lambda text, context=context: ring.seal(str(text).encode(), context)
        )


def downgrade():
    ring = keyring()
    for table, column, was_json, old_type in reversed(SEALED):
        context = f"{table}.{column}"
        _rewrite(table, column, lambda text, context=context: ring.open(text, context).decode())
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.Text(),
                type_=old_type,
                postgresql_using=f"{column}::json" if was_json else None,
            )
