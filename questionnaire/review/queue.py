"""The review queue: urgent first, then review, info-only, unflagged; oldest first within each.

Keyset pagination on (level_rank, submitted_at, id): a page boundary is a
position in that order, so new submissions arriving never shift or repeat rows.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from questionnaire.extensions import DbSession
from questionnaire.models import STATUSES, Flag, Submission
from questionnaire.questions.text import parse_row_id, parse_timestamp
from questionnaire.references import parse_reference
from questionnaire.rules import LEVEL_RANK, LEVELS
from questionnaire.security import BadQuery, QueryFilter

PAGE_SIZE = 50
NO_FLAG = "none"
_RULE = re.compile(r"[a-z][a-z0-9_]{0,63}")


class BadFilter(BadQuery):
    """A filter value is not one the queue offers (a forged or stale link)."""


@dataclass(frozen=True)
class QueueFilter(QueryFilter):
    """What the clinician asked to see; every value checked against what the queue offers."""

    ARGS: ClassVar[dict[str, str]] = {
        "status": "status",
        "level": "level",
        "rule": "rule",
        "reference": "q",
    }

    status: str | None = None
    level: str | None = None
    rule: str | None = None
    reference: str | None = None

    @classmethod
    def parse(cls, args: dict[str, str]) -> QueueFilter:
        """Return a filter from query arguments; raise BadFilter for a value not offered."""
        status = args.get("status") or None
        level = args.get("level") or None
        rule = args.get("rule") or None
        reference = parse_reference(args.get("q") or "") or None
        if status is not None and status not in STATUSES:
            raise BadFilter("status")
        if level is not None and level not in (*LEVELS, NO_FLAG):
            raise BadFilter("level")
        if rule is not None and not _RULE.fullmatch(rule):
            raise BadFilter("rule")
        if args.get("q") and reference is None:
            raise BadFilter("q")
        return cls(status=status, level=level, rule=rule, reference=reference)

    def as_detail(self) -> dict[str, str]:
        """Return the filter for the audit trail (no patient data: codes and a reference)."""
        return self.as_args()


@dataclass(frozen=True)
class Cursor:
    """A position in queue order."""

    rank: int
    submitted_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.rank}|{self.submitted_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Return the cursor a token names; raise BadFilter for anything else."""
        try:
            padded = token + "=" * (-len(token) % 4)
            rank, at, ident = base64.urlsafe_b64decode(padded).decode().split("|")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise BadFilter("after") from None
        # Typed and bounded, so no value can overflow a column or a datetime later.
        submitted_at, row_id = parse_timestamp(at), parse_row_id(ident)
        ranks = {str(value): value for value in LEVEL_RANK.values()}
        if submitted_at is None or row_id is None or rank not in ranks:
            raise BadFilter("after")
        return cls(ranks[rank], submitted_at, row_id)

    @classmethod
    def of(cls, submission: Submission) -> Cursor:
        return cls(submission.level_rank, submission.submitted_at, submission.id)


@dataclass
class QueuePage:
    """One page of the queue and what the page header shows."""

    rows: list[Submission]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)


def _filtered(query: Any, wanted: QueueFilter) -> Any:
    # Any: SQLAlchemy 2.1's Select is variadic, and both a row and a count query pass here.
    if wanted.status:
        query = query.where(Submission.status == wanted.status)
    if wanted.level == NO_FLAG:
        query = query.where(Submission.highest_level.is_(None))
    elif wanted.level:
        query = query.where(Submission.highest_level == wanted.level)
    if wanted.rule:
        query = query.where(
            sa.exists().where(Flag.submission_id == Submission.id, Flag.rule == wanted.rule)
        )
    if wanted.reference:
        query = query.where(Submission.reference == wanted.reference)
    return query


def _after(cursor: Cursor) -> sa.ColumnElement[bool]:
    rank, at, ident = Submission.level_rank, Submission.submitted_at, Submission.id
    return sa.or_(
        rank > cursor.rank,
        sa.and_(rank == cursor.rank, at > cursor.submitted_at),
        sa.and_(rank == cursor.rank, at == cursor.submitted_at, ident > cursor.id),
    )


def queue_page(
    session: DbSession, wanted: QueueFilter, after: Cursor | None = None, size: int = PAGE_SIZE
) -> QueuePage:
    """Return one page of submissions in queue order, with counts per level for the filter."""
    query = _filtered(sa.select(Submission), wanted)
    if after is not None:
        query = query.where(_after(after))
    query = query.order_by(Submission.level_rank, Submission.submitted_at, Submission.id)
    query = query.options(selectinload(Submission.flags))
    rows = list(session.scalars(query.limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = Cursor.of(rows[-1]).encode() if more and rows else None
    return QueuePage(rows=rows, next_cursor=next_cursor, counts=level_counts(session, wanted))


def level_counts(session: DbSession, wanted: QueueFilter) -> dict[str, int]:
    """Return how many submissions the filter (ignoring its level) holds at each level."""
    unlevelled = QueueFilter(status=wanted.status, rule=wanted.rule, reference=wanted.reference)
    query = _filtered(
        sa.select(Submission.highest_level, sa.func.count()).group_by(Submission.highest_level),
        unlevelled,
    )
    counts = dict.fromkeys((*LEVELS, NO_FLAG), 0)
    for level, number in session.execute(query):
        counts[level or NO_FLAG] = number
    return counts


def all_in_queue(session: DbSession, wanted: QueueFilter, batch: int = 200) -> Iterator[Submission]:
    """Yield every submission the filter holds, in queue order, a batch at a time (exports)."""
    after: Cursor | None = None
    while True:
        query = _filtered(sa.select(Submission), wanted)
        if after is not None:
            query = query.where(_after(after))
        query = query.order_by(Submission.level_rank, Submission.submitted_at, Submission.id)
        query = query.options(selectinload(Submission.flags).selectinload(Flag.acknowledged_by))
        rows = list(session.scalars(query.limit(batch)))
        yield from rows
        if len(rows) < batch:
            return
        after = Cursor.of(rows[-1])


def count_in_queue(session: DbSession, wanted: QueueFilter) -> int:
    """Return how many submissions the filter holds (the row count an export audits)."""
    query = _filtered(sa.select(sa.func.count()).select_from(Submission), wanted)
    return int(session.scalar(query) or 0)


def count_flags_in_queue(session: DbSession, wanted: QueueFilter) -> int:
    """Return how many flags the filter's submissions hold."""
    inner = _filtered(sa.select(Submission.id), wanted).scalar_subquery()
    query = sa.select(sa.func.count()).select_from(Flag).where(Flag.submission_id.in_(inner))
    return int(session.scalar(query) or 0)
