"""The rule table as the app uses it: evaluate, findings, rules_error, cases, hashes.

This module also holds the toy catalogue, prepare() and table that the other rule tests use.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from questionnaire.rules import (
    BASELINE,
    LEVELS,
    RULES_ERROR,
    Field,
    FieldKind,
    Finding,
    Problem,
    RuleTable,
    RuleTableError,
    check_table,
    highest_level,
    load_table,
)
from questionnaire.rules.schema import AllOf, AnyOf, Leaf, Not

YES_NO_UNSURE = frozenset({"yes", "no", "unsure"})

FIELDS: dict[str, Field] = {
    "heart_condition": Field("heart_condition", "item", FieldKind.CODE, YES_NO_UNSURE),
    "suicidal_now": Field(
        "suicidal_now", "item", FieldKind.CODE, frozenset({"yes", "no", "prefer_not"})
    ),
    "drugs": Field(
        "drugs", "item", FieldKind.CODES, frozenset({"cocaine", "opioids", "stimulants"})
    ),
    "weight_value": Field("weight_value", "item", FieldKind.NUMBER),
    "medications": Field("medications", "item", FieldKind.TEXT),
    "date_of_birth": Field("date_of_birth", "item", FieldKind.DATE),
    "consent": Field("consent", "item", FieldKind.FLAG),
    "weight_kg": Field("weight_kg", "fact", FieldKind.NUMBER),
    "age_years": Field("age_years", "fact", FieldKind.NUMBER),
}


def toy_prepare(raw: Mapping[str, Any], today: date) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Reject the answer "bad"; otherwise pass answers through and derive two simple facts."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in raw.items():
        if value == "bad":
            errors[name] = ["Enter a real answer."]
        else:
            values[name] = value
    if "weight_value" in values:
        values["weight_value"] = float(values["weight_value"])
    values["weight_kg"] = values.get("weight_value")
    born = values.get("date_of_birth")
    values["age_years"] = today.year - date.fromisoformat(born).year if born else None
    if "consent" in values:
        values["consent"] = values["consent"] == "y"
    return values, errors


# Line numbers matter: the loader tests assert them.
VALID = """\
version: "t1"
lexicons:
  benzos: [lorazepam, Ativan, "Tylenol #3"]
rules:
  - id: heart
    level: review
    when: {item: heart_condition, one_of: ["yes", unsure]}
    message: Reports a heart condition.
    source: test source
  - id: now
    level: urgent
    when: {item: suicidal_now, equals: yes}
    message: Reports thoughts of ending their life right now.
    source: test source
  - id: benzo
    level: review
    when: {item: medications, mentions: benzos}
    message: Takes a benzodiazepine.
    source: test source
  - id: weight
    level: info
    when:
      not: {all: [{fact: weight_kg, at_least: 35}, {fact: weight_kg, at_most: 250}]}
    message: Weight is missing or outside 35 to 250 kg.
    source: test source
baseline:
  as_of: 2026-06-01
  answers: {heart_condition: "no", suicidal_now: no, weight_value: 70, medications: sertraline, date_of_birth: 1980-05-17, consent: true}
cases:
  - name: heart
    answers: {heart_condition: unsure}
    expect: [heart]
  - name: now
    answers: {suicidal_now: yes}
    expect: [now]
  - name: benzo
    answers: {medications: "Ativan 1mg"}
    expect: [benzo]
  - name: no weight
    answers: {weight_value: null}
    expect: [weight]
"""


def write(tmp_path: Path, text: str) -> Path:
    """Write a rule table to a temporary file and return its path."""
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[Problem]:
    """Return the problems check_table finds in this text."""
    return check_table(write(tmp_path, text), FIELDS, toy_prepare)


def load(tmp_path: Path, text: str = VALID) -> RuleTable:
    """Load a rule table from text, failing the test with its problems if it is unsound."""
    return load_table(write(tmp_path, text), FIELDS, toy_prepare)


def sound_values(**changes: Any) -> dict[str, Any]:
    """Return prepared values that raise no flag, with some changed."""
    values: dict[str, Any] = {
        "heart_condition": "no",
        "suicidal_now": "no",
        "weight_value": 70.0,
        "weight_kg": 70.0,
        "medications": "sertraline 50mg",
        "date_of_birth": "1980-05-17",
        "age_years": 46,
        "consent": True,
    }
    values.update(changes)
    return values


@pytest.fixture
def table(tmp_path: Path) -> RuleTable:
    return load(tmp_path)


def test_sound_values_raise_nothing(table: RuleTable) -> None:
    assert table.evaluate(sound_values()) == []


def test_findings_come_in_table_order_with_their_words(table: RuleTable) -> None:
    values = sound_values(
        weight_kg=None, medications="Ativan", suicidal_now="yes", heart_condition="yes"
    )
    findings = table.evaluate(values)
    assert [f.rule for f in findings] == ["heart", "now", "benzo", "weight"]
    now = findings[1]
    assert now.level == "urgent"
    assert now.message == "Reports thoughts of ending their life right now."
    assert now.source == "test source"
    assert now.evidence == [{"item": "suicidal_now", "value": "yes"}]
    assert findings[2].evidence == [
        {
            "item": "medications",
            "matched": ["Ativan"],
            "read": [{"written": "Ativan", "term": "Ativan", "how": "exact", "edits": 0}],
        }
    ]
    assert findings[3].evidence == [{"fact": "weight_kg", "value": None}]


def test_to_dict_is_plain_data(table: RuleTable) -> None:
    finding = table.evaluate(sound_values(heart_condition="unsure"))[0]
    assert finding.to_dict() == {
        "rule": "heart",
        "level": "review",
        "message": "Reports a heart condition.",
        "source": "test source",
        "evidence": [{"item": "heart_condition", "value": "unsure"}],
    }


def test_a_wrong_typed_value_gives_one_rules_error_and_other_rules_still_run(
    table: RuleTable,
) -> None:
    values = sound_values(weight_kg="seventy kilos", suicidal_now=["yes"], heart_condition="yes")
    findings = table.evaluate(values)
    assert [f.rule for f in findings] == ["heart", RULES_ERROR]
    error = findings[-1]
    assert error.level == "review"
    assert error.source == "rules engine"
    assert error.evidence == []
    assert "now, weight" in error.message
    assert "by hand" in error.message
    assert "seventy" not in error.message  # never the patient's values


def test_evaluate_never_raises_even_on_a_non_mapping(table: RuleTable) -> None:
    findings = table.evaluate(None)  # type: ignore[arg-type]
    assert [f.rule for f in findings] == [RULES_ERROR]


def test_evidence_is_not_shared_with_the_values() -> None:
    finding = Finding("r", "info", "m", "s", [{"item": "x", "value": 1}])
    assert finding.to_dict()["evidence"] is not finding.evidence


def test_sha256_is_the_hash_of_the_file_bytes(tmp_path: Path) -> None:
    table = load(tmp_path)
    assert table.sha256 == hashlib.sha256(VALID.encode("utf-8")).hexdigest()
    assert table.version == "t1"
    assert table.path == tmp_path / "rules.yaml"


def test_table_exposes_rules_cases_and_lexicons(table: RuleTable) -> None:
    assert [rule.id for rule in table.rules] == ["heart", "now", "benzo", "weight"]
    assert table.rules[0].line == 5
    assert [case.name for case in table.cases] == ["heart", "now", "benzo", "no weight"]
    assert table.lexicons["benzos"].terms == ("lorazepam", "Ativan", "Tylenol #3")
    assert table.rule("benzo") is table.rules[2]
    assert table.rule("nope") is None


def test_cases_get_raw_answers_built_from_the_baseline(table: RuleTable) -> None:
    baseline = table.baseline.answers
    # Numbers, dates and ticks arrive as a browser would post them.
    assert baseline["weight_value"] == "70"
    assert baseline["date_of_birth"] == "1980-05-17"
    assert baseline["consent"] == "y"
    assert baseline["suicidal_now"] == "no"
    no_weight = table.cases[3]
    assert "weight_value" not in no_weight.answers
    assert no_weight.answers["heart_condition"] == "no"


def test_run_cases_reports_baseline_then_cases(table: RuleTable) -> None:
    results = table.run_cases(toy_prepare)
    assert [r.name for r in results] == [BASELINE, "heart", "now", "benzo", "no weight"]
    assert all(r.passed for r in results)
    assert results[1].actual == frozenset({"heart"})


def test_run_cases_reports_a_failing_prepare(table: RuleTable) -> None:
    def rejecting(
        raw: Mapping[str, Any], today: date
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        return {}, {"heart_condition": ["No."]}

    results = table.run_cases(rejecting)
    assert not results[0].passed
    assert results[0].errors == {"heart_condition": ["No."]}


def test_the_table_is_immutable(table: RuleTable) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.version = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        table.lexicons["new"] = table.lexicons["benzos"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([], None),
        (["info"], "info"),
        (["info", "review"], "review"),
        (["review", "urgent", "info"], "urgent"),
    ],
)
def test_highest_level(levels: list[str], expected: str | None) -> None:
    findings = [Finding("r", level, "m", "s", []) for level in levels]
    assert highest_level(findings) == expected


def test_levels_run_from_most_to_least_urgent() -> None:
    assert LEVELS == ("urgent", "review", "info")


def test_problem_and_error_text() -> None:
    first = Problem("rules.yaml", 42, "rule 'heart_condition'", "say what to change")
    second = Problem("rules.yaml", None, None, "the file is missing")
    assert str(first) == "rules.yaml:42: rule 'heart_condition': say what to change"
    assert str(second) == "rules.yaml: the file is missing"
    error = RuleTableError([first, second])
    lines = str(error).splitlines()
    assert lines[0] == (
        "The rule table rules.yaml has 2 problems; the app will not start until they are fixed:"
    )
    assert lines[1].strip() == str(first)
    assert lines[2].strip() == str(second)
    assert error.problems == [first, second]


def test_load_table_raises_with_every_problem(tmp_path: Path) -> None:
    text = VALID.replace("heart_condition, one_of", "heart_conditon, one_of").replace(
        "level: urgent", "level: urgentish"
    )
    with pytest.raises(RuleTableError) as raised:
        load(tmp_path, text)
    assert len(raised.value.problems) == 2
    assert "has 2 problems" in str(raised.value)


def test_texts_read_beforehand_give_the_same_findings(table: RuleTable) -> None:
    for medications in ("Ativan 1mg, sertraline", "sertraline", "", None):
        values = sound_values(medications=medications, heart_condition="yes")
        readings = table.read_texts(values)
        assert set(readings) == ({"medications"} if medications else set())
        assert table.evaluate(values, readings) == table.evaluate(values)


def test_texts_read_beforehand_are_not_changed_by_evaluate(table: RuleTable) -> None:
    readings = table.read_texts(sound_values(medications="Ativan"))
    given = dict(readings)
    table.evaluate(sound_values(medications="Ativan"), readings)
    assert readings == given


def test_each_rule_keeps_its_validated_condition(table: RuleTable) -> None:
    assert all(isinstance(rule.when, AllOf | AnyOf | Not | Leaf) for rule in table.rules)
