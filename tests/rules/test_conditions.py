"""Each operator and combinator: true, false and missing, and the evidence it gives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from questionnaire.rules.conditions import Compiled, ValueTypeError, compile_condition
from questionnaire.rules.lexicon import Lexicon, Reader, Reading
from questionnaire.rules.schema import Condition
from questionnaire.rules.vocabulary import FieldKind
from tests.rules.test_engine import FIELDS

LEXICONS = {"benzos": Lexicon.compile("benzos", ["lorazepam", "Ativan", "Tylenol #3"])}
READER = Reader.compile(list(LEXICONS.values()))
_CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)

MISSING: list[dict[str, Any]] = [{}, {"x": None}, {"x": ""}, {"x": []}]


def compiled(spec: dict[str, Any]) -> Compiled:
    """Validate and compile one condition against the toy catalogue."""
    return compile_condition(_CONDITION.validate_python(spec), FIELDS, READER)


def holds(spec: dict[str, Any], values: dict[str, Any]) -> bool:
    """Return whether the condition holds for these values."""
    return compiled(spec).test(values, {})


def evidence(spec: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the evidence of a condition that holds."""
    condition = compiled(spec)
    assert condition.test(values, {})
    out: list[dict[str, Any]] = []
    condition.explain(values, {}, out)
    return out


def with_missing(name: str) -> list[dict[str, Any]]:
    """Return value sets in which the field is missing in each way there is."""
    return [{name: m["x"]} if m else {} for m in MISSING]


@pytest.mark.parametrize(
    ("spec", "true_for", "false_for"),
    [
        ({"item": "heart_condition", "equals": "yes"}, "yes", "no"),
        ({"item": "heart_condition", "one_of": ["yes", "unsure"]}, "unsure", "no"),
        ({"item": "drugs", "includes_any": ["opioids"]}, ["cocaine", "opioids"], ["cocaine"]),
        ({"fact": "weight_kg", "at_least": 35}, 35, 34.9),
        ({"fact": "weight_kg", "at_most": 250}, 250.0, 250.1),
        ({"fact": "weight_kg", "equals": 70}, 70.0, 71),
        ({"fact": "weight_kg", "one_of": [1, 2]}, 2, 3),
        ({"item": "consent", "equals": True}, True, False),
        ({"item": "consent", "equals": False}, False, True),
        ({"item": "medications", "mentions": "benzos"}, "Ativan 1mg", "sertraline"),
    ],
)
def test_each_operator_true_false_and_missing(
    spec: dict[str, Any], true_for: Any, false_for: Any
) -> None:
    name = spec.get("item") or spec["fact"]
    assert holds(spec, {name: true_for}) is True
    assert holds(spec, {name: false_for}) is False
    for values in with_missing(name):
        assert holds(spec, values) is False, values


@pytest.mark.parametrize("values", with_missing("medications"))
def test_answered_false_is_the_only_operator_true_when_missing(values: dict[str, Any]) -> None:
    assert holds({"item": "medications", "answered": False}, values) is True
    assert holds({"item": "medications", "answered": True}, values) is False


def test_answered_on_an_answer() -> None:
    assert holds({"item": "medications", "answered": True}, {"medications": "none"}) is True
    assert holds({"item": "medications", "answered": False}, {"medications": "none"}) is False
    # A tick box left as False is an answer, not a missing value.
    assert holds({"item": "consent", "answered": True}, {"consent": False}) is True


def test_all_any_not() -> None:
    both = {
        "all": [
            {"item": "heart_condition", "equals": "yes"},
            {"fact": "weight_kg", "at_least": 100},
        ]
    }
    either = {"any": both["all"]}
    assert holds(both, {"heart_condition": "yes", "weight_kg": 120})
    assert not holds(both, {"heart_condition": "yes", "weight_kg": 90})
    assert holds(either, {"heart_condition": "yes", "weight_kg": 90})
    assert not holds(either, {"heart_condition": "no", "weight_kg": 90})
    assert holds({"not": either}, {"heart_condition": "no", "weight_kg": 90})
    assert not holds({"not": either}, {"heart_condition": "yes"})


def test_leaf_evidence_names_the_item_or_fact() -> None:
    assert evidence({"item": "heart_condition", "equals": "yes"}, {"heart_condition": "yes"}) == [
        {"item": "heart_condition", "value": "yes"}
    ]
    assert evidence({"fact": "age_years", "at_least": 65}, {"age_years": 70}) == [
        {"fact": "age_years", "value": 70}
    ]


def test_mentions_evidence_lists_the_terms_as_written() -> None:
    spec = {"item": "medications", "mentions": "benzos"}
    values = {"medications": "LORAZEPAM 1mg, ativan, Tylenol #3 and lorazepam again"}
    assert evidence(spec, values) == [
        {
            "item": "medications",
            "matched": ["lorazepam", "Ativan", "Tylenol #3"],
            "read": [
                {"written": "LORAZEPAM", "term": "lorazepam", "how": "exact", "edits": 0},
                {"written": "ativan", "term": "Ativan", "how": "exact", "edits": 0},
                {"written": "Tylenol #3", "term": "Tylenol #3", "how": "exact", "edits": 0},
                {"written": "lorazepam", "term": "lorazepam", "how": "exact", "edits": 0},
            ],
        }
    ]


def test_any_reports_only_its_true_branches() -> None:
    spec = {
        "any": [
            {"item": "heart_condition", "equals": "yes"},
            {"item": "suicidal_now", "equals": "yes"},
            {"fact": "weight_kg", "at_least": 100},
        ]
    }
    values = {"heart_condition": "yes", "suicidal_now": "no", "weight_kg": 120}
    assert evidence(spec, values) == [
        {"item": "heart_condition", "value": "yes"},
        {"fact": "weight_kg", "value": 120},
    ]


def test_all_reports_every_branch() -> None:
    spec = {
        "all": [
            {"item": "heart_condition", "one_of": ["yes", "unsure"]},
            {"item": "drugs", "includes_any": ["cocaine"]},
        ]
    }
    values = {"heart_condition": "unsure", "drugs": ["cocaine", "opioids"]}
    assert evidence(spec, values) == [
        {"item": "heart_condition", "value": "unsure"},
        {"item": "drugs", "value": ["cocaine", "opioids"]},
    ]


def test_not_reports_the_values_its_leaves_looked_at_deduplicated() -> None:
    spec = {
        "not": {
            "all": [
                {"fact": "weight_kg", "at_least": 35},
                {"fact": "weight_kg", "at_most": 250},
            ]
        }
    }
    assert evidence(spec, {}) == [{"fact": "weight_kg", "value": None}]
    assert evidence(spec, {"weight_kg": 20}) == [{"fact": "weight_kg", "value": 20}]


def test_evidence_copies_list_answers() -> None:
    drugs = ["cocaine"]
    found = evidence({"item": "drugs", "includes_any": ["cocaine"]}, {"drugs": drugs})
    drugs.append("opioids")
    assert found == [{"item": "drugs", "value": ["cocaine"]}]


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ({"fact": "weight_kg", "at_least": 35}, {"weight_kg": "70"}),
        ({"fact": "weight_kg", "at_most": 35}, {"weight_kg": True}),
        ({"item": "heart_condition", "equals": "yes"}, {"heart_condition": ["yes"]}),
        ({"item": "drugs", "includes_any": ["cocaine"]}, {"drugs": "cocaine"}),
        ({"item": "medications", "mentions": "benzos"}, {"medications": 3}),
        ({"item": "consent", "equals": True}, {"consent": "y"}),
    ],
)
def test_a_value_of_the_wrong_type_raises(spec: dict[str, Any], values: dict[str, Any]) -> None:
    with pytest.raises(ValueTypeError) as raised:
        compiled(spec).test(values, {})
    assert str(values[next(iter(values))]) not in str(raised.value)  # no patient values


def test_text_is_read_once_per_evaluation() -> None:
    condition = compiled({"item": "medications", "mentions": "benzos"})
    cache: dict[str, Reading] = {}
    assert condition.test({"medications": "Ativan"}, cache)
    assert list(cache) == ["medications"]
    assert cache["medications"].terms("benzos") == ["Ativan"]
    # A second rule in the same call reuses the reading, not the text.
    assert condition.test({"medications": "something else"}, cache)


def test_all_and_any_of_three_or_more() -> None:
    three = [
        {"item": "heart_condition", "equals": "yes"},
        {"fact": "weight_kg", "at_least": 100},
        {"item": "drugs", "includes_any": ["cocaine"]},
    ]
    every = {"heart_condition": "yes", "weight_kg": 120, "drugs": ["cocaine"]}
    assert holds({"all": three}, every)
    assert not holds({"all": three}, {**every, "drugs": ["opioids"]})
    assert holds({"any": three}, {"drugs": ["cocaine"]})
    assert not holds({"any": three}, {"heart_condition": "no", "weight_kg": 90, "drugs": []})


class Code(str):
    """A str subclass: not the exact type the inlined tests look for."""


class Whole(int):
    """An int subclass, likewise."""


#: Every comparison, by the kind of field it applies to.
COMPARISONS: list[dict[str, Any]] = [
    {"item": "heart_condition", "equals": "yes"},
    {"item": "heart_condition", "one_of": ["yes", "unsure"]},
    {"item": "drugs", "includes_any": ["cocaine", "opioids"]},
    {"fact": "weight_kg", "at_least": 35},
    {"fact": "weight_kg", "at_most": 250.5},
    {"fact": "weight_kg", "equals": 70},
    {"fact": "weight_kg", "one_of": [1, 2.5]},
    {"item": "consent", "equals": True},
]
ODD_VALUES = st.one_of(
    st.sampled_from([None, "", [], (), set(), frozenset(), "yes", "no", "unsure", True, False]),
    st.sampled_from([Code("yes"), Code(""), Whole(70), Whole(300), float("nan"), b"yes"]),
    st.integers(-5, 400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.sampled_from(["cocaine", "opioids", "stimulants", ""]), max_size=3),
    st.tuples(st.sampled_from(["cocaine", "stimulants"])),
    st.frozensets(st.sampled_from(["cocaine", "opioids"])),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


def reference(spec: dict[str, Any], value: Any) -> bool:
    """Return what a comparison said before its common case was inlined (raises likewise)."""
    name = spec.get("item") or spec["fact"]
    kind = FIELDS[name].kind
    operator, operand = next((key, v) for key, v in spec.items() if key not in ("item", "fact"))
    if value is None or value == "" or value == [] or value == ():
        return False
    expected = {
        FieldKind.CODE: str,
        FieldKind.CODES: (list, tuple, set, frozenset),
        FieldKind.NUMBER: (int, float),
        FieldKind.FLAG: bool,
    }[kind]
    if not isinstance(value, expected) or (kind is FieldKind.NUMBER and isinstance(value, bool)):
        raise ValueTypeError(name)
    if operator == "equals":
        return bool(value == operand)
    if operator == "one_of":
        return value in frozenset(operand)
    if operator == "includes_any":
        return not frozenset(operand).isdisjoint(value)
    return bool(value >= operand) if operator == "at_least" else bool(value <= operand)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(COMPARISONS), ODD_VALUES)
def test_each_comparison_says_what_the_general_path_says(spec: dict[str, Any], value: Any) -> None:
    name = spec.get("item") or spec["fact"]
    try:
        expected: bool | type[Exception] = reference(spec, value)
    except (ValueTypeError, TypeError) as error:
        expected = type(error)
    try:
        got: bool | type[Exception] = holds(spec, {name: value})
    except (ValueTypeError, TypeError) as error:
        got = type(error)
    assert got == expected


def test_a_preread_text_is_used_as_is() -> None:
    condition = compiled({"item": "medications", "mentions": "benzos"})
    cache = {"medications": READER.read("Ativan")}
    # The reading given wins over the text: it is how the caller read that same text.
    assert condition.test({"medications": "sertraline"}, cache)
    out: list[dict[str, Any]] = []
    condition.explain({"medications": "sertraline"}, cache, out)
    assert out[0]["matched"] == ["Ativan"]
