"""The JSON Logic translation of the shipped table raises what ours raises (panzi's port).

json-logic-qubit lives outside the virtualenv (bench/.peers), so only panzi's port, which
is in the dev lock, runs here; `python bench/jsonlogic.py` checks both on 20,000 inputs.
"""

from __future__ import annotations

from typing import Any

import json_logic
import pytest
from pydantic import TypeAdapter

from bench import jsonlogic
from questionnaire.flagging.table import load_rule_table, prepare, rule_fields
from questionnaire.rules.schema import Condition

TABLE = load_rule_table(jsonlogic.ROOT / "rules.yaml")


def raised_by_json_logic(values: dict[str, Any]) -> set[str]:
    """Return the rule ids the translated table raises, texts read by our matcher."""
    data = {**values, **jsonlogic.mention_facts(TABLE, TABLE.read_texts(values))}
    return {
        rule for rule, tree in jsonlogic.translate_table(TABLE) if json_logic.jsonLogic(tree, data)
    }


def inputs() -> list[dict[str, Any]]:
    """Return every case's prepared answers, and some of both generated mixes."""
    cases = [prepare(case.answers, case.as_of)[0] for case in (TABLE.baseline, *TABLE.cases)]
    return [
        *cases,
        *jsonlogic.realistic(TABLE, 150, seed=1),
        *jsonlogic.heavy_mix(TABLE, 150, seed=2),
    ]


def test_every_rule_translates_and_raises_what_ours_raises() -> None:
    assert len(jsonlogic.translate_table(TABLE)) == len(TABLE.rules)
    for values in inputs():
        assert raised_by_json_logic(values) == {finding.rule for finding in TABLE.evaluate(values)}


def test_the_realistic_mix_is_mostly_benign() -> None:
    batch = jsonlogic.realistic(TABLE, 400, seed=3)
    flags = sum(len(TABLE.evaluate(values)) for values in batch) / len(batch)
    # More questions (the C-SSRS follow-ups, AUDIT-C) raise a few more flags on random answers.
    assert 1.0 < flags < 3.0


def test_an_operator_it_does_not_know_stops_the_translation() -> None:
    leaf = TypeAdapter(Condition).validate_python({"item": "date_of_birth", "answered": True})
    assert jsonlogic.translate(leaf, rule_fields()) == {
        "!": [{"in": [{"var": "date_of_birth"}, [None, "", []]]}]
    }
    fake = leaf.model_copy(update={"answered": None, "at_least": 3})
    with pytest.raises(jsonlogic.TranslationError):
        jsonlogic.translate(fake, rule_fields())
