"""The stored facts: drafts, submissions and the flags their rules raised."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from questionnaire.extensions import db

LEVELS = ("urgent", "review", "info")
STATUSES = ("new", "in_review", "reviewed")


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("store timezone-aware datetimes only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Submission(db.Model):  # type: ignore[name-defined]
    """One completed questionnaire, as the patient sent it and as the rules judged it."""

    __tablename__ = "submissions"
    __table_args__ = (
        sa.CheckConstraint(_in("status", STATUSES), name="status"),
        sa.CheckConstraint(
            f"highest_level IS NULL OR {_in('highest_level', LEVELS)}", name="highest_level"
        ),
    )

    REFERENCE_LENGTH = 8

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the draft's token: one draft gives at most one submission, even if sent twice.
    draft_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: What the patient and the clinic quote; 8 characters from an unambiguous alphabet.
    reference: Mapped[str] = mapped_column(sa.String(REFERENCE_LENGTH), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The language the patient answered in (a BCP 47 tag such as "en" or "fr").
    language: Mapped[str] = mapped_column(sa.String(16), default="en")
    #: Normalised answers keyed by item id (see items.py).
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: Derived facts (age_years, weight_kg, bp_systolic, bp_diastolic).
    facts: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: The rule table that judged it: its version and the SHA-256 of its file.
    rules_version: Mapped[str] = mapped_column(sa.String(64))
    rules_sha256: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default="new", index=True)
    #: The most urgent flag's level, or None when nothing was flagged.
    highest_level: Mapped[str | None] = mapped_column(sa.String(8), index=True)

    flags: Mapped[list[Flag]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="Flag.id"
    )

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.status} {self.highest_level}>"


class Flag(db.Model):  # type: ignore[name-defined]
    """One rule that matched a submission, with snapshots so later table edits change nothing."""

    __tablename__ = "flags"
    __table_args__ = (sa.CheckConstraint(_in("level", LEVELS), name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(sa.String(64), index=True)
    level: Mapped[str] = mapped_column(sa.String(8))
    message: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.Text)
    #: Which items or facts had which values when the rule matched.
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)

    submission: Mapped[Submission] = relationship(back_populates="flags")

    def __repr__(self) -> str:
        return f"<Flag {self.id} {self.rule} {self.level}>"


class Draft(db.Model):  # type: ignore[name-defined]
    """Answers saved page by page before sending; found by a token the browser holds."""

    __tablename__ = "drafts"

    LIFETIME_HOURS = 72
    MAX_RESUME_FAILURES = 5

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the random token in the patient's session cookie (never the token itself).
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: SHA-256 of the token in a "come back later" link, once the patient asked for one.
    resume_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: Raw answers keyed by item id, as posted (validated page by page, and again on sending).
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    language: Mapped[str] = mapped_column(sa.String(16), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: Wrong dates of birth given with the resume link; the link stops working after a few.
    resume_failures: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Draft {self.id} expires {self.expires_at:%Y-%m-%d %H:%M}>"
