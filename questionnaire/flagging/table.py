"""Binds the pure rules engine to this questionnaire: its fields, its validation, its table."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from questionnaire.questions import catalogue
from questionnaire.questions.forms import validate_answers
from questionnaire.rules import (
    CaseResult,
    Field,
    FieldKind,
    Finding,
    Problem,
    RuleTable,
    check_table,
    compile_table,
    load_table,
)


@cache
def rule_fields() -> dict[str, Field]:
    """Return every item and derived fact a rule may name, with its type and answer codes."""
    fields = {
        item.id: Field(item.id, "item", item.kind.traits.rule_field, frozenset(item.codes))
        for item in catalogue.ITEMS.values()
    }
    fields.update(
        {
            name: Field(name, "fact", FieldKind.CODE, frozenset(fact.codes))
            if fact.codes
            else Field(name, "fact", FieldKind.NUMBER)
            for name, fact in catalogue.FACTS.items()
        }
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
    """Load, check and compile a rule table against this questionnaire (fails closed).

    Running every case takes a moment, so a file already loaded with the same
    bytes is not loaded again (tests create many apps).
    """
    resolved = Path(path).resolve()
    try:
        content = resolved.read_bytes()
    except OSError:
        return load_table(resolved, rule_fields(), prepare)  # raises, naming the problem
    return _load_cached(resolved, hashlib.sha256(content).hexdigest())


@catalogue.on_install
def _refresh() -> None:
    """Check rule tables against another definition's items (catalogue.install)."""
    rule_fields.cache_clear()
    _load_cached.cache_clear()


@lru_cache(maxsize=8)
def _load_cached(path: Path, sha256: str) -> RuleTable:
    table = load_table(path, rule_fields(), prepare)
    if table.sha256 != sha256:  # the file changed between the two reads: never cache a mix
        _load_cached.cache_clear()
    return table


@dataclass(frozen=True)
class CaseReport:
    """What `flask rules test` prints: each case's outcome and every problem of the table."""

    table: RuleTable
    results: list[CaseResult]
    problems: list[Problem]


def check_rule_table(path: Path | str) -> list[Problem]:
    """Return every problem of a rule table against the questions asked now ([] if sound)."""
    return check_table(Path(path), rule_fields(), prepare)


def run_table_cases(path: Path | str) -> CaseReport:
    """Run every case of a table and collect each mismatch (raises if the rules do not compile)."""
    table, problems = compile_table(Path(path), rule_fields(), prepare)
    results = table.run_cases(prepare)
    static = [problem for problem in problems if problem.subject not in _case_subjects(results)]
    return CaseReport(table, results, static)


def _case_subjects(results: list[CaseResult]) -> set[str | None]:
    return {f"case '{result.name}'" for result in results}


def evaluate(
    table: RuleTable, answers: Mapping[str, Any], facts: Mapping[str, Any]
) -> list[Finding]:
    """Return the findings a table raises for one validated questionnaire."""
    return table.evaluate(rule_values(answers, facts))
