"""A blind index of names: search sealed names by exact token, never by reading them.

Each name is normalised (Unicode NFKD, accents removed, case folded) and split into tokens
at anything that is not a letter or a digit ("Éloïse Côté-Lavoie" -> eloise, cote, lavoie).
Each token is stored only as a keyed HMAC-SHA256 under the name-index key, which is
separate from the key that seals the answers (as CipherSweet's blind indexes are): the
index tells nothing without its key, and a search compares HMACs, exact tokens only.

Pure: no Flask, no database (the key is passed in).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

#: Where a name splits into tokens: anything but a letter or a digit.
_SPLIT = re.compile(r"[^\w]+|_+")
#: A token shorter than this is not indexed nor searched ("J." of "J. Tremblay").
MIN_TOKEN = 2
#: At most this many tokens per name (a pasted paragraph is not a name).
MAX_TOKENS = 12
#: Domain separation: the same key never hashes another kind of value the same way.
_CONTEXT = b"name-token\x00"


def name_tokens(name: str) -> list[str]:
    """Return a name's distinct normalised tokens, in order: accent- and case-folded."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    tokens: list[str] = []
    for token in _SPLIT.split(plain):
        if len(token) >= MIN_TOKEN and token not in tokens:
            tokens.append(token)
    return tokens[:MAX_TOKENS]


def blind(token: str, key: bytes) -> str:
    """Return one token's blind index value: HMAC-SHA256 under the name-index key, in hex."""
    return hmac.new(key, _CONTEXT + token.encode("utf-8"), hashlib.sha256).hexdigest()


def blind_tokens(name: str, key: bytes) -> list[str]:
    """Return the blind index values of a name's tokens."""
    return [blind(token, key) for token in name_tokens(name)]
