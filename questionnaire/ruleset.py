"""Binds the pure rules engine to this questionnaire: its fields, its validation, its table."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from questionnaire import items as catalogue
from questionnaire.forms import validate_answers
from questionnaire.items import Kind
from questionnaire.rules import Field, FieldKind, Finding, RuleTable, load_table

_KIND_OF_ITEM = {
    Kind.TEXT: FieldKind.TEXT,
    Kind.LONG_TEXT: FieldKind.TEXT,
    Kind.EMAIL: FieldKind.TEXT,
    Kind.PHONE: FieldKind.TEXT,
    Kind.DATE: FieldKind.DATE,
    Kind.NUMBER: FieldKind.NUMBER,
    Kind.CHOICE: FieldKind.CODE,
    Kind.MULTI: FieldKind.CODES,
    Kind.CONSENT: FieldKind.FLAG,
}


@cache
def rule_fields() -> dict[str, Field]:
    """Return every item and derived fact a rule may name, with its type and answer codes."""
    fields = {
        item.id: Field(item.id, "item", _KIND_OF_ITEM[item.kind], frozenset(item.codes))
        for item in catalogue.ITEMS.values()
    }
    fields.update(
        {fact: Field(fact, "fact", FieldKind.NUMBER) for fact in catalogue.FACTS}
    )
    return fields


def prepare(raw: Mapping[str, Any], today: date) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate raw answers as the web does; return the values rules see, and any errors."""
    validated = validate_answers(raw, today)
    return rule_values(validated.answers, validated.facts), validated.errors


def rule_values(answers: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
    """Return the flat mapping of answers and facts that a rule table evaluates."""
    return {**answers, **facts}


def load_rule_table(path: Path | str) -> RuleTable:
    """Load, check and compile a rule table against this questionnaire (fails closed)."""
    return load_table(Path(path), rule_fields(), prepare)


def evaluate(table: RuleTable, answers: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Finding]:
    """Return the findings a table raises for one validated questionnaire."""
    return table.evaluate(rule_values(answers, facts))
