"""A loaded, compiled rule table, and evaluation of answers against it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from questionnaire.rules.cases import Case, CaseResult, run_case
from questionnaire.rules.conditions import Compiled, Evidence, Explain, Test, TokenCache
from questionnaire.rules.findings import Finding
from questionnaire.rules.lexicon import Collision, Lexicon, Reader, Reading
from questionnaire.rules.schema import Condition
from questionnaire.rules.vocabulary import RULES_ERROR, Prepare


@dataclass(frozen=True, slots=True)
class Step:
    """A higher level of a rule's flag, with the condition that raises it to that level."""

    level: str
    message: str
    short: str | None
    condition: Compiled = field(repr=False, compare=False)
    when: Condition | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule: the words a clinician sees, and the condition that raises it."""

    id: str
    level: str
    message: str
    source: str
    line: int | None
    condition: Compiled = field(repr=False, compare=False)
    #: The validated condition as written, for tools that translate the table (bench/jsonlogic.py).
    when: Condition | None = field(default=None, repr=False, compare=False)
    #: A few words for a queue row (rules.yaml `short`); None when the table gives none.
    short: str | None = None
    #: Higher levels of the same flag (rules.yaml `escalate`), lowest first.
    steps: tuple[Step, ...] = ()

    @property
    def short_name(self) -> str:
        """Return the words a queue row shows for this rule: its short name, else its id."""
        return self.short or self.id.replace("_", " ")

    @property
    def levels(self) -> tuple[str, ...]:
        """Return every level this rule's flag can take: its base level, then each step's."""
        return (self.level, *(step.level for step in self.steps))

    def words_at(self, level: str) -> tuple[str, str]:
        """Return the message and short name the flag has at one of its levels."""
        for step in reversed(self.steps):
            if step.level == level:
                return step.message, step.short or self.short_name
        return self.message, self.short_name


@dataclass(frozen=True, slots=True)
class RuleTable:
    """A checked, compiled rule table; immutable once loaded."""

    path: Path
    version: str
    #: Hex SHA-256 of the file's bytes, stored with every submission it judges.
    sha256: str
    rules: tuple[Rule, ...]
    lexicons: Mapping[str, Lexicon]
    cases: tuple[Case, ...]
    baseline: Case
    #: Every list compiled together: how free text reads against the flagged and known lists.
    reader: Reader
    #: Pairs of terms the tolerance could confuse, each resolved (or the table would not load).
    collisions: tuple[Collision, ...] = ()
    #: The free-text fields some rule reads against a term list (e.g. medications).
    text_fields: frozenset[str] = frozenset()
    #: Rule ids no longer raised (rules.yaml `retired`): id -> (version retired, replaced by).
    retired: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: Each rule's test and explain, looked up once here rather than on every evaluate.
    _plan: tuple[tuple[Test, Explain, str, str, str, str, tuple[Step, ...]], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        plan = tuple(
            (
                rule.condition.test,
                rule.condition.explain,
                rule.id,
                rule.level,
                rule.message,
                rule.source,
                rule.steps,
            )
            for rule in self.rules
        )
        object.__setattr__(self, "_plan", plan)  # frozen: set once, here

    def read(self, text: str) -> Reading:
        """Return how a free-text answer reads against the table's term lists."""
        return self.reader.read(text)

    def read_texts(self, values: Mapping[str, Any]) -> dict[str, Reading]:
        """Return how each free-text answer a rule reads against a term list reads, by field."""
        readings: dict[str, Reading] = {}
        for name in self.text_fields:
            value = values.get(name)
            if isinstance(value, str) and value:
                readings[name] = self.reader.read(value)
        return readings

    def evaluate(
        self, values: Mapping[str, Any], readings: Mapping[str, Reading] | None = None
    ) -> list[Finding]:
        """Return the findings of every rule that holds, in table order; never raise.

        `readings` may hold texts already read (read_texts); the others are read here, once.
        """
        findings: list[Finding] = []
        failed: list[str] = []
        cache: TokenCache = {} if readings is None else dict(readings)
        for test, explain, rule_id, level, message, source, steps in self._plan:
            try:
                if test(values, cache):
                    # Evidence is built only for the rules that hold.
                    evidence: Evidence = []
                    explain(values, cache, evidence)
                    if steps:
                        level, message = _escalate(steps, values, cache, evidence, level, message)
                    findings.append(Finding(rule_id, level, message, source, evidence))
            except Exception:
                failed.append(rule_id)
        if failed:
            findings.append(rules_error(failed))
        return findings

    def raised_by_text(self, field_name: str, text: str) -> list[Finding]:
        """Return the findings that this free text alone adds, as `rules explain` shows them."""
        without = {finding.rule for finding in self.evaluate({})}
        return [
            finding for finding in self.evaluate({field_name: text}) if finding.rule not in without
        ]

    def run_cases(self, prepare: Prepare) -> list[CaseResult]:
        """Run the baseline (named "(baseline)", expecting no flag) and then every case."""
        base = self.base_levels()
        return [
            run_case(case, prepare, self.evaluate, base) for case in (self.baseline, *self.cases)
        ]

    def base_levels(self) -> dict[str, str]:
        """Return each rule's base level (what a case's bare rule id expects)."""
        return {rule.id: rule.level for rule in self.rules}

    def rule(self, rule_id: str) -> Rule | None:
        """Return the rule with this id, or None."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None


def _escalate(
    steps: tuple[Step, ...],
    values: Mapping[str, Any],
    cache: TokenCache,
    evidence: Evidence,
    level: str,
    message: str,
) -> tuple[str, str]:
    """Return the level and message of the highest step that holds (the base ones when none).

    The step's own evidence joins the rule's, each entry marked with the level it escalated
    to, so the flag says why: {"fact": "phq9_item9", "value": 3, "escalated": "urgent"}.
    """
    for step in reversed(steps):  # steps rise strictly (rules check), so the last that holds
        if step.condition.test(values, cache):
            found: Evidence = []
            step.condition.explain(values, cache, found)
            evidence.extend({**entry, "escalated": step.level} for entry in found)
            return step.level, step.message
    return level, message


def rules_error(rule_ids: list[str]) -> Finding:
    """Return the finding that sends answers to a clinician when some rules could not run."""
    # Only rule ids: exception text or values could carry patient data into logs and exports.
    return Finding(
        RULES_ERROR,
        "review",
        f"The rule table could not evaluate these answers (rules: {', '.join(rule_ids)}); "
        "evaluate these answers by hand.",
        "rules engine",
        [],
    )
