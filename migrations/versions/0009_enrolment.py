"""Issue 14: accounts in the browser (enrolment_links, ended_sessions)

Revision ID: 0009_enrolment
Revises: 0008_questionnaire_version
Create Date: 2026-12-20

"""

from alembic import op
import sqlalchemy as sa

revision = "0009_enrolment"
down_revision = "0008_questionnaire_version"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "enrolment_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending_password_hash", sa.String(length=255), nullable=True),
        sa.Column("pending_totp_secret", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('invite', 'reset')", name=op.f("ck_enrolment_links_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["clinicians.id"],
            name=op.f("fk_enrolment_links_clinician_id_clinicians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["clinicians.id"],
            name=op.f("fk_enrolment_links_created_by_id_clinicians"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_enrolment_links_token_hash")),
    )
    op.create_index(
        op.f("ix_enrolment_links_clinician_id"), "enrolment_links", ["clinician_id"], unique=False
    )
    op.create_table(
        "ended_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["clinicians.id"],
            name=op.f("fk_ended_sessions_clinician_id_clinicians"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_hash", name=op.f("pk_ended_sessions")),
    )
    op.create_index(
        op.f("ix_ended_sessions_clinician_id"), "ended_sessions", ["clinician_id"], unique=False
    )
    op.create_index(
        op.f("ix_ended_sessions_ended_at"), "ended_sessions", ["ended_at"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_ended_sessions_ended_at"), table_name="ended_sessions")
    op.drop_index(op.f("ix_ended_sessions_clinician_id"), table_name="ended_sessions")
    op.drop_table("ended_sessions")
    op.drop_index(op.f("ix_enrolment_links_clinician_id"), table_name="enrolment_links")
    op.drop_table("enrolment_links")
