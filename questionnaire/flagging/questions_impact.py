"""What a candidate questionnaire definition would change, before it is deployed.

Compares the definition served now with a candidate: items added, removed, reworded
(any text, in any language) or re-coded (answer codes added or removed); the rules and
cases of the rule table that name a changed item; the CSV columns that would appear or
go; and how many stored submissions each change concerns (those holding an answer to
the item, or, for a re-coding, an answer with a code the candidate drops). Reads only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from questionnaire.extensions import DbSession
from questionnaire.questions.definition import Definition
from questionnaire.questions.model import Item
from questionnaire.records.models import Submission

#: Submissions read from the database at a time.
BATCH = 500


@dataclass
class QuestionsImpact:
    """Every difference between two definitions that a clinic should know before deploying."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Item id -> the texts that changed ("label", "hint", "answer yes", ...).
    reworded: dict[str, list[str]] = field(default_factory=dict)
    #: Item id -> (codes the candidate drops, codes it adds).
    recoded: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    #: Rule id -> the changed items it names.
    rules: dict[str, list[str]] = field(default_factory=dict)
    #: Case name -> the changed items it answers.
    cases: dict[str, list[str]] = field(default_factory=dict)
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    #: How many stored submissions were read.
    submissions: int = 0
    #: Per item: stored submissions holding an answer to it (removed, reworded items).
    answered: Counter[str] = field(default_factory=Counter)
    #: Per re-coded item: stored submissions whose answer uses a code the candidate drops.
    dropped_codes: Counter[str] = field(default_factory=Counter)

    @property
    def changed_items(self) -> set[str]:
        """Return every item the candidate adds, removes, rewords or re-codes."""
        return {*self.added, *self.removed, *self.reworded, *self.recoded}


def compare(current: Definition, candidate: Definition) -> QuestionsImpact:
    """Return the differences in items and CSV columns between two definitions."""
    old, new = _items(current), _items(candidate)
    impact = QuestionsImpact(
        added=[item for item in new if item not in old],
        removed=[item for item in old if item not in new],
    )
    for item_id in (item for item in new if item in old):
        before, after = old[item_id], new[item_id]
        texts = _changed_texts(before, after, current, candidate)
        if texts:
            impact.reworded[item_id] = texts
        dropped = [code for code in before.codes if code not in after.codes]
        gained = [code for code in after.codes if code not in before.codes]
        if dropped or gained:
            impact.recoded[item_id] = (dropped, gained)
    impact.columns_added = list(impact.added)
    impact.columns_removed = list(impact.removed)
    return impact


def touched_rules(impact: QuestionsImpact, table: Mapping[str, Any]) -> None:
    """Name the rules and cases of a rule table (as plain data) that touch a changed item."""
    changed = impact.changed_items
    for rule in table.get("rules") or []:
        if not isinstance(rule, dict):
            continue
        named = sorted(
            set(_named_items(rule.get("when")))
            | {n for step in rule.get("escalate") or [] for n in _named_items(step.get("when"))}
        )
        hits = [name for name in named if name in changed]
        if hits:
            impact.rules[str(rule.get("id"))] = hits
    for case in table.get("cases") or []:
        answers = case.get("answers") if isinstance(case, dict) else None
        hits = [name for name in answers or {} if name in changed]
        if hits:
            impact.cases[str(case.get("name"))] = hits


def count_stored(impact: QuestionsImpact, session: DbSession) -> None:
    """Count the stored submissions each change concerns (reads answers, prints none)."""
    concerned = set(impact.removed) | set(impact.reworded) | set(impact.recoded)
    rows = session.execute(
        sa.select(Submission.answers).execution_options(yield_per=BATCH)
    ).scalars()
    for answers in rows:
        impact.submissions += 1
        answers = answers or {}
        for item_id in concerned:
            value = answers.get(item_id)
            if value in (None, "", []):
                continue
            impact.answered[item_id] += 1
            if item_id in impact.recoded:
                dropped = set(impact.recoded[item_id][0])
                values = value if isinstance(value, list) else [value]
                if any(str(entry) in dropped for entry in values):
                    impact.dropped_codes[item_id] += 1


def format_impact(impact: QuestionsImpact) -> Iterator[str]:
    """Yield the report `flask questions impact` prints: ids, codes and counts, no answers."""
    total = impact.submissions
    yield f"{total} stored submission(s) read."
    if not impact.changed_items:
        yield "No item is added, removed, reworded or re-coded."
    for item_id in impact.added:
        yield f"added      {item_id} (a new CSV column; no stored submission answers it)"
    for item_id in impact.removed:
        yield (
            f"removed    {item_id}: {impact.answered[item_id]} of {total} stored submission(s) "
            "answered it (they keep their answers; the CSV column goes)"
        )
    for item_id, texts in impact.reworded.items():
        yield (
            f"reworded   {item_id} ({', '.join(texts)}): {impact.answered[item_id]} of {total} "
            "stored submission(s) answered the earlier wording"
        )
    for item_id, (dropped, gained) in impact.recoded.items():
        parts = []
        if dropped:
            parts.append(f"drops {', '.join(dropped)}")
        if gained:
            parts.append(f"adds {', '.join(gained)}")
        yield (
            f"re-coded   {item_id} ({'; '.join(parts)}): {impact.dropped_codes[item_id]} of "
            f"{total} stored submission(s) hold a dropped code"
        )
    for rule, items in impact.rules.items():
        yield f"rule       {rule} names {', '.join(items)}: check it still means what it says"
    for case, items in impact.cases.items():
        yield f"case       '{case}' answers {', '.join(items)}"
    if impact.columns_added or impact.columns_removed:
        yield (
            f"CSV        columns added: {', '.join(impact.columns_added) or 'none'}; "
            f"removed: {', '.join(impact.columns_removed) or 'none'}"
        )


def _items(definition: Definition) -> dict[str, Item]:
    return {item.id: item for section in definition.sections for item in section.items}


def _words(item: Item) -> dict[str, str]:
    words = {
        "label": item.label,
        "hint": item.hint,
        "short label": item.short_label,
        "error": item.error,
        "screener wording": item.screener_label,
    }
    words.update({f"answer {choice.code}": choice.label for choice in item.choices})
    if item.asked_when is not None:
        words["asked-when hint"] = item.asked_when.hint
    return words


def _changed_texts(
    before: Item, after: Item, current: Definition, candidate: Definition
) -> list[str]:
    old, new = _words(before), _words(after)
    changed = []
    for name in old.keys() & new.keys():
        english_old, english_new = old[name], new[name]
        if english_old != english_new:
            changed.append(name)
            continue
        languages = set(current.texts) | set(candidate.texts)
        if any(
            current.texts.get(lang, {}).get(english_old)
            != candidate.texts.get(lang, {}).get(english_new)
            for lang in languages
        ):
            changed.append(f"{name} ({', '.join(sorted(languages))})")
    return sorted(changed)


def _named_items(condition: Any) -> Iterator[str]:
    if isinstance(condition, dict):
        if isinstance(condition.get("item"), str):
            yield condition["item"]
        for key in ("all", "any"):
            for child in condition.get(key) or []:
                yield from _named_items(child)
        if "not" in condition:
            yield from _named_items(condition["not"])
