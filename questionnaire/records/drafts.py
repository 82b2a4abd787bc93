"""A draft's lifetime: how long an unsent questionnaire is kept, and the sweep of expired ones."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from questionnaire.extensions import DbSession, utcnow
from questionnaire.records.models import Draft


def lifetime() -> timedelta:
    """Return how long a draft lives after its last save."""
    return timedelta(hours=Draft.LIFETIME_HOURS)


def remove_expired_drafts(session: DbSession, now: datetime | None = None) -> int:
    """Delete every draft past its expiry; return how many."""
    result = session.execute(sa.delete(Draft).where(Draft.expires_at <= (now or utcnow())))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
