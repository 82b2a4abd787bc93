"""The stored facts: submissions and the flags their rules raised."""

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
    #: What the patient and the clinic quote; 8 characters from an unambiguous alphabet.
    reference: Mapped[str] = mapped_column(sa.String(REFERENCE_LENGTH), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
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
