"""The dashboard in Chromium: the server-drawn chart shows without a script, its table has the numbers.

The served database is shared by the whole browser session, so the test reads the
table first, stores submissions in known weeks, and checks what they added.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, store_submission
from tests.harness.clinician import make_clinician, sign_in

pytestmark = pytest.mark.browser

LEVELS = ("urgent", "review", "info", "none")
#: Monday 25 May 2026 (the clock reads 1 June, a Monday): the week before this one.
LAST_WEEK = "2026-05-25"
#: Sunday 31 May, 23:30 in Toronto, is Monday 1 June in UTC: it belongs to last week.
SUNDAY_NIGHT = datetime(2026, 6, 1, 3, 30, tzinfo=UTC)
#: Tuesday 26 May, 10:00 in Toronto.
TUESDAY = datetime(2026, 5, 26, 14, 0, tzinfo=UTC)


def table(page: Page) -> dict[str, dict[str, int]]:
    """Return the weekly table as {week start: {level: count, "total": n}} (read from the page)."""
    rows = page.locator("#weekly-table tbody tr").evaluate_all(
        """rows => rows.map(row => [row.dataset.week,
             Array.from(row.querySelectorAll('td')).map(cell => [cell.dataset.level || 'total',
                                                                 cell.textContent.trim()])])"""
    )
    return {week: {level: int(text) for level, text in cells} for week, cells in rows}


def bars(page: Page) -> dict[tuple[str, str], dict[str, float]]:
    """Return each drawn bar by (week, level): its count and its height on the screen."""
    found = page.locator("svg.chart__drawing rect.chart__bar").evaluate_all(
        """rects => rects.map(rect => [rect.dataset.week, rect.dataset.level,
             Number(rect.dataset.count), rect.getBoundingClientRect().height,
             getComputedStyle(rect).fill])"""
    )
    return {
        (week, level): {"count": count, "height": height, "painted": fill not in ("none", "")}
        for week, level, count, height, fill in found
    }


def test_the_chart_draws_without_a_script_and_its_table_has_the_numbers(
    browser: Browser, live_server: LiveServer
) -> None:
    email = f"dash-{uuid.uuid4().hex[:8]}@clinic.example"
    make_clinician(live_server.app, email, "Dana Dashboard")
    # No script at all: the chart must be the server's drawing.
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, email)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    before = table(page)
    assert len(before) == 12 and LAST_WEEK in before

    added = {"urgent": 2, "review": 1, "info": 0, "none": 3}
    flags = {
        "urgent": [("suicidal_thoughts_now", "urgent")],
        "review": [("mania_history", "review")],
    }
    for level, count in added.items():
        for number in range(count):
            store_submission(
                live_server,
                {"full_name": "Not On The Dashboard"},
                submitted_at=SUNDAY_NIGHT if number == 0 else TUESDAY,
                flags=flags.get(level, []),
            )
    page.reload()
    after = table(page)
    assert set(after) == set(before)
    for week in after:
        wanted = dict(before[week])
        if week == LAST_WEEK:
            wanted = {level: wanted[level] + added[level] for level in LEVELS}
            wanted["total"] = before[week]["total"] + sum(added.values())
        assert after[week] == wanted, week
        assert after[week]["total"] == sum(after[week][level] for level in LEVELS)
    expect(page.locator("#weekly-table")).not_to_contain_text("Not On The Dashboard")
    expect(page.locator("main")).not_to_contain_text("Not On The Dashboard")

    # The drawing: visible, its name and description for a screen reader, a bar per count.
    chart = page.locator("svg.chart__drawing")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 50
    expect(chart).to_have_attribute("role", "img")
    expect(page.locator("#chart-title")).to_contain_text("Submissions per week by level")
    expect(page.locator("#chart-desc")).to_contain_text(f"{sum(after[w]['total'] for w in after)}")
    drawn = bars(page)
    for week, counts in after.items():
        for level in LEVELS:
            if counts[level]:
                bar = drawn[(week, level)]
                assert bar["count"] == counts[level]
                assert bar["height"] > 0 and bar["painted"], (week, level)
            else:
                assert (week, level) not in drawn
    # Taller for more: the heights keep the counts' proportions (one scale for all bars).
    scale = {round(bar["height"] / bar["count"], 1) for bar in drawn.values()}
    assert max(scale) - min(scale) <= 0.2, scale
    assert page.locator("script").count() == 0
