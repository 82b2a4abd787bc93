"""Patient data encrypted at rest: AES-256-GCM, a key outside the database, rotation.

Stored form: ``v1:<key id>:<base64url(nonce + ciphertext + tag)>``. The key id
(the first 16 hex digits of the key's SHA-256) says which key sealed a value,
so a rotation can re-encrypt row by row. Each column is its own associated
data: a ciphertext copied into another column fails to open.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

KEY_BYTES = 32
NONCE_BYTES = 12
VERSION = "v1"
KEY_FILE_NAME = "answers.key"


class AnswersKeyError(RuntimeError):
    """The answers key is missing or malformed; the message says how to provide one."""


class CiphertextError(ValueError):
    """A stored value failed its integrity check or names an unknown key."""


@functools.lru_cache(maxsize=16)
def key_id(key: bytes) -> str:
    """Return the short public id of a key."""
    return hashlib.sha256(key).hexdigest()[:16]


@functools.lru_cache(maxsize=16)
def _cipher(key: bytes) -> AESGCM:
    # Built once per key: the queue and exports open thousands of values a second.
    return AESGCM(key)


def encode_key(key: bytes) -> str:
    """Return a key as the text ANSWERS_KEY and the key file hold."""
    return base64.urlsafe_b64encode(key).decode()


def decode_key(text: str) -> bytes:
    """Return a key from its text; raise AnswersKeyError with the fix when it is not one."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise AnswersKeyError(
            "The answers key must be 32 random bytes in URL-safe base64. Make one with: "
            'python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
        )
    return key


def new_key() -> bytes:
    """Return a new random 256-bit key."""
    return secrets.token_bytes(KEY_BYTES)


def write_key_file(path: Path, key: bytes) -> None:
    """Write a key file readable by its owner only (mode 0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(encode_key(key) + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


@dataclass
class Keyring:
    """The key that seals new values, and older keys that may still open stored ones."""

    current: bytes
    older: list[bytes] = field(default_factory=list)
    #: Where the current key came from: "env", "file" or "config" (tests).
    origin: str = "config"

    def _by_id(self) -> dict[str, bytes]:
        return {key_id(key): key for key in (self.current, *self.older)}

    def seal(self, plaintext: bytes, context: str) -> str:
        """Encrypt bytes for one column (the context), with a fresh random nonce."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = _cipher(self.current).encrypt(nonce, plaintext, context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{VERSION}:{key_id(self.current)}:{body}"

    def open(self, stored: str, context: str) -> bytes:
        """Decrypt a stored value; raise CiphertextError if it was altered or the key is gone."""
        try:
            version, kid, body = stored.split(":", 2)
            raw = base64.urlsafe_b64decode(body.encode())
        except (ValueError, binascii.Error):
            raise CiphertextError("stored value is not in the sealed format") from None
        key = self._by_id().get(kid)
        if version != VERSION or key is None or len(raw) <= NONCE_BYTES:
            raise CiphertextError("stored value was sealed with an unknown key or format")
        try:
            return _cipher(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise CiphertextError("stored value failed its integrity check") from None

    def key_by_id(self, kid: str) -> bytes | None:
        """Return the key with this id (current or older), or None when it is gone."""
        return self._by_id().get(kid)


def _read_key_file(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:
        raise AnswersKeyError(f"{path} must be readable by its owner only: chmod 600 {path}")
    return decode_key(path.read_text())


def _older_keys(config: Mapping[str, Any], path: Path) -> list[bytes]:
    """Keys that may still open stored values: ANSWERS_OLD_KEYS, and files a rotation left."""
    older = [
        decode_key(text)
        for text in str(config.get("ANSWERS_OLD_KEYS") or "").split(",")
        if text.strip()
    ]
    for leftover in (path.with_name(path.name + ".previous"), path.with_name(path.name + ".next")):
        if leftover.exists():
            older.append(_read_key_file(leftover))
    return older


def load_keyring(config: Mapping[str, Any], instance_path: str) -> Keyring:
    """Return the keyring from ANSWERS_KEY, else the instance key file (made in development).

    Production refuses to make a key: it must be given, so that every worker and
    every restart uses the same one.
    """
    path = Path(instance_path) / KEY_FILE_NAME
    if config.get("ANSWERS_KEY"):
        return Keyring(decode_key(str(config["ANSWERS_KEY"])), _older_keys(config, path), "env")
    if path.exists():
        return Keyring(_read_key_file(path), _older_keys(config, path), origin="file")
    if config.get("APP_ENV") == "production":
        raise AnswersKeyError(
            f"No answers key. Set ANSWERS_KEY or create {path} (mode 600); see docs/clinic-it.md, Deploying."
        )
    key = new_key()
    write_key_file(path, key)
    return Keyring(key, origin="file")


#: The name-index key's file in the instance folder, when NAME_INDEX_KEY is not set.
NAME_INDEX_KEY_FILE = "name-index.key"


def load_name_index_key(config: Mapping[str, Any], instance_path: str) -> bytes:
    """Return the blind-index key for names: NAME_INDEX_KEY, else its instance file.

    Separate from the answers key (a leaked index key reveals no answer, and a leaked
    answers key does not make the index a dictionary). Made in development only.
    """
    path = Path(instance_path) / NAME_INDEX_KEY_FILE
    if config.get("NAME_INDEX_KEY"):
        return decode_key(str(config["NAME_INDEX_KEY"]))
    if path.exists():
        return _read_key_file(path)
    if config.get("APP_ENV") == "production":
        raise AnswersKeyError(
            f"No name-index key. Set NAME_INDEX_KEY or create {path} (mode 600); "
            "see docs/clinicians.md, Searching by name."
        )
    key = new_key()
    write_key_file(path, key)
    return key


def name_index_key() -> bytes:
    """Return the running app's name-index key."""
    key: bytes = current_app.extensions["name_index_key"]
    return key


def keyring() -> Keyring:
    """Return the running app's keyring."""
    ring: Keyring = current_app.extensions["keyring"]
    return ring


class EncryptedJSON(sa.TypeDecorator[Any]):
    """A JSON value stored sealed with the app's key; the context names the column."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        plaintext = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        return keyring().seal(plaintext, self.context)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else json.loads(self._open(value))

    def _open(self, value: str) -> bytes:
        try:
            return keyring().open(value, self.context)
        except CiphertextError:
            # Say which column, never the value: the caller shows a 500 and an admin restores.
            current_app.logger.error("Integrity check failed for a value in %s", self.context)
            raise


class EncryptedText(EncryptedJSON):
    """A text value stored sealed (a clinician's note, a TOTP secret)."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        return keyring().seal(str(value).encode(), self.context)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else self._open(value).decode()
