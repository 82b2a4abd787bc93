"""A patient's course for the clinician's page: each questionnaire's totals and their facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from questionnaire.questions import course
from questionnaire.questions.wording import N_
from questionnaire.records.visits import Patient
from questionnaire.visits.course_chart import Labels, course_chart

#: Highest possible total of each instrument (the chart's top).
MAX_TOTAL = {"phq9": 27, "gad7": 21}
NAMES = {"phq9": "PHQ-9", "gad7": "GAD-7"}


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the course table: a questionnaire, its totals and the course's facts."""

    reading: course.Reading
    label: str
    facts: dict[str, Any]


def readings(patient: Patient) -> list[tuple[str, course.Reading]]:
    """Return the intake, then each sent check-in, as (label, reading) in time order."""
    intake = patient.submission
    found = [
        (
            "intake",
            course.Reading(
                intake.submitted_at,
                {k: (intake.facts or {}).get(k) for k in ("phq9_total", "gad7_total")},
                "intake",
            ),
        )
    ]
    for visit in patient.visits:
        if visit.checked_in_at is None:
            continue
        facts = visit.facts or {}
        totals = {k: facts.get(k) for k in ("phq9_total", "gad7_total")}
        found.append(("visit", course.Reading(visit.scheduled_at, totals)))
    return found


def rows(patient: Patient) -> list[Row]:
    """Return the course table's rows, each with course.py's facts for that check-in."""
    labelled = readings(patient)
    plain = [reading for _label, reading in labelled]
    return [
        Row(reading, label, course.course_facts(plain, index) if reading.kind == "visit" else {})
        for index, (label, reading) in enumerate(labelled)
    ]


def charts(patient: Patient, translate: Any) -> dict[str, Markup]:
    """Return each instrument's SVG chart (empty when it has no complete total)."""
    plain = [reading for _label, reading in readings(patient)]
    drawn = {}
    for instrument in ("phq9", "gad7"):
        base = course.baseline(plain, instrument)
        drawn[instrument] = course_chart(
            course.trend(plain, instrument),
            max_total=MAX_TOTAL[instrument],
            baseline=base.total if base else None,
            labels=Labels(
                translate(N_("%(name)s totals across the course")) % {"name": NAMES[instrument]},
                translate(N_("baseline")),
                translate(N_("half of baseline")),
                translate(N_("remission (below 5)")),
            ),
            response_and_remission=instrument == "phq9",
        )
    return drawn
