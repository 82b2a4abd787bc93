"""What a candidate rule table would change: flags gained and lost, and flags it would word otherwise.

Re-evaluates every stored submission's stored answers and facts under the
candidate and compares the rule ids with its stored flags. Then compares each
stored flag's level, message and source snapshot with what the candidate says
for its rule (one grouped query: the words are the table's, never a patient's).
Reads only: nothing is added, changed or deleted, and the stored flags keep
their snapshots.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from questionnaire.extensions import DbSession
from questionnaire.flagging.table import rule_values
from questionnaire.questions.crisis import fill_numbers
from questionnaire.records.models import Flag, Submission
from questionnaire.rules import RuleTable, highest_level

EXIT_PROBLEMS = 1
#: Submissions read from the database at a time.
BATCH = 500
#: What a flag snapshots of its rule, in the order the report shows them.
SNAPSHOT_FIELDS = ("level", "message", "source")


@dataclass(frozen=True, slots=True)
class Rewording:
    """One snapshot field of one rule that the candidate would change: old -> new."""

    rule: str
    #: "level", "message" or "source".
    field: str
    old: str
    new: str


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
    #: Per rule id: how many submissions carry a flag of it whose level, message or source
    #: differs from the candidate's (rules the candidate no longer has are losses, not here).
    reworded_per_rule: Counter[str] = field(default_factory=Counter)
    #: Per old -> new change of one field of one rule: how many submissions' flags it touches.
    rewordings: Counter[Rewording] = field(default_factory=Counter)

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

    @property
    def flags_reworded(self) -> int:
        """Return how many stored flags differ from the candidate in level, message or source."""
        return sum(self.reworded_per_rule.values())

    def by_reference(self) -> dict[str, SubmissionImpact]:
        """Return the changed submissions keyed by reference code."""
        return {change.reference: change for change in self.changes}


def _stored_rules(session: DbSession) -> dict[int, set[str]]:
    stored: dict[int, set[str]] = {}
    for submission_id, rule in session.execute(sa.select(Flag.submission_id, Flag.rule)):
        stored.setdefault(submission_id, set()).add(rule)
    return stored


def _count_rewordings(
    session: DbSession,
    candidate: RuleTable,
    settings: Mapping[str, Any],
    report: ImpactReport,
) -> None:
    """Count stored flags whose snapshots differ from the candidate's words for their rule.

    One grouped query over (rule, level, message, source): a table's few wordings, not
    every flag, reach Python. A stored message has the crisis numbers filled in, so the
    candidate's is compared filled in with the same settings.
    """
    # A flag is compared with the words its rule gives at the stored level (an escalated
    # flag with its step's message); a level the rule no longer takes is a level change.
    says = {
        (rule.id, level): (level, fill_numbers(rule.words_at(level)[0], settings), rule.source)
        for rule in candidate.rules
        for level in rule.levels
    }
    base = {rule.id: rule.level for rule in candidate.rules}
    groups = session.execute(
        sa.select(
            Flag.rule,
            Flag.level,
            Flag.message,
            Flag.source,
            sa.func.count(sa.distinct(Flag.submission_id)),
        ).group_by(Flag.rule, Flag.level, Flag.message, Flag.source)
    )
    for rule, level, message, source, submissions in groups:
        if rule not in base:
            continue
        old, new = (level, message, source), says.get((rule, level)) or says[(rule, base[rule])]
        if old == new:
            continue
        report.reworded_per_rule[rule] += submissions
        for name, before, after in zip(SNAPSHOT_FIELDS, old, new, strict=True):
            if before != after:
                report.rewordings[Rewording(rule, name, before, after)] += submissions


def rules_impact(
    session: DbSession, candidate: RuleTable, settings: Mapping[str, Any]
) -> ImpactReport:
    """Re-evaluate every stored submission under a candidate table; change nothing.

    `settings` fill the crisis-number placeholders of the candidate's messages, as a
    send fills each flag's message snapshot (the app's config).
    """
    report = ImpactReport(candidate.version, candidate.sha256)
    _count_rewordings(session, candidate, settings, report)
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


def _rewording_lines(report: ImpactReport) -> list[str]:
    """Return the rules the candidate would word otherwise, each change old -> new."""
    if not report.reworded_per_rule:
        return ["No stored flag's level, message or source would change."]
    lines = ["Rules whose level, message or source would change (stored flags that differ):"]
    for rule in sorted(report.reworded_per_rule):
        count = report.reworded_per_rule[rule]
        lines.append(f"  {rule}: {_plural(count, 'submission')}")
        changes = sorted(
            (change for change in report.rewordings if change.rule == rule),
            key=lambda change: (SNAPSHOT_FIELDS.index(change.field), change.old, change.new),
        )
        for change in changes:
            # Levels are words of the table's vocabulary; message and source are quoted.
            old, new = (
                (change.old, change.new)
                if change.field == "level"
                else (repr(change.old), repr(change.new))
            )
            lines.append(
                f"    {change.field}: {old} -> {new}"
                f" ({_plural(report.rewordings[change], 'submission')})"
            )
    return lines


def format_report(report: ImpactReport) -> list[str]:
    """Return the report as the lines `flask rules impact` prints (references, rule ids, rule words)."""
    lines = [
        f"Candidate rule table version {report.candidate_version} "
        f"(sha256 {report.candidate_sha256}), compared with the flags stored for "
        f"{_plural(report.evaluated, 'submission')}.",
    ]
    if not report.changes:
        lines.append("No submission would gain or lose a flag.")
        lines.extend(_rewording_lines(report))
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
    lines.append("")
    lines.extend(_rewording_lines(report))
    return lines
