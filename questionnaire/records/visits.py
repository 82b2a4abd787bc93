"""The stored facts of a course of treatment: the patient and each booked visit.

Names and contact details stay on the submission, sealed: a patient row holds only
which submission it came from. A visit's check-in answers, facts and flags are sealed
like a submission's; the columns in clear are times, states and levels.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from questionnaire.extensions import db, utcnow
from questionnaire.records.crypto import EncryptedJSON
from questionnaire.records.models import Submission, UTCDateTime
from questionnaire.rules.vocabulary import LEVELS

_LEVEL_CHECK = f"highest_level IS NULL OR highest_level IN ({', '.join(map(repr, LEVELS))})"


class Patient(db.Model):  # type: ignore[name-defined]
    """A reviewed submission's person, for whom the clinic books treatment visits."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The intake it was made from: the name and contact details are read there, sealed.
    #: A submission deleted at the patient's request takes its patient and visits with it.
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: No ON DELETE: clinicians are disabled, never deleted.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinicians.id"))
    #: Whether the patient agreed to be emailed their check-in links and reminders.
    reminders_agreed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    submission: Mapped[Submission] = relationship()
    visits: Mapped[list[Visit]] = relationship(
        back_populates="patient",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Visit.scheduled_at",
    )

    def __repr__(self) -> str:
        return f"<Patient {self.id}>"


class Visit(db.Model):  # type: ignore[name-defined]
    """One booked treatment session and its check-in (answered once, from a one-time link)."""

    __tablename__ = "visits"
    __table_args__ = (sa.CheckConstraint(_LEVEL_CHECK, name="highest_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    #: When the session starts, in UTC (booked in the clinic's zone).
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: SHA-256 (hex) of the check-in link's token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinicians.id"))
    #: When the reminder was sent (with a new link that replaced the booking's).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: First time the link was opened inside its window ("in progress" on the day view).
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the check-in was sent; set once, by a conditional UPDATE (never twice).
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The check-in's answers and derived facts, sealed; None until it is sent.
    answers: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON("visits.answers"))
    facts: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON("visits.facts"))
    #: Each flag raised (rule, level, short, message, source, evidence), sealed: evidence
    #: holds answers.
    flags: Mapped[list[dict[str, Any]] | None] = mapped_column(EncryptedJSON("visits.flags"))
    #: The most urgent flag's level (urgent = hold), or None when nothing was flagged.
    highest_level: Mapped[str | None] = mapped_column(sa.String(8))
    #: Whether an answer called for crisis help at once (the day view's "crisis" state).
    crisis: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The check-in rule table that judged it.
    rules_version: Mapped[str | None] = mapped_column(sa.String(64))
    #: The language the patient answered in.
    language: Mapped[str | None] = mapped_column(sa.String(16))

    patient: Mapped[Patient] = relationship(back_populates="visits")

    def __repr__(self) -> str:
        return f"<Visit {self.id} {self.highest_level}>"
