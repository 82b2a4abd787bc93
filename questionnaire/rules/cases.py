"""Worked examples in the rule table: build their raw answers, run them, compare the flags."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from questionnaire.rules.findings import Finding
from questionnaire.rules.vocabulary import RULES_ERROR, Prepare

#: The name a case result carries for the baseline itself.
BASELINE = "(baseline)"


@dataclass(frozen=True, slots=True)
class Case:
    """One example: the raw answers a browser would post, on a given day, and the flags expected."""

    name: str
    line: int | None
    as_of: date
    #: The baseline's answers with this case's overrides applied, as raw strings.
    answers: Mapping[str, Any]
    expect: frozenset[str]
    #: The item names this case itself sets or removes (the rest come from the baseline).
    overrides: frozenset[str] = frozenset()
    #: The level the case names for an escalated flag ({phq9_item9_positive: urgent});
    #: an expected rule not named here is expected at its base level.
    levels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """What a case produced against what it expected."""

    name: str
    line: int | None
    expected: frozenset[str]
    actual: frozenset[str]
    #: Errors prepare() reported for the case's answers, {item_id: [messages]}.
    errors: dict[str, list[str]] = field(default_factory=dict)
    #: Expected flags raised at another level: (rule, expected level, raised level).
    wrong_levels: tuple[tuple[str, str, str], ...] = ()

    @property
    def passed(self) -> bool:
        """Return whether the answers were valid and raised exactly the expected flags and levels."""
        return not self.errors and self.expected == self.actual and not self.wrong_levels

    @property
    def missing(self) -> frozenset[str]:
        """Return the flags expected but not raised."""
        return self.expected - self.actual

    @property
    def unexpected(self) -> frozenset[str]:
        """Return the flags raised but not expected."""
        return self.actual - self.expected


def raw_value(value: Any) -> Any:
    """Return a YAML answer as a browser would post it: text, "y" for a tick, lists of text."""
    if isinstance(value, bool):
        return "y" if value else None  # an unticked box is simply not posted
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return [raw_value(entry) for entry in value if raw_value(entry) is not None]
    return value


def merge_answers(baseline: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return the baseline's raw answers with overrides applied; a null override removes one."""
    merged = {name: raw_value(value) for name, value in baseline.items()}
    for name, value in overrides.items():
        merged[name] = raw_value(value)
    return {name: value for name, value in merged.items() if value is not None}


def make_case(
    name: str,
    line: int | None,
    as_of: date,
    baseline: Mapping[str, Any],
    overrides: Mapping[str, Any],
    expect: frozenset[str],
    levels: Mapping[str, str] | None = None,
) -> Case:
    """Build a case from the baseline and its overrides."""
    answers = MappingProxyType(merge_answers(baseline, overrides))
    return Case(
        name,
        line,
        as_of,
        answers,
        expect,
        frozenset(overrides),
        MappingProxyType(dict(levels or {})),
    )


def run_case(
    case: Case,
    prepare: Prepare,
    evaluate: Callable[[Mapping[str, Any]], list[Finding]],
    base_levels: Mapping[str, str] | None = None,
) -> CaseResult:
    """Prepare a case's answers as the web would, evaluate them, and compare flags and levels.

    An expected flag must be raised at the level the case names, or else at its rule's base
    level (`base_levels`): a case whose answers escalate a flag fails until it says so.
    """
    values, errors = prepare(dict(case.answers), case.as_of)
    if errors:
        return CaseResult(case.name, case.line, case.expect, frozenset(), dict(errors))
    findings = evaluate(values)
    actual = frozenset(finding.rule for finding in findings)
    wrong: list[tuple[str, str, str]] = []
    for finding in findings:
        if finding.rule not in case.expect:
            continue
        wanted = case.levels.get(finding.rule) or (base_levels or {}).get(finding.rule)
        if wanted is not None and finding.level != wanted:
            wrong.append((finding.rule, wanted, finding.level))
    return CaseResult(case.name, case.line, case.expect, actual, {}, tuple(wrong))


def describe_mismatch(result: CaseResult) -> str:
    """Say how a case's flags differ from its expectation, and what to change."""
    parts = []
    if result.missing:
        parts.append(f"expected but not raised: {', '.join(sorted(result.missing))}")
    if result.unexpected:
        parts.append(f"raised but not expected: {', '.join(sorted(result.unexpected))}")
    for rule, wanted, raised in result.wrong_levels:
        parts.append(
            f"{rule} raised at {raised}, expected at {wanted} (write {{{rule}: {raised}}} "
            "in expect for an escalated flag)"
        )
    advice = "fix the case's answers or its expect list, or the rule"
    if RULES_ERROR in result.actual:
        advice = (
            "a rule failed on these answers (a value of an unexpected type); "
            "check what prepare() returns for them"
        )
    return f"the flags differ from expect ({'; '.join(parts)}); {advice}"
