"""Issue 25: the blind index of names (name search without reading a sealed name)

Revision ID: 0012_name_index
Revises: 0011_patient_requests
Create Date: 2026-12-07

A new table only (no change to submissions, so the queue_counts triggers stay). Submissions
sent before this revision have no tokens until `flask keys reindex-names` is run once
(docs/clinicians.md, "Searching by name").
"""

from alembic import op
import sqlalchemy as sa

revision = "0012_name_index"
down_revision = "0011_patient_requests"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "name_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_name_tokens_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_name_tokens")),
    )
    op.create_index(op.f("ix_name_tokens_digest"), "name_tokens", ["digest"])
    op.create_index(op.f("ix_name_tokens_submission_id"), "name_tokens", ["submission_id"])


def downgrade():
    op.drop_index(op.f("ix_name_tokens_submission_id"), table_name="name_tokens")
    op.drop_index(op.f("ix_name_tokens_digest"), table_name="name_tokens")
    op.drop_table("name_tokens")
