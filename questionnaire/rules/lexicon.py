"""Whole-word matching of free text (medicine lists) against named term lists."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Canadian generic makers put these before a medicine's name ("pms-clonazepam", "apo lorazepam").
MAKER_PREFIXES: tuple[str, ...] = (
    "apo",
    "teva",
    "pms",
    "sandoz",
    "mylan",
    "riva",
    "jamp",
    "mint",
    "auro",
    "ran",
    "nu",
    "novo",
    "gen",
)

# Runs of letters and runs of digits, so "Ativan0.5mg" is ativan 0 5 mg and "Theo-24" is theo 24.
_TOKEN = re.compile(r"[^\W\d_]+|\d+")

Tokens = tuple[str, ...]


def tokenize(text: str) -> Tokens:
    """Split text into case- and accent-free word and number tokens."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return tuple(_TOKEN.findall(text.casefold()))


def term_problem(term: str) -> str | None:
    """Return why a term can never match sensibly, or None when it is usable."""
    tokens = tokenize(term)
    if not tokens:
        return f"term {term!r} has no letters or digits; remove it"
    if all(token.isdigit() for token in tokens):
        return f"term {term!r} is only a number and would match any dose; remove it"
    return None


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A compiled term list: terms indexed by their first token, maker-prefixed forms included."""

    name: str
    #: The terms as the table writes them, in table order.
    terms: tuple[str, ...]
    _index: dict[str, tuple[tuple[Tokens, str], ...]] = field(repr=False, compare=False)

    @classmethod
    def compile(cls, name: str, terms: Iterable[str]) -> Lexicon:
        """Build a lexicon, skipping unusable terms (the loader reports those)."""
        written = tuple(terms)
        index: dict[str, list[tuple[Tokens, str]]] = {}
        seen: set[Tokens] = set()
        for term in written:
            tokens = tokenize(term)
            if term_problem(term) is not None or tokens in seen:
                continue
            seen.add(tokens)
            index.setdefault(tokens[0], []).append((tokens, term))
            # A prefix glued on ("apolorazepam") is only stripped when what is left is
            # exactly a term's first word, so "novo" + anything else never matches.
            for prefix in MAKER_PREFIXES:
                index.setdefault(prefix + tokens[0], []).append((tokens, term))
        frozen = {first: tuple(entries) for first, entries in index.items()}
        return cls(name, written, frozen)

    def find(self, tokens: Tokens) -> list[str]:
        """Return the terms (as written in the table) that occur in tokens, in text order."""
        found: list[str] = []
        index = self._index
        for position, token in enumerate(tokens):
            entries = index.get(token)
            if entries is None:
                continue
            for term_tokens, term in entries:
                if _continues(tokens, position, term_tokens) and term not in found:
                    found.append(term)
        return found

    def matches(self, tokens: Tokens) -> bool:
        """Return whether any term occurs in tokens."""
        index = self._index
        for position, token in enumerate(tokens):
            entries = index.get(token)
            if entries is None:
                continue
            for term_tokens, _term in entries:
                if _continues(tokens, position, term_tokens):
                    return True
        return False


def _continues(tokens: Tokens, position: int, term_tokens: Tokens) -> bool:
    # The first token already matched (directly or after a maker prefix); check the rest.
    length = len(term_tokens)
    return length == 1 or tokens[position + 1 : position + length] == term_tokens[1:]
