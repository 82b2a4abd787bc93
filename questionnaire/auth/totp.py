"""Time-based one-time codes (pyotp): secrets, provisioning URIs and checking a code."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

#: Accept the code of the current 30-second step and of one step either side (clock drift).
DRIFT_STEPS = 1
CODE_LENGTH = 6


def new_secret() -> str:
    """Return a new random base32 secret (160 bits)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    """Return the otpauth:// URI an authenticator app reads (usually as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def normalise(code: str) -> str:
    """Return the code without spaces ("123 456" is how some apps show it)."""
    return "".join(code.split())


def matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """Return the time step the code belongs to, or None when it is wrong or already used.

    Only steps later than `after` (the last accepted step) count, so a code is
    accepted at most once, and so is any code older than the last one accepted.
    """
    code = normalise(code)
    # ASCII only: str.isdigit() also takes full-width and superscript digits, which hmac
    # cannot compare (a 500 before).
    if len(code) != CODE_LENGTH or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare every candidate, in constant time, before deciding.
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    if found is None or (after is not None and found <= after):
        return None
    return found
