"""Crisis numbers come from the settings: fill the placeholders items and rules are written with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Placeholder → the setting that fills it (see README, Configuration).
SETTINGS = {"{crisis_line}": "CRISIS_LINE_NUMBER", "{emergency_number}": "EMERGENCY_NUMBER"}


def fill_numbers(text: str, config: Mapping[str, Any]) -> str:
    """Return the text with each crisis-number placeholder replaced by the configured number."""
    # Plain replacement, not str.format: other braces in a message stay as written.
    for placeholder, setting in SETTINGS.items():
        text = text.replace(placeholder, str(config.get(setting) or ""))
    return text
