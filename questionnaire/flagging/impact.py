"""What a candidate rule table would change: stored submissions that would gain or lose flags.

Re-evaluates every stored submission's stored answers and facts under the
candidate and compares the rule ids with its stored flags. Reads only: nothing
is added, changed or deleted, and the stored flags keep their snapshots.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

from questionnaire.extensions import DbSession
from questionnaire.flagging.table import rule_values
from questionnaire.models import Flag, Submission
from questionnaire.rules import RuleTable, highest_level

EXIT_PROBLEMS = 1
#: Submissions read from the database at a time.
BATCH = 500


@dataclass(frozen=True, slots=True)
class SubmissionImpact:
    """How one stored submission's flags would differ under the candidate table."""

    reference: str
    #: Rule ids the candidate raises that are not stored, in candidate table order.
    gained: tuple[str, ...]
    #: Rule ids stored that the candidate does not raise, sorted.
    lost: tuple[str, ...]
    #: The stored highest level, and the one the candidate would give (None: no flag).
    level_before: str | None
    level_after: str | None


@dataclass
class ImpactReport:
    """Every submission whose flags would change, with totals per rule."""

    candidate_version: str
    candidate_sha256: str
    #: How many stored submissions were re-evaluated.
    evaluated: int = 0
    #: Only the submissions that would change, oldest first.
    changes: list[SubmissionImpact] = field(default_factory=list)
    #: Per rule id: how many submissions would gain it, and how many would lose it.
    gained_per_rule: Counter[str] = field(default_factory=Counter)
    lost_per_rule: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> int:
        """Return how many submissions would gain or lose at least one flag."""
        return len(self.changes)

    @property
    def unchanged(self) -> int:
        """Return how many submissions would keep exactly their flags."""
        return self.evaluated - self.changed

    @property
    def flags_gained(self) -> int:
        """Return how many flags would be added, over every submission."""
        return sum(self.gained_per_rule.values())

    @property
    def flags_lost(self) -> int:
        """Return how many flags would go, over every submission."""
        return sum(self.lost_per_rule.values())

    def by_reference(self) -> dict[str, SubmissionImpact]:
        """Return the changed submissions keyed by reference code."""
        return {change.reference: change for change in self.changes}


def _stored_rules(session: DbSession) -> dict[int, set[str]]:
    stored: dict[int, set[str]] = {}
    for submission_id, rule in session.execute(sa.select(Flag.submission_id, Flag.rule)):
        stored.setdefault(submission_id, set()).add(rule)
    return stored


def rules_impact(session: DbSession, candidate: RuleTable) -> ImpactReport:
    """Re-evaluate every stored submission under a candidate table; change nothing."""
    report = ImpactReport(candidate.version, candidate.sha256)
    stored = _stored_rules(session)
    # Plain rows, not ORM objects: nothing here can be marked dirty and flushed.
    rows = session.execute(
        sa.select(
            Submission.id,
            Submission.reference,
            Submission.answers,
            Submission.facts,
            Submission.highest_level,
        )
        .order_by(Submission.submitted_at, Submission.id)
        .execution_options(yield_per=BATCH)
    )
    for submission_id, reference, answers, facts, level_before in rows:
        report.evaluated += 1
        findings = candidate.evaluate(rule_values(answers or {}, facts or {}))
        now = {finding.rule for finding in findings}
        before = stored.get(submission_id, set())
        gained = tuple(dict.fromkeys(f.rule for f in findings if f.rule not in before))
        lost = tuple(sorted(before - now))
        if not gained and not lost:
            continue
        report.changes.append(
            SubmissionImpact(reference, gained, lost, level_before, highest_level(findings))
        )
        report.gained_per_rule.update(gained)
        report.lost_per_rule.update(lost)
    return report


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_report(report: ImpactReport) -> list[str]:
    """Return the report as the lines `flask rules impact` prints (references and rule ids only)."""
    lines = [
        f"Candidate rule table version {report.candidate_version} "
        f"(sha256 {report.candidate_sha256}), compared with the flags stored for "
        f"{_plural(report.evaluated, 'submission')}.",
    ]
    if not report.changes:
        lines.append("No submission would gain or lose a flag.")
        return lines
    lines.append("")
    for change in report.changes:
        parts = []
        if change.gained:
            parts.append("gains " + ", ".join(change.gained))
        if change.lost:
            parts.append("loses " + ", ".join(change.lost))
        level = ""
        if change.level_before != change.level_after:
            level = f" (level {change.level_before or 'none'} -> {change.level_after or 'none'})"
        lines.append(f"{change.reference}: {'; '.join(parts)}{level}")
    lines.append("")
    lines.append("Totals per rule (submissions gaining / losing it):")
    rules = sorted(set(report.gained_per_rule) | set(report.lost_per_rule))
    width = max(len(rule) for rule in rules)
    for rule in rules:
        gained, lost = report.gained_per_rule[rule], report.lost_per_rule[rule]
        lines.append(f"  {rule:<{width}}  +{gained}  -{lost}")
    lines.append(
        f"{report.changed} of {_plural(report.evaluated, 'submission')} would change "
        f"({report.unchanged} unchanged): {_plural(report.flags_gained, 'flag')} gained, "
        f"{_plural(report.flags_lost, 'flag')} lost."
    )
    return lines
