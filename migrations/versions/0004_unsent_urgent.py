"""Unsent urgent intakes, escalation alerts, sweep runs, and how far a draft has got

Revision ID: 0004_unsent_urgent
Revises: 0003_sealed
Create Date: 2026-12-02

"""

from alembic import op
import sqlalchemy as sa

revision = "0004_unsent_urgent"
down_revision = "0003_sealed"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "unsent_intakes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=8), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("answer_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('contacted', 'could_not_reach')",
            name=op.f("ck_unsent_intakes_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["clinicians.id"],
            name=op.f("fk_unsent_intakes_closed_by_id_clinicians"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
            name=op.f("fk_unsent_intakes_draft_id_drafts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_unsent_intakes_submission_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unsent_intakes")),
        sa.UniqueConstraint("draft_id", name=op.f("uq_unsent_intakes_draft_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_unsent_intakes_reference")),
    )
    with op.batch_alter_table("unsent_intakes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unsent_intakes_closed_at"), ["closed_at"])
        batch_op.create_index(batch_op.f("ix_unsent_intakes_submission_id"), ["submission_id"])

    op.create_table(
        "sweep_runs",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sweep_runs")),
    )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="urgent")
        )
        batch_op.add_column(sa.Column("unsent_intake_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint("submission_address", type_="unique")
        batch_op.create_unique_constraint(
            "submission_address", ["kind", "submission_id", "address"]
        )
        batch_op.create_unique_constraint(
            "unsent_address", ["kind", "unsent_intake_id", "address"]
        )
        batch_op.create_check_constraint("kind", "kind IN ('urgent', 'escalation')")
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_unsent_intake_id_unsent_intakes"),
            "unsent_intakes",
            ["unsent_intake_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pages_done", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "contact_consent", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("judged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_column("judged_at")
        batch_op.drop_column("contact_consent")
        batch_op.drop_column("pages_done")

    # Alerts about unsent intakes and escalations have no place in the old schema.
    op.execute("DELETE FROM notifications WHERE kind <> 'urgent' OR unsent_intake_id IS NOT NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_notifications_unsent_intake_id_unsent_intakes"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch_op.drop_constraint("unsent_address", type_="unique")
        batch_op.drop_constraint("submission_address", type_="unique")
        batch_op.create_unique_constraint("submission_address", ["submission_id", "address"])
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("unsent_intake_id")
        batch_op.drop_column("kind")

    op.drop_table("sweep_runs")
    with op.batch_alter_table("unsent_intakes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unsent_intakes_submission_id"))
        batch_op.drop_index(batch_op.f("ix_unsent_intakes_closed_at"))
    op.drop_table("unsent_intakes")
