"""Binds the pure rules engine to the check-in: its fields, its validation, its table.

The check-in's table (checkin_rules.yaml, CHECKIN_RULES_PATH) is loaded and checked by
the same engine as rules.yaml, fails closed the same way, and runs its cases at start.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from questionnaire.rules import Field, FieldKind, RuleTable, load_table
from questionnaire.visits import checkin


@cache
def checkin_fields() -> dict[str, Field]:
    """Return every item, course input and fact a check-in rule may name."""
    fields = {
        item.id: Field(item.id, "item", item.kind.traits.rule_field, frozenset(item.codes))
        for item in checkin.ALL.items
    }
    # The course so far is an input the record gives, not a question; cases give it too.
    fields.update({name: Field(name, "item", FieldKind.NUMBER) for name in checkin.COURSE_INPUTS})
    fields.update({name: Field(name, "fact", FieldKind.NUMBER) for name in checkin.FACT_NUMBERS})
    fields.update(
        {
            name: Field(name, "fact", FieldKind.CODE, frozenset({"yes", "no"}))
            for name in checkin.FACT_CODES
        }
    )
    return fields


def split_history(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (answers, course inputs) from one mapping of raw values."""
    history = {key: _number(raw[key]) for key in checkin.COURSE_INPUTS if key in raw}
    return {key: value for key, value in raw.items() if key not in history}, history


def _number(value: Any) -> int | None:
    """Return a course input as a whole number (cases write it as text)."""
    return None if value in (None, "") else int(value)


def prepare(raw: Mapping[str, Any], today: date) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate raw check-in answers as the web does; return the values rules see, and errors."""
    del today  # a check-in's facts do not depend on the date
    answers, history = split_history(raw)
    validated = checkin.validate_raw(answers, history)
    return rule_values(validated.answers, validated.facts, history), validated.errors


def rule_values(
    answers: Mapping[str, Any], facts: Mapping[str, Any], history: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the flat mapping a check-in table evaluates."""
    return {**history, **answers, **facts}


def load_checkin_table(path: Path | str) -> RuleTable:
    """Load, check and compile the check-in's rule table (fails closed; cached by content)."""
    resolved = Path(path).resolve()
    try:
        content = resolved.read_bytes()
    except OSError:
        return load_table(resolved, checkin_fields(), prepare)  # raises, naming the problem
    return _load_cached(resolved, hashlib.sha256(content).hexdigest())


@lru_cache(maxsize=4)
def _load_cached(path: Path, sha256: str) -> RuleTable:
    table = load_table(path, checkin_fields(), prepare)
    if table.sha256 != sha256:
        _load_cached.cache_clear()
    return table
