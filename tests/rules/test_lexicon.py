"""Free-text medicine matching: whole words, any case or accent, doses and maker prefixes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questionnaire.rules.lexicon import (
    How,
    Lexicon,
    Reader,
    allowance,
    collisions,
    resembles,
    term_problem,
    tokenize,
)

BENZOS = Lexicon.compile(
    "benzodiazepines",
    ["alprazolam", "Xanax", "clonazepam", "Rivotril", "lorazepam", "Ativan", "diazepam", "Valium"],
)
OTHERS = Lexicon.compile(
    "others", ["morphine", "Tylenol #3", "Theo-24", "Lamictal", "naltrexone", "Adderall XR"]
)


def found(text: str, lexicon: Lexicon = BENZOS) -> list[str]:
    """Return the terms a text mentions."""
    return lexicon.find(tokenize(text))


def test_tokenize_splits_letters_from_digits_and_drops_case_and_accents() -> None:
    assert tokenize("Ativan0.5mg") == ("ativan", "0", "5", "mg")
    assert tokenize("Tylenol #3") == ("tylenol", "3")
    assert tokenize("Clonazépam, THEO-24") == ("clonazepam", "theo", "24")
    assert tokenize("") == ()


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("clonazepam", "clonazepam"),
        ("Xanax", "Xanax"),
        ("XANAX at night", "Xanax"),
        ("Clonazépam", "clonazepam"),
        ("CLONAZÉPAM", "clonazepam"),
        ("lorazepam 1mg", "lorazepam"),
        ("lorazepam1mg twice daily", "lorazepam"),
        ("Ativan0.5mg", "Ativan"),
        ("apo-lorazepam", "lorazepam"),
        ("APO lorazepam", "lorazepam"),
        ("apolorazepam", "lorazepam"),
        ("PMS-Clonazepam", "clonazepam"),
        ("Sandoz clonazepam 0.25 mg", "clonazepam"),
        ("teva-alprazolam", "alprazolam"),
        ("sertraline, then Rivotril.", "Rivotril"),
        ("(valium)", "Valium"),
    ],
)
def test_benzodiazepines_are_found(text: str, term: str) -> None:
    assert found(text) == [term]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Tylenol #3", "Tylenol #3"),
        ("tylenol 3 for pain", "Tylenol #3"),
        ("Theo-24", "Theo-24"),
        ("theo 24 400mg", "Theo-24"),
        ("Lamictal 100 mg", "Lamictal"),
        ("adderall xr 20mg", "Adderall XR"),
        ("morphine", "morphine"),
        ("Mylan-naltrexone", "naltrexone"),
    ],
)
def test_multi_word_and_punctuated_terms(text: str, term: str) -> None:
    assert found(text, OTHERS) == [term]


@pytest.mark.parametrize(
    "text",
    [
        "clonidine 0.1mg",
        "clonazepamine",
        "Valtrex",
        "valproate",
        "Valproic acid",
        "diazepamide",
    ],
)
def test_benzodiazepine_look_alikes_are_not_found(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Lamisil",
        "hydromorphone",
        "Tylenol 300mg",
        "Tylenol",
        "Theo",
        "Theo-240",
        "Adderall",
        "Hydromorph Contin",
        "naltrexoneish",
    ],
)
def test_other_look_alikes_are_not_found(text: str) -> None:
    assert found(text, OTHERS) == []


def test_find_is_empty_only_without_a_match() -> None:
    assert BENZOS.find(tokenize("pms-clonazepam"))
    assert not BENZOS.find(tokenize("clonidine"))


def test_several_terms_are_reported_once_in_text_order() -> None:
    assert found("Ativan, then Xanax, then ativan again") == ["Ativan", "Xanax"]


def test_terms_keep_their_written_form() -> None:
    assert BENZOS.terms[:2] == ("alprazolam", "Xanax")


@pytest.mark.parametrize(
    ("term", "problem"),
    [("#", "no letters or digits"), ("  ", "no letters or digits"), ("3", "only a number")],
)
def test_unusable_terms(term: str, problem: str) -> None:
    message = term_problem(term)
    assert message is not None and problem in message


def test_usable_terms() -> None:
    assert term_problem("Tylenol #3") is None
    assert term_problem("Theo-24") is None


@given(st.text())
def test_arbitrary_text_never_makes_the_matcher_raise(text: str) -> None:
    tokens = tokenize(text)
    assert isinstance(BENZOS.find(tokens), list)
    OTHERS.find(tokens)


# --- tolerance ---------------------------------------------------------------------------

FLAGGED = Lexicon.compile(
    "flagged",
    [
        "Xanax",
        "Valium",
        "Restoril",
        "lorazepam",
        "clonazepam",
        "Ultram",
        "Tylenol #3",
        "Hydromorph Contin",
        "MS Contin",
        "Adderall XR",
    ],
)
KNOWN = Lexicon.compile("known", ["clonidine", "Tylenol", "ultra", "Zestril", "vitamin"])
READER = Reader.compile([FLAGGED], [KNOWN])


def read(text: str) -> list[tuple[str, str, str | None, int]]:
    """Return each word's reading as (written, how, term, edits)."""
    return [(w.written, str(w.how), w.term, w.edits) for w in READER.read(text).words]


@pytest.mark.parametrize(("length", "edits"), [(1, 0), (4, 0), (5, 1), (7, 1), (8, 2), (20, 2)])
def test_the_allowance_grows_with_the_word(length: int, edits: int) -> None:
    assert allowance(length) == edits


@pytest.mark.parametrize(
    ("text", "term", "edits"),
    [
        ("Xanaxx", "Xanax", 1),  # an extra letter
        ("Zanax", "Xanax", 1),  # a first letter that sounds the same
        ("Valum", "Valium", 1),  # a missing letter
        ("Vailum", "Valium", 1),  # two neighbours swapped
        ("Restorill", "Restoril", 1),
        ("lorazepan", "lorazepam", 1),
        ("klonazepan", "clonazepam", 2),  # 8 letters or more: two edits
    ],
)
def test_near_misses_are_read_as_the_term(text: str, term: str, edits: int) -> None:
    assert read(text) == [(text, "near match", term, edits)]


@pytest.mark.parametrize(
    "text",
    [
        "Xana",  # below 5 letters nothing is tolerated
        "Xnax",  # a deletion that leaves 4 letters
        "Bolium x",  # two edits in a 6-letter word
        "lorazepamine",  # three letters more
    ],
)
def test_words_beyond_the_allowance_are_not_read_as_a_term(text: str) -> None:
    assert READER.read(text).matches == ()


def test_a_maker_prefix_glued_on_still_tolerates_what_follows() -> None:
    assert read("apolorazepan") == [("apolorazepan", "near match", "lorazepam", 1)]
    assert read("pms-clonazepan 0.5") == [
        ("pms-clonazepan", "near match", "clonazepam", 1),
        ("0", "unknown", None, 0),
        ("5", "unknown", None, 0),
    ]
    assert read("APO lorazepam")[0] == ("APO lorazepam", "maker prefix", "lorazepam", 0)


def test_multi_word_terms_tolerate_each_long_word() -> None:
    assert read("Hydromorf Contin") == [("Hydromorf Contin", "near match", "Hydromorph Contin", 2)]
    assert read("MS Contn") == [("MS Contn", "near match", "MS Contin", 1)]
    assert read("Adderal XR") == [("Adderal XR", "near match", "Adderall XR", 1)]
    # Short words and numbers in a term are never tolerated.
    assert READER.read("MX Contin").of("flagged") == []
    assert READER.read("Tylenol 4").matches == ()


def test_a_known_word_written_exactly_is_never_read_as_a_flagged_one() -> None:
    assert read("ultra") == [("ultra", "known", "ultra", 0)]
    assert READER.read("Zestril").matches == ()
    # Without the known list, the same word is a near miss of Ultram.
    alone = Reader.compile([FLAGGED])
    assert alone.read("ultra").terms("flagged") == ["Ultram"]


def test_a_longer_flagged_term_wins_over_a_known_word_inside_it() -> None:
    assert READER.read("Tylenol 3").terms("flagged") == ["Tylenol #3"]
    assert READER.read("Tylenol 500 mg").matches == ()


def test_a_word_nearer_a_known_medicine_reads_as_that() -> None:
    # "lorazepin" is 2 letters from lorazepam (flagged) but 1 from "lorazepine" (known).
    reader = Reader.compile([FLAGGED], [Lexicon.compile("known", ["lorazepine"])])
    (word,) = reader.read("lorazepin").words
    assert (word.how, word.term, word.edits) == (How.KNOWN, "lorazepine", 1)
    assert word.resembles == ("lorazepam",)
    assert reader.read("lorazepin").matches == ()
    # Nearer the flagged term, it reads as that term.
    assert reader.read("lorazepame").terms("flagged") == ["lorazepam"]


def test_a_known_medicine_shows_the_flagged_name_it_resembles() -> None:
    (word,) = READER.read("clonidine").words
    assert word.how is How.KNOWN and word.resembles == ()
    shipped = Reader.compile(
        [Lexicon.compile("benzodiazepines", ["Klonopin", "clonazepam"])],
        [Lexicon.compile("known_medicines", ["clonidine", "sertraline"])],
    )
    (clonidine,) = shipped.read("clonidine").words
    assert clonidine.resembles == ("Klonopin",)
    assert (
        clonidine.describe()
        == "known: clonidine (known medicines), not flagged; resembles Klonopin"
    )
    (sertraline,) = shipped.read("sertraline").words
    assert sertraline.resembles == ()


def test_an_exact_term_has_no_near_misses() -> None:
    exact = Lexicon.compile("flagged", ["Doral", "Valium"], exact=["Doral"])
    reader = Reader.compile([exact])
    assert reader.read("Doral").terms("flagged") == ["Doral"]
    assert reader.read("Coral").matches == ()
    assert reader.read("Valum").terms("flagged") == ["Valium"]


def test_a_match_keeps_the_words_as_the_patient_wrote_them() -> None:
    (match,) = READER.read("took Restorill, 15 mg").matches
    assert match.evidence() == {
        "written": "Restorill",
        "term": "Restoril",
        "how": "near match",
        "edits": 1,
    }
    (accented,) = Reader.compile([BENZOS]).read("le Clonazépam 0,5").matches
    assert accented.written == "Clonazépam"
    (numbered,) = Reader.compile([OTHERS]).read("Tylenol No. 3 twice").matches
    assert numbered.written == "Tylenol No. 3"


def test_no_before_a_number_is_a_number_sign_and_otherwise_a_word() -> None:
    assert tokenize("Tylenol No. 3") == ("tylenol", "3")
    assert tokenize("Tylenol n° 3") == ("tylenol", "3")
    assert tokenize("no other medicines") == ("no", "other", "medicines")


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("", []),
        ("1 2 3 500 mg", []),
        ("💊💊 Xanax 💊", ["Xanax"]),
        ("Ксанакс and Xanax, 阿普唑仑", ["Xanax"]),
        (" ".join(["vitamin"] * 999 + ["Valum"]), ["Valium"]),
        ("\x00\t\n", []),
    ],
)
def test_odd_text_is_read_without_a_crash_or_a_silent_miss(text: str, terms: list[str]) -> None:
    assert READER.read(text).terms("flagged") == terms


def test_collisions_are_pairs_of_lists_with_different_rules() -> None:
    benzos = Lexicon.compile("benzos", ["Ativan", "Valium"])
    opioids = Lexicon.compile("opioids", ["Ativam", "morphine"], exact=["Ativam"])
    same = Lexicon.compile("same", ["Valiun"])
    outcomes = {
        "benzos": frozenset({"benzo"}),
        "opioids": frozenset({"opioid"}),
        "same": frozenset({"benzo"}),
    }
    (collision,) = collisions([benzos, opioids, same], [], outcomes)
    assert (collision.first.written, collision.second.written, collision.edits) == (
        "Ativan",
        "Ativam",
        1,
    )
    assert "'Ativam' is marked exact:" in collision.describe()


def test_look_and_sound_alikes_resemble_but_different_names_do_not() -> None:
    assert resembles("clonidine", "klonopin")
    assert resembles("lamisil", "lamictal")
    assert resembles("trazodone", "tramadol")
    assert not resembles("sertraline", "selegiline")
    assert not resembles("amlodipine", "alprazolam")
