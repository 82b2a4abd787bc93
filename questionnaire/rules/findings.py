"""What evaluating a rule table says about one set of answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from questionnaire.rules.vocabulary import LEVEL_RANK


@dataclass(frozen=True, slots=True)
class Finding:
    """One flag raised for a submission: which rule, how urgent, why, and on what evidence."""

    rule: str
    level: str
    message: str
    source: str
    #: What made the rule true, e.g. {"item": "heart_condition", "value": "yes"}.
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as plain JSON-ready data."""
        return {
            "rule": self.rule,
            "level": self.level,
            "message": self.message,
            "source": self.source,
            "evidence": [dict(entry) for entry in self.evidence],
        }


def highest_level(findings: Iterable[Finding]) -> str | None:
    """Return the most urgent level among the findings, or None when there are none."""
    best: str | None = None
    for finding in findings:
        unknown = LEVEL_RANK[None]
        if best is None or LEVEL_RANK.get(finding.level, unknown) < LEVEL_RANK.get(best, unknown):
            best = finding.level
    return best
