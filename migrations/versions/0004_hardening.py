"""Issue 11: a version on drafts (no lost page saves), the bulk-export permission

Revision ID: 0004_hardening
Revises: 0003_sealed
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "0004_hardening"
down_revision = "0003_sealed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("clinicians", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("can_export", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("clinicians", schema=None) as batch_op:
        batch_op.drop_column("can_export")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_column("version")
