"""Answer sets for tests, taken from the shipped rules.yaml so there is one source."""

from __future__ import annotations

import copy
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path(__file__).resolve().parent.parent / "rules.yaml"


class _Strings(yaml.SafeLoader):
    """Read yes/no as words, as the rules loader does."""


_Strings.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@cache
def _parsed(content: str) -> dict[str, Any]:
    # Parsing rules.yaml takes about 0.1 s and tests ask for its answers hundreds of times.
    return yaml.load(content, Loader=_Strings)  # noqa: S506


def _table() -> dict[str, Any]:
    """Return the parsed rules.yaml, shared: callers copy what they hand out."""
    return _parsed(RULES_FILE.read_text(encoding="utf-8"))


def shipped_table() -> dict[str, Any]:
    """Return the shipped rules.yaml as plain data (a copy of its own for each caller)."""
    return copy.deepcopy(_table())


def baseline() -> dict[str, Any]:
    """Return a complete, valid answer set that raises no flag (rules.yaml baseline)."""
    return copy.deepcopy(_table()["baseline"]["answers"])


BASELINE_DATE: date = date(2026, 6, 1)


def with_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Return the baseline with some answers changed; None removes an answer."""
    answers = baseline()
    for key, value in changes.items():
        if value is None:
            answers.pop(key, None)
        else:
            answers[key] = value
    return answers


def cases() -> list[dict[str, Any]]:
    """Return the cases of the shipped rules.yaml."""
    return copy.deepcopy(_table()["cases"])
