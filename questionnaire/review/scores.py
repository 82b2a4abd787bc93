"""The instruments as a clinician reads them: one compact row each, totals beside the flags.

Scores are derived from the sealed answers where they are shown (the submission page,
and the queue's rows already opened for their names): never stored apart, never
filtered on, never shown to a patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from questionnaire.questions import catalogue, cssrs
from questionnaire.questions.instruments import INSTRUMENTS, Instrument, score_of


@dataclass(frozen=True)
class ScoreRow:
    """One instrument on the submission page: its total and band, and every item's answer."""

    instrument: Instrument
    #: None when any item is unanswered ("incomplete"), never a partial sum.
    total: int | None
    #: The published band's label (English, marked for translation), or None.
    band: str | None
    answered: int
    #: Each item's score in order, None where it was skipped.
    items: tuple[int | None, ...]
    #: False when the page was never asked (PCL-5 without PTSD among the reasons).
    asked: bool
    #: Why it was not asked: "reasons" (PTSD not named) or "language" (no official version
    #: in the patient's language, so the page was left out).
    not_asked_because: str = ""


def score_rows(answers: Mapping[str, Any], language: str = "en") -> list[ScoreRow]:
    """Return one row per instrument, in the questionnaire's order (`language`: the patient's)."""
    rows = []
    for instrument in INSTRUMENTS:
        score = score_of(instrument, answers)
        section = catalogue.SECTION_OF[instrument.item_ids[0]]
        # Left out for the patient's language: its page (GAD-7, PCL-5), or its items on a
        # page that is asked (the AUDIT-C on the alcohol page).
        in_language = catalogue.asked_in(section, language) and catalogue.item_asked_in(
            catalogue.ITEMS[instrument.item_ids[0]], language
        )
        asked = score.asked or (
            in_language and catalogue.section_is_asked(section, answers, language)
        )
        because = ""
        if not asked:
            because = "language" if not in_language else "reasons"
        rows.append(
            ScoreRow(
                instrument=instrument,
                total=score.total,
                band=score.band.label if score.band else None,
                answered=score.answered,
                items=tuple(
                    int(answers[item_id]) if answers.get(item_id) in instrument.codes else None
                    for item_id in instrument.item_ids
                ),
                asked=asked,
                not_asked_because=because,
            )
        )
    return rows


@dataclass(frozen=True)
class Total:
    """One instrument's total as a queue row shows it beside the flags."""

    name: str
    #: None: some items answered, not all ("incomplete"); the C-SSRS tier is a word.
    total: int | str | None


def queue_totals(answers: Mapping[str, Any]) -> tuple[Total, ...]:
    """Return the totals of the instruments the patient answered any item of."""
    totals = []
    for instrument in INSTRUMENTS:
        score = score_of(instrument, answers)
        if score.asked:
            totals.append(Total(instrument.name, score.total))
    risk = cssrs.risk(answers)
    if risk is not None:
        totals.append(Total("C-SSRS", risk.tier))
    return tuple(totals)


def cssrs_summary(answers: Mapping[str, Any]) -> cssrs.Risk | None:
    """Return the C-SSRS screener's triage for the submission page, or None when not asked."""
    return cssrs.risk(answers)
