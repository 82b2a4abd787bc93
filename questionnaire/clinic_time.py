"""The clinic's own time: its local date for ages, its clock time for people to read.

Every moment is stored in UTC (models.UTCDateTime). Two things depend on where the
clinic is: the date a patient sends on (a patient sending at 21:30 on 1 June in
Toronto is judged on 1 June, not on the UTC date, 2 June), and the times shown to
clinicians. The zone is the CLINIC_TIMEZONE setting, an IANA name, checked at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app, has_app_context

from questionnaire.config import DEFAULT_CLINIC_TIMEZONE, ConfigError
from questionnaire.extensions import now

#: How the `clinic_time` filter writes a moment: 2026-06-01 21:30 EDT.
DISPLAY_FORMAT = "%Y-%m-%d %H:%M %Z"


def load_zone(name: str) -> ZoneInfo:
    """Return the zone an IANA name stands for; raise ConfigError saying what to set if none."""
    try:
        if not name or name != name.strip():
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(
            f"CLINIC_TIMEZONE is {name!r}, which is no time zone this system knows. Set it to "
            f"the IANA name of the clinic's zone, like CLINIC_TIMEZONE={DEFAULT_CLINIC_TIMEZONE} "
            "or America/Vancouver (ages are judged on the clinic's date). If the name is right, "
            "the system has no time-zone database: install the tzdata package."
        ) from error


def zone_of(config: Mapping[str, Any] | None) -> ZoneInfo:
    """Return the clinic's zone from settings (CLINIC_TIMEZONE; the default when absent)."""
    name = (config or {}).get("CLINIC_TIMEZONE") or DEFAULT_CLINIC_TIMEZONE
    return load_zone(str(name))


def local_date(moment: datetime, zone: tzinfo) -> date:
    """Return the calendar date an aware moment falls on in a zone."""
    return in_zone(moment, zone).date()


def in_zone(moment: datetime, zone: tzinfo) -> datetime:
    """Return an aware moment as the zone's clock reads it; a naive one is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a clinic time needs a timezone-aware datetime")
    return moment.astimezone(zone)


def format_in_zone(moment: datetime, zone: tzinfo, *, seconds: bool = False) -> str:
    """Return an aware moment as `YYYY-MM-DD HH:MM` (`:SS` too) and the zone's abbreviation."""
    shape = DISPLAY_FORMAT.replace("%H:%M", "%H:%M:%S") if seconds else DISPLAY_FORMAT
    return in_zone(moment, zone).strftime(shape)


def _current_zone() -> ZoneInfo:
    return zone_of(current_app.config if has_app_context() else None)


def clinic_today(zone: tzinfo | None = None) -> date:
    """Return the clinic's local date now, by the app clock (`extensions.now`)."""
    return local_date(now(), zone or _current_zone())


def clinic_time(moment: datetime, zone: tzinfo | None = None) -> datetime:
    """Return an aware moment (UTC, as stored) in the clinic's zone."""
    return in_zone(moment, zone or _current_zone())


def init_app(app: Flask) -> None:
    """Refuse an unknown CLINIC_TIMEZONE; add the `clinic_time` filter for templates."""
    zone_of(app.config)

    def clinic_time_filter(moment: datetime | None, seconds: bool = False) -> str:
        """Write a stored moment in the clinic's zone: 2026-06-01 21:30 EDT (empty for None)."""
        if moment is None:
            return ""
        return format_in_zone(moment, zone_of(current_app.config), seconds=seconds)

    app.jinja_env.filters["clinic_time"] = clinic_time_filter
