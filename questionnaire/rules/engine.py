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

    @property
    def short_name(self) -> str:
        """Return the words a queue row shows for this rule: its short name, else its id."""
        return self.short or self.id.replace("_", " ")


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
    #: Each rule's test and explain, looked up once here rather than on every evaluate.
    _plan: tuple[tuple[Test, Explain, str, str, str, str], ...] = field(
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
        for test, explain, rule_id, level, message, source in self._plan:
            try:
                if test(values, cache):
                    # Evidence is built only for the rules that hold.
                    evidence: Evidence = []
                    explain(values, cache, evidence)
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
        return [run_case(case, prepare, self.evaluate) for case in (self.baseline, *self.cases)]

    def rule(self, rule_id: str) -> Rule | None:
        """Return the rule with this id, or None."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None


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
