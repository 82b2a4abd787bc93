"""How a submission reads to a clinician: each flag's evidence in words, the flagged answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from questionnaire import items as catalogue
from questionnaire.intake.summary import answer_in_words
from questionnaire.models import Submission


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
            rows.append(EvidenceRow(item.id, item.label, "names " + ", ".join(entry["matched"])))
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
