"""Issue 14: each submission records the questionnaire version its patient answered

Revision ID: 0008_questionnaire_version
Revises: 0007_export_jobs
Create Date: 2026-12-12

Plain add_column and drop_column, never batch_alter_table: on SQLite a batch
rebuild of submissions would drop its queue_counts triggers (see QueueCount).
Submissions stored before keep NULL: which version they answered is unknown.
"""

from alembic import op
import sqlalchemy as sa

revision = "0008_questionnaire_version"
down_revision = "0007_export_jobs"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "submissions",
        sa.Column("questionnaire_version", sa.String(length=16), nullable=True),
    )


def downgrade():
    op.drop_column("submissions", "questionnaire_version")
