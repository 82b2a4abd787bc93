"""Issue 11: a version on drafts, the bulk-export permission, sign-in limits per account and address

Revision ID: 0005_hardening
Revises: 0004_unsent_urgent
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "0005_hardening"
down_revision = "0004_unsent_urgent"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("clinicians", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("can_export", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("device_version", sa.Integer(), server_default="1", nullable=False)
        )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_key", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_login_attempts_account", ["account_key", "at"], unique=False)
        batch_op.create_index("ix_login_attempts_address", ["client_address", "at"], unique=False)


def downgrade():
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_address")
        batch_op.drop_index("ix_login_attempts_account")
        batch_op.drop_column("account_key")
    with op.batch_alter_table("clinicians", schema=None) as batch_op:
        batch_op.drop_column("device_version")
        batch_op.drop_column("can_export")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_column("version")
