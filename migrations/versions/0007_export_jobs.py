"""Issue 12: bulk exports prepared in the background (export_jobs)

Revision ID: 0007_export_jobs
Revises: 0006_queue_scale
Create Date: 2026-12-05

"""

from alembic import op
import sqlalchemy as sa

revision = "0007_export_jobs"
down_revision = "0006_queue_scale"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(length=128), nullable=True),
        sa.CheckConstraint("kind IN ('submissions', 'flags')", name=op.f("ck_export_jobs_kind")),
        sa.CheckConstraint("format IN ('csv')", name=op.f("ck_export_jobs_format")),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'done', 'failed', 'expired')",
            name=op.f("ck_export_jobs_state"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["clinicians.id"],
            name=op.f("fk_export_jobs_requester_id_clinicians"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_export_jobs_state", ["state", "created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_export_jobs_requester_id"), ["requester_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_export_jobs_expires_at"), ["expires_at"], unique=False)


def downgrade():
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_export_jobs_expires_at"))
        batch_op.drop_index(batch_op.f("ix_export_jobs_requester_id"))
        batch_op.drop_index("ix_export_jobs_state")
    op.drop_table("export_jobs")
