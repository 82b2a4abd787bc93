"""The review queue: urgent first, then review, info-only, unflagged; oldest first within each.

Keyset pagination on (level_rank, submitted_at, id): a page boundary is a
position in that order, so new submissions arriving never shift or repeat rows.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, load_only, selectinload

from questionnaire.extensions import DbSession
from questionnaire.questions.text import parse_row_id, parse_timestamp
from questionnaire.records.filters import BadQuery, QueryFilter
from questionnaire.records.models import (
    STATUSES,
    Clinician,
    Flag,
    QueueCount,
    Submission,
    UTCDateTime,
)
from questionnaire.records.references import parse_reference
from questionnaire.rules import LEVEL_RANK, LEVELS

PAGE_SIZE = 50
NO_FLAG = "none"
#: The "taken" filter: taken by the signed-in clinician, or by nobody.
TAKEN = ("mine", "nobody")
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
        "taken": "taken",
    }

    status: str | None = None
    level: str | None = None
    rule: str | None = None
    reference: str | None = None
    taken: str | None = None
    #: The signed-in clinician's id, for taken=mine (set by the view; never a query argument).
    me: int | None = None

    @classmethod
    def parse(cls, args: dict[str, str], me: int | None = None) -> QueueFilter:
        """Return a filter from query arguments; raise BadFilter for a value not offered.

        `taken` is offered only with `me`, the signed-in clinician (the queue page): an
        export or a job, which has no "me" of its own, refuses it rather than guess.
        """
        status = args.get("status") or None
        level = args.get("level") or None
        rule = args.get("rule") or None
        reference = parse_reference(args.get("q") or "") or None
        taken = args.get("taken") or None
        if taken is not None and (taken not in TAKEN or me is None):
            raise BadFilter("taken")
        if status is not None and status not in STATUSES:
            raise BadFilter("status")
        if level is not None and level not in (*LEVELS, NO_FLAG):
            raise BadFilter("level")
        if rule is not None and not _RULE.fullmatch(rule):
            raise BadFilter("rule")
        if args.get("q") and reference is None:
            raise BadFilter("q")
        return cls(status=status, level=level, rule=rule, reference=reference, taken=taken, me=me)

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


#: Above this many, a count the counts table cannot give exactly shows as "50+".
COUNT_CAP = PAGE_SIZE


@dataclass
class QueuePage:
    """One page of the queue and what the page header shows."""

    rows: list[Submission]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)
    #: True when the counts stop at COUNT_CAP + 1 (a rule filter): the page shows "50+".
    capped: bool = False
    #: The shown rows' answers by submission id (sealed at rest; opened for this page only).
    answers: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: How many submissions the signed-in clinician holds, up to COUNT_CAP + 1.
    mine: int = 0
    #: The shown rows' flags by submission id, as (flag id, rule, level) in any order.
    flags: dict[int, list[tuple[int, str, str]]] = field(default_factory=dict)

    def mine_label(self, number: Callable[[int], str] = "{:,}".format) -> str:
        """Return how many the clinician holds as the page shows it ("50+" past the cap)."""
        return f"{number(COUNT_CAP)}+" if self.mine > COUNT_CAP else number(self.mine)

    def count_label(self, level: str, number: Callable[[int], str] = "{:,}".format) -> str:
        """Return a level's count as the page shows it: exact, or "50+" past the cap.

        `number` writes it the reader's way (1 234 in French).
        """
        count = self.counts.get(level, 0)
        return f"{number(COUNT_CAP)}+" if self.capped and count > COUNT_CAP else number(count)


def _rank(level: str) -> int:
    return LEVEL_RANK[None if level == NO_FLAG else level]


def _rows(wanted: QueueFilter) -> tuple[Any, tuple[Any, ...]]:
    """Return the select of the filter's submissions and the columns of queue order.

    Any: SQLAlchemy 2.1's Select is variadic. A rule filter reads the queue's order from
    ix_flags_rule_queue (each flag holds its submission's place); every other filter from
    ix_submissions_queue or ix_submissions_status_queue.
    """
    # Hidden at a patient's request: kept, but out of the queue and its exports (a rare
    # row, dropped as the index walk meets it).
    query = sa.select(Submission).where(Submission.hidden_at.is_(None))
    order: tuple[Any, ...] = (Submission.level_rank, Submission.submitted_at, Submission.id)
    if wanted.rule:
        query = query.join(Flag, Flag.submission_id == Submission.id).where(
            Flag.rule == wanted.rule
        )
        order = (Flag.level_rank, Flag.submitted_at, Flag.submission_id)
    if wanted.level:
        query = query.where(order[0] == _rank(wanted.level))
    if wanted.status:
        query = query.where(Submission.status == wanted.status)
    if wanted.reference:
        query = query.where(Submission.reference == wanted.reference)
    if wanted.taken == "nobody":
        query = query.where(Submission.assigned_to_id.is_(None))
    elif wanted.taken == "mine":
        if wanted.me is None:  # "mine" means nobody's without a clinician: refuse, never guess
            raise BadFilter("taken")
        query = query.where(Submission.assigned_to_id == wanted.me)
    return query, order


def _page_query(wanted: QueueFilter, after: Cursor | None, size: int) -> Any:
    query, order = _rows(wanted)
    if after is not None:
        # A row comparison: PostgreSQL reads it as an index condition and starts there,
        # where the OR form made it read and drop every row before the cursor.
        query = query.where(
            sa.tuple_(*order)
            > sa.tuple_(
                sa.literal(after.rank),
                sa.literal(after.submitted_at, UTCDateTime()),
                sa.literal(after.id),
            )
        )
    return query.order_by(*order).limit(size)


#: What a queue row shows. No facts or evidence are read; the flags' rule ids and the
#: answers only for the rows shown, in one more statement each (row_flags, identities), so
#: the row past the page is never opened.
_QUEUE_COLUMNS = (
    load_only(
        Submission.id,
        Submission.reference,
        Submission.submitted_at,
        Submission.status,
        Submission.highest_level,
        Submission.level_rank,
        Submission.outcome,
        Submission.assigned_to_id,
        Submission.assigned_at,
        Submission.language,  # beside the patient's name (issue 25)
    ),
    # Many-to-one: a LEFT OUTER JOIN in the rows' own statement, the holder's name only.
    joinedload(Submission.assigned_to).load_only(Clinician.id, Clinician.name),
)


def queue_page(
    session: DbSession, wanted: QueueFilter, after: Cursor | None = None, size: int = PAGE_SIZE
) -> QueuePage:
    """Return one page of submissions in queue order, with counts per level for the filter.

    The same statements whatever the size of the table or of the page: the rows (with
    their holders), their flags' rule ids, the shown rows' answers, and the counts (with
    how many `wanted.me` holds). The rows' `flags` relationship is not loaded: the page's
    `flags` holds what a row shows, as plain tuples (an ORM object per flag cost more than
    the statement).
    """
    query = _page_query(wanted, after, size + 1).options(*_QUEUE_COLUMNS)
    rows = list(session.scalars(query))
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = Cursor.of(rows[-1]).encode() if more and rows else None
    counts, capped = level_counts(session, wanted)
    mine = counts.pop(_MINE, 0)
    ids = [row.id for row in rows]
    return QueuePage(
        rows=rows,
        next_cursor=next_cursor,
        counts=counts,
        capped=capped,
        answers=identities(session, ids),
        mine=mine,
        flags=row_flags(session, ids),
    )


def row_flags(session: DbSession, ids: list[int]) -> dict[int, list[tuple[int, str, str]]]:
    """Return these submissions' flags by id as (flag id, rule, level); none when ids is empty."""
    found: dict[int, list[tuple[int, str, str]]] = {ident: [] for ident in ids}
    if not ids:
        return found
    query = sa.select(Flag.submission_id, Flag.id, Flag.rule, Flag.level).where(
        Flag.submission_id.in_(ids)
    )
    for submission_id, flag_id, rule, level in session.execute(query):
        found[submission_id].append((flag_id, rule, level))
    return found


def identities(session: DbSession, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the answers of these submissions by id, opened (one statement, none when empty).

    Only for rows a clinician is shown: the caller keeps what a row displays (name, date of
    birth) and drops the rest with the page.
    """
    if not ids:
        return {}
    query = sa.select(Submission.id, Submission.answers).where(Submission.id.in_(ids))
    return {ident: answers or {} for ident, answers in session.execute(query)}


#: The key of the clinician's own count among the level counts (one statement for both).
_MINE = "_mine"


def _mine_count(me: int) -> Any:
    """Return a select of (-1, how many `me` holds up to COUNT_CAP + 1), on its index."""
    held = (
        sa.select(Submission.id)
        .where(Submission.assigned_to_id == me, Submission.hidden_at.is_(None))
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    return sa.select(sa.literal(-1).label("rank"), sa.func.count().label("n")).select_from(held)


def level_counts(session: DbSession, wanted: QueueFilter) -> tuple[dict[str, int], bool]:
    """Return how many submissions the filter (ignoring its level) holds at each level.

    Exact from the counts table without a filter or with a status; exact for a reference
    (one row at most); a rule or taken filter counts each level up to COUNT_CAP + 1 on its
    index, and says so (the second value, True). With `wanted.me`, the same statement also
    counts what that clinician holds (up to COUNT_CAP + 1), under the key _MINE.
    """
    counts = dict.fromkeys((*LEVELS, NO_FLAG), 0)
    levels = {_rank(level): level for level in counts}
    if wanted.me is not None:
        levels[-1] = _MINE
        counts[_MINE] = 0
    mine = (_mine_count(wanted.me),) if wanted.me is not None else ()
    if wanted.rule or wanted.taken:
        capped = [
            sa.select(sa.literal(rank).label("rank"), sa.func.count().label("n")).select_from(
                # In queue order, so each count walks ix_flags_rule_queue from its start (an
                # unordered LIMIT let PostgreSQL scan the table hoping to meet 51 rows soon).
                _page_query(dataclasses.replace(wanted, level=level), None, COUNT_CAP + 1)
                .with_only_columns(Submission.id)
                .subquery()
            )
            for rank, level in levels.items()
            if rank >= 0
        ]
        union: Any = sa.union_all(*capped, *mine)
        for rank, number in session.execute(union):
            counts[levels[rank]] = int(number)
        return counts, True
    parts: list[Any]
    query: Any
    if wanted.reference:
        query = sa.select(Submission.level_rank, sa.func.count()).where(
            Submission.reference == wanted.reference, Submission.hidden_at.is_(None)
        )
        if wanted.status:
            query = query.where(Submission.status == wanted.status)
        parts = [query.group_by(Submission.level_rank)]
    else:
        query = sa.select(QueueCount.level_rank, sa.func.sum(QueueCount.n)).group_by(
            QueueCount.level_rank
        )
        # The counts table counts every row; the hidden ones (ix_submissions_hidden, a
        # partial index of the few) are taken off in the same statement.
        hidden: Any = sa.select(Submission.level_rank, -sa.func.count()).where(
            Submission.hidden_at.is_not(None)
        )
        if wanted.status:
            query = query.where(QueueCount.status == wanted.status)
            hidden = hidden.where(Submission.status == wanted.status)
        parts = [query, hidden.group_by(Submission.level_rank)]
    selects: list[Any] = [*parts, *mine]
    statement: Any = sa.union_all(*selects) if len(selects) > 1 else selects[0]
    for rank, number in session.execute(statement):
        if rank in levels:
            counts[levels[rank]] += int(number or 0)
    return counts, False


def all_in_queue(session: DbSession, wanted: QueueFilter, batch: int = 200) -> Iterator[Submission]:
    """Yield every submission the filter holds, in queue order, a batch at a time (exports).

    Each batch starts from the last one's cursor on the index, so time grows with the rows.
    """
    after: Cursor | None = None
    while True:
        query = _page_query(wanted, after, batch).options(
            selectinload(Submission.flags).selectinload(Flag.acknowledged_by),
            # The CSV's corrections column: one more query a batch, not one a row.
            selectinload(Submission.corrections),
        )
        rows = list(session.scalars(query))
        yield from rows
        if len(rows) < batch:
            return
        after = Cursor.of(rows[-1])


def count_in_queue(session: DbSession, wanted: QueueFilter) -> int:
    """Return how many submissions the filter holds (the row count an export audits)."""
    query, _order = _rows(wanted)
    subquery = query.with_only_columns(Submission.id).subquery()
    return int(session.scalar(sa.select(sa.func.count()).select_from(subquery)) or 0)


def count_flags_in_queue(session: DbSession, wanted: QueueFilter) -> int:
    """Return how many flags the filter's submissions hold."""
    query, _order = _rows(wanted)
    inner = query.with_only_columns(Submission.id).scalar_subquery()
    counted = sa.select(sa.func.count()).select_from(Flag).where(Flag.submission_id.in_(inner))
    return int(session.scalar(counted) or 0)
