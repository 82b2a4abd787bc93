"""How a submission reads to a clinician: each flag's evidence in words, the flagged answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from questionnaire.models import Submission
from questionnaire.questions import catalogue
from questionnaire.questions.words import answer_in_words
from questionnaire.rules import How, RuleTable
from questionnaire.rules.lexicon import letters


@dataclass(frozen=True)
class EvidenceRow:
    """One item or fact that made a rule match: what was asked and what was answered."""

    name: str
    question: str
    answer: str


def evidence_rows(evidence: list[dict[str, Any]]) -> list[EvidenceRow]:
    """Return a flag's evidence as question and answer rows."""
    rows = []
    for entry in evidence:
        if "fact" in entry:
            fact = catalogue.FACTS.get(entry["fact"])
            label = fact.label if fact else entry["fact"]
            value = entry.get("value")
            rows.append(
                EvidenceRow(
                    entry["fact"],
                    label,
                    "not given"
                    if value is None
                    else f"{value:g}"
                    if isinstance(value, float)
                    else str(value),
                )
            )
            continue
        item = catalogue.ITEMS.get(entry.get("item", ""))
        if item is None:
            continue
        if "matched" in entry:
            rows.append(EvidenceRow(item.id, item.label, "names " + _names(entry)))
        else:
            words = answer_in_words(item, {item.id: entry.get("value")}) or "not given"
            code = entry.get("value")
            shown = f"{words} ({code})" if isinstance(code, str) and code != words else words
            rows.append(EvidenceRow(item.id, item.label, shown))
    return rows


def flagged_items(submission: Submission) -> dict[str, list[str]]:
    """Return, for each item that triggered a flag, the rules it triggered."""
    flagged: dict[str, list[str]] = {}
    for flag in submission.flags:
        for entry in flag.evidence:
            names: tuple[str, ...]
            if "fact" in entry:
                fact = catalogue.FACTS.get(entry["fact"])
                names = fact.derived_from if fact else ()
            else:
                names = (entry.get("item", ""),)
            for name in names:
                if flag.rule not in flagged.setdefault(name, []):
                    flagged[name].append(flag.rule)
    return flagged


def _names(entry: dict[str, Any]) -> str:
    """Return the terms a text named, each with the patient's word when it was not exact."""
    read = entry.get("read")
    if not read:  # raised before readings were recorded: the terms alone
        return ", ".join(entry["matched"])
    said: list[str] = []
    for match in read:
        term, written, how = match["term"], match["written"], match["how"]
        if how == How.EXACT:
            words = term
        elif how == How.NEAR:
            words = f"'{written}' read as {term} ({letters(match['edits'])} different)"
        else:
            words = f"'{written}' read as {term} ({how})"
        if words not in said:
            said.append(words)
    return "; ".join(said)


@dataclass(frozen=True)
class WordRow:
    """How one word of a free-text answer was read, for the clinician's eye."""

    written: str
    reading: str
    #: Whether the word raised a flag (exact, maker prefix or near match).
    flagged: bool


def text_readings(table: RuleTable, answers: dict[str, Any]) -> dict[str, list[WordRow]]:
    """Return, for each free-text answer the rules read, its telling words and how each read.

    Shown: flagged terms, near matches, known medicines that resemble a flagged
    name, and unrecognised words of 4 letters or more. Known words that resemble
    nothing, numbers and short words are left out: the answer itself is shown above.
    """
    shown: dict[str, list[WordRow]] = {}
    for name in sorted(table.text_fields):
        text = answers.get(name)
        if not isinstance(text, str) or not text.strip():
            continue
        rows = []
        for word in table.read(text).words:
            if word.how is How.KNOWN and not word.resembles:
                continue
            if word.how is How.UNKNOWN and (len(word.written) < 4 or not word.written.isalpha()):
                continue
            flagged = word.how in (How.EXACT, How.PREFIX, How.NEAR)
            rows.append(WordRow(word.written, word.describe(), flagged))
        if rows:
            shown[name] = rows
    return shown
