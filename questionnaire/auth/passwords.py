"""Password hashing with argon2id (argon2-cffi), and the length rule for new passwords."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from questionnaire.records.models import Clinician

#: argon2-cffi's defaults are argon2id with the RFC 9106 low-memory profile.
hasher = PasswordHasher()


class PasswordPolicyError(ValueError):
    """A new password is too short or too long; the message says which and the limits."""


def check_policy(password: str) -> None:
    """Raise PasswordPolicyError unless the password has 12 to 128 characters."""
    low, high = Clinician.PASSWORD_MIN, Clinician.PASSWORD_MAX
    if len(password) < low:
        raise PasswordPolicyError(
            f"The password has {len(password)} characters; use at least {low} (at most {high})."
        )
    if len(password) > high:
        raise PasswordPolicyError(
            f"The password has {len(password)} characters; use at most {high} (at least {low})."
        )


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password that meets the policy."""
    check_policy(password)
    return hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return hasher.hash(secrets.token_urlsafe(24))


def is_argon2(password_hash: str | None) -> bool:
    """Return whether a stored value is an argon2 hash (not a marker such as UNUSABLE_HASH)."""
    return bool(password_hash) and str(password_hash).startswith("$argon2")


def verify(password_hash: str | None, password: str) -> bool:
    """Return whether the password matches the hash.

    Whenever the stored value is not a real argon2 hash (an unknown email, an invited
    clinician who has not enrolled, a damaged row), a dummy argon2 hash is checked
    instead and the answer is False: it takes as long as a real check, so the time
    taken tells nothing about the account.
    """
    real = is_argon2(password_hash)
    try:
        matches = hasher.verify(str(password_hash) if real else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return real and matches


def needs_rehash(password_hash: str) -> bool:
    """Return whether a stored hash was made with other parameters than the current ones."""
    try:
        return hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
