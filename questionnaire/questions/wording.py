"""Words for people: marked for translation where they are written, translated where shown.

The questions package stays pure (no Flask): it writes its English text, marked
with `N_` or built as a `Phrase`, and the page that shows it translates it with
the reader's catalogue (`translated`). `pybabel extract` finds both markers
(see babel.cfg); the catalogue's items are found by walking them
(questionnaire/questions/extract.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def N_(text: str) -> str:
    """Mark text for the message catalogue; it is translated where it is shown."""
    return text


class Phrase(str):
    """A message with values: it reads as its English text and translates as a whole.

    `Phrase(N_("Use %(limit)s characters or fewer."), limit=200)` is the English
    sentence wherever a plain string is expected (logs stay English, tests read it),
    and `translated` looks up the template, then puts the values back. A value that
    is itself a Phrase (an item's short name) is translated too; numbers are formatted
    for the reader's language.
    """

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Phrase:
        """Build the English text now; keep the template and values for translation."""
        english = {name: _english(value) for name, value in params.items()}
        phrase = super().__new__(cls, template % english if params else template)
        phrase.template = template
        phrase.params = params
        return phrase


def _english(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return value


def translated(
    text: str,
    gettext: Callable[[str], str],
    number: Callable[[int | float], str] = str,
) -> str:
    """Return text in the reader's language: a Phrase's template translated, then its values."""
    if not isinstance(text, Phrase):
        return gettext(text) if text else text
    values = {
        name: translated(value, gettext, number)
        if isinstance(value, Phrase)
        else number(value)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else value
        for name, value in text.params.items()
    }
    return gettext(text.template) % values if values else gettext(text.template)
