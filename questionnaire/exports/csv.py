"""CSV exports, streamed: submissions with one column per item, and their flags.

Generators that yield one line of text at a time (stdlib csv, RFC 4180 line
ends), so a view can stream a large export without building it in memory.
Pass query results that load lazily (e.g. ``session.scalars(query)``); for the
flags export, eager-load ``Flag.submission`` and ``Flag.acknowledged_by``.

A reference reads as the screen shows it (K7QM-4TZ9, `format_reference`). A flag's
message and source are the snapshots stored with it, and its evidence the stored
list as compact JSON (it holds answers: the export is sealed like the rest).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from questionnaire.questions import catalogue, cssrs
from questionnaire.questions.catalogue import Item, Kind
from questionnaire.questions.instruments import INSTRUMENTS
from questionnaire.questions.text import show_bidi
from questionnaire.records.models import Flag, Submission
from questionnaire.records.references import format_reference


def submission_columns(earlier: Sequence[Item] = ()) -> tuple[str, ...]:
    """Return the submissions CSV's columns: the record's, every item's (then those of earlier
    definitions no longer asked), totals, corrections."""
    return (
        "reference",
        "submitted_at",
        "status",
        "highest_level",
        "outcome",
        "rules_version",
        *catalogue.ITEMS,
        *(item.id for item in earlier),
        # Each instrument's total (phq9_total, gad7_total, pcl5_total): empty when any of its
        # items was skipped, never a partial sum.
        *(instrument.total_fact for instrument in INSTRUMENTS),
        # The C-SSRS screener's triage (high, moderate, low, no_positive); empty when not asked.
        "cssrs_risk",
        # The patient's corrections, oldest first, one a line: "item_id: words [recorded at]".
        # Beside the answers, never in their place: each answer column keeps what was said.
        "corrections",
    )


SUBMISSION_COLUMNS: tuple[str, ...] = submission_columns()


@catalogue.on_install
def _refresh() -> None:
    """Name another definition's items as columns (catalogue.install)."""
    global SUBMISSION_COLUMNS
    SUBMISSION_COLUMNS = submission_columns()


FLAG_COLUMNS: tuple[str, ...] = (
    "reference",
    "rule",
    "level",
    "message",
    "source",
    "evidence",
    "rules_version",
    "acknowledged_by",
    "acknowledged_at",
)

#: A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MULTI_SEPARATOR = ";"
#: Where a spreadsheet may start a new cell inside our cell: the separators it may split on
#: (French-locale Excel splits on ";"), and every character Python or a reader takes as a
#: line break. A formula character after one of them (and any quotes) is neutralised too.
SPLITS = ",;\t|\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_FORMULA_AFTER_SPLIT = re.compile("(^|[" + re.escape(SPLITS) + ']"*)(?=[=+\\-@])')


def safe_cell(text: str) -> str:
    """Return a cell a spreadsheet shows as text, however it splits the line.

    An apostrophe goes before a formula start at the beginning of the cell, and before
    every "=", "+", "-" or "@" that follows a separator or a line break (quotes between
    them are skipped): "Tylenol;=1+1" becomes "Tylenol;'=1+1".
    """
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return _FORMULA_AFTER_SPLIT.sub(r"\1'", text)


class _Line:
    """A file-like target that hands back what csv.writer wrote for one row."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def _rows_as_lines(rows: Iterable[Sequence[str]]) -> Iterator[str]:
    line = _Line()
    # Every field quoted: a reader splitting on its own separator still sees one cell.
    writer = csv.writer(line, quoting=csv.QUOTE_ALL)
    for row in rows:
        writer.writerow([safe_cell(show_bidi(cell)) for cell in row])
        yield line.text


def _timestamp(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def answer_cell(kind: Kind, value: Any) -> str:
    """Return one stored answer as a CSV cell: codes as codes, lists joined, empty if missing."""
    if value is None:
        return ""
    stored = kind.traits.value
    if stored == "codes":
        return MULTI_SEPARATOR.join(str(code) for code in value or [])
    if stored == "tick":
        return "true" if value else ""
    if stored == "number" and isinstance(value, int | float):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value)


def _submission_row(submission: Submission, earlier: Sequence[Item] = ()) -> list[str]:
    answers = submission.answers or {}
    return [
        format_reference(submission.reference),
        _timestamp(submission.submitted_at),
        submission.status,
        submission.highest_level or "",
        submission.outcome or "",
        submission.rules_version,
        *(answer_cell(item.kind, answers.get(item.id)) for item in catalogue.ITEMS.values()),
        *(answer_cell(item.kind, answers.get(item.id)) for item in earlier),
        *(_total(instrument.total(answers)) for instrument in INSTRUMENTS),
        cssrs.risk_tier(answers) or "",
        corrections_cell(submission),
    ]


def corrections_cell(submission: Submission) -> str:
    """Return a submission's corrections as one cell: a line each, oldest first, or empty."""
    return "\n".join(
        f"{correction.item_id}: {correction.text} [{_timestamp(correction.created_at)}]"
        for correction in sorted(submission.corrections, key=lambda c: (c.created_at, c.id))
    )


def _total(total: int | None) -> str:
    return "" if total is None else str(total)


def submissions_csv(
    submissions: Iterable[Submission], earlier: Sequence[Item] = ()
) -> Iterator[str]:
    """Yield the submissions CSV: a header, then one line per submission.

    `earlier`: the questions of earlier definitions no longer asked (flagging/versions.py),
    each a column after today's, so an answer given to one is still exported.
    """
    header: list[Sequence[str]] = [submission_columns(earlier)]
    yield from _rows_as_lines(header)
    yield from _rows_as_lines(_submission_row(submission, earlier) for submission in submissions)


def evidence_cell(evidence: list[dict[str, Any]] | None) -> str:
    """Return a flag's stored evidence as one cell: compact JSON, keys sorted, words as written."""
    if not evidence:
        return ""
    return json.dumps(evidence, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _flag_row(flag: Flag) -> list[str]:
    return [
        format_reference(flag.submission.reference),
        flag.rule,
        flag.level,
        flag.message,
        flag.source,
        evidence_cell(flag.evidence),
        flag.submission.rules_version,
        flag.acknowledged_by.email if flag.acknowledged_by is not None else "",
        _timestamp(flag.acknowledged_at),
    ]


def flags_csv(flags: Iterable[Flag]) -> Iterator[str]:
    """Yield the flags CSV: a header, then one line per flag."""
    header: list[Sequence[str]] = [FLAG_COLUMNS]
    yield from _rows_as_lines(header)
    yield from _rows_as_lines(_flag_row(flag) for flag in flags)
