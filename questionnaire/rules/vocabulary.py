"""The shared words of the rules engine: field kinds, levels, and the prepare() contract."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Literal


class FieldKind(StrEnum):
    """The type of value a field holds, which decides the operators a rule may use on it."""

    CODE = "code"  # one answer code (a str)
    CODES = "codes"  # a list of answer codes
    NUMBER = "number"  # an int or float
    TEXT = "text"  # free text
    DATE = "date"  # an ISO date string or a date
    FLAG = "flag"  # a bool (a tick box)


@dataclass(frozen=True, slots=True)
class Field:
    """One item or derived fact that a rule may name."""

    name: str
    source: Literal["item", "fact"]
    kind: FieldKind
    codes: frozenset[str] = frozenset()


#: Validate one raw answer set (as a browser posts it) on a given day; return the flat
#: values (normalised answers and derived facts by name) and errors {item_id: [messages]}.
Prepare = Callable[[Mapping[str, Any], date], tuple[dict[str, Any], dict[str, list[str]]]]

#: Most to least urgent.
LEVELS: tuple[str, ...] = ("urgent", "review", "info")
#: Sort order of a highest level, most urgent first; no flag (None) sorts last.
LEVEL_RANK: dict[str | None, int] = {
    **{level: rank for rank, level in enumerate(LEVELS)},
    None: len(LEVELS),
}

#: The rule id of the finding added when the table itself fails on some answers.
RULES_ERROR = "rules_error"

#: Which operators make sense for each kind of field, in the order we suggest them.
OPERATORS_FOR_KIND: Mapping[FieldKind, tuple[str, ...]] = {
    FieldKind.CODE: ("equals", "one_of", "answered"),
    FieldKind.CODES: ("includes_any", "answered"),
    FieldKind.NUMBER: ("at_least", "at_most", "equals", "one_of", "answered"),
    FieldKind.TEXT: ("mentions", "answered"),
    FieldKind.DATE: ("answered",),
    FieldKind.FLAG: ("equals", "answered"),
}
