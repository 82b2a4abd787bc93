"""The instruments: exact items, totals only when complete, and the published bands."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest

from questionnaire.questions import catalogue, instruments
from questionnaire.questions.forms import validate_answers
from questionnaire.questions.instruments import GAD7, PCL5, PHQ9, Instrument
from tests.answers import baseline


def answered(instrument: Instrument, *scores: int) -> dict[str, str]:
    """Return answers to an instrument's items, in order (fewer scores leave the rest blank)."""
    return {
        item_id: str(score) for item_id, score in zip(instrument.item_ids, scores, strict=False)
    }


def giving(instrument: Instrument, total: int) -> dict[str, str]:
    """Return a complete set of answers whose total is `total`."""
    top = len(instrument.scale) - 1
    scores = []
    left = total
    for _ in instrument.item_ids:
        scores.append(min(top, left))
        left -= scores[-1]
    assert left == 0
    return answered(instrument, *scores)


def test_the_instruments_have_their_published_shape() -> None:
    assert (len(PHQ9.items), PHQ9.max_total, PHQ9.codes) == (9, 27, ("0", "1", "2", "3"))
    assert (len(GAD7.items), GAD7.max_total) == (7, 21)
    assert (len(PCL5.items), PCL5.max_total, PCL5.codes) == (20, 80, ("0", "1", "2", "3", "4"))
    assert PHQ9.item_ids[0] == "phq9_1" and PHQ9.item_ids[-1] == "phq9_9"
    assert PCL5.item_ids[-1] == "pcl5_20"
    assert PHQ9.scale == (
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    )
    assert PCL5.scale == ("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely")
    assert PHQ9.items[8] == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert (PHQ9.loinc_total, GAD7.loinc_total, PCL5.loinc_total) == (
        "44261-6",
        "70274-6",
        "101698-9",
    )


@pytest.mark.parametrize(
    ("instrument", "total", "label"),
    [
        (PHQ9, 0, "minimal"),
        (PHQ9, 4, "minimal"),
        (PHQ9, 5, "mild"),
        (PHQ9, 9, "mild"),
        (PHQ9, 10, "moderate"),
        (PHQ9, 14, "moderate"),
        (PHQ9, 15, "moderately severe"),
        (PHQ9, 19, "moderately severe"),
        (PHQ9, 20, "severe"),
        (PHQ9, 27, "severe"),
        (GAD7, 0, "minimal"),
        (GAD7, 4, "minimal"),
        (GAD7, 5, "mild"),
        (GAD7, 9, "mild"),
        (GAD7, 10, "moderate"),
        (GAD7, 14, "moderate"),
        (GAD7, 15, "severe"),
        (GAD7, 21, "severe"),
        (PCL5, 0, "below the published cut-point range (31 to 33)"),
        (PCL5, 30, "below the published cut-point range (31 to 33)"),
        (PCL5, 31, "within the published cut-point range (31 to 33)"),
        (PCL5, 33, "within the published cut-point range (31 to 33)"),
        (PCL5, 34, "above the published cut-point range (31 to 33)"),
        (PCL5, 80, "above the published cut-point range (31 to 33)"),
    ],
)
def test_every_band_edge(instrument: Instrument, total: int, label: str) -> None:
    answers = giving(instrument, total)
    assert instrument.total(answers) == total
    assert instrument.band(total).label == label
    score = instruments.score_of(instrument, answers)
    assert (score.total, score.band, score.answered) == (
        total,
        instrument.band(total),
        len(instrument.items),
    )


@pytest.mark.parametrize("instrument", instruments.INSTRUMENTS)
def test_bands_cover_the_range_without_gaps(instrument: Instrument) -> None:
    edges = [(band.low, band.high) for band in instrument.bands]
    assert edges[0][0] == 0 and edges[-1][1] == instrument.max_total
    for (_, high), (low, _) in pairwise(edges):
        assert low == high + 1
    with pytest.raises(ValueError, match="outside"):
        instrument.band(instrument.max_total + 1)


@pytest.mark.parametrize("instrument", instruments.INSTRUMENTS)
def test_one_missing_item_means_no_score(instrument: Instrument) -> None:
    for missing in instrument.item_ids:
        answers = giving(instrument, instrument.max_total)
        del answers[missing]
        assert instrument.total(answers) is None
        score = instruments.score_of(instrument, answers)
        assert score.total is None and score.band is None
        assert score.answered == len(instrument.items) - 1 and score.asked
    assert not instruments.score_of(instrument, {}).asked


def test_scores_are_derived_facts() -> None:
    facts = catalogue.derive_facts({**giving(PHQ9, 27), **giving(GAD7, 10)}, date(2026, 6, 1))
    assert facts["phq9_total"] == 27
    assert facts["phq9_item9"] == 3
    assert facts["gad7_total"] == 10
    assert facts["pcl5_total"] is None
    # Item 9 alone is its own fact, whether or not the rest was answered.
    assert catalogue.derive_facts({"phq9_9": "1"}, date(2026, 6, 1))["phq9_item9"] == 1
    assert catalogue.derive_facts({"phq9_9": "1"}, date(2026, 6, 1))["phq9_total"] is None


def test_a_whole_questionnaire_validates_with_or_without_the_instruments() -> None:
    today = date(2026, 6, 1)
    skipped = validate_answers(baseline(), today)
    assert skipped.ok and skipped.facts["phq9_total"] is None
    answers = {**baseline(), "reasons": ["ptsd"], **giving(PHQ9, 12), **giving(PCL5, 33)}
    full = validate_answers(answers, today)
    assert full.ok, full.errors
    assert (full.facts["phq9_total"], full.facts["pcl5_total"]) == (12, 33)
    wrong = validate_answers({**baseline(), "gad7_1": "4"}, today)  # GAD-7 stops at 3
    assert "gad7_1" in wrong.errors


def test_every_french_exemption_is_documented_in_the_patients_docs() -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "patients.md").read_text(
        encoding="utf-8"
    )
    exemptions = readme[readme.index("**Standard measures with no official French here") :]
    exempt = {
        item.instrument
        for item in catalogue.ITEMS.values()
        if item.french_exempt and item.instrument is not None
    }
    assert exempt == {"gad7", "pcl5", "auditc"}  # the PHQ-9 is in French
    # The C-SSRS screener's items (no instrument of instruments.py: their own data file).
    screener = [i.id for i in catalogue.ITEMS.values() if i.french_exempt and not i.instrument]
    assert screener == [i.id for i in catalogue.ITEMS.values() if i.screener is True]
    assert "C-SSRS screener" in exemptions
    for instrument_id in exempt:
        instrument = instruments.BY_ID[instrument_id]
        first, last = instrument.item_ids[0], instrument.item_ids[-1]
        assert f"`{first}` … `{last}` ({instrument.name})" in exemptions
    # Exempt items' words are not in the message catalogue (shown as published).
    from questionnaire.questions.extract import catalogue_strings

    extracted = {text for text, _ in catalogue_strings()}
    assert "Trouble relaxing" not in extracted
    assert PHQ9.items[0] in extracted
