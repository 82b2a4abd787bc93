"""The dashboard: submissions per week by level, and how soon each was first opened."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire import audit, language
from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent, Submission
from questionnaire.review import dashboard
from questionnaire.review.dashboard import Duration, Week
from tests.fixtures import AddSubmission
from tests.harness.app import Clock
from tests.harness.clinician import TestClinician
from tests.harness.forms import html_lang, page_html, visible_text
from tests.intake.test_french_pages import english_left
from tests.review.test_clinic_language import switch

TORONTO = ZoneInfo("America/Toronto")
#: Wednesday 3 June 2026, 12:00 in Toronto (16:00 UTC): this week began Monday 1 June.
WEDNESDAY = datetime(2026, 6, 3, 16, 0, tzinfo=UTC)


def toronto(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=TORONTO).astimezone(UTC)  # type: ignore[misc]


# --- Pure parts --------------------------------------------------------------------------


def test_weeks_start_on_monday_and_end_with_this_one() -> None:
    starts = dashboard.week_starts(date(2026, 6, 3))
    assert len(starts) == 12
    assert starts[-1] == date(2026, 6, 1) and starts[0] == date(2026, 3, 16)
    assert all(start.weekday() == 0 for start in starts)
    assert dashboard.week_starts(date(2026, 6, 1))[-1] == date(2026, 6, 1)  # Monday itself
    assert dashboard.week_starts(date(2026, 6, 7))[-1] == date(2026, 6, 1)  # Sunday


def test_boundaries_are_local_midnights_across_a_change_of_clocks() -> None:
    # Clocks went forward in Toronto on Sunday 8 March 2026: EST before, EDT after.
    edges = dashboard.boundaries([date(2026, 3, 2), date(2026, 3, 9)], TORONTO)
    assert [edge.astimezone(UTC).hour for edge in edges] == [5, 4, 4]
    assert edges[-1].date() == date(2026, 3, 16)


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        ([60.0], 60.0, 60.0),
        ([10.0, 20.0], 15.0, 19.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 5.5, 9.1),
    ],
)
def test_percentiles_interpolate_like_percentile_cont(
    values: list[float], median: float | None, p90: float | None
) -> None:
    assert dashboard.percentile(values, 0.5) == pytest.approx(median)
    assert dashboard.percentile(values, 0.9) == pytest.approx(p90)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, Duration()),
        (29, Duration()),
        (45 * 60, Duration(minutes=45)),
        (2 * 3600 + 10 * 60, Duration(hours=2, minutes=10)),
        (5 * 3600 + 10, Duration(hours=5)),
        (28 * 3600, Duration(days=1, hours=4)),
        (48 * 3600, Duration(days=2)),
        (3 * 86400 + 5 * 3600, Duration(days=3)),
        (10 * 86400 + 13 * 3600, Duration(days=11)),
    ],
)
def test_durations_read_in_plain_units(seconds: float, expected: Duration) -> None:
    assert dashboard.duration(seconds) == expected


def test_delays_count_the_unopened_apart() -> None:
    rows = dashboard.delays([("urgent", 60.0), ("urgent", None), ("urgent", 180.0), ("info", None)])
    by_level = {row.level: row for row in rows}
    assert [row.level for row in rows] == ["urgent", "review", "info", "none"]
    assert by_level["urgent"].measured == 2 and by_level["urgent"].not_opened == 1
    assert by_level["urgent"].median == 120.0
    assert by_level["info"].measured == 0 and by_level["info"].median is None
    assert by_level["info"].not_opened == 1


def test_the_chart_stacks_each_week_to_its_total() -> None:
    weeks = [
        Week(date(2026, 5, 25), {"urgent": 2, "none": 5}),
        Week(date(2026, 6, 1), {"review": 1, "info": 3, "none": 6}),
    ]
    drawn = dashboard.chart(weeks)
    top = next(tick for tick in drawn.ticks if tick.value == 10)
    scale = (drawn.bottom - top.y) / 10
    for column, week in zip(drawn.columns, weeks, strict=True):
        assert sum(bar.height for bar in column.bars) == pytest.approx(week.total * scale, abs=0.05)
        assert column.bars[0].y + column.bars[0].height == pytest.approx(drawn.bottom)
    assert [bar.level for bar in drawn.columns[0].bars] == ["urgent", "none"]
    assert dashboard.nice_top(0) == (4, 1)
    assert dashboard.nice_top(37) == (40, 10)
    assert dashboard.nice_top(1234) == (1500, 500)


# --- From the database -----------------------------------------------------------------


def test_weekly_counts_follow_the_clinic_s_week(app: Flask, add_submission: AddSubmission) -> None:
    add_submission(flags=[("a", "urgent")], at=toronto(2026, 6, 1, 0, 5))  # this week, just
    add_submission(flags=[("a", "review")], at=toronto(2026, 5, 31, 23, 55))  # last week, just
    # 03:30 UTC on Monday 1 June is still Sunday evening in Toronto: last week.
    add_submission(at=datetime(2026, 6, 1, 3, 30, tzinfo=UTC))
    add_submission(flags=[("b", "info"), ("c", "review")], at=toronto(2026, 6, 3, 9, 0))
    add_submission(flags=[("b", "info")], at=toronto(2026, 3, 16, 0, 0))  # first of the 12
    add_submission(flags=[("a", "urgent")], at=toronto(2026, 3, 15, 23, 59))  # before them
    with app.app_context():
        weeks = dashboard.weekly_counts(db.session, WEDNESDAY, TORONTO)
    assert [week.start for week in weeks][::11] == [date(2026, 3, 16), date(2026, 6, 1)]
    assert weeks[-1].counts == {"urgent": 1, "review": 1}
    assert weeks[-2].counts == {"review": 1, "none": 1}
    assert weeks[0].counts == {"info": 1}
    assert sum(week.total for week in weeks) == 5


def view(app: Flask, reference: str, at: datetime, actor: TestClinician) -> None:
    """Store a view_submission event for a reference at a given time."""
    with app.app_context():
        found = db.session.scalars(sa.select(Submission).filter_by(reference=reference)).one()
        event = audit.record(db.session, "view_submission", submission=found)
        event.at = at
        event.actor_id = actor.id
        db.session.commit()


def known_trail(app: Flask, add_submission: AddSubmission, reviewer: TestClinician) -> None:
    """Store urgent submissions opened after 10 min, 1 h, 2 h 10 min, and one never opened."""
    sent = WEDNESDAY - timedelta(days=2)
    for minutes in (10, 60, 130):
        reference = add_submission(flags=[("a", "urgent")], at=sent)
        view(app, reference, sent + timedelta(minutes=minutes), reviewer)
        view(app, reference, sent + timedelta(minutes=minutes + 1), reviewer)  # a second view
    add_submission(flags=[("a", "urgent")], at=sent)  # never opened
    # A review one opened 3 days later; an info one sent before the window, opened in it.
    late = add_submission(flags=[("b", "review")], at=WEDNESDAY - timedelta(days=5))
    view(app, late, WEDNESDAY - timedelta(days=2), reviewer)
    old = add_submission(flags=[("c", "info")], at=WEDNESDAY - timedelta(days=31))
    view(app, old, WEDNESDAY - timedelta(days=1), reviewer)


def test_first_opening_median_and_p90_from_the_trail(
    app: Flask, add_submission: AddSubmission, reviewer: TestClinician
) -> None:
    known_trail(app, add_submission, reviewer)
    with app.app_context():
        rows = {
            row.level: row for row in dashboard.delays(dashboard.first_views(db.session, WEDNESDAY))
        }
    urgent = rows["urgent"]
    assert (urgent.measured, urgent.not_opened) == (3, 1)
    assert urgent.median == 3600.0
    assert urgent.p90 == pytest.approx((60 + (130 - 60) * 0.8) * 60)  # 116 min
    assert (rows["review"].measured, rows["review"].median) == (1, 3 * 86400.0)
    assert (rows["info"].measured, rows["info"].not_opened) == (0, 0)  # outside the window


@pytest.fixture
def on_wednesday(clock: Clock) -> Clock:
    clock.now = WEDNESDAY
    return clock


def table_numbers(html: str, table_id: str) -> dict[tuple[str, str], int]:
    """Return {(week, level): count} read from the weekly table's cells."""
    table = html[html.index(f'id="{table_id}"') :]
    table = table[: table.index("</table>")]
    found: dict[tuple[str, str], int] = {}
    for week, row in re.findall(r'<tr data-week="([\d-]+)">(.*?)</tr>', table, re.S):
        for level, count in re.findall(r'data-level="(\w+)">([\d\s\u202f\xa0,]+)<', row):
            found[(week, level)] = int(re.sub(r"\D", "", count))
    return found


def test_the_page_s_chart_and_table_agree(
    app: Flask,
    on_wednesday: Clock,
    as_reviewer: FlaskClient,
    add_submission: AddSubmission,
    reviewer: TestClinician,
) -> None:
    known_trail(app, add_submission, reviewer)
    add_submission(at=toronto(2026, 5, 26, 8, 0))
    page = as_reviewer.get("/clinic/dashboard")
    assert page.status_code == 200
    html = page_html(page)
    table = table_numbers(html, "weekly-table")
    assert len(table) == 12 * 4
    bars = {
        (week, level): int(count)
        for level, week, _, count in re.findall(
            r'<rect class="chart__bar chart__bar--(\w+)"[^>]*data-week="([\d-]+)" '
            r'data-level="(\w+)" data-count="(\d+)"',
            html,
        )
    }
    assert bars == {key: count for key, count in table.items() if count}
    assert bars[("2026-06-01", "urgent")] == 4
    assert bars[("2026-05-25", "none")] == 1
    assert 'role="img"' in html and 'aria-labelledby="chart-title chart-desc"' in html
    assert "style=" not in html  # the Content-Security-Policy allows no inline style
    assert "<script" not in html
    text = visible_text(page)
    assert "1 h" in text and "1 h 56 min" in text and "3 days" in text
    assert "Sam Example" not in html  # counts and times only


def test_visiting_is_audited_without_patient_data(
    app: Flask, on_wednesday: Clock, as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    add_submission(flags=[("a", "urgent")], at=WEDNESDAY - timedelta(hours=1))
    assert as_reviewer.get("/clinic/dashboard").status_code == 200
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        assert (event.action, event.reference, event.submission_id) == (
            "view_dashboard",
            None,
            None,
        )
        assert event.detail == {} and event.actor_id is not None


def test_the_page_in_french_has_no_english_left(
    app: Flask,
    on_wednesday: Clock,
    as_reviewer: FlaskClient,
    add_submission: AddSubmission,
    reviewer: TestClinician,
) -> None:
    known_trail(app, add_submission, reviewer)
    switch(as_reviewer, "fr-CA", "/clinic/dashboard")
    page = as_reviewer.get("/clinic/dashboard")
    assert page.status_code == 200
    assert html_lang(page) == "fr-CA"
    text = visible_text(page)
    assert language.catalogue("fr_CA")("Dashboard") in text
    # The chart's title and summary are read by screen readers: French too.
    svg = page_html(page)
    svg = svg[svg.index("<svg") : svg.index("</svg>")]
    left = english_left(text + " " + re.sub(r"<[^>]+>", " ", svg), {"reviewer"})
    assert left == set()


def test_the_guard_keeps_anonymous_visitors_out(client: FlaskClient) -> None:
    response = client.get("/clinic/dashboard")
    assert response.status_code in (302, 303)
    assert response.location.startswith("/clinic/sign-in")
