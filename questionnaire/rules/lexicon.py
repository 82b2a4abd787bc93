"""Read free text (medicine lists) against named term lists: whole words, maker prefixes, near misses.

A word matches a term when it is the term, the term behind a maker prefix, or
within a few edits of it (Damerau-Levenshtein: insert, delete, substitute, or
swap two neighbouring letters). A word written exactly as a known medicine is
never read as a flagged one, however close the two are.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

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
_PREFIXES = frozenset(MAKER_PREFIXES)

#: Words shorter than this only ever match exactly: "Xana" is not Xanax, "Onfi" is not "Orfi".
MIN_TOLERANT_LENGTH = 5
#: Words of this length or more may differ by two edits; shorter tolerant words by one.
TWO_EDIT_LENGTH = 8
#: The most edits any word may differ by (the bound given to the distance function).
MAX_EDITS = 2

# Runs of letters and runs of digits, so "Ativan0.5mg" is ativan 0 5 mg and "Theo-24" is theo 24.
_TOKEN = re.compile(r"[^\W\d_]+|\d+")
# "Tylenol No. 3", "Tylenol n° 3": the word only says that a number follows, like "#".
_NUMBER_SIGNS = frozenset({"no", "n"})

Tokens = tuple[str, ...]


def allowance(length: int) -> int:
    """Return how many edits a word of this many letters may be from a term and still match it."""
    if length < MIN_TOLERANT_LENGTH:
        return 0
    return 1 if length < TWO_EDIT_LENGTH else MAX_EDITS


def edits_between(first: str, second: str) -> int:
    """Return the Damerau-Levenshtein distance between two normalised words."""
    return int(DamerauLevenshtein.distance(first, second))


def tolerated(word: str, term_word: str, edits: int) -> bool:
    """Return whether two words this many edits apart count as the same (the shorter one decides)."""
    if word.isdigit() or term_word.isdigit():
        return edits == 0
    return edits <= allowance(min(len(word), len(term_word)))


# --- words ---------------------------------------------------------------------------


class Word(NamedTuple):
    """One word of the text: as the patient wrote it, and folded for matching."""

    written: str
    token: str
    #: Where the word starts and ends in the text.
    start: int
    end: int


def split_words(text: str) -> tuple[Word, ...]:
    """Split text into words and numbers, folded to lower case without accents."""
    if text.isascii():
        folded, origin = text.lower(), None
    else:
        folded, origin = _fold(text)
    found: list[Word] = []
    for match in _TOKEN.finditer(folded):
        start, end = match.span()
        if origin is not None:
            start, end = origin[start], origin[end - 1] + 1
        found.append(Word(text[start:end], match.group(), start, end))
    last = len(found) - 1
    return tuple(
        word
        for position, word in enumerate(found)
        if not (
            word.token in _NUMBER_SIGNS and position < last and found[position + 1].token.isdigit()
        )
    )


def _fold(text: str) -> tuple[str, list[int]]:
    # Fold character by character so every folded letter remembers where it was written.
    pieces: list[str] = []
    origin: list[int] = []
    for position, char in enumerate(text):
        decomposed = unicodedata.normalize("NFKD", char)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        pieces.append(folded)
        origin.extend([position] * len(folded))
    return "".join(pieces), origin


def tokenize(text: str) -> Tokens:
    """Split text into case- and accent-free word and number tokens."""
    return tuple(word.token for word in split_words(text))


def term_problem(term: str) -> str | None:
    """Return why a term can never match sensibly, or None when it is usable."""
    tokens = tokenize(term)
    if not tokens:
        return f"term {term!r} has no letters or digits; remove it"
    if all(token.isdigit() for token in tokens):
        return f"term {term!r} is only a number and would match any dose; remove it"
    return None


# --- term lists ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """One usable term of a list: as the table writes it, and as the words it must match."""

    lexicon: str
    written: str
    tokens: Tokens
    #: Marked `exact:` in the table: only the term itself (or behind a maker prefix) matches.
    exact: bool = False


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A named term list; read text against it with a Reader (or find() for this list alone)."""

    name: str
    #: The terms as the table writes them, in table order.
    terms: tuple[str, ...]
    #: The usable terms, first spelling of each word sequence only.
    entries: tuple[Term, ...]
    _alone: Reader | None = field(default=None, repr=False, compare=False)

    @classmethod
    def compile(cls, name: str, terms: Iterable[str], exact: Iterable[str] = ()) -> Lexicon:
        """Build a lexicon, skipping unusable and repeated terms (the loader reports those)."""
        written = tuple(terms)
        only_exact = frozenset(exact)
        entries: list[Term] = []
        seen: set[Tokens] = set()
        for term in written:
            tokens = tokenize(term)
            if term_problem(term) is not None or tokens in seen:
                continue
            seen.add(tokens)
            entries.append(Term(name, term, tokens, term in only_exact))
        lexicon = cls(name, written, tuple(entries))
        object.__setattr__(lexicon, "_alone", Reader.compile([lexicon]))
        return lexicon

    def find(self, tokens: Tokens | str) -> list[str]:
        """Return the terms (as written in the table) that a text names, in text order."""
        text = tokens if isinstance(tokens, str) else " ".join(tokens)
        assert self._alone is not None
        return self._alone.read(text).terms(self.name)


# --- reading -------------------------------------------------------------------------


class How(StrEnum):
    """How a word of the text was read."""

    EXACT = "exact"
    PREFIX = "maker prefix"
    NEAR = "near match"
    KNOWN = "known"
    UNKNOWN = "unknown"


class Match(NamedTuple):
    """Some words of the text read as one flagged term."""

    term: Term
    #: The patient's own words, as typed.
    written: str
    how: How
    #: Letters different from the term (0 unless a near match).
    edits: int
    start: int
    end: int

    def evidence(self) -> dict[str, Any]:
        """Return this match as evidence a clinician reads: their word, the term, how."""
        return {
            "written": self.written,
            "term": self.term.written,
            "how": str(self.how),
            "edits": self.edits,
        }


class WordReading(NamedTuple):
    """How one word (or phrase) of the text was read, for the clinician and `rules explain`."""

    written: str
    how: How
    #: The term it was read as (flagged or known), or None when unknown.
    term: str | None = None
    #: The list that term belongs to.
    lexicon: str | None = None
    edits: int = 0
    #: Flagged terms a known medicine looks or sounds like, so a clinician can double-check.
    resembles: tuple[str, ...] = ()

    def detail(self) -> str:
        """Return what the word was read as, without saying how (`rules explain` says how)."""
        where = f" ({self.lexicon.replace('_', ' ')})" if self.lexicon else ""
        if self.how in (How.EXACT, How.PREFIX):
            return f"{self.term}{where}"
        if self.how is How.NEAR:
            return f"{self.term}, {letters(self.edits)} different{where}"
        if self.how is How.KNOWN:
            near = f", {letters(self.edits)} from {self.term}" if self.edits else ""
            shown = f"{self.term}{where}{near}, not flagged"
            return f"{shown}; resembles {', '.join(self.resembles)}" if self.resembles else shown
        return "not on any list"

    def describe(self) -> str:
        """Return how the word was read, in words for a clinician."""
        if self.how is How.EXACT:
            return self.detail()
        if self.how is How.UNKNOWN:
            return "not recognised"
        return f"{self.how}: {self.detail()}"


def letters(edits: int) -> str:
    """Return "1 letter" or "N letters"."""
    return "1 letter" if edits == 1 else f"{edits} letters"


@dataclass(frozen=True, slots=True)
class Reading:
    """What a text says in terms of the lists: the flagged matches and every word's reading."""

    words: tuple[WordReading, ...]
    matches: tuple[Match, ...]
    #: The names of the flagged lists any match belongs to.
    lexicons: frozenset[str]

    def terms(self, lexicon: str) -> list[str]:
        """Return the terms of one list that the text names, once each, in text order."""
        found: list[str] = []
        for match in self.matches:
            if match.term.lexicon == lexicon and match.term.written not in found:
                found.append(match.term.written)
        return found

    def of(self, lexicon: str) -> list[Match]:
        """Return the matches of one list, in text order."""
        return [match for match in self.matches if match.term.lexicon == lexicon]


@dataclass(frozen=True, slots=True)
class _Known:
    """A known medicine's term, with the flagged terms it resembles."""

    term: Term
    resembles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reader:
    """Every term list of a table compiled together, so a known medicine can win over a near miss."""

    flagged: tuple[Lexicon, ...]
    known: tuple[Lexicon, ...]
    #: First word (or maker prefix glued to it) -> flagged terms, and whether a prefix is glued.
    _exact: Mapping[str, tuple[tuple[Term, bool], ...]] = field(repr=False)
    #: The same for known medicines.
    _known: Mapping[str, tuple[tuple[_Known, bool], ...]] = field(repr=False)
    #: Word length -> the tolerant flagged first words a word of that length may be near.
    _near_firsts: Mapping[int, tuple[str, ...]] = field(repr=False)
    #: Tolerant flagged first word -> its terms.
    _by_first: Mapping[str, tuple[Term, ...]] = field(repr=False)
    #: Word length -> the known single words a word of that length may be near.
    _near_known: Mapping[int, tuple[str, ...]] = field(repr=False)

    @classmethod
    def compile(cls, flagged: Sequence[Lexicon], known: Sequence[Lexicon] = ()) -> Reader:
        """Index the flagged and known lists for reading."""
        exact: dict[str, list[tuple[Term, bool]]] = {}
        by_first: dict[str, list[Term]] = {}
        for lexicon in flagged:
            for term in lexicon.entries:
                _index(exact, term.tokens[0], (term, False), (term, True))
                if not term.exact:
                    by_first.setdefault(term.tokens[0], []).append(term)
        flagged_words = {term.tokens[0] for lexicon in flagged for term in lexicon.entries}
        known_index: dict[str, list[tuple[_Known, bool]]] = {}
        known_words: set[str] = set()
        alike = _Resemblance(flagged)
        for lexicon in known:
            for term in lexicon.entries:
                entry = _Known(term, alike.of(term))
                _index(known_index, term.tokens[0], (entry, False), (entry, True))
                if len(term.tokens) == 1:
                    known_words.add(term.tokens[0])
        tolerant = [word for word in by_first if len(word) >= MIN_TOLERANT_LENGTH]
        return cls(
            tuple(flagged),
            tuple(known),
            {word: tuple(entries) for word, entries in exact.items()},
            {word: tuple(entries) for word, entries in known_index.items()},
            _by_length(tolerant),
            {word: tuple(terms) for word, terms in by_first.items()},
            _by_length(sorted(known_words - flagged_words)),
        )

    def read(self, text: str) -> Reading:
        """Read a text: which flagged terms it names and how, and what each word was read as."""
        words = split_words(text)
        tokens = tuple(word.token for word in words)
        count = len(tokens)
        # Each position is read once: exact flagged terms first (the longest wins), then
        # known medicines, then near misses of flagged terms.
        taken: list[WordReading | None] = [None] * count
        matches: list[Match] = []
        for position, token in enumerate(tokens):
            for term, glued in self._exact.get(token, ()):
                end = position + len(term.tokens)
                if tokens[position + 1 : end] != term.tokens[1:]:
                    continue
                prefixed = glued or (position > 0 and tokens[position - 1] in _PREFIXES)
                how = How.PREFIX if prefixed else How.EXACT
                written = _span(text, words, position, end)
                matches.append(Match(term, written, how, 0, position, end))
                _cover(
                    taken,
                    tokens,
                    position,
                    end,
                    WordReading(written, how, term.written, term.lexicon),
                )
        for position, token in enumerate(tokens):
            if taken[position] is not None:
                continue
            for known, _glued in self._known.get(token, ()):
                end = position + len(known.term.tokens)
                clear = all(slot is None for slot in taken[position:end])
                if clear and tokens[position + 1 : end] == known.term.tokens[1:]:
                    reading = WordReading(
                        _span(text, words, position, end),
                        How.KNOWN,
                        known.term.written,
                        known.term.lexicon,
                        resembles=known.resembles,
                    )
                    _cover(taken, tokens, position, end, reading)
                    break
        exact = self._exact
        for position, token in enumerate(tokens):
            # Only long words can be near a term; a short one may open a multi-word term.
            if taken[position] is None and (len(token) >= MIN_TOLERANT_LENGTH or token in exact):
                self._read_near(text, words, tokens, position, taken, matches)
        readings: list[WordReading] = []
        for position, word in enumerate(words):
            read_as = taken[position]
            if read_as is None:
                readings.append(WordReading(word.written, How.UNKNOWN))
            elif not readings or readings[-1] is not read_as:
                readings.append(read_as)
        matches.sort(key=lambda match: match.start)
        return Reading(tuple(readings), tuple(matches), frozenset(m.term.lexicon for m in matches))

    def _read_near(
        self,
        text: str,
        words: tuple[Word, ...],
        tokens: Tokens,
        position: int,
        taken: list[WordReading | None],
        matches: list[Match],
    ) -> None:
        token = tokens[position]
        best: list[tuple[int, Term, int, bool]] = []
        for stem, glued in _stems(token):
            for first, first_edits in self._near(stem):
                for term in self._by_first.get(first, ()):
                    rest = _rest_edits(tokens, position + 1, term.tokens[1:], taken)
                    if rest is None or first_edits + rest == 0:
                        continue
                    end = position + len(term.tokens)
                    best.append((first_edits + rest, term, end, glued))
            # A longer multi-word term whose first word is short (e.g. "MS Contin") may still
            # be near: its first word matched exactly, a later one did not.
            for term, term_glued in self._exact.get(stem, ()):
                if (
                    len(term.tokens) == 1
                    or term.exact
                    or len(term.tokens[0]) >= MIN_TOLERANT_LENGTH
                ):
                    continue
                rest = _rest_edits(tokens, position + 1, term.tokens[1:], taken)
                if rest:
                    best.append((rest, term, position + len(term.tokens), glued or term_glued))
        if not best:
            return
        fewest = min(edits for edits, *_ in best)
        # Only a known word strictly nearer counts (a tie reads as the flagged term).
        nearest_known = self._nearest_known(token, fewest - 1) if fewest > 1 else None
        if nearest_known is not None:
            # Closer to a medicine no rule flags: read as that, and show what it resembles.
            known, edits = nearest_known
            written = words[position].written
            resembles = tuple(dict.fromkeys(term.written for _e, term, _end, _g in best))
            taken[position] = WordReading(
                written, How.KNOWN, known.written, known.lexicon, edits, resembles
            )
            return
        for edits, term, end, _glued in best:
            if edits != fewest:
                continue
            written = _span(text, words, position, end)
            matches.append(Match(term, written, How.NEAR, edits, position, end))
            reading = WordReading(written, How.NEAR, term.written, term.lexicon, edits)
            _cover(taken, tokens, position, end, reading)

    def _near(self, word: str) -> list[tuple[str, int]]:
        candidates = self._near_firsts.get(len(word))
        if not candidates or word.isdigit():
            return []
        found = process.extract(
            word, candidates, scorer=DamerauLevenshtein.distance, score_cutoff=MAX_EDITS, limit=None
        )
        return [
            (choice, int(edits))
            for choice, edits, _index in found
            if tolerated(word, choice, edits)
        ]

    def _nearest_known(self, word: str, most: int) -> tuple[Term, int] | None:
        candidates = self._near_known.get(len(word))
        if not candidates:
            return None
        found = process.extractOne(
            word, candidates, scorer=DamerauLevenshtein.distance, score_cutoff=most
        )
        if found is None or not tolerated(word, found[0], found[1]):
            return None
        known = self._known[found[0]][0][0]
        return known.term, int(found[1])


def _cover(
    taken: list[WordReading | None], tokens: Tokens, start: int, end: int, reading: WordReading
) -> None:
    # A maker prefix written as its own word ("apo lorazepam") belongs to the match.
    if start > 0 and tokens[start - 1] in _PREFIXES and taken[start - 1] is None:
        start -= 1
    for covered in range(start, end):
        taken[covered] = taken[covered] or reading


def _index(index: dict[str, list[Any]], first: str, plain: Any, glued: Any) -> None:
    index.setdefault(first, []).append(plain)
    # A prefix glued on ("apolorazepam") counts only when what follows is a term's first word.
    for prefix in MAKER_PREFIXES:
        index.setdefault(prefix + first, []).append(glued)


_PREFIXES_BY_START: dict[str, tuple[str, ...]] = {}
for _prefix in MAKER_PREFIXES:
    _PREFIXES_BY_START[_prefix[:2]] = (*_PREFIXES_BY_START.get(_prefix[:2], ()), _prefix)


def _stems(token: str) -> list[tuple[str, bool]]:
    """Return the word, and the word without each maker prefix glued to it (long enough to be near)."""
    stems = [(token, False)]
    for prefix in _PREFIXES_BY_START.get(token[:2], ()):
        if token.startswith(prefix) and len(token) - len(prefix) >= MIN_TOLERANT_LENGTH:
            stems.append((token[len(prefix) :], True))
    return stems


def _rest_edits(
    tokens: Tokens, start: int, rest: Tokens, taken: Sequence[WordReading | None]
) -> int | None:
    """Return the edits between the text's next words and a term's remaining words, if tolerated."""
    if start + len(rest) > len(tokens):
        return None
    total = 0
    for offset, term_word in enumerate(rest):
        word = tokens[start + offset]
        if taken[start + offset] is not None:
            return None
        if word == term_word:
            continue
        if word.isdigit() or term_word.isdigit():
            return None
        edits = edits_between(word, term_word)
        if not tolerated(word, term_word, edits):
            return None
        total += edits
    return total


def _span(text: str, words: tuple[Word, ...], start: int, end: int) -> str:
    """Return the patient's words from start to end as written, with a maker prefix before them."""
    if start > 0 and words[start - 1].token in _PREFIXES:
        start -= 1
    return text[words[start].start : words[end - 1].end]


def _by_length(words: Iterable[str]) -> dict[int, tuple[str, ...]]:
    """Index words by every word length that could be within the allowance of them."""
    index: dict[int, list[str]] = {}
    for word in words:
        size = len(word)
        for length in range(max(MIN_TOLERANT_LENGTH, size - MAX_EDITS), size + MAX_EDITS + 1):
            if abs(length - size) <= allowance(min(length, size)):
                index.setdefault(length, []).append(word)
    return {length: tuple(found) for length, found in index.items()}


# --- what resembles what -------------------------------------------------------------


_SOUNDS = (("ph", "f"), ("k", "c"), ("q", "c"), ("z", "s"), ("y", "i"), ("x", "cs"))


@functools.lru_cache(maxsize=4096)
def sound_key(word: str) -> str:
    """Return a rough spelling of how a word sounds: k/c, z/s, y/i and ph/f alike, no doubles."""
    for written, sound in _SOUNDS:
        word = word.replace(written, sound)
    collapsed = "".join(
        char for index, char in enumerate(word) if index == 0 or char != word[index - 1]
    )
    return collapsed.removesuffix("e")


def resembles(first: str, second: str) -> bool:
    """Return whether a reader could mistake one word for the other, by look or by sound.

    Looser than matching, for the clinician's eye only: "clonidine" and "Klonopin"
    sound 2 letters apart, "Lamisil" and "Lamictal" share their first 4 letters.
    """
    if first == second or min(len(first), len(second)) < MIN_TOLERANT_LENGTH:
        return False
    allowed = allowance(min(len(first), len(second))) + 1
    if edits_between(sound_key(first), sound_key(second)) <= allowed:
        return True
    return first[:4] == second[:4] and edits_between(first, second) <= allowed + 1


def resemblances(term: Term, flagged: Sequence[Lexicon]) -> tuple[str, ...]:
    """Return the flagged terms whose first word resembles this term's first word."""
    return _Resemblance(flagged).of(term)


class _Resemblance:
    """The flagged first words indexed by sound and by their first letters, to find look-alikes."""

    def __init__(self, flagged: Sequence[Lexicon]) -> None:
        self.names: dict[str, Term] = {}
        for lexicon in flagged:
            for term in lexicon.entries:
                first = term.tokens[0]
                kept = self.names.get(first)
                # One name per first word: "codeine", not also "Codeine Contin".
                if len(first) >= MIN_TOLERANT_LENGTH and (
                    kept is None or len(term.tokens) < len(kept.tokens)
                ):
                    self.names[first] = term
        self.firsts = list(self.names)
        self.sounds = [sound_key(first) for first in self.firsts]
        self.by_start: dict[str, list[str]] = {}
        for first in self.firsts:
            self.by_start.setdefault(first[:4], []).append(first)

    def of(self, term: Term) -> tuple[str, ...]:
        word = term.tokens[0]
        if len(word) < MIN_TOLERANT_LENGTH or not self.firsts:
            return ()
        # A coarse scan in C++ first; resembles() then decides each candidate.
        near = process.extract(
            sound_key(word),
            self.sounds,
            scorer=DamerauLevenshtein.distance,
            score_cutoff=MAX_EDITS + 1,
            limit=None,
        )
        candidates = {self.firsts[index] for _sound, _edits, index in near}
        candidates.update(self.by_start.get(word[:4], ()))
        return tuple(
            self.names[first].written
            for first in self.firsts
            if first in candidates and resembles(word, first)
        )


@dataclass(frozen=True, slots=True)
class Collision:
    """Two terms of lists with different outcomes that the tolerance could confuse."""

    first: Term
    second: Term
    edits: int
    #: How the pair is kept apart, or None when it is not (the table must not load).
    resolved_by: str | None

    def describe(self) -> str:
        """Return the pair in words, for `rules check`."""
        a, b = self.first, self.second
        letters = "letter" if self.edits == 1 else "letters"
        what = (
            f"'{a.written}' ({a.lexicon}) and '{b.written}' ({b.lexicon}) are {self.edits} "
            f"{letters} apart"
        )
        if self.resolved_by:
            return f"{what}: resolved, {self.resolved_by}"
        return what


def collisions(
    flagged: Sequence[Lexicon], known: Sequence[Lexicon], outcomes: Mapping[str, frozenset[str]]
) -> list[Collision]:
    """Return every pair of terms, across lists with different outcomes, within the tolerance."""
    terms = [term for lexicon in (*flagged, *known) for term in lexicon.entries]
    order = {id(term): index for index, term in enumerate(terms)}
    by_first: dict[str, list[Term]] = {}
    for term in terms:
        by_first.setdefault(term.tokens[0], []).append(term)
    firsts = list(by_first)
    known_names = {lexicon.name for lexicon in known}
    found: list[Collision] = []
    for first in firsts:
        near = process.extract(
            first, firsts, scorer=DamerauLevenshtein.distance, score_cutoff=MAX_EDITS, limit=None
        )
        for other, edits, _index in near:
            if other < first or not (other == first or tolerated(first, other, edits)):
                continue  # each pair of first words once
            for a in by_first[first]:
                for b in by_first[other]:
                    if order[id(a)] >= order[id(b)] and other == first:
                        continue
                    earlier, later = (a, b) if order[id(a)] < order[id(b)] else (b, a)
                    collision = _collision(earlier, later, outcomes, known_names)
                    if collision is not None:
                        found.append(collision)
    found.sort(key=lambda c: (order[id(c.first)], order[id(c.second)]))
    return found


def _collision(
    a: Term, b: Term, outcomes: Mapping[str, frozenset[str]], known: set[str]
) -> Collision | None:
    if a.lexicon == b.lexicon or len(a.tokens) != len(b.tokens):
        return None
    if outcomes.get(a.lexicon, frozenset()) == outcomes.get(b.lexicon, frozenset()):
        return None
    edits = _term_edits(a.tokens, b.tokens)
    if edits is None:
        return None
    return Collision(a, b, edits, _resolution(a, b, known, edits))


def _term_edits(first: Tokens, second: Tokens) -> int | None:
    total = 0
    for a, b in zip(first, second, strict=True):
        if a == b:
            continue
        edits = edits_between(a, b)
        if not tolerated(a, b, edits):
            return None
        total += edits
    return total


def _resolution(first: Term, second: Term, known: set[str], edits: int) -> str | None:
    if edits == 0:
        return None  # the same words in two lists: nothing can resolve that
    in_known = [term for term in (first, second) if term.lexicon in known]
    if in_known:
        known_term = in_known[0]
        return (
            f"'{known_term.written}' is on the known list {known_term.lexicon}, so written "
            "exactly it reads as itself"
        )
    marked = [term for term in (first, second) if term.exact]
    if marked:
        return f"'{marked[0].written}' is marked exact:"
    return None
