"""Issue 12: the queue at a million rows: counts kept by triggers, indexes for every filter

Revision ID: 0006_queue_scale
Revises: 0005_hardening
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa

from questionnaire.records.models import UTCDateTime

revision = "0006_queue_scale"
down_revision = "0005_hardening"
branch_labels = None
depends_on = None

SHARDS = 8

#: The triggers that keep queue_counts true, frozen as this migration installs them (a change
#: to them is a new migration). create_all() (the tests) installs the models' own copy.
TRIGGERS = {
    "postgresql": (
        (
            "CREATE FUNCTION queue_counts_sent() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " \n"
            "UPDATE queue_counts AS c SET n = c.n + d.k\n"
            "FROM (\n"
            "    SELECT level_rank, status, shard, sum(k) AS k FROM (SELECT level_rank, "
            "status, mod(id, 8)::int AS shard, 1 AS k FROM new_rows) AS moved\n"
            "    GROUP BY level_rank, status, shard HAVING sum(k) <> 0\n"
            ") AS d\n"
            "WHERE c.level_rank = d.level_rank AND c.status = d.status AND c.shard = d.shard;\n"
            " RETURN NULL; END $$"
        ),
        (
            "CREATE FUNCTION queue_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN \n"
            "UPDATE queue_counts AS c SET n = c.n + d.k\n"
            "FROM (\n"
            "    SELECT level_rank, status, shard, sum(k) AS k FROM (SELECT level_rank, "
            "status, mod(id, 8)::int AS shard, -1 AS k FROM old_rows) AS moved\n"
            "    GROUP BY level_rank, status, shard HAVING sum(k) <> 0\n"
            ") AS d\n"
            "WHERE c.level_rank = d.level_rank AND c.status = d.status AND c.shard = d.shard;\n"
            " RETURN NULL; END $$"
        ),
        (
            "CREATE FUNCTION queue_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN \n"
            "UPDATE queue_counts AS c SET n = c.n + d.k\n"
            "FROM (\n"
            "    SELECT level_rank, status, shard, sum(k) AS k FROM (SELECT o.level_rank, "
            "o.status, mod(o.id, 8)::int AS shard, -1 AS k FROM old_rows o JOIN new_rows n ON"
            " n.id = o.id WHERE o.status <> n.status OR o.level_rank <> n.level_rank UNION "
            "ALL SELECT n.level_rank, n.status, mod(n.id, 8)::int AS shard, 1 AS k FROM "
            "old_rows o JOIN new_rows n ON n.id = o.id WHERE o.status <> n.status OR "
            "o.level_rank <> n.level_rank) AS moved\n"
            "    GROUP BY level_rank, status, shard HAVING sum(k) <> 0\n"
            ") AS d\n"
            "WHERE c.level_rank = d.level_rank AND c.status = d.status AND c.shard = d.shard;\n"
            " RETURN NULL; END $$"
        ),
        (
            "CREATE TRIGGER queue_counts_sent AFTER INSERT ON submissions REFERENCING NEW "
            "TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_sent()"
        ),
        (
            "CREATE TRIGGER queue_counts_removed AFTER DELETE ON submissions REFERENCING OLD "
            "TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_removed()"
        ),
        (
            "CREATE TRIGGER queue_counts_moved AFTER UPDATE ON submissions REFERENCING OLD "
            "TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "
            "queue_counts_moved()"
        ),
    ),
    "sqlite": (
        (
            "CREATE TRIGGER queue_counts_sent AFTER INSERT ON submissions BEGIN UPDATE "
            "queue_counts SET n = n + 1 WHERE level_rank = NEW.level_rank AND status = "
            "NEW.status AND shard = NEW.id % 8; END"
        ),
        (
            "CREATE TRIGGER queue_counts_removed AFTER DELETE ON submissions BEGIN UPDATE "
            "queue_counts SET n = n - 1 WHERE level_rank = OLD.level_rank AND status = "
            "OLD.status AND shard = OLD.id % 8; END"
        ),
        (
            "CREATE TRIGGER queue_counts_moved AFTER UPDATE OF status, level_rank ON "
            "submissions WHEN OLD.status <> NEW.status OR OLD.level_rank <> NEW.level_rank "
            "BEGIN UPDATE queue_counts SET n = n - 1 WHERE level_rank = OLD.level_rank AND "
            "status = OLD.status AND shard = OLD.id % 8; UPDATE queue_counts SET n = n + 1 "
            "WHERE level_rank = NEW.level_rank AND status = NEW.status AND shard = NEW.id % "
            "8; END"
        ),
    ),
}

#: Every (level rank, status, shard) row the counts start with, at zero: ranks 0-3 (urgent,
#: review, info, no flag) and the three statuses of the time, over SHARDS shards.
SEED = [
    {"level_rank": rank, "status": status, "shard": shard, "n": 0}
    for rank in range(4)
    for status in ("new", "in_review", "reviewed")
    for shard in range(SHARDS)
]


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
    op.bulk_insert(counts, SEED)
    shard = "mod(id, 8)" if bind.dialect.name == "postgresql" else "id % 8"
    op.execute(
        "UPDATE queue_counts SET n = (SELECT count(*) FROM submissions s"
        " WHERE s.level_rank = queue_counts.level_rank AND s.status = queue_counts.status"
        f" AND {shard.replace('id', 's.id')} = queue_counts.shard)"
    )
    for statement in TRIGGERS.get(bind.dialect.name, ()):
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
