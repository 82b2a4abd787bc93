"""Free-text medicine matching: whole words, any case or accent, doses and maker prefixes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questionnaire.rules.lexicon import Lexicon, term_problem, tokenize

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


def test_matches_agrees_with_find() -> None:
    assert BENZOS.matches(tokenize("pms-clonazepam"))
    assert not BENZOS.matches(tokenize("clonidine"))


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
    assert BENZOS.matches(tokens) == bool(BENZOS.find(tokens))
    OTHERS.find(tokens)
