"""The engine's edges that mutation testing found untested: escalation, given readings, cases."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from questionnaire.rules import RULES_ERROR, Finding, RuleTable, rules_error
from tests.rules.test_engine import VALID, load, sound_values, toy_prepare

#: The toy table, with the heart rule escalated to urgent when a benzodiazepine is named:
#: a step that reads free text, so it needs the evaluation's reading cache.
ESCALATING = VALID.replace(
    """    message: Reports a heart condition.
    source: test source
""",
    """    message: Reports a heart condition.
    short: heart
    escalate:
      - level: urgent
        when: {item: medications, mentions: benzos}
        short: heart and benzodiazepine
        message: Reports a heart condition and takes a benzodiazepine.
    source: test source
""",
).replace(
    """  - name: now
""",
    """  - name: heart and a benzodiazepine
    answers: {heart_condition: "yes", medications: Ativan}
    expect: [{heart: urgent}, benzo]
  - name: now
""",
)


@pytest.fixture
def escalating(tmp_path: Path) -> RuleTable:
    return load(tmp_path, ESCALATING)


def heart_of(findings: list[Finding]) -> Finding:
    (heart,) = [finding for finding in findings if finding.rule == "heart"]
    return heart


def test_a_step_that_reads_text_escalates_with_its_evidence_marked(
    escalating: RuleTable,
) -> None:
    findings = escalating.evaluate(sound_values(heart_condition="yes", medications="Ativan 1mg"))
    assert RULES_ERROR not in {finding.rule for finding in findings}
    heart = heart_of(findings)
    assert heart.level == "urgent"
    assert heart.message == "Reports a heart condition and takes a benzodiazepine."
    assert heart.evidence[0] == {"item": "heart_condition", "value": "yes"}
    escalated = heart.evidence[1]
    assert escalated["escalated"] == "urgent"
    assert escalated["item"] == "medications" and escalated["matched"] == ["Ativan"]
    assert set(escalated) == {"item", "matched", "read", "escalated"}


def test_with_no_step_holding_the_base_level_and_message_stand(escalating: RuleTable) -> None:
    heart = heart_of(escalating.evaluate(sound_values(heart_condition="yes")))
    assert heart.level == "review"
    assert heart.message == "Reports a heart condition."
    assert heart.evidence == [{"item": "heart_condition", "value": "yes"}]


def test_each_level_has_its_own_words(escalating: RuleTable) -> None:
    heart = escalating.rule("heart")
    assert heart is not None
    assert heart.levels == ("review", "urgent")
    assert heart.words_at("urgent") == (
        "Reports a heart condition and takes a benzodiazepine.",
        "heart and benzodiazepine",
    )
    assert heart.words_at("review") == ("Reports a heart condition.", "heart")
    assert escalating.rule("no such rule") is None


def test_evaluate_uses_the_readings_it_is_given(escalating: RuleTable) -> None:
    # The text says sertraline, but the caller read "Ativan" beforehand: the reading wins,
    # which shows evaluate does not read the text again.
    values = sound_values(medications="sertraline")
    readings = {"medications": escalating.read("Ativan")}
    assert "benzo" in {finding.rule for finding in escalating.evaluate(values, readings)}
    assert "benzo" not in {finding.rule for finding in escalating.evaluate(values)}


def test_read_texts_reads_each_text_against_the_lists(escalating: RuleTable) -> None:
    readings = escalating.read_texts(sound_values(medications="lorazepam at night"))
    assert set(readings) == {"medications"}
    assert "benzos" in readings["medications"].lexicons
    assert escalating.read_texts(sound_values(medications=42)) == {}


def test_a_case_whose_answers_escalate_a_flag_fails_until_it_names_the_level(
    escalating: RuleTable,
) -> None:
    def naming_a_benzodiazepine(
        raw: Mapping[str, Any], today: date
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        return toy_prepare({**raw, "medications": "Ativan"}, today)

    results = {result.name: result for result in escalating.run_cases(naming_a_benzodiazepine)}
    # The "heart" case expects the bare rule id, so the base level: urgent is a wrong level.
    assert results["heart"].wrong_levels == (("heart", "review", "urgent"),)
    assert not results["heart"].passed
    assert all(result.passed for result in escalating.run_cases(toy_prepare))


def test_the_rules_error_finding_names_the_rules_and_nothing_else() -> None:
    assert rules_error(["heart", "benzo"]) == Finding(
        RULES_ERROR,
        "review",
        "The rule table could not evaluate these answers (rules: heart, benzo); "
        "evaluate these answers by hand.",
        "rules engine",
        [],
    )
