"""Issue 28: every questionnaire version served, kept so an old response's questionnaire resolves

Revision ID: 0013_questionnaire_versions
Revises: 0012_name_index
Create Date: 2026-12-07

A new table only (public data: the FHIR Questionnaire as it was served).
"""

from alembic import op
import sqlalchemy as sa

from questionnaire.records.models import UTCDateTime

revision = "0013_questionnaire_versions"
down_revision = "0012_name_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "questionnaire_versions",
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("first_served_at", UTCDateTime(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_questionnaire_versions")),
    )


def downgrade():
    op.drop_table("questionnaire_versions")
