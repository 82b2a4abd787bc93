"""Find a phone number written into text that should name one through a placeholder."""

from __future__ import annotations

import re

#: The placeholders the app fills from its settings (CRISIS_LINE_NUMBER, EMERGENCY_NUMBER).
PLACEHOLDERS = ("{crisis_line}", "{emergency_number}")

# A run of digits with the separators people write in phone numbers.
_DIGIT_RUN = re.compile(r"(?<![\w/.,])\+?\(?\d[\d\s().\-]*\d(?![\w/])")
# Emergency and crisis short numbers somewhere in the world (911, 988, 999, 112, 000 …).
_SHORT_NUMBERS = frozenset({"911", "988", "999", "112", "000", "111", "811", "211"})
# A date: "1985-03-27", or day month year as the date of birth's hint writes it ("27 3 2007").
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|[0-3]?\d [01]?\d (?:19|20)\d\d")
# A long enough run is a phone number whatever its separators.
_LONG_RUN = 7


def find_phone_number(text: str) -> str | None:
    """Return the first phone number written in the text, or None.

    Measures such as "140/90", "35 to 250 kg" or "4 to 6 weeks" are not numbers
    to call; "9-8-8", "116 123", "911" and "1-800-273-8255" are.
    """
    if "tel:" in text.lower():
        return "tel:"
    for match in _DIGIT_RUN.finditer(text):
        run = match.group(0).strip()
        digits = re.sub(r"\D", "", run)
        if digits in _SHORT_NUMBERS or (digits.startswith("116") and len(digits) == 6):
            return run
        spaced = bool(re.search(r"\d[\s\-]+\d", run))
        if not re.search(r"[\s\-()+]", run) or _DATE.fullmatch(run):
            continue  # "2026.11.1", "12.5" or "1985-03-27": not a number to call
        if len(digits) >= _LONG_RUN:
            return run
        if spaced and "-" in run and len(digits) >= 3:
            return run
    return None
