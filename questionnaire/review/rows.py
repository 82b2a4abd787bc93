"""What one queue row shows: who the patient is, why it is flagged, how long it has waited.

The name and date of birth come from the shown rows' answers (opened for the page, never
kept, logged or put in a URL); the age is whole years on `today`, which the view passes in
(the clinic's date).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import ngettext

from questionnaire import language as languages
from questionnaire.questions import catalogue
from questionnaire.records.models import Clinician, Submission
from questionnaire.review.present import named
from questionnaire.review.scores import Total, queue_totals
from questionnaire.rules import LEVEL_RANK, RuleTable

#: Between the flags' short names in a row.
FLAG_SEPARATOR = " · "
#: A row names at most this many flags, most urgent first, then "+N more" (the submission
#: page has them all): a long list would take the row's width at 1280 px.
SHOWN_FLAGS = 3


@dataclass(frozen=True)
class Waited:
    """How long a submission has waited, in the unit a clinician reads at a glance."""

    count: int
    #: "min" under an hour, "h" under two days, else "days".
    unit: str


@dataclass(frozen=True)
class QueueRow:
    """One submission as its queue row shows it."""

    submission: Submission
    #: As the patient typed it; "" when not given.
    name: str
    age: int | None
    #: The flags' short names, most urgent first (rules.yaml `short`, else the rule id).
    flags: tuple[str, ...]
    waited: Waited
    taken_by: Clinician | None
    #: The instruments' totals, beside the flags (from the answers opened for the name).
    totals: tuple[Total, ...] = ()

    @property
    def flag_names(self) -> str:
        """Return the short names joined for the row ("suicidal thoughts now · MAOI")."""
        return FLAG_SEPARATOR.join(self.flags)

    @property
    def shown_flag_names(self) -> str:
        """Return the first SHOWN_FLAGS short names joined, the most urgent first."""
        return FLAG_SEPARATOR.join(self.flags[:SHOWN_FLAGS])

    @property
    def more_flags(self) -> int:
        """Return how many flags the row does not name ("+2 more")."""
        return max(0, len(self.flags) - SHOWN_FLAGS)


@dataclass
class RowWords:
    """The words of a row's wait, age, level and status, each translated once a page (50 rows)."""

    _said: dict[tuple[str, int | str | None], str] = field(default_factory=dict)

    def waited(self, wait: Waited) -> str:
        """Return "2 h", "3 days" or "5 min" in the reader's language."""
        key = (wait.unit, wait.count)
        if key not in self._said:
            if wait.unit == "min":
                text = ngettext("%(num)s min", "%(num)s min", wait.count)
            elif wait.unit == "h":
                text = ngettext("%(num)s h", "%(num)s h", wait.count)
            else:
                text = ngettext("%(num)s day", "%(num)s days", wait.count)
            self._said[key] = text
        return self._said[key]

    def named(self, code: str | None) -> str:
        """Return a level's, status's or outcome's words (the `named` filter), once a page."""
        key = ("named", code)
        if key not in self._said:
            self._said[key] = named(code, languages.translate)
        return self._said[key]

    def age(self, years: int) -> str:
        """Return "45 years" in the reader's language."""
        key = ("age", years)
        if key not in self._said:
            self._said[key] = ngettext("%(num)s year", "%(num)s years", years)
        return self._said[key]


def waited(since: datetime, now: datetime) -> Waited:
    """Return how long from `since` to `now`: minutes, then hours, then whole days."""
    minutes = max(int((now - since).total_seconds() // 60), 0)
    if minutes < 60:
        return Waited(minutes, "min")
    hours = minutes // 60
    if hours < 48:
        return Waited(hours, "h")
    return Waited(hours // 24, "days")


def _age(answers: Mapping[str, Any], today: date) -> int | None:
    born = answers.get("date_of_birth")
    try:
        born_on = date.fromisoformat(born) if isinstance(born, str) else None
    except ValueError:
        return None
    return catalogue.age_on(born_on, today) if born_on is not None else None


def queue_rows(
    rows: list[Submission],
    answers: Mapping[int, Mapping[str, Any]],
    flags_of: Mapping[int, list[tuple[int, str, str]]],
    table: RuleTable,
    today: date,
    now: datetime,
) -> list[QueueRow]:
    """Return each row as the queue shows it; ages on `today`, waits up to `now`.

    `flags_of` holds each row's flags as (flag id, rule, level) (queue.row_flags).
    """
    # An escalated flag shows its step's words (e.g. "PHQ-9 item 9 nearly every day").
    short = {
        (rule.id, level): rule.words_at(level)[1] for rule in table.rules for level in rule.levels
    }
    shown = []
    for row in rows:
        opened = answers.get(row.id, {})
        name = opened.get("full_name")
        flags = sorted(
            flags_of.get(row.id, ()), key=lambda flag: (LEVEL_RANK.get(flag[2], 3), flag[0])
        )
        shown.append(
            QueueRow(
                submission=row,
                name=name.strip() if isinstance(name, str) else "",
                age=_age(opened, today),
                flags=tuple(
                    dict.fromkeys(
                        short.get((rule, level)) or rule.replace("_", " ")
                        for _, rule, level in flags
                    )
                ),
                waited=waited(row.submitted_at, now),
                taken_by=row.assigned_to,
                totals=queue_totals(opened),
            )
        )
    return shown
