"""Read the context of each word of free text, after ConText (Harkema 2009) and NegEx (Chapman 2001).

A trigger phrase ("no", "stopped", "my mother", "allergic to") opens a scope: a
pre-trigger reaches forward to the end of its clause, a post-trigger back to the
clause's start. A clause ends at . ! ? ; , or a line break (never at the comma or
point of a number such as "0,5"); a scope also ends at a terminator ("but",
"now", « mais » ...) that ends its context. A pre-trigger followed by ":" is a
header ("Allergies: codeine, morphine") and reaches to the end of its line. The
longest phrase wins where phrases overlap, so a pseudo-trigger ("no side
effects") hides the trigger inside it, and "not taking" is a trigger where
"taking" alone is a terminator. A negation directly before a negation or a
past-use trigger cancels both ("never stopped", « pas arrêté »): the words after
it read as plain. Where scopes overlap, the context listed first in the
precedence wins. Every list is data (rules.yaml `context:`); this module only
applies it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from questionnaire.rules.lexicon import CONTEXT_WORDS, Word, split_words

#: The contexts a mention can be read in, besides plain (named as taken).
CONTEXTS: tuple[str, ...] = tuple(name for name in CONTEXT_WORDS if name != "plain")
#: When scopes overlap, the first of these wins (ITEMS.md 14.1).
DEFAULT_PRECEDENCE: tuple[str, ...] = ("other_person", "allergy", "negated", "historical")
#: Placeholders a phrase may use: a year (1900 to 2099) and any number.
YEAR = "<year>"
NUMBER = "<number>"
_PLACEHOLDERS = {YEAR: "\0year", NUMBER: "\0number"}
#: The longest clause text kept as evidence.
CLAUSE_MAX = 200

_SENTENCE_END = re.compile(r"[.!?;\n]")
_LINE_END = re.compile(r"[.!?\n]")


class Phrase(NamedTuple):
    """One phrase of the context lists, compiled to the tokens it matches."""

    written: str
    tokens: tuple[str, ...]
    #: "pre", "post", "pseudo", "terminator" or "negator".
    role: str
    #: The context a trigger sets; the contexts a terminator ends.
    contexts: frozenset[str] = frozenset()
    #: Written with a leading "^": counts only at the start of a clause.
    clause_start: bool = False
    #: Written with a trailing ":": counts only when the text has a colon after it.
    header: bool = False


def phrase_tokens(written: str) -> tuple[tuple[str, ...], bool, bool]:
    """Return a phrase's tokens (placeholders kept), whether it needs a clause start, and a colon."""
    text = written.strip()
    clause_start = text.startswith("^")
    text = text.removeprefix("^").strip()
    header = text.endswith(":")
    text = text.removesuffix(":").strip()
    tokens: list[str] = []
    for piece in text.split():
        if piece.lower() in _PLACEHOLDERS:
            tokens.append(_PLACEHOLDERS[piece.lower()])
        else:
            tokens.extend(word.token for word in split_words(piece))
    return tuple(tokens), clause_start, header


def phrase_problem(written: str) -> str | None:
    """Return why a phrase can never match, or None when it is usable."""
    tokens, _start, _header = phrase_tokens(written)
    if not tokens:
        return f"phrase {written!r} has no words; remove it"
    return None


@dataclass(slots=True)
class _Event:
    """A phrase found in the text, at word positions start to end; live until cancelled."""

    start: int
    end: int
    phrase: Phrase
    live: bool = True


class Scope(NamedTuple):
    """The context one word is read in, and the phrase that set it."""

    context: str
    #: The trigger as the patient wrote it.
    trigger: str
    #: Where the trigger starts and ends, as word positions.
    trigger_start: int
    trigger_end: int


@dataclass(frozen=True, slots=True)
class ContextRules:
    """The compiled context lists: phrases indexed by their first token."""

    phrases: tuple[Phrase, ...]
    precedence: tuple[str, ...] = DEFAULT_PRECEDENCE
    _by_first: Mapping[str, tuple[Phrase, ...]] = field(default_factory=dict, repr=False)
    _longest: int = 0
    #: The first words of the triggers: a text holding none of them reads as plain at once.
    _trigger_firsts: frozenset[str] = frozenset()
    #: Whether some trigger starts with a year placeholder, or with a number placeholder.
    _year_triggers: bool = False
    _number_triggers: bool = False

    @classmethod
    def compile(cls, phrases: Iterable[Phrase], precedence: Sequence[str] = ()) -> ContextRules:
        """Index phrases by first token, the longest first."""
        kept = tuple(phrase for phrase in phrases if phrase.tokens)
        index: dict[str, list[Phrase]] = {}
        for phrase in kept:
            index.setdefault(phrase.tokens[0], []).append(phrase)
        ordered = {
            first: tuple(sorted(found, key=lambda p: -len(p.tokens)))
            for first, found in index.items()
        }
        triggers = {p.tokens[0] for p in kept if p.role in ("pre", "post")}
        return cls(
            kept,
            tuple(precedence) or DEFAULT_PRECEDENCE,
            ordered,
            max((len(p.tokens) for p in kept), default=0),
            frozenset(triggers),
            _PLACEHOLDERS[YEAR] in triggers,
            _PLACEHOLDERS[NUMBER] in triggers,
        )

    def read(
        self,
        text: str,
        words: Sequence[Word] | None = None,
        mentions: frozenset[int] | None = None,
    ) -> list[Scope | None]:
        """Return, for each word of the text, the context it is read in (None: plain).

        `mentions` are the word positions where a term starts: a trigger that reads both
        ways ("stopped", "no") looks forward when a mention follows it in its clause, and
        back otherwise. Without them it looks back only from the end of its clause.
        """
        words = split_words(text) if words is None else words
        count = len(words)
        tokens = [word.token for word in words]
        firsts = self._trigger_firsts
        if not any(
            token in firsts
            or (
                token.isdigit()
                and (self._number_triggers or (self._year_triggers and _is_year(token)))
            )
            for token in tokens
        ):
            return [None] * count  # no trigger anywhere: every word is plain
        # gaps[i]: the text between word i and word i + 1.
        gaps = [text[words[i].end : words[i + 1].start] for i in range(count - 1)]
        clause_end = [_ends_clause(gap, tokens[i], tokens[i + 1]) for i, gap in enumerate(gaps)]
        line_end: list[bool] = []  # worked out for the first header only
        events = self._events(tokens, gaps, clause_end, mentions)
        _cancel_double_negation(events)
        rank = {name: index for index, name in enumerate(self.precedence)}
        best: list[Scope | None] = [None] * count
        terminators = [
            (event.start, event.end, event.phrase.contexts)
            for event in events
            if event.live and event.phrase.role == "terminator"
        ]

        def mark(position: int, scope: Scope) -> None:
            held = best[position]
            if held is None or rank.get(scope.context, 99) < rank.get(held.context, 99):
                best[position] = scope

        for event in events:
            start, end, phrase = event.start, event.end, event.phrase
            if not event.live or phrase.role not in ("pre", "post"):
                continue
            (context,) = phrase.contexts
            scope = Scope(context, text[words[start].start : words[end - 1].end], start, end)
            if phrase.role == "pre":
                header = end < count and ":" in gaps[end - 1]
                if header and not line_end:
                    line_end = [
                        _ends_line(gap, tokens[i], tokens[i + 1]) for i, gap in enumerate(gaps)
                    ]
                stops = line_end if header else clause_end
                if not header and end < count and clause_end[end - 1]:
                    continue
                position = end
                while position < count:
                    if _terminated_at(terminators, position, context):
                        break
                    mark(position, scope)
                    if position < count - 1 and stops[position]:
                        break
                    position += 1
            else:
                position = start - 1
                while position >= 0 and not clause_end[position]:
                    if _terminated_at(terminators, position, context):
                        break
                    mark(position, scope)
                    position -= 1
        # Words of a phrase are the phrase, not a mention in its scope.
        for event in events:
            for position in range(event.start, event.end):
                best[position] = None
        return best

    def clause(self, text: str, words: Sequence[Word], scope: Scope, start: int, end: int) -> str:
        """Return the patient's words from the trigger to the mention, as evidence."""
        return clause_of(text, words, scope, start, end)

    def _events(
        self,
        tokens: list[str],
        gaps: list[str],
        clause_end: list[bool],
        mentions: frozenset[int] | None,
    ) -> list[_Event]:
        events: list[_Event] = []
        count = len(tokens)
        position = 0
        while position < count:
            found = self._longest_at(tokens, gaps, clause_end, position)
            if found is None:
                position += 1
                continue
            end = position + len(found.tokens)
            same = _same_words(self._by_first, found)
            for phrase in same:
                both_ways = any(
                    other.role != phrase.role
                    and other.contexts == phrase.contexts
                    and other.role in ("pre", "post")
                    for other in same
                )
                if both_ways and phrase.role in ("pre", "post"):
                    ahead = _mention_ahead(clause_end, mentions, end, count)
                    if (phrase.role == "pre") != ahead:
                        continue
                events.append(_Event(position, end, phrase))
            position = end
        return events

    def _longest_at(
        self, tokens: list[str], gaps: list[str], clause_end: list[bool], position: int
    ) -> Phrase | None:
        token = tokens[position]
        candidates: Sequence[Phrase] = self._by_first.get(token, ())
        if token.isdigit():
            numbered = [*candidates, *self._by_first.get(_PLACEHOLDERS[NUMBER], ())]
            if _is_year(token):
                numbered += self._by_first.get(_PLACEHOLDERS[YEAR], ())
            candidates = sorted(numbered, key=lambda p: -len(p.tokens))
        if not candidates:
            return None
        for phrase in candidates:
            end = position + len(phrase.tokens)
            if end > len(tokens):
                continue
            if not all(
                _token_matches(tokens[position + k], want) for k, want in enumerate(phrase.tokens)
            ):
                continue
            if any(clause_end[k] for k in range(position, end - 1)):
                continue  # a phrase never spans two clauses
            if phrase.clause_start and position > 0 and not clause_end[position - 1]:
                continue
            if phrase.header and (end >= len(tokens) or ":" not in gaps[end - 1]):
                continue
            return phrase
        return None


def _same_words(index: Mapping[str, tuple[Phrase, ...]], found: Phrase) -> list[Phrase]:
    """Return every phrase with the same words as the one found (a trigger may be pre and post)."""
    pool = index.get(found.tokens[0], ())
    return [
        phrase
        for phrase in pool
        if phrase.tokens == found.tokens
        and phrase.header == found.header
        and phrase.clause_start == found.clause_start
    ]


def _mention_ahead(
    clause_end: list[bool], mentions: frozenset[int] | None, end: int, count: int
) -> bool:
    """Return whether a trigger ending at `end` has a mention after it in its clause."""
    if end >= count or clause_end[end - 1]:
        return False
    if mentions is None:
        return True  # not at the end of its clause: read it forward
    position = end
    while position < count:
        if position in mentions:
            return True
        if position < count - 1 and clause_end[position]:
            return False
        position += 1
    return False


def _token_matches(token: str, want: str) -> bool:
    if want == _PLACEHOLDERS[YEAR]:
        return _is_year(token)
    if want == _PLACEHOLDERS[NUMBER]:
        return token.isdigit()
    return token == want


def _is_year(token: str) -> bool:
    return len(token) == 4 and token.isdigit() and 1900 <= int(token) <= 2099


def _ends_clause(gap: str, before: str, after: str) -> bool:
    if gap in (",", ".") and before.isdigit() and after.isdigit():
        return False  # "0,5 mg", "0.5 mg": a number, not a clause end
    return "," in gap or _SENTENCE_END.search(gap) is not None


def _ends_line(gap: str, before: str, after: str) -> bool:
    if gap == "." and before.isdigit() and after.isdigit():
        return False
    return _LINE_END.search(gap) is not None


def _terminated_at(
    terminators: list[tuple[int, int, frozenset[str]]], position: int, context: str
) -> bool:
    return any(context in ends and start <= position < end for start, end, ends in terminators)


def _cancel_double_negation(events: list[_Event]) -> None:
    """A negation directly before another negation or a past-use trigger cancels both."""
    spans: dict[tuple[int, int], list[_Event]] = {}
    for event in events:
        spans.setdefault((event.start, event.end), []).append(event)
    ordered = sorted(spans)
    for first, second in itertools.pairwise(ordered):
        if first[1] != second[0]:
            continue
        negates = any(
            event.phrase.role == "negator"
            or (event.phrase.role == "pre" and "negated" in event.phrase.contexts)
            for event in spans[first]
        )
        # A repeated negation ("no no no") is emphasis, not a double negation.
        repeated = spans[first][0].phrase.tokens == spans[second][0].phrase.tokens
        cancelled = any(
            event.phrase.role in ("pre", "post")
            and (
                "historical" in event.phrase.contexts
                or ("negated" in event.phrase.contexts and not repeated)
            )
            for event in spans[second]
        )
        if negates and cancelled and all(event.live for event in spans[first]):
            for event in (*spans[first], *spans[second]):
                event.live = False


def clause_of(text: str, words: Sequence[Word], scope: Scope, start: int, end: int) -> str:
    """Return the patient's words from the trigger to the mention (at most CLAUSE_MAX characters)."""
    first = min(scope.trigger_start, start)
    last = max(scope.trigger_end, end) - 1
    clause = " ".join(text[words[first].start : words[last].end].split())
    return clause if len(clause) <= CLAUSE_MAX else clause[: CLAUSE_MAX - 1] + "…"
