"""Reading free text at its edges: ties between a flagged and a known word, the edit counts of
multi-word terms, and the allowance at each word length."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questionnaire.rules.lexicon import (
    MAX_EDITS,
    MIN_TOLERANT_LENGTH,
    TWO_EDIT_LENGTH,
    How,
    Lexicon,
    Reader,
    allowance,
    edits_between,
    tolerated,
)

#: Made-up names, so that no real medicine list changes what these tests read.
FLAGGED = Lexicon.compile(
    "flagged", ["clonazepam", "Kelbrotanol", "sleeping tablets", "MS Contin", "nerve pills"]
)
KNOWN = Lexicon.compile("known", ["Kelbrotinex", "pills"])
READER = Reader.compile([FLAGGED], [KNOWN])


def read(text: str) -> list[tuple[str, str, How, int]]:
    """Return (words as written, term, how, edits) for each flagged match."""
    return [(m.written, m.term.written, m.how, m.edits) for m in READER.read(text).matches]


def test_the_distances_the_tie_tests_rely_on() -> None:
    assert edits_between("kelbrotonel", "kelbrotanol") == 2
    assert edits_between("kelbrotonel", "kelbrotinex") == 2
    assert edits_between("kelbrotanex", "kelbrotanol") == 2
    assert edits_between("kelbrotanex", "kelbrotinex") == 1


def test_a_tie_between_a_flagged_and_a_known_word_reads_as_the_flagged_term() -> None:
    # Two edits from each: the flagged term wins, so nothing flagged is lost to a tie.
    assert read("Kelbrotonel") == [("Kelbrotonel", "Kelbrotanol", How.NEAR, 2)]
    (word,) = READER.read("Kelbrotonel").words
    assert (word.how, word.term, word.edits) == (How.NEAR, "Kelbrotanol", 2)


def test_a_known_word_strictly_nearer_wins_and_shows_what_it_resembles() -> None:
    reading = READER.read("Kelbrotanex")
    assert reading.matches == ()
    (word,) = reading.words
    assert (word.written, word.how, word.term, word.lexicon, word.edits, word.resembles) == (
        "Kelbrotanex",
        How.KNOWN,
        "Kelbrotinex",
        "known",
        1,
        ("Kelbrotanol",),
    )


@pytest.mark.parametrize(
    ("text", "edits"),
    [
        ("sleepng tablets", 1),  # first word
        ("sleeping tablts", 1),  # second word
        ("sleepng tablet", 2),  # one in each
        ("slepingg tablts", 3),  # two in the first, one in the second
        ("MS Contn", 1),  # a short exact first word, then a near miss
    ],
)
def test_a_two_word_term_counts_the_edits_of_every_word(text: str, edits: int) -> None:
    ((written, _term, how, counted),) = read(text)
    assert (written, how, counted) == (text, How.NEAR, edits)


def test_a_word_past_its_allowance_breaks_a_two_word_term() -> None:
    assert read("slepng tablets") == []  # six letters: one edit, not two
    assert read("nerv pils") == []  # four letters: exact only
    assert read("MS Contn 30") == [("MS Contn", "MS Contin", How.NEAR, 1)]


def test_a_maker_prefix_belongs_to_a_near_match() -> None:
    assert read("apo-klonazepam") == [("apo-klonazepam", "clonazepam", How.NEAR, 1)]
    assert read("apo klonazepam") == [("apo klonazepam", "clonazepam", How.NEAR, 1)]


@pytest.mark.parametrize(
    ("length", "edits"),
    [
        (1, 0),
        (MIN_TOLERANT_LENGTH - 1, 0),
        (MIN_TOLERANT_LENGTH, 1),
        (TWO_EDIT_LENGTH - 1, 1),
        (TWO_EDIT_LENGTH, MAX_EDITS),
        (40, MAX_EDITS),
    ],
)
def test_the_allowance_grows_with_the_word(length: int, edits: int) -> None:
    assert allowance(length) == edits
    assert (MIN_TOLERANT_LENGTH, TWO_EDIT_LENGTH, MAX_EDITS) == (5, 8, 2)


def test_the_shorter_word_decides_and_numbers_never_bend() -> None:
    assert tolerated("lorazepam", "lorazepm", 2)  # eight letters in the shorter: two edits
    assert not tolerated("lorazepam", "lorazpm", 2)  # seven: one
    assert tolerated("clonazepam", "klonazepan", 2)
    assert not tolerated("24", "25", 1)
    assert tolerated("24", "24", 0)
    assert not tolerated("theo", "thea", 1)


@given(st.text(alphabet="abcdefghij", min_size=1, max_size=12), st.integers(0, 3))
def test_tolerated_is_the_allowance_of_the_shorter_word(word: str, edits: int) -> None:
    term = "kelbrotanol"
    assert tolerated(word, term, edits) is (edits <= allowance(min(len(word), len(term))))


#: Terms that share a first word, a three-word term, and a list whose term sits inside another's.
SHARED = Lexicon.compile(
    "shared", ["sleeping tablets", "sleeping pills", "nerve pills", "calming herbal formula"]
)
TABLETS = Lexicon.compile("tablets", ["tablets"])
SHARED_READER = Reader.compile([SHARED], [KNOWN])


def read_with(reader: Reader, text: str) -> list[tuple[str, str, How, int]]:
    return [(m.written, m.term.written, m.how, m.edits) for m in reader.read(text).matches]


def test_a_near_first_word_tries_every_term_it_opens() -> None:
    assert read_with(SHARED_READER, "sleepng pills") == [
        ("sleepng pills", "sleeping pills", How.NEAR, 1)
    ]


def test_the_words_after_a_near_first_word_are_the_next_ones() -> None:
    assert read_with(SHARED_READER, "sleepng tablets daily") == [
        ("sleepng tablets", "sleeping tablets", How.NEAR, 1)
    ]


def test_a_known_word_inside_a_flagged_term_does_not_stop_it() -> None:
    assert read_with(SHARED_READER, "nerves pills") == [
        ("nerves pills", "nerve pills", How.NEAR, 1)
    ]


def test_a_word_another_flagged_term_holds_is_not_read_again() -> None:
    reader = Reader.compile([SHARED, TABLETS], [KNOWN])
    assert read_with(reader, "sleepng tablets") == [("tablets", "tablets", How.EXACT, 0)]


def test_a_three_word_term_adds_the_edits_of_each_later_word() -> None:
    assert read_with(SHARED_READER, "calming herbal formulla") == [
        ("calming herbal formulla", "calming herbal formula", How.NEAR, 1)
    ]
    assert read_with(SHARED_READER, "calming herbl formulla") == [
        ("calming herbl formulla", "calming herbal formula", How.NEAR, 2)
    ]
    assert read_with(SHARED_READER, "calmng herbl formulla") == [
        ("calmng herbl formulla", "calming herbal formula", How.NEAR, 3)
    ]
