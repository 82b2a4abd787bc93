"""The clinic's zone: its local date for ages, the `clinic_time` filter, a refused unknown zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import render_template_string

from questionnaire.clinic_time import (
    clinic_time,
    clinic_today,
    format_in_zone,
    load_zone,
    local_date,
    zone_of,
)
from questionnaire.config import DEFAULT_CLINIC_TIMEZONE, ConfigError
from tests.harness.app import Clock, make_app

TORONTO = ZoneInfo("America/Toronto")
AUCKLAND = ZoneInfo("Pacific/Auckland")
#: 21:30 on 1 June in Toronto (EDT, UTC-4); 13:30 on 2 June in Auckland (NZST, UTC+12).
EVENING = datetime(2026, 6, 2, 1, 30, tzinfo=UTC)


def test_the_default_zone_is_toronto() -> None:
    assert DEFAULT_CLINIC_TIMEZONE == "America/Toronto"
    assert zone_of({}) == TORONTO
    assert zone_of(None) == TORONTO
    assert zone_of({"CLINIC_TIMEZONE": "Pacific/Auckland"}) == AUCKLAND


def test_the_local_date_is_the_clinic_s_not_the_utc_one() -> None:
    assert local_date(EVENING, TORONTO) == date(2026, 6, 1)
    assert local_date(EVENING, UTC) == date(2026, 6, 2)
    # Ahead of UTC: 13:00 UTC on 1 June is already 2 June in Auckland.
    assert local_date(datetime(2026, 6, 1, 13, 0, tzinfo=UTC), AUCKLAND) == date(2026, 6, 2)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2026, 6, 1, 12, 0), TORONTO)


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (EVENING, TORONTO, "2026-06-01 21:30 EDT"),
        (datetime(2026, 1, 15, 17, 5, tzinfo=UTC), TORONTO, "2026-01-15 12:05 EST"),
        (EVENING, AUCKLAND, "2026-06-02 13:30 NZST"),
        (EVENING, ZoneInfo("UTC"), "2026-06-02 01:30 UTC"),
    ],
)
def test_a_moment_is_written_in_the_zone_with_its_abbreviation(
    moment: datetime, zone: ZoneInfo, shown: str
) -> None:
    assert format_in_zone(moment, zone) == shown


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "EST5EDT ", "../etc/passwd", "Toronto"])
def test_an_unknown_zone_is_refused_with_what_to_set(name: str) -> None:
    with pytest.raises(ConfigError, match="CLINIC_TIMEZONE") as refused:
        load_zone(name)
    assert "America/Toronto" in str(refused.value) and "tzdata" in str(refused.value)


def test_the_app_refuses_to_start_with_an_unknown_zone(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CLINIC_TIMEZONE is 'America/Torronto'"):
        make_app(tmp_path, CLINIC_TIMEZONE="America/Torronto")


def test_the_zone_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINIC_TIMEZONE", " America/Vancouver ")
    assert make_app(tmp_path).config["CLINIC_TIMEZONE"] == "America/Vancouver"
    monkeypatch.setenv("CLINIC_TIMEZONE", "Nowhere/Atall")
    with pytest.raises(ConfigError, match="Nowhere/Atall"):
        make_app(tmp_path)


def test_clinic_today_and_clinic_time_follow_the_app_clock_and_zone(tmp_path: Path) -> None:
    app = make_app(tmp_path, CLOCK=Clock(EVENING))
    with app.app_context():
        assert clinic_today() == date(2026, 6, 1)
        assert clinic_today(AUCKLAND) == date(2026, 6, 2)
        assert clinic_time(EVENING) == datetime(2026, 6, 1, 21, 30, tzinfo=TORONTO)
        assert clinic_time(EVENING).utcoffset() == TORONTO.utcoffset(EVENING.replace(tzinfo=None))
    ahead = make_app(tmp_path, CLOCK=Clock(EVENING), CLINIC_TIMEZONE="Pacific/Auckland")
    with ahead.app_context():
        assert clinic_today() == date(2026, 6, 2)
        assert clinic_time(EVENING).hour == 13


def test_the_filter_writes_a_stored_time_in_the_clinic_s_zone(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with app.test_request_context():
        assert render_template_string("{{ at | clinic_time }}", at=EVENING) == (
            "2026-06-01 21:30 EDT"
        )
        assert render_template_string("{{ at | clinic_time }}", at=None) == ""
    ahead = make_app(tmp_path, CLINIC_TIMEZONE="Pacific/Auckland")
    with ahead.test_request_context():
        assert render_template_string("{{ at | clinic_time }}", at=EVENING) == (
            "2026-06-02 13:30 NZST"
        )
