"""Issue 12: the queue at a million rows: counts kept by triggers, indexes for every filter

Revision ID: 0006_queue_scale
Revises: 0005_hardening
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa

from questionnaire.records.models import QUEUE_COUNT_TRIGGERS, UTCDateTime, queue_count_seed

revision = "0006_queue_scale"
down_revision = "0005_hardening"
branch_labels = None
depends_on = None

SHARDS = 8


def upgrade():
    bind = op.get_bind()
    op.create_index(
        "ix_submissions_status_queue",
        "submissions",
        ["status", "level_rank", "submitted_at", "id"],
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("level_rank", sa.Integer(), server_default="3", nullable=False))
        batch_op.add_column(sa.Column("submitted_at", UTCDateTime(), nullable=True))
    # Copy each submission's place in the queue onto its flags (neither ever changes).
    op.execute(
        "UPDATE flags SET level_rank = (SELECT level_rank FROM submissions"
        " WHERE submissions.id = flags.submission_id),"
        " submitted_at = (SELECT submitted_at FROM submissions"
        " WHERE submissions.id = flags.submission_id)"
    )
    op.create_index(
        "ix_flags_rule_queue", "flags", ["rule", "level_rank", "submitted_at", "submission_id"]
    )
    counts = op.create_table(
        "queue_counts",
        sa.Column("level_rank", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("level_rank", "status", "shard", name=op.f("pk_queue_counts")),
    )
    op.bulk_insert(counts, queue_count_seed())
    shard = "mod(id, 8)" if bind.dialect.name == "postgresql" else "id % 8"
    op.execute(
        "UPDATE queue_counts SET n = (SELECT count(*) FROM submissions s"
        " WHERE s.level_rank = queue_counts.level_rank AND s.status = queue_counts.status"
        f" AND {shard.replace('id', 's.id')} = queue_counts.shard)"
    )
    for statement in QUEUE_COUNT_TRIGGERS.get(bind.dialect.name, ()):
        op.execute(statement)


def downgrade():
    bind = op.get_bind()
    for name in ("queue_counts_sent", "queue_counts_removed", "queue_counts_moved"):
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON submissions")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("queue_counts")
    op.drop_index("ix_flags_rule_queue", table_name="flags")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("level_rank")
    op.drop_index("ix_submissions_status_queue", table_name="submissions")
