"""Issue 14: a patient's requests: corrections, and submissions hidden after clinical use

Revision ID: 0011_patient_requests
Revises: 0010_assignment
Create Date: 2026-12-06

As 0010: plain ALTER TABLE … ADD COLUMN on submissions, never batch_alter_table (a batch
rebuild on SQLite drops the queue_counts triggers), the foreign key inline on SQLite.
"""

from alembic import op
import sqlalchemy as sa

from questionnaire.records.models import UTCDateTime

revision = "0011_patient_requests"
down_revision = "0010_assignment"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("submissions", sa.Column("hidden_at", UTCDateTime(), nullable=True))
    op.add_column("submissions", sa.Column("hidden_reason", sa.String(32), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE submissions ADD COLUMN hidden_by_id INTEGER"
            " CONSTRAINT fk_submissions_hidden_by_id_clinicians"
            " REFERENCES clinicians (id)"
        )
    else:
        op.add_column("submissions", sa.Column("hidden_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_submissions_hidden_by_id_clinicians"),
            "submissions",
            "clinicians",
            ["hidden_by_id"],
            ["id"],
        )
    op.create_index(
        "ix_submissions_hidden",
        "submissions",
        ["level_rank", "status"],
        postgresql_where=sa.text("hidden_at IS NOT NULL"),
        sqlite_where=sa.text("hidden_at IS NOT NULL"),
    )
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_corrections_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["clinicians.id"],
            name=op.f("fk_corrections_clinician_id_clinicians"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index(op.f("ix_corrections_submission_id"), "corrections", ["submission_id"])


def downgrade():
    op.drop_index(op.f("ix_corrections_submission_id"), table_name="corrections")
    op.drop_table("corrections")
    op.drop_index("ix_submissions_hidden", table_name="submissions")
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(
            op.f("fk_submissions_hidden_by_id_clinicians"), "submissions", type_="foreignkey"
        )
    op.drop_column("submissions", "hidden_by_id")
    op.drop_column("submissions", "hidden_reason")
    op.drop_column("submissions", "hidden_at")
