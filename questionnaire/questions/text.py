"""Text as people type it, pure: Unicode NFC, control characters found, bidirectional marks
shown as visible codes, and strict dates, ids and timestamps from query values.

Bidirectional marks are not refused (a right-to-left name needs them) but are
shown as visible codes wherever a clinician reads the text (`show_bidi`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Any

from markupsafe import Markup

#: Line breaks and tabs, allowed in multi-line fields only.
LINE_CONTROLS = frozenset("\t\n\r")
#: Characters that reorder text on screen (overrides, embeddings, isolates, marks).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: Any character show_bidi writes as a code: a bidi control, or a control character (Unicode
#: category Cc, which is exactly U+0000-U+001F and U+007F-U+009F) other than a tab or line
#: break. One search instead of a category lookup per character: every page runs it on
#: every value it shows.
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + "".join(sorted(BIDI_CONTROLS)) + "]")


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
    return _HIDDEN.sub(lambda found: f"[U+{ord(found.group()):04X}]", value)


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


def parse_row_id(text: str) -> int | None:
    """Return a row id written in ASCII digits, between 1 and MAX_ROW_ID, or None."""
    number = ascii_number(text, 10)
    return number if number is not None and 1 <= number <= MAX_ROW_ID else None


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


# --- email addresses -------------------------------------------------------------------

#: Characters legal in an address's local part (RFC 5322) that mean something in a URL:
#: "victim?bcc=someone@elsewhere.example" is a valid address that a mailto: link would
#: turn into a copy to a stranger. Refused in every address the app takes.
URL_MEANINGFUL = frozenset("?&#%/")


def checked_email(text: str) -> str | None:
    """Return an email address as it should be stored, or None when it is not one.

    Checked with email-validator (syntax only: no DNS lookup), and refused when its
    local part holds a character that changes a URL (URL_MEANINGFUL).
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    if any(char in URL_MEANINGFUL for char in valid.local_part):
        return None
    return str(valid.normalized)


def mailto(address: str | None) -> str:
    """Return a mailto: URL for an address, every character but "@" URL-encoded.

    Whatever the address holds ("?bcc=", "&cc="), the link writes to it alone.
    """
    from urllib.parse import quote

    return "mailto:" + quote(str(address or ""), safe="@")


# --- numbers ---------------------------------------------------------------------------
#
# One rule for every number a person types (a weight, a blood pressure, a count, an id in
# a form): ASCII digits 0-9 only. Python's int(), str.isdigit() and a regex's \d also take
# full-width, Arabic-Indic, Devanagari or superscript digits, which no page asks for and
# which would read differently on another screen.

#: The digits a number field takes: use in every pattern instead of \d.
DIGIT = "[0-9]"


def ascii_number(text: str, max_digits: int) -> int | None:
    """Return the whole number written in 1 to max_digits ASCII digits, or None."""
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
