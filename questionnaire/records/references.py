"""Reference codes: how a submission is named to patients and clinicians (make, format, parse)."""

from __future__ import annotations

import re
import secrets

#: No 0/O, 1/I/L or U/V look-alikes: easy to read out over the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
#: Characters in a reference code (kept in step with Submission.reference's column).
REFERENCE_LENGTH = 8

_REFERENCE = re.compile(rf"[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}")


def new_reference() -> str:
    """Return a new 8-character reference code."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def format_reference(reference: str) -> str:
    """Return a reference code as people read it: ABCD-2345."""
    return f"{reference[:4]}-{reference[4:]}"


def parse_reference(text: str) -> str | None:
    """Return a reference code from what a person typed ('abcd-2345'), or None if it is not one."""
    cleaned = re.sub(r"[\s-]", "", text).upper()
    return cleaned if _REFERENCE.fullmatch(cleaned) else None
