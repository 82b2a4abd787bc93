"""Answers in plain words, for the patient's "check your answers" page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from questionnaire.questions import catalogue
from questionnaire.questions.catalogue import Item, Section
from questionnaire.questions.wording import N_

NOT_PROVIDED = N_("Not provided")
#: A tick-box question answered by ticking none of the boxes (where none is an answer).
NONE_TICKED = N_("None")
#: A ticked consent box.
TICKED = N_("Yes")


@dataclass(frozen=True)
class Row:
    """One question and its answer in words."""

    item: Item
    words: str
    answered: bool


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(entry) for entry in value]
    return [str(value)]


def _label(item: Item, code: str, say: Callable[[str], str]) -> str:
    try:
        return say(item.choice_label(code))
    except KeyError:
        return code


def _same(text: str) -> str:
    return text


def _plain_number(value: float) -> str:
    return f"{value:g}"  # a stored 70.0 reads as the patient wrote it: 70


def answer_in_words(
    item: Item,
    answers: Mapping[str, Any],
    say: Callable[[str], str] = _same,
    number: Callable[[float], str] = _plain_number,
    day: Callable[[str], str] = _same,
) -> str | None:
    """Return one answer as the patient would say it, or None when there is none.

    `say` puts the catalogue's words in the reader's language, `number` writes a
    number their way ("70,5") and `day` a stored date ("27 mars 1985"); what the
    patient typed is never translated.
    """
    value = answers.get(item.id)
    kind = item.kind.traits.value
    if item.french_exempt:
        say = _same  # its official wording is shown as published (README, "Languages")
    if kind == "codes":
        chosen = _as_list(value)
        if chosen:
            return ", ".join(_label(item, code, say) for code in chosen)
        # An empty list was saved: the page was sent with no box ticked, which is an answer.
        return say(NONE_TICKED) if isinstance(value, list) and item.min_choices == 0 else None
    if value in (None, "", []):
        return None
    if kind == "tick":
        return say(TICKED)
    if kind == "code":
        return _label(item, str(value), say)
    if kind == "date":
        return day(str(value))
    if isinstance(value, float):
        value = number(value)
    unit = catalogue.UNIT_OF.get(item.id)
    if unit is not None:
        return f"{value} {answers.get(unit.id) or ''}".strip()
    return str(value)


def section_rows(
    section: Section,
    answers: Mapping[str, Any],
    say: Callable[[str], str] = _same,
    number: Callable[[float], str] = _plain_number,
    day: Callable[[str], str] = _same,
) -> list[Row]:
    """Return the rows of one section; a conditional item not asked and not answered is left out."""
    rows = []
    for item in section.items:
        if item.unit_of is not None:
            continue  # shown with its number
        words = answer_in_words(item, answers, say, number, day)
        if words is None and not catalogue.is_asked(item, answers):
            continue
        if words is None and item.screener is not None:
            continue  # asked with one screener setting only: shown when it holds an answer
        rows.append(Row(item=item, words=words or say(NOT_PROVIDED), answered=words is not None))
    return rows
