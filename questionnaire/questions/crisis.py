"""Crisis numbers come from the settings: fill the placeholders items and rules are written with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Placeholder → the setting that fills it (see README, Configuration).
SETTINGS = {"{crisis_line}": "CRISIS_LINE_NUMBER", "{emergency_number}": "EMERGENCY_NUMBER"}


#: The non-breaking hyphen: a number such as 9-8-8 written with it never wraps at a hyphen.
NON_BREAKING_HYPHEN = "\u2011"


def fill_numbers(text: str, config: Mapping[str, Any], hyphen: str = "-") -> str:
    """Return the text with each crisis-number placeholder replaced by the configured number.

    `hyphen` replaces the number's hyphens: NON_BREAKING_HYPHEN on a page, "-" in plain text.
    """
    # Plain replacement, not str.format: other braces in a message stay as written.
    for placeholder, setting in SETTINGS.items():
        number = str(config.get(setting) or "").replace("-", hyphen)
        text = text.replace(placeholder, number)
    return text
