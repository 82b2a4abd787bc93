"""A picture of the work (issue 14): submissions per week by level, and how soon each is opened.

Counts and times only, never patient data. Two queries, each bounded by time on an
indexed column, so the page costs the same at ten thousand submissions or a million:

- `weekly_counts`: submissions of the last WEEKS weeks (Monday to Sunday in the clinic's
  zone) grouped by week and level, in the database; the week boundaries are computed
  here, so a change of clocks (EST to EDT) moves them to the right instant.
- `first_views`: each submission of the last WINDOW_DAYS days with the time of the
  first `view_submission` audit event for its reference (a LEFT JOIN: never opened is
  None); `delays` turns them into a median and a 90th percentile per level.

The rest is pure: the week boundaries, percentiles, durations in parts, and the chart's
geometry (an SVG drawn on the server; no script).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

import sqlalchemy as sa

from questionnaire.clinic_time import local_date
from questionnaire.extensions import DbSession
from questionnaire.records.models import AuditEvent, Submission
from questionnaire.rules import LEVEL_RANK, LEVELS

#: The chart's levels in queue order; "none" is a submission that raised no flag.
DASHBOARD_LEVELS: tuple[str, ...] = (*LEVELS, "none")
#: level_rank -> the level's name ("none" for rank 3, no flag).
_LEVEL_OF_RANK: dict[int, str] = {
    rank: (level if level is not None else "none") for level, rank in LEVEL_RANK.items()
}
#: Every level_rank: naming them all lets PostgreSQL read ix_submissions_queue
#: (level_rank, submitted_at, id) as four range scans on submitted_at.
_RANKS = tuple(sorted(_LEVEL_OF_RANK))
WEEKS = 12
WINDOW_DAYS = 30


# --- Weeks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """One week's submissions by level (Monday `start`, in the clinic's zone)."""

    start: date
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Return the week's submissions, every level together."""
        return sum(self.counts.values())

    def count(self, level: str) -> int:
        """Return the week's submissions at one level (0 when none)."""
        return self.counts.get(level, 0)


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    """Return the Mondays of the last `weeks` weeks, oldest first, this week's last."""
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def boundaries(starts: Sequence[date], zone: tzinfo) -> list[datetime]:
    """Return each week's first instant (Monday 00:00 in the zone), then the next week's."""
    mondays = [*starts, starts[-1] + timedelta(weeks=1)]
    return [datetime.combine(monday, time(0), tzinfo=zone) for monday in mondays]


def weekly_counts(session: DbSession, moment: datetime, zone: tzinfo) -> list[Week]:
    """Return the submissions of the last WEEKS weeks by week and level (one grouped query)."""
    starts = week_starts(local_date(moment, zone))
    edges = boundaries(starts, zone)
    sent = Submission.submitted_at
    week = sa.case(*((sent < edge, index) for index, edge in enumerate(edges[1:])), else_=-1)
    # Grouped outside a subquery: PostgreSQL would not see the CASE of the GROUP BY (its own
    # parameters) as the one selected.
    placed = (
        sa.select(week.label("week"), Submission.level_rank.label("rank"))
        .where(Submission.level_rank.in_(_RANKS), sent >= edges[0], sent < edges[-1])
        .subquery("placed")
    )
    rows = session.execute(
        sa.select(placed.c.week, placed.c.rank, sa.func.count()).group_by(
            placed.c.week, placed.c.rank
        )
    ).all()
    counts: list[dict[str, int]] = [{} for _ in starts]
    for index, rank, number in rows:
        counts[index][_LEVEL_OF_RANK[rank]] = int(number)
    return [Week(start, found) for start, found in zip(starts, counts, strict=True)]


# --- Time to first opening -------------------------------------------------------------


@dataclass(frozen=True)
class Delay:
    """How soon one level's submissions of the window were first opened (seconds)."""

    level: str
    #: Submissions opened at least once, whose delays the median and p90 are taken from.
    measured: int
    #: Submissions of the window no clinician has opened yet.
    not_opened: int
    median: float | None
    p90: float | None


def first_views(
    session: DbSession, moment: datetime, days: int = WINDOW_DAYS
) -> list[tuple[str, float | None]]:
    """Return (level, seconds from sending to first opening, or None) per submission of the window.

    One query: the window's submissions LEFT JOIN the earliest `view_submission` event per
    reference. No view can come before its submission, so the events are read from the
    window's start on (audit_events.at is indexed): a second view never counts.
    """
    since = moment - timedelta(days=days)
    first = (
        sa.select(AuditEvent.reference, sa.func.min(AuditEvent.at).label("first_at"))
        .where(AuditEvent.action == "view_submission", AuditEvent.at >= since)
        .group_by(AuditEvent.reference)
        .subquery("first_view")
    )
    rows = session.execute(
        sa.select(Submission.level_rank, Submission.submitted_at, first.c.first_at)
        .outerjoin(first, first.c.reference == Submission.reference)
        .where(
            Submission.level_rank.in_(_RANKS),
            Submission.submitted_at >= since,
            Submission.submitted_at <= moment,
        )
    ).all()
    return [
        (
            _LEVEL_OF_RANK[rank],
            max(0.0, (opened - sent).total_seconds()) if opened is not None else None,
        )
        for rank, sent, opened in rows
    ]


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Return a percentile of sorted values by linear interpolation (as percentile_cont)."""
    if not ordered:
        return None
    place = (len(ordered) - 1) * fraction
    low = math.floor(place)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (place - low)


def delays(views: Iterable[tuple[str, float | None]]) -> list[Delay]:
    """Return each level's median and p90 delay, with how many were measured and not opened."""
    opened: dict[str, list[float]] = {level: [] for level in DASHBOARD_LEVELS}
    waiting = dict.fromkeys(DASHBOARD_LEVELS, 0)
    for level, seconds in views:
        if seconds is None:
            waiting[level] += 1
        else:
            opened[level].append(seconds)
    result = []
    for level in DASHBOARD_LEVELS:
        ordered = sorted(opened[level])
        result.append(
            Delay(
                level=level,
                measured=len(ordered),
                not_opened=waiting[level],
                median=percentile(ordered, 0.5),
                p90=percentile(ordered, 0.9),
            )
        )
    return result


@dataclass(frozen=True)
class Duration:
    """A delay in the units a person reads: days and hours, hours and minutes, or minutes."""

    days: int = 0
    hours: int = 0
    minutes: int = 0


def duration(seconds: float) -> Duration:
    """Return a delay rounded for reading: "45 min", "2 h 10 min", "1 day 4 h", "3 days"."""
    minutes = round(seconds / 60)
    if minutes < 60:
        return Duration(minutes=minutes)
    if minutes < 24 * 60:
        return Duration(hours=minutes // 60, minutes=minutes % 60)
    hours = round(seconds / 3600)
    if hours < 3 * 24:
        return Duration(days=hours // 24, hours=hours % 24)
    return Duration(days=round(seconds / 86400))


# --- The chart -------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One level's part of one week's stacked bar, in the SVG's user units."""

    level: str
    x: float
    y: float
    width: float
    height: float
    count: int


@dataclass(frozen=True)
class Tick:
    """A value on the vertical axis and where it is drawn."""

    value: int
    y: float


@dataclass(frozen=True)
class Column:
    """One week on the chart: its label's place and its stacked bars (urgent at the bottom)."""

    week: Week
    label_x: float
    bars: list[Bar]


@dataclass(frozen=True)
class Chart:
    """The chart's geometry: width and height of the drawing, axes, and one column per week."""

    width: int
    height: int
    left: int
    top: int
    bottom: int
    columns: list[Column]
    ticks: list[Tick]


def nice_top(largest: int) -> tuple[int, int]:
    """Return an axis top at or above `largest` and a step (1, 2 or 5 times a power of ten)."""
    if largest <= 4:
        return 4, 1
    rough = largest / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(one * power for one in (1, 2, 5, 10) if one * power >= rough)
    return int(math.ceil(largest / step) * step), int(step)


def chart(weeks: Sequence[Week], width: int = 640, height: int = 260) -> Chart:
    """Return the stacked bars of the weeks, scaled to the drawing (no counts, an empty axis)."""
    left, right, top, bottom = 44, 8, 12, height - 28
    top_value, step = nice_top(max((week.total for week in weeks), default=0))
    scale = (bottom - top) / top_value
    slot = (width - left - right) / max(len(weeks), 1)
    bar_width = slot * 0.7
    columns = []
    for index, week in enumerate(weeks):
        x = left + index * slot + (slot - bar_width) / 2
        base = float(bottom)
        bars = []
        for level in DASHBOARD_LEVELS:
            count = week.count(level)
            if count:
                tall = count * scale
                base -= tall
                bars.append(
                    Bar(
                        level,
                        round(x, 2),
                        round(base, 2),
                        round(bar_width, 2),
                        round(tall, 2),
                        count,
                    )
                )
        columns.append(Column(week, round(x + bar_width / 2, 2), bars))
    ticks = [
        Tick(value, round(bottom - value * scale, 2)) for value in range(0, top_value + 1, step)
    ]
    return Chart(width, height, left, top, bottom, columns, ticks)


def totals(weeks: Iterable[Week]) -> Week:
    """Return every week's submissions added up by level (its start is the first week's)."""
    listed = list(weeks)
    summed = {level: sum(week.count(level) for week in listed) for level in DASHBOARD_LEVELS}
    return Week(listed[0].start if listed else date.min, summed)
