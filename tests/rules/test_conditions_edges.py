"""Conditions mutation testing found untested: mentions under all and not, not over answered,
each context a mention can be asked in, and what a rule with an odd value says about it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from questionnaire.flagging.table import load_rule_table
from questionnaire.rules.conditions import (
    Compiled,
    ValueTypeError,
    check_condition,
    compile_condition,
    is_missing,
    mentioned_lists,
)
from questionnaire.rules.schema import Condition
from questionnaire.rules.vocabulary import Field, FieldKind
from tests.harness.app import PROJECT_ROOT
from tests.rules.test_engine import FIELDS

#: The shipped table's reader: its term lists and its context rules (negated, historical...).
READER = load_rule_table(PROJECT_ROOT / "rules.yaml").reader
_CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)

BENZOS = {"item": "medications", "mentions": "benzodiazepines"}
HEART = {"item": "heart_condition", "equals": "yes"}
ATIVAN = {"written": "Ativan", "term": "Ativan", "how": "exact", "edits": 0}
NEGATED_XANAX = {
    "written": "Xanax",
    "term": "Xanax",
    "how": "exact",
    "edits": 0,
    "list": "benzodiazepines",
    "context": "negated",
    "trigger": "no",
    "clause": "no Xanax",
}


def compiled(spec: dict[str, Any]) -> Compiled:
    return compile_condition(_CONDITION.validate_python(spec), FIELDS, READER)


def holds(spec: dict[str, Any], values: dict[str, Any]) -> bool:
    return compiled(spec).test(values, {})


def evidence(spec: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the evidence of a condition that holds (asserting that it does)."""
    condition = compiled(spec)
    cache: dict[str, Any] = {}
    assert condition.test(values, cache)
    out: list[dict[str, Any]] = []
    condition.explain(values, cache, out)
    return out


def in_context(context: str) -> dict[str, Any]:
    return {**BENZOS, "context": context}


@pytest.mark.parametrize("extra", [[], [{"fact": "weight_kg", "at_least": 100}]])
def test_mentions_inside_all_holds_and_gives_the_terms_read(extra: list[dict[str, Any]]) -> None:
    spec = {"all": [HEART, BENZOS, *extra]}
    values = {"heart_condition": "yes", "medications": "Ativan 1mg", "weight_kg": 120}
    found = evidence(spec, values)
    assert found[:2] == [
        {"item": "heart_condition", "value": "yes"},
        {"item": "medications", "matched": ["Ativan"], "read": [ATIVAN]},
    ]
    assert not holds(spec, {**values, "medications": "sertraline"})
    assert not holds(spec, {**values, "heart_condition": "no"})
    assert not holds(spec, {**values, "medications": None})


def test_mentions_inside_any_reports_only_when_it_holds() -> None:
    spec = {"any": [HEART, BENZOS]}
    assert evidence(spec, {"heart_condition": "yes", "medications": "sertraline"}) == [
        {"item": "heart_condition", "value": "yes"}
    ]
    assert evidence(spec, {"heart_condition": "no", "medications": "Ativan"}) == [
        {"item": "medications", "matched": ["Ativan"], "read": [ATIVAN]}
    ]


@pytest.mark.parametrize("medications", ["sertraline", None, "", "no Ativan"])
def test_not_over_mentions_reports_the_text_it_looked_at(medications: str | None) -> None:
    spec = {"not": BENZOS}
    assert evidence(spec, {"medications": medications}) == [
        {"item": "medications", "value": medications}
    ]
    assert not holds(spec, {"medications": "Ativan"})


def test_not_over_mentions_of_a_non_text_raises_rather_than_holding() -> None:
    with pytest.raises(ValueTypeError, match="field 'medications' should hold text"):
        holds({"not": BENZOS}, {"medications": 3})


@pytest.mark.parametrize("value", [None, "", [], ()])
def test_not_over_answered_holds_when_missing_and_reports_the_value(value: Any) -> None:
    spec = {"not": {"item": "medications", "answered": True}}
    # Evidence keeps a copy of a collection, as a list.
    seen = list(value) if isinstance(value, tuple) else value
    assert evidence(spec, {"medications": value}) == [{"item": "medications", "value": seen}]
    assert not holds(spec, {"medications": "none"})
    # Twice negated: answered again.
    assert holds({"not": spec}, {"medications": "none"})
    assert not holds({"not": {"item": "consent", "answered": False}}, {})
    assert holds({"not": {"item": "consent", "answered": False}}, {"consent": False})


@pytest.mark.parametrize(
    ("text", "true_in"),
    [
        ("Ativan", {"plain"}),
        ("no Ativan", {"only_in_context", "negated"}),
        ("stopped Ativan years ago", {"only_in_context", "historical"}),
        ("Ativan, but no Xanax", {"plain", "negated"}),
        ("sertraline", set()),
        ("", set()),
    ],
)
def test_each_context_holds_for_its_own_mentions(text: str, true_in: set[str]) -> None:
    for context in ("plain", "only_in_context", "negated", "historical", "allergy"):
        assert holds(in_context(context), {"medications": text}) is (context in true_in), context


def test_a_plain_mention_lists_the_same_list_named_in_context_too() -> None:
    values = {"medications": "Ativan, but no Xanax"}
    assert evidence(BENZOS, values) == [
        {
            "item": "medications",
            "matched": ["Ativan"],
            "read": [ATIVAN],
            "also_named": [NEGATED_XANAX],
        }
    ]
    assert evidence(in_context("negated"), values) == [
        {"item": "medications", "matched": ["Xanax"], "read": [NEGATED_XANAX]}
    ]


def test_only_in_context_gives_every_mention_in_any_context() -> None:
    found = evidence(in_context("only_in_context"), {"medications": "no Ativan, stopped Xanax"})
    (entry,) = found
    assert entry["matched"] == ["Ativan", "Xanax"]
    assert [(read["context"], read["trigger"]) for read in entry["read"]] == [
        ("negated", "no"),
        ("historical", "stopped"),
    ]
    assert "also_named" not in entry


def test_explaining_a_missing_text_adds_nothing() -> None:
    out: list[dict[str, Any]] = []
    compiled(BENZOS).explain({"medications": None}, {}, out)
    assert out == []


def test_the_lists_a_condition_reads_are_found_anywhere_in_its_tree() -> None:
    spec = {
        "any": [
            {"all": [HEART, BENZOS]},
            {"not": {"item": "medications", "mentions": "stimulants"}},
            {"item": "medications", "answered": True},
        ]
    }
    assert mentioned_lists(_CONDITION.validate_python(spec)) == {
        ("medications", "benzodiazepines"),
        ("medications", "stimulants"),
    }
    assert mentioned_lists(_CONDITION.validate_python(HEART)) == set()


@pytest.mark.parametrize(
    ("value", "missing"),
    [(None, True), ("", True), ([], True), ((), True), (0, False), (False, False), (" ", False)],
)
def test_what_counts_as_missing(value: Any, missing: bool) -> None:
    assert is_missing(value) is missing


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ({"item": "medications", "mentions": "benzodiazepines"}, 3, "text"),
        ({"item": "heart_condition", "equals": "yes"}, 1, "an answer code"),
        ({"item": "drugs", "includes_any": ["cocaine"]}, "cocaine", "a list of answer codes"),
        ({"fact": "weight_kg", "at_least": 35}, "70", "a number"),
        ({"item": "consent", "equals": True}, "y", "true or false"),
    ],
)
def test_a_wrong_type_names_the_field_and_what_it_should_hold(
    spec: dict[str, Any], value: Any, expected: str
) -> None:
    name = spec.get("item") or spec["fact"]
    with pytest.raises(ValueTypeError) as raised:
        holds(spec, {name: value})
    assert str(raised.value) == f"field '{name}' should hold {expected}"


def test_mentions_first_in_a_pair_reads_through_the_cache() -> None:
    # The two-child fast paths of all and any pass the reading cache to their first child.
    values = {"heart_condition": "yes", "medications": "Ativan"}
    assert holds({"all": [BENZOS, HEART]}, values)
    assert holds({"any": [BENZOS, HEART]}, {**values, "heart_condition": "no"})
    cache: dict[str, Any] = {}
    assert compiled({"all": [BENZOS, HEART]}).test(values, cache)
    assert list(cache) == ["medications"]


def test_a_double_not_reports_what_its_leaves_looked_at() -> None:
    spec = {"not": {"not": {"all": [HEART, BENZOS]}}}
    values = {"heart_condition": "yes", "medications": "Ativan"}
    assert evidence(spec, values) == [
        {"item": "heart_condition", "value": "yes"},
        {"item": "medications", "value": "Ativan"},
    ]


# --- checking ----------------------------------------------------------------------------

LEXICON_NAMES = dict.fromkeys(["benzos", "benzoz", "benzo", "benzodiazepines", "stimulants"])


def problems(spec: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Return every (path, message) check_condition reports for a condition."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    check_condition(
        _CONDITION.validate_python(spec),
        ("when",),
        FIELDS,
        LEXICON_NAMES,
        lambda path, message: found.append((path, message)),
    )
    return found


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [
        (
            {"item": "medications", "mentions": "benzs"},
            ("when", "mentions"),
            "there is no lexicon 'benzs'; did you mean 'benzos', 'benzo' or 'benzoz'?",
        ),
        (
            {"item": "medications", "mentions": "zzzz"},
            ("when", "mentions"),
            "there is no lexicon 'zzzz'; add it under lexicons:",
        ),
        (
            {"item": "weight_kg", "at_least": 3},
            ("when", "item"),
            "'weight_kg' is a derived fact, not an item; write fact: weight_kg",
        ),
        (
            {"fact": "heart_condition", "equals": "yes"},
            ("when", "fact"),
            "'heart_condition' is a questionnaire item, not a fact; write item: heart_condition",
        ),
        (
            {"item": "heart_condtion", "equals": "yes"},
            ("when", "item"),
            "there is no item 'heart_condtion'; did you mean 'heart_condition'?",
        ),
        (
            {"fact": "weight", "at_least": 3},
            ("when", "fact"),
            "there is no fact 'weight'; did you mean 'weight_kg'?",
        ),
        (
            {"item": "zzz", "equals": "yes"},
            ("when", "item"),
            "there is no item 'zzz'; check the item names",
        ),
        (
            {"item": "heart_condition", "includes_any": ["yes"]},
            ("when", "includes_any"),
            "item 'heart_condition' holds one answer code, so 'includes_any' does not apply "
            "(it is a single-choice item: use one_of); use one of: equals, one_of, answered",
        ),
        (
            {"item": "heart_condition", "mentions": "benzos"},
            ("when", "mentions"),
            "item 'heart_condition' holds one answer code, so 'mentions' does not apply; "
            "use one of: equals, one_of, answered",
        ),
        (
            {"item": "drugs", "equals": "cocaine"},
            ("when", "equals"),
            "item 'drugs' holds a list of answer codes, so 'equals' does not apply "
            "(it is a multiple-choice item: use includes_any); use one of: includes_any, answered",
        ),
        (
            {"item": "drugs", "one_of": ["cocaine"]},
            ("when", "one_of"),
            "item 'drugs' holds a list of answer codes, so 'one_of' does not apply "
            "(it is a multiple-choice item: use includes_any); use one of: includes_any, answered",
        ),
        (
            {"item": "drugs", "includes_any": ["heroin"]},
            ("when", "includes_any"),
            "item 'drugs' has no answer code 'heroin'; use one of: cocaine, opioids, stimulants",
        ),
        (
            {"item": "medications", "at_least": 3},
            ("when", "at_least"),
            "item 'medications' holds free text, so 'at_least' does not apply; "
            "use one of: mentions, answered",
        ),
        (
            {"item": "date_of_birth", "equals": "1980-01-01"},
            ("when", "equals"),
            "item 'date_of_birth' holds a date, so 'equals' does not apply; use one of: answered",
        ),
        (
            {"item": "consent", "equals": "yes"},
            ("when", "equals"),
            "item 'consent' is a tick box; write equals: true or equals: false",
        ),
        (
            {"fact": "weight_kg", "equals": True},
            ("when", "equals"),
            "fact 'weight_kg' is a number; compare it with numbers, not True",
        ),
        (
            {"fact": "weight_kg", "one_of": [70, "heavy"]},
            ("when", "one_of"),
            "fact 'weight_kg' is a number; compare it with numbers, not 'heavy'",
        ),
        (
            {"item": "heart_condition", "equals": 1},
            ("when", "equals"),
            'answer codes are text; write 1 in quotes, as "1"',
        ),
        (
            {"any": [HEART, {"not": {"item": "heart_condition", "equals": "maybe"}}]},
            ("when", "any", 1, "not", "equals"),
            "item 'heart_condition' has no answer code 'maybe'; use one of: no, unsure, yes",
        ),
        (
            {"all": [HEART, {"item": "x", "equals": "y"}]},
            ("when", "all", 1, "item"),
            "there is no item 'x'; check the item names",
        ),
    ],
)
def test_each_problem_is_reported_where_it_is_with_what_to_write(
    spec: dict[str, Any], path: tuple[str | int, ...], message: str
) -> None:
    assert problems(spec) == [(path, message)]


@pytest.mark.parametrize(
    "spec",
    [
        {"item": "heart_condition", "answered": True},
        {"item": "drugs", "answered": False},
        {"fact": "weight_kg", "at_least": 3},
        {"item": "consent", "equals": False},
        {"all": [HEART, BENZOS, {"not": {"item": "medications", "answered": True}}]},
    ],
)
def test_a_sound_condition_has_no_problem(spec: dict[str, Any]) -> None:
    assert problems(spec) == []


def test_mentions_of_other_lists_before_it_do_not_hide_its_own() -> None:
    values = {"medications": "Ritalin, then Ativan"}
    assert evidence(BENZOS, values) == [
        {"item": "medications", "matched": ["Ativan"], "read": [ATIVAN]}
    ]


class Whole(int):
    """An int subclass: the inlined bounds test leaves it to the general comparison."""


class Real(float):
    """A float subclass, likewise."""


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ({"fact": "weight_kg", "at_least": 35}, Whole(35), True),
        ({"fact": "weight_kg", "at_least": 35}, Whole(34), False),
        ({"fact": "weight_kg", "at_most": 250.5}, Real(250.5), True),
        ({"fact": "weight_kg", "at_most": 250.5}, Real(250.6), False),
    ],
)
def test_the_general_comparison_keeps_its_bounds(
    spec: dict[str, Any], value: float, expected: bool
) -> None:
    assert holds(spec, {"weight_kg": value}) is expected


def test_a_problem_under_not_is_found_with_the_lists() -> None:
    assert problems({"not": {"item": "medications", "mentions": "benzs"}}) == [
        (
            ("when", "not", "mentions"),
            "there is no lexicon 'benzs'; did you mean 'benzos', 'benzo' or 'benzoz'?",
        )
    ]
    assert problems({"not": BENZOS}) == []


def report_of(spec: dict[str, Any], fields: dict[str, Field], lexicons: list[str]) -> list[str]:
    """Return the messages check_condition gives against a catalogue and lexicons of its own."""
    found: list[str] = []
    check_condition(
        _CONDITION.validate_python(spec),
        (),
        fields,
        dict.fromkeys(lexicons),
        lambda _path, message: found.append(message),
    )
    return found


def test_at_most_three_close_names_are_offered() -> None:
    fields = {name: Field(name, "fact", FieldKind.NUMBER) for name in ("wa", "wb", "wc", "wd")}
    assert report_of({"fact": "w", "at_least": 1}, fields, []) == [
        "there is no fact 'w'; did you mean 'wd', 'wc' or 'wb'?"
    ]
    lexicons = ["benzoa", "benzob", "benzoc", "benzod"]
    assert report_of({"item": "medications", "mentions": "benzo"}, FIELDS, lexicons) == [
        "there is no lexicon 'benzo'; did you mean 'benzod', 'benzoc' or 'benzob'?"
    ]


def test_with_no_field_of_that_source_every_field_is_a_candidate() -> None:
    fields = {"heart_condition": FIELDS["heart_condition"]}
    assert report_of({"fact": "heart_conditon", "equals": 1}, fields, []) == [
        "there is no fact 'heart_conditon'; did you mean 'heart_condition'?"
    ]


def test_an_item_with_no_answer_codes_says_so() -> None:
    fields = {"empty": Field("empty", "item", FieldKind.CODE)}
    assert report_of({"item": "empty", "equals": "a"}, fields, []) == [
        "item 'empty' has no answer code 'a'; use one of: (none)"
    ]
