"""An instrument's derived fields, its LOINC answers, and the clinician's score of each."""

from __future__ import annotations

import pytest

from questionnaire.questions.instruments import (
    AUDITC,
    GAD7,
    INSTRUMENTS,
    PHQ9,
    Band,
    Instrument,
    all_scores,
    score_of,
)

#: A made-up two-item instrument, built inside the tests (the real ones are built at import).
TOY = {
    "id": "toy",
    "name": "TOY-2",
    "stem": "How often?",
    "items": ("First", "Second"),
    "scale": ("Never", "Sometimes", "Often"),
    "total_fact": "toy_total",
    "bands": (Band(0, 1, "low"), Band(2, 4, "high")),
    "loinc_total": "1-1",
    "loinc_total_display": "Toy total",
    "loinc_panel": "2-2",
}


def test_an_instrument_numbers_its_items_from_one_and_scores_its_answers_from_zero() -> None:
    toy = Instrument(**TOY)  # type: ignore[arg-type]
    assert toy.item_ids == ("toy_1", "toy_2")
    assert toy.codes == ("0", "1", "2")
    assert toy.max_total == 4
    assert toy.loinc_answer("1") is None  # no LOINC answers given


def test_loinc_codes_must_match_the_scale_and_the_items_one_for_one() -> None:
    with_codes = Instrument(
        **TOY, loinc_answers=("LA1-1", "LA2-2", "LA3-3"), loinc_items=("a", "b")
    )  # type: ignore[arg-type]
    assert with_codes.loinc_answer("2") == "LA3-3"
    assert with_codes.loinc_answer("0") == "LA1-1"
    assert with_codes.loinc_answer("3") is None
    assert with_codes.loinc_answer("x") is None
    with pytest.raises(ValueError, match=r"^TOY-2: one LOINC answer code per answer of the scale$"):
        Instrument(**TOY, loinc_answers=("LA1-1", "LA2-2"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^TOY-2: one LOINC item code per item$"):
        Instrument(**TOY, loinc_items=("a",))  # type: ignore[arg-type]


def test_the_real_instruments_give_loinc_answers_by_score() -> None:
    assert [PHQ9.loinc_answer(code) for code in PHQ9.codes] == [
        "LA6568-5",
        "LA6569-3",
        "LA6570-1",
        "LA6571-9",
    ]
    assert PHQ9.loinc_answer("4") is None
    # The AUDIT-C's items each have their own LOINC answer list (LL2179-1, LL2180-9, LL2181-7).
    assert AUDITC.loinc_answer("0", "auditc_1") == "LA6270-8"  # Never
    assert AUDITC.loinc_answer("0", "auditc_2") != AUDITC.loinc_answer("0", "auditc_1")
    assert AUDITC.loinc_answer("5", "auditc_1") is None


def test_a_score_gives_the_total_band_and_how_many_items_were_answered() -> None:
    answers = {item_id: "2" for item_id in GAD7.item_ids}
    score = score_of(GAD7, answers)
    assert (score.instrument, score.total, score.answered, score.asked) == (GAD7, 14, 7, True)
    assert score.band is not None and score.band.label == "moderate"
    partial = score_of(GAD7, {"gad7_1": "3"})
    assert (partial.total, partial.band, partial.answered, partial.asked) == (None, None, 1, True)
    assert score_of(GAD7, {}).asked is False


def test_all_scores_give_one_score_per_instrument_in_order() -> None:
    answers = {item_id: "1" for item_id in PHQ9.item_ids}
    scores = all_scores(answers)
    assert [score.instrument for score in scores] == list(INSTRUMENTS)
    assert (scores[0].total, scores[0].answered) == (9, 9)
    assert all(score.total is None for score in scores[1:3])
