"""Issue 26: every questionnaire definition served, so a submission renders with its own questions

Revision ID: 0015_questionnaire_definitions
Revises: 0014_visits
Create Date: 2026-12-08

A new table only (public data: the definition file's text, keyed by the fingerprint a
submission stores as its questionnaire_version).
"""

from alembic import op
import sqlalchemy as sa

from questionnaire.records.models import UTCDateTime

revision = "0015_questionnaire_definitions"
down_revision = "0014_visits"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "questionnaire_definitions",
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("first_served_at", UTCDateTime(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_questionnaire_definitions")),
    )


def downgrade():
    op.drop_table("questionnaire_definitions")
