"""Read free text (medicine lists) against named term lists: whole words, maker prefixes, near
misses and sound-alikes, each in its context.

A word matches a term when it is the term, the term behind a maker prefix,
within a few edits of it (Damerau-Levenshtein: insert, delete, substitute, or
swap two neighbouring letters), or, beyond that, sounds the same (its Double
Metaphone key equals the term's) and looks close enough (Indel similarity, after
the FDA's POCA, which scores names on both spelling and sound). A word written
exactly as a known medicine or an everyday word is never read as a flagged one,
however close the two are. Each match is then given its context (plain,
negated, past use, someone else's, allergy) by the table's context rules.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from metaphone import doublemetaphone
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, Indel

if TYPE_CHECKING:
    from questionnaire.rules.context import ContextRules

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
#: A sound-alike must also look this close (normalised Indel similarity; ITEMS.md 14.5):
#: "Riddlin" and Ritalin are 0.71, "Marvin" and morphine 0.57.
SOUND_SIMILARITY = 0.6

#: What a term of a list is: a name (generic or brand), a class word ("sleeping pills"),
#: or a street name ("percs"). Street names are matched exactly, never as near misses.
TERM = "term"
CLASS_WORD = "class"
STREET_NAME = "street"

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
    #: TERM, CLASS_WORD or STREET_NAME.
    kind: str = TERM


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
    def compile(
        cls,
        name: str,
        terms: Iterable[str],
        exact: Iterable[str] = (),
        kinds: Mapping[str, str] | None = None,
    ) -> Lexicon:
        """Build a lexicon, skipping unusable and repeated terms (the loader reports those).

        `kinds` names the class words and street names among the terms; street names
        only ever match exactly.
        """
        written = tuple(terms)
        only_exact = frozenset(exact)
        kinds = kinds or {}
        entries: list[Term] = []
        seen: set[Tokens] = set()
        for term in written:
            tokens = tokenize(term)
            if term_problem(term) is not None or tokens in seen:
                continue
            seen.add(tokens)
            kind = kinds.get(term, TERM)
            entries.append(
                Term(name, term, tokens, term in only_exact or kind == STREET_NAME, kind)
            )
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
    SOUND = "sounds like"
    CLASS = "class word"
    STREET = "street name"
    KNOWN = "known"
    UNKNOWN = "unknown"


#: What a clinician reads for each context a mention can be in (ITEMS.md 14.1).
CONTEXT_WORDS: Mapping[str, str] = {
    "plain": "named as taken",
    "negated": "not taken",
    "historical": "past use",
    "other_person": "someone else's",
    "allergy": "allergy or reaction",
}

#: How an exact match of each kind of term reads.
_EXACT_HOW = {TERM: How.EXACT, CLASS_WORD: How.CLASS, STREET_NAME: How.STREET}


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
    #: "plain" (named as taken) or a context of context.CONTEXTS.
    context: str = "plain"
    #: The trigger that set the context, as the patient wrote it.
    trigger: str | None = None
    #: The patient's words from the trigger to the mention (at most 200 characters).
    clause: str | None = None

    @property
    def plain(self) -> bool:
        """Return whether the text names this term as taken (in no context)."""
        return self.context == "plain"

    def describe(self) -> str:
        """Return the reading in words: how, the term and its list, the context and its trigger."""
        said = (
            f"{self.how} '{self.term.written}' ({self.term.lexicon.replace('_', ' ')}), "
            f"{CONTEXT_WORDS[self.context]}"
        )
        return f"{said}, set by '{self.trigger}'" if self.trigger else said

    def evidence(self) -> dict[str, Any]:
        """Return this match as evidence a clinician reads: their word, the term, how, context."""
        entry: dict[str, Any] = {
            "written": self.written,
            "term": self.term.written,
            "how": str(self.how),
            "edits": self.edits,
        }
        if not self.plain:
            entry.update(
                list=self.term.lexicon,
                context=self.context,
                trigger=self.trigger,
                clause=self.clause,
            )
        return entry


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
        if self.how in (How.EXACT, How.PREFIX, How.CLASS, How.STREET, How.SOUND):
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
    #: The names of the flagged lists the text names as taken (some match in no context).
    lexicons: frozenset[str]
    #: The names of the flagged lists the text names at all, in any context.
    named: frozenset[str] = frozenset()

    def named_only_in_context(self, lexicon: str) -> bool:
        """Return whether the text names this list, but never as taken."""
        return lexicon in self.named and lexicon not in self.lexicons

    def in_context(self, lexicon: str, context: str) -> bool:
        """Return whether some mention of this list is in this context."""
        return any(m.term.lexicon == lexicon and m.context == context for m in self.matches)

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
    #: Double Metaphone key -> the tolerant single-word flagged terms with that key.
    _sounds: Mapping[str, tuple[Term, ...]] = field(repr=False, default_factory=dict)
    #: Double Metaphone key -> the known single words with that key.
    _known_sounds: Mapping[str, tuple[str, ...]] = field(repr=False, default_factory=dict)
    #: How a mention's context is read; None reads every mention as plain.
    context: ContextRules | None = field(default=None, repr=False)
    #: The tolerant flagged first words, for the cheap look-alike test.
    _tolerant_firsts: tuple[str, ...] = field(default=(), repr=False)
    #: Word length -> the known medicine words (no everyday list) a word may be near.
    _near_medicines: Mapping[int, tuple[str, ...]] = field(repr=False, default_factory=dict)

    @classmethod
    def compile(
        cls,
        flagged: Sequence[Lexicon],
        known: Sequence[Lexicon] = (),
        context: ContextRules | None = None,
        everyday: Collection[str] = (),
    ) -> Reader:
        """Index the flagged and known lists for reading, and the context rules to apply.

        `everyday` names known lists of ordinary words: written exactly they guard like any
        known word, but a misspelling is never read as one of them rather than as a
        medicine that sounds the same ("Halsyon" is Halcion, not "halcyon").
        """
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
        medicine_words: set[str] = set()
        alike = _Resemblance(flagged)
        for lexicon in known:
            for term in lexicon.entries:
                entry = _Known(term, alike.of(term))
                _index(known_index, term.tokens[0], (entry, False), (entry, True))
                if len(term.tokens) == 1:
                    known_words.add(term.tokens[0])
                    if lexicon.name not in everyday:
                        medicine_words.add(term.tokens[0])
        tolerant = [word for word in by_first if len(word) >= MIN_TOLERANT_LENGTH]
        sounds: dict[str, list[Term]] = {}
        for first, terms in by_first.items():
            if len(first) < MIN_TOLERANT_LENGTH:
                continue
            for term in terms:
                if len(term.tokens) == 1:
                    for key in sound_keys(first):
                        sounds.setdefault(key, []).append(term)
        known_sounds: dict[str, list[str]] = {}
        for word in sorted(medicine_words - flagged_words):
            if len(word) >= MIN_TOLERANT_LENGTH:
                for key in sound_keys(word):
                    known_sounds.setdefault(key, []).append(word)
        return cls(
            tuple(flagged),
            tuple(known),
            {word: tuple(entries) for word, entries in exact.items()},
            {word: tuple(entries) for word, entries in known_index.items()},
            _by_length(tolerant),
            {word: tuple(terms) for word, terms in by_first.items()},
            _by_length(sorted(known_words - flagged_words)),
            {key: tuple(terms) for key, terms in sounds.items()},
            {key: tuple(words) for key, words in known_sounds.items()},
            context,
            tuple(tolerant),
            _by_length(sorted(medicine_words - flagged_words)),
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
                    self._read_rest_near(text, words, tokens, position, term, glued, taken, matches)
                    continue
                prefixed = glued or (position > 0 and tokens[position - 1] in _PREFIXES)
                how = How.PREFIX if prefixed else _EXACT_HOW[term.kind]
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
        if self._sounds:
            for position, token in enumerate(tokens):
                if taken[position] is None and len(token) >= MIN_TOLERANT_LENGTH:
                    self._read_sound(words, position, taken, matches)
        readings: list[WordReading] = []
        for position, word in enumerate(words):
            read_as = taken[position]
            if read_as is None:
                readings.append(WordReading(word.written, How.UNKNOWN))
            elif not readings or readings[-1] is not read_as:
                readings.append(read_as)
        matches.sort(key=lambda match: match.start)
        if matches and self.context is not None:
            matches = self._in_context(text, words, matches)
        return Reading(
            tuple(readings),
            tuple(matches),
            frozenset(m.term.lexicon for m in matches if m.plain),
            frozenset(m.term.lexicon for m in matches),
        )

    def _in_context(self, text: str, words: tuple[Word, ...], matches: list[Match]) -> list[Match]:
        """Give each match the context its first word is read in."""
        assert self.context is not None
        scopes = self.context.read(text, words, frozenset(match.start for match in matches))
        placed: list[Match] = []
        for match in matches:
            scope = scopes[match.start]
            if scope is None:
                placed.append(match)
                continue
            clause = self.context.clause(text, words, scope, match.start, match.end)
            placed.append(
                match._replace(context=scope.context, trigger=scope.trigger, clause=clause)
            )
        return placed

    def _read_sound(
        self,
        words: tuple[Word, ...],
        position: int,
        taken: list[WordReading | None],
        matches: list[Match],
    ) -> None:
        """Read a word beyond the edit allowance as a term it sounds like and looks close to."""
        token = words[position].token
        if token.isdigit() or not self.may_resemble(token):
            return
        keys = sound_keys(token)
        flagged: dict[str, tuple[Term, float]] = {}
        for key in keys:
            for term in self._sounds.get(key, ()):
                similarity = Indel.normalized_similarity(token, term.tokens[0])
                if similarity >= SOUND_SIMILARITY:
                    kept = flagged.get(term.written)
                    if kept is None or similarity > kept[1]:
                        flagged[term.written] = (term, similarity)
        if not flagged:
            return
        best = max(similarity for _term, similarity in flagged.values())
        # A known medicine that sounds the same and looks closer wins; a tie reads as flagged.
        for key in keys:
            for known_word in self._known_sounds.get(key, ()):
                if Indel.normalized_similarity(token, known_word) > best:
                    known = self._known[known_word][0][0].term
                    resembles = tuple(term.written for term, _s in flagged.values())
                    taken[position] = WordReading(
                        words[position].written,
                        How.KNOWN,
                        known.written,
                        known.lexicon,
                        edits_between(token, known_word),
                        resembles,
                    )
                    return
        # Within the edit allowance of a known medicine: that one, misspelt, not a sound-alike.
        if self._nearest_known(token, MAX_EDITS, self._near_medicines) is not None:
            return
        written = words[position].written
        for term, similarity in flagged.values():
            if similarity != best:
                continue
            edits = edits_between(token, term.tokens[0])
            matches.append(Match(term, written, How.SOUND, edits, position, position + 1))
            reading = WordReading(written, How.SOUND, term.written, term.lexicon, edits)
            taken[position] = taken[position] or reading

    def _read_rest_near(
        self,
        text: str,
        words: tuple[Word, ...],
        tokens: Tokens,
        position: int,
        term: Term,
        glued: bool,
        taken: list[WordReading | None],
        matches: list[Match],
    ) -> None:
        """Read a multi-word term whose first word is exact and a later one a near miss.

        Read before the known words, so a class word such as « comprimé pour dormir » with a
        typo in its last word is not lost to the known word « comprimé ».
        """
        if len(term.tokens) == 1 or term.exact or taken[position] is not None:
            return
        rest = _rest_edits(tokens, position + 1, term.tokens[1:], taken)
        if not rest:
            return
        end = position + len(term.tokens)
        written = _span(text, words, position, end)
        matches.append(Match(term, written, How.NEAR, rest, position, end))
        _cover(
            taken,
            tokens,
            position,
            end,
            WordReading(written, How.NEAR, term.written, term.lexicon, rest),
        )

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

    @property
    def tolerant_firsts(self) -> tuple[str, ...]:
        """Return the flagged first words that near misses and sound-alikes may read as."""
        return self._tolerant_firsts

    def may_resemble(self, word: str, prefixed_only: bool = False) -> bool:
        """Return whether some tolerant flagged word looks at least SOUND_SIMILARITY like this one.

        A cheap test (in C++) before the phonetic keys; every near miss passes it too.
        With prefixed_only, only the word without a maker prefix glued to it is tried.
        """
        firsts = self._tolerant_firsts
        stems = _stems(word)
        if prefixed_only:
            stems = stems[1:]
        return any(
            process.extractOne(
                stem, firsts, scorer=Indel.normalized_similarity, score_cutoff=SOUND_SIMILARITY
            )
            is not None
            for stem, _glued in stems
        )

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

    def _nearest_known(
        self, word: str, most: int, index: Mapping[int, tuple[str, ...]] | None = None
    ) -> tuple[Term, int] | None:
        candidates = (self._near_known if index is None else index).get(len(word))
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
        held = taken[covered]
        # A flagged term wins over a known word inside it ("nerve pills" over "pills").
        if held is None or (held.how is How.KNOWN and reading.how is not How.KNOWN):
            taken[covered] = reading


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
        held = taken[start + offset]
        if held is not None and held.how is not How.KNOWN:
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


@functools.lru_cache(maxsize=65536)
def sound_keys(word: str) -> tuple[str, ...]:
    """Return a word's Double Metaphone keys (primary, and the alternate when it differs)."""
    primary, alternate = doublemetaphone(word)
    return (primary, alternate) if alternate and alternate != primary else (primary,)


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
    #: The Double Metaphone key they share, for a pair that sounds alike.
    sound: str | None = None

    def describe(self) -> str:
        """Return the pair in words, for `rules check`."""
        a, b = self.first, self.second
        letters = "letter" if self.edits == 1 else "letters"
        if self.sound:
            what = (
                f"'{a.written}' ({a.lexicon}) and '{b.written}' ({b.lexicon}) sound alike "
                f"(key {self.sound})"
            )
        else:
            what = (
                f"'{a.written}' ({a.lexicon}) and '{b.written}' ({b.lexicon}) are {self.edits} "
                f"{letters} apart"
            )
        if self.resolved_by:
            return f"{what}: resolved, {self.resolved_by}"
        return what


def collisions(
    flagged: Sequence[Lexicon],
    known: Sequence[Lexicon],
    outcomes: Mapping[str, frozenset[str]],
    everyday: Collection[str] = (),
) -> list[Collision]:
    """Return every pair of terms, across lists with different outcomes, within the tolerance,
    and every pair that sounds alike (same Double Metaphone key, similar enough to read as
    each other); everyday lists take no part in sound-alikes."""
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
    found.extend(_sound_collisions(flagged, known, outcomes, everyday, known_names, found))
    found.sort(key=lambda c: (order[id(c.first)], order[id(c.second)]))
    return found


def _sound_collisions(
    flagged: Sequence[Lexicon],
    known: Sequence[Lexicon],
    outcomes: Mapping[str, frozenset[str]],
    everyday: Collection[str],
    known_names: set[str],
    already: list[Collision],
) -> list[Collision]:
    """Return pairs of single-word terms that a sound-alike could read as each other."""
    seen = {(c.first.written, c.second.written) for c in already}
    seen |= {(b, a) for a, b in seen}
    lists = [*flagged, *(lexicon for lexicon in known if lexicon.name not in everyday)]
    by_key: dict[str, list[Term]] = {}
    for lexicon in lists:
        for term in lexicon.entries:
            word = term.tokens[0]
            if len(term.tokens) == 1 and len(word) >= MIN_TOLERANT_LENGTH and not term.exact:
                for key in sound_keys(word):
                    by_key.setdefault(key, []).append(term)
    found: list[Collision] = []
    for key, terms in by_key.items():
        for index, a in enumerate(terms):
            for b in terms[index + 1 :]:
                if a.lexicon == b.lexicon or (a.written, b.written) in seen:
                    continue
                if a.lexicon in known_names and b.lexicon in known_names:
                    continue
                if outcomes.get(a.lexicon, frozenset()) == outcomes.get(b.lexicon, frozenset()):
                    continue
                if Indel.normalized_similarity(a.tokens[0], b.tokens[0]) < SOUND_SIMILARITY:
                    continue
                seen.add((a.written, b.written))
                edits = edits_between(a.tokens[0], b.tokens[0])
                found.append(Collision(a, b, edits, _resolution(a, b, known_names, edits), key))
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
