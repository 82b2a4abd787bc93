"""The visits CSV: one row a visit, its check-in state, totals and course facts as columns.

No answer and no name: the intake's reference, times, levels, rule ids and numbers.
Cells go through exports.csv.safe_cell like every other CSV of the app.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from questionnaire.exports.csv import safe_cell
from questionnaire.records.references import format_reference
from questionnaire.records.visits import Patient, Visit
from questionnaire.visits import course_view

COLUMNS = (
    "reference",
    "visit_id",
    "scheduled_at",
    "checked_in_at",
    "highest_level",
    "crisis",
    "flags",
    "visit_number",
    "phq9_total",
    "gad7_total",
    "phq9_baseline",
    "phq9_change_baseline",
    "phq9_change_previous",
    "phq9_response",
    "phq9_remission",
    "phq9_worsening",
    "gad7_baseline",
    "gad7_change_baseline",
    "gad7_change_previous",
    "gad7_worsening",
)
_COURSE = COLUMNS[10:]


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _row(visit: Visit, facts: dict[str, object]) -> list[str]:
    answered = visit.facts or {}
    return [
        format_reference(visit.patient.submission.reference),
        str(visit.id),
        visit.scheduled_at.isoformat(),
        visit.checked_in_at.isoformat() if visit.checked_in_at else "",
        visit.highest_level or "",
        "yes" if visit.crisis else "no",
        ";".join(flag["rule"] for flag in visit.flags or []),
        _cell(facts.get("visit_number")),
        _cell(answered.get("phq9_total")),
        _cell(answered.get("gad7_total")),
        *(_cell(facts.get(name)) for name in _COURSE),
    ]


def rows(patients: Iterable[Patient]) -> Iterator[list[str]]:
    """Yield one row per visit of each patient, with the course's facts at that check-in."""
    for patient in patients:
        course = {
            visit_row.reading.at: visit_row.facts
            for visit_row in course_view.rows(patient)
            if visit_row.label == "visit"
        }
        for visit in patient.visits:
            yield _row(visit, course.get(visit.scheduled_at, {}) if visit.checked_in_at else {})


def visits_csv(patients: Iterable[Patient]) -> str:
    """Return the CSV text (header first) of every visit of these patients."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    for row in rows(patients):
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
