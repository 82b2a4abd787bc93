"""Password hashing with argon2id (argon2-cffi), and the length rule for new passwords."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from questionnaire.models import Clinician

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


def verify(password_hash: str | None, password: str) -> bool:
    """Return whether the password matches the hash.

    With no hash (an unknown email) a dummy hash is checked instead, so the
    answer takes as long whether or not the account exists.
    """
    try:
        return hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Return whether a stored hash was made with other parameters than the current ones."""
    try:
        return hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
