"""Measurement-based care: the facts a course of treatment derives from its PHQ-9 and GAD-7 totals.

Pure arithmetic over totals already scored (instruments.py): no Flask, no database. The
definitions are ITEMS.md section 15 ("Before each treatment"), after Fortney 2017
(measurement-based care), Kroenke 2001 (PHQ-9 bands), Löwe 2004 (a change of 5 points is
the PHQ-9's minimal clinically important individual change) and Toussaint 2020 (4 points
for the GAD-7, to verify). Clinicians only: no patient page shows a score or a trend.

The baseline is the intake's total; when that is incomplete, the first complete check-in
total, and the facts say which. A response needs a baseline of 10 or more (a fall of half
is within noise below it) and is exact in whole numbers: 2 x total <= baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: Rises that count as worsening, per instrument (PHQ-9: Löwe 2004; GAD-7: Toussaint 2020).
WORSENING_RISE = {"phq9": 5, "gad7": 4}
#: Response and remission are defined for the PHQ-9 only (Fortney 2017; Kroenke 2001).
RESPONSE_MIN_BASELINE = 10
REMISSION_BELOW = 5


@dataclass(frozen=True, slots=True)
class Reading:
    """One questionnaire of the course, in time order: the intake, then each check-in."""

    #: When it was answered (the intake's sending, or the visit's check-in).
    at: datetime
    #: ``phq9_total`` and ``gad7_total`` as scored, None when that instrument is incomplete
    #: or was not asked (the instruments are asked at most once every few days).
    totals: dict[str, int | None]
    #: "intake", or "visit" for a check-in.
    kind: str = "visit"


@dataclass(frozen=True, slots=True)
class Baseline:
    """An instrument's baseline total and where it came from."""

    total: int
    #: "intake", or "visit N" when the intake's total was incomplete.
    source: str
    #: Index of the reading it came from.
    index: int


def baseline(readings: Sequence[Reading], instrument: str) -> Baseline | None:
    """Return the intake's total for ``instrument``, else the first complete check-in's."""
    visit = 0
    for index, reading in enumerate(readings):
        if reading.kind == "visit":
            visit += 1
        total = reading.totals.get(f"{instrument}_total")
        if total is not None:
            source = "intake" if reading.kind == "intake" else f"visit {visit}"
            return Baseline(total, source, index)
    return None


def _previous(readings: Sequence[Reading], index: int, instrument: str) -> int | None:
    """Return the latest earlier check-in's complete total, else None."""
    for reading in reversed(readings[:index]):
        total = reading.totals.get(f"{instrument}_total")
        if reading.kind == "visit" and total is not None:
            return total
    return None


def course_facts(readings: Sequence[Reading], index: int) -> dict[str, Any]:
    """Return the course's facts for the check-in at ``index`` (readings in time order).

    Every fact is absent (not in the mapping) when its inputs are: no score is guessed.
    """
    reading = readings[index]
    facts: dict[str, Any] = {
        "visit_number": sum(1 for r in readings[: index + 1] if r.kind == "visit"),
    }
    for instrument in ("phq9", "gad7"):
        base = baseline(readings, instrument)
        if base is None or base.index > index:
            continue
        facts[f"{instrument}_baseline"] = base.total
        facts[f"{instrument}_baseline_from"] = base.source
        previous = _previous(readings, index, instrument)
        previous = base.total if previous is None else previous
        facts[f"{instrument}_previous"] = previous
        total = reading.totals.get(f"{instrument}_total")
        if total is None:
            continue
        change_baseline, change_previous = total - base.total, total - previous
        facts[f"{instrument}_change_baseline"] = change_baseline
        facts[f"{instrument}_change_previous"] = change_previous
        rise = WORSENING_RISE[instrument]
        worse = change_previous >= rise or change_baseline >= rise
        facts[f"{instrument}_worsening"] = "yes" if worse else "no"
        if instrument == "phq9" and base.total >= RESPONSE_MIN_BASELINE:
            facts["phq9_response"] = "yes" if 2 * total <= base.total else "no"
            facts["phq9_remission"] = "yes" if total < REMISSION_BELOW else "no"
    return facts


def trend(readings: Sequence[Reading], instrument: str) -> list[tuple[datetime, int]]:
    """Return the complete totals of ``instrument`` in time order, as (when, total)."""
    points = []
    for reading in readings:
        total = reading.totals.get(f"{instrument}_total")
        if total is not None:
            points.append((reading.at, total))
    return points
