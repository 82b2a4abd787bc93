"""What a rule table can get wrong, said so that its author can fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a rule table: where it is, what it concerns, and what to change."""

    file: str
    line: int | None
    #: What the problem concerns, e.g. "rule 'heart_condition'" or "case 'no flags'".
    subject: str | None
    #: Says what is wrong AND what to change.
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.subject:
            return f"{where}: {self.subject}: {self.message}"
        return f"{where}: {self.message}"


class RuleTableError(Exception):
    """The rule table cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(self._describe())

    def _describe(self) -> str:
        count = len(self.problems)
        file = self.problems[0].file if self.problems else "(unknown)"
        noun = "problem" if count == 1 else "problems"
        lines = [
            f"The rule table {file} has {count} {noun}; "
            "the app will not start until they are fixed:"
        ]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._describe()
