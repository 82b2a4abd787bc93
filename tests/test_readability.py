"""The reading-level formulas, on short texts counted by hand."""

from __future__ import annotations

import pytest

from tests.harness.readability import (
    FRENCH,
    Counts,
    count,
    flesch_kincaid_grade,
    is_left_out,
    kandel_moles,
    lix,
    sentences,
    syllables,
    vowel_groups,
    words,
)


def test_the_cat_sat_on_the_mat() -> None:
    counts = count(["The cat sat on the mat."])
    assert counts == Counts(sentences=1, words=6, syllables=6, long_words=0)
    assert flesch_kincaid_grade(counts) == pytest.approx(-1.45)


def test_a_label_without_a_full_stop_is_a_sentence_of_its_own() -> None:
    # Your(1) date(1) of(1) birth(1) | We ask this to keep your (6) an-swers(2) pri-vate(2)
    counts = count(["Your date of birth", "We ask this to keep your answers private."])
    assert counts == Counts(sentences=2, words=12, syllables=14, long_words=2)
    # 0.39 x 12/2 + 11.8 x 14/12 - 15.59
    assert flesch_kincaid_grade(counts) == pytest.approx(0.5167, abs=1e-4)


def test_sentences_end_at_full_stops_question_and_exclamation_marks() -> None:
    assert sentences("Call now. Are you safe? Yes! Then carry on") == [
        "Call now.",
        "Are you safe?",
        "Yes!",
        "Then carry on",
    ]
    assert sentences("About 70 kg (or 154 lb). Thanks") == ["About 70 kg (or 154 lb).", "Thanks"]


def test_a_sentence_without_a_word_is_not_counted() -> None:
    assert count(["", "416 555 0100", "Call us."]) == Counts(1, 2, 2, 0)


def test_words_keep_inner_apostrophes_and_hyphens_and_leave_out_numbers() -> None:
    assert words("I'd rather not say: self-harm, 10 to 15 times.") == [
        "I'd",
        "rather",
        "not",
        "say",
        "self-harm",
        "to",
        "times",
    ]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("a", 1),  # the floor: one a word
        ("cat", 1),
        ("answers", 2),  # an-swers
        ("questionnaire", 3),  # ques-tion-naire
        ("appointment", 3),  # ap-point-ment
        ("self-harm", 2),  # each part alone
        ("medicines", 3),  # no hyphenation point: vowel groups, less the silent "es"
    ],
)
def test_syllables_are_hyphenation_points_plus_one(word: str, expected: int) -> None:
    assert syllables(word) == expected


def test_vowel_groups_leave_out_a_silent_final_e() -> None:
    assert vowel_groups("medicine") == 3
    assert vowel_groups("little") == 2
    assert vowel_groups("boxes") == 2
    assert vowel_groups("rhythm") == 1


def test_left_out_words_are_not_counted_singular_or_plural() -> None:
    glossary = {"ketamine", "antidepressant"}
    assert is_left_out("Ketamine", glossary)
    assert is_left_out("antidepressants", glossary)
    assert not is_left_out("medicines", glossary)
    assert count(["Ketamine and antidepressants help."], leave_out=glossary) == Counts(1, 2, 2, 0)


def test_lix_counts_words_longer_than_six_letters() -> None:
    counts = count(["The questionnaire takes fifteen minutes."])
    # questionnaire, fifteen and minutes are long: 5/1 + 100 x 3/5
    assert counts.long_words == 3
    assert lix(counts) == pytest.approx(65.0)


def test_kandel_moles_on_a_french_sentence() -> None:
    # nous(1) li-sons(2) chaque(1) ré-ponse(2), from the fr_FR dictionary
    counts = count(["Nous lisons chaque réponse."], lang=FRENCH)
    assert counts == Counts(sentences=1, words=4, syllables=6, long_words=1)
    # 207 - 1.015 x 4/1 - 73.6 x 6/4
    assert kandel_moles(counts) == pytest.approx(92.54)
    assert lix(counts) == pytest.approx(29.0)
