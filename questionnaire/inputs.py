"""The one filter every form field, query parameter and URL part passes through.

Text arrives in Unicode NFC (so "é" typed two ways is one answer), and a control
character (NUL, escape, C1 codes) never reaches a form, a rule or the database:
on a question page it is a field error, anywhere else a 400. Tabs and line breaks
are allowed only where a field has several lines (forms.py checks that per field).
Bidirectional marks are not refused (a right-to-left name needs them) but are
shown as visible codes wherever a clinician reads the text (`show_bidi`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, Request, request
from markupsafe import Markup
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import BadRequest

#: Line breaks and tabs, allowed in multi-line fields only.
LINE_CONTROLS = frozenset("\t\n\r")
#: Characters that reorder text on screen (overrides, embeddings, isolates, marks).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Endpoints whose forms report a control character as a field error themselves.
FIELD_ERROR_ENDPOINTS = frozenset({"intake.page", "intake.resume"})
NOT_VALID = (
    "This request has a hidden control character in it, so it was not used. "
    "Go back, retype the text, and try again."
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class InputRefused(BadRequest):
    """A 400 whose message is written for people (shown on the error page as it is)."""

    def __init__(self, plain_message: str) -> None:
        super().__init__(description=plain_message)
        self.plain_message = plain_message


def nfc(value: str) -> str:
    """Return text in Unicode normal form C."""
    return unicodedata.normalize("NFC", value)


def has_control(value: str, *, multiline: bool = False) -> bool:
    """Return whether text holds a control character (tabs and line breaks only if not multiline)."""
    return any(
        unicodedata.category(char) == "Cc" and not (multiline and char in LINE_CONTROLS)
        for char in value
    )


def show_bidi(value: str) -> str:
    """Return text with each bidi or control character written as a visible code, like [U+202E].

    For what a clinician reads (pages, CSV, FHIR): a right-to-left override can no
    longer reorder a name or a note, and older rows stored before the filter show
    their hidden characters instead of hiding them. Tabs and line breaks stay.
    """
    if value.isascii() and value.isprintable():
        return value
    return "".join(f"[U+{ord(char):04X}]" if _hidden(char) else char for char in value)


def _hidden(char: str) -> bool:
    return char in BIDI_CONTROLS or (
        unicodedata.category(char) == "Cc" and char not in LINE_CONTROLS
    )


def shown(value: Any) -> Any:
    """Jinja's finalize: plain text gets show_bidi; markup (form widgets) is left as built."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return show_bidi(value)
    return value


def parse_iso_date(text: str) -> date | None:
    """Return the calendar date written exactly YYYY-MM-DD (ASCII digits), or None."""
    text = text.strip()
    if not _ISO_DATE.fullmatch(text) or not text.isascii():
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


#: The largest id a row can have on every backend (PostgreSQL's integer).
MAX_ROW_ID = 2**31 - 1
#: Timestamps outside these years are no real position in any list (and would overflow).
YEARS = range(1970, 9999)
_ROW_ID = re.compile(r"[0-9]{1,10}")


def parse_row_id(text: str) -> int | None:
    """Return a row id written in ASCII digits, between 1 and MAX_ROW_ID, or None."""
    if not _ROW_ID.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ROW_ID else None


def parse_timestamp(text: str) -> datetime | None:
    """Return a timezone-aware ISO timestamp within YEARS, in UTC, or None."""
    if not text.isascii():
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.year not in YEARS:
        return None
    return moment.astimezone(UTC)


class NormalisedMultiDict(ImmutableMultiDict[str, Any]):
    """Werkzeug's immutable form and query storage, with every text value in NFC."""

    def __init__(self, mapping: Any = None) -> None:
        super().__init__(_normalised_pairs(mapping))


def _normalised_pairs(mapping: Any) -> Iterable[tuple[str, Any]]:
    if mapping is None:
        return []
    if isinstance(mapping, MultiDict):
        pairs: Iterable[tuple[Any, Any]] = mapping.items(multi=True)
    elif isinstance(mapping, Mapping):
        pairs = mapping.items()
    else:
        pairs = mapping
    flat: list[tuple[str, Any]] = []
    for key, value in pairs:
        values = value if isinstance(value, list | tuple) else [value]
        for one in values:
            flat.append((nfc(key) if isinstance(key, str) else key, _nfc_any(one)))
    return flat


def _nfc_any(value: Any) -> Any:
    return nfc(value) if isinstance(value, str) else value


class FilteredRequest(Request):
    """A request whose query string and form values arrive in NFC."""

    parameter_storage_class = NormalisedMultiDict


def _refuse_control_characters() -> None:
    """Answer 400 when a query, URL part or form value holds a control character."""
    parts: list[str] = [*request.args.keys(), *request.args.values()]
    parts += [str(value) for value in (request.view_args or {}).values()]
    if any(has_control(part) for part in parts):
        raise InputRefused(NOT_VALID)
    if request.endpoint in FIELD_ERROR_ENDPOINTS:
        return  # the page shows the error next to its field, and keeps every other answer
    if request.method == "POST" and any(
        has_control(key) or has_control(value, multiline=True)
        for key, value in request.form.items(multi=True)
    ):
        raise InputRefused(NOT_VALID)


def init_app(app: Flask) -> None:
    """Make every request filtered: NFC text, and no control characters."""
    app.request_class = FilteredRequest
    app.before_request(_refuse_control_characters)
    # Every {{ value }} in every template passes here before escaping.
    app.jinja_env.finalize = shown
