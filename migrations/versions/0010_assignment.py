"""Issue 14: a clinician takes a submission (submissions.assigned_to_id, assigned_at)

Revision ID: 0010_assignment
Revises: 0009_enrolment
Create Date: 2026-12-06

Plain ALTER TABLE … ADD COLUMN, never batch_alter_table: on SQLite a batch rebuild of
submissions drops the queue_counts triggers (see QueueCount). Both columns are nullable,
so SQLite adds them in place, the foreign key inline with its column. The key has no
ON DELETE (clinicians are disabled, never deleted): SQLAlchemy does not read an inline
key's options back from SQLite, so one would show as a difference from the models.
"""

from alembic import op
import sqlalchemy as sa

from questionnaire.records.models import UTCDateTime

revision = "0010_assignment"
down_revision = "0009_enrolment"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite adds a column's foreign key only inline with it, and Alembic's add_column
        # would ask for an ALTER of constraints (which needs a batch rebuild): say it in SQL.
        op.execute(
            "ALTER TABLE submissions ADD COLUMN assigned_to_id INTEGER"
            " CONSTRAINT fk_submissions_assigned_to_id_clinicians"
            " REFERENCES clinicians (id)"
        )
    else:
        op.add_column("submissions", sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_submissions_assigned_to_id_clinicians"),
            "submissions",
            "clinicians",
            ["assigned_to_id"],
            ["id"],
        )
    op.add_column("submissions", sa.Column("assigned_at", UTCDateTime(), nullable=True))
    op.create_index(
        "ix_submissions_assigned_queue",
        "submissions",
        ["assigned_to_id", "level_rank", "submitted_at", "id"],
    )


def downgrade():
    op.drop_index("ix_submissions_assigned_queue", table_name="submissions")
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(
            op.f("fk_submissions_assigned_to_id_clinicians"), "submissions", type_="foreignkey"
        )
    # SQLite 3.35+ drops a column in place (no rebuild, so the triggers stay); its foreign key
    # goes with it.
    op.drop_column("submissions", "assigned_at")
    op.drop_column("submissions", "assigned_to_id")
