"""Answer sets for tests, taken from the shipped rules.yaml so there is one source."""

from __future__ import annotations

from datetime import date
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


def shipped_table() -> dict[str, Any]:
    """Return the shipped rules.yaml as plain data."""
    return yaml.load(RULES_FILE.read_text(encoding="utf-8"), Loader=_Strings)  # noqa: S506


def baseline() -> dict[str, Any]:
    """Return a complete, valid answer set that raises no flag (rules.yaml baseline)."""
    return dict(shipped_table()["baseline"]["answers"])


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
    return list(shipped_table()["cases"])
