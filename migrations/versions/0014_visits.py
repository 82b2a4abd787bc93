"""Issue 27: patients (a reviewed submission's person) and their treatment visits with check-ins

Revision ID: 0014_visits
Revises: 0013_questionnaire_versions
Create Date: 2026-12-08

Two new tables. Nothing personal in clear: names stay on the submission; a visit's
answers, facts and flags are sealed.
"""

import sqlalchemy as sa
from alembic import op

from questionnaire.records.models import UTCDateTime

revision = "0014_visits"
down_revision = "0013_questionnaire_versions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("reminders_agreed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["clinicians.id"], name=op.f("fk_patients_created_by_id_clinicians")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_patients_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_patients_submission_id")),
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=True),
        sa.Column("checked_in_at", UTCDateTime(), nullable=True),
        sa.Column("answers", sa.Text(), nullable=True),
        sa.Column("facts", sa.Text(), nullable=True),
        sa.Column("flags", sa.Text(), nullable=True),
        sa.Column("highest_level", sa.String(8), nullable=True),
        sa.Column("crisis", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("rules_version", sa.String(64), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.CheckConstraint(
            "highest_level IS NULL OR highest_level IN ('urgent', 'review', 'info')",
            name=op.f("ck_visits_highest_level"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["clinicians.id"], name=op.f("fk_visits_created_by_id_clinicians")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_visits_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_visits_token_hash")),
    )
    op.create_index(op.f("ix_visits_patient_id"), "visits", ["patient_id"])
    op.create_index(op.f("ix_visits_scheduled_at"), "visits", ["scheduled_at"])
    # A hold on a check-in alerts the on-call addresses through the same outbox.
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visit_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("visit_address", ["kind", "visit_id", "address"])
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_visit_id_visits"),
            "visits",
            ["visit_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    op.execute("DELETE FROM notifications WHERE visit_id IS NOT NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_notifications_visit_id_visits"), type_="foreignkey")
        batch_op.drop_constraint("visit_address", type_="unique")
        batch_op.drop_column("visit_id")
    op.drop_index(op.f("ix_visits_scheduled_at"), table_name="visits")
    op.drop_index(op.f("ix_visits_patient_id"), table_name="visits")
    op.drop_table("visits")
    op.drop_table("patients")
