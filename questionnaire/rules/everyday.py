"""The everyday-word guard: dictionary words the tolerance would misread as a medicine (ITEMS.md 14.4).

The dictionary is wordfreq's English and French frequency lists (Speer, wordfreq 3,
code Apache-2.0, data CC-BY-SA 4.0), which ship inside that package (installed by hand
to regenerate: its dependencies' licences are not ones this project ships): every word of
5 letters or more used at least about once in ten million words (Zipf 2.0). Its
misspellings are rare enough to fall below that line ("adderal" is Zipf 1.4), and
its words are common enough to cover what patients write. The rule table keeps
the words it would misread in a generated known list (`dictionary_words`), so
the app never loads the dictionary; `flask rules everyday --write` regenerates
the list and `flask rules check` reports a list that no longer matches the terms.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from questionnaire.rules.lexicon import (
    MIN_TOLERANT_LENGTH,
    How,
    Lexicon,
    Reader,
    tokenize,
)
from questionnaire.rules.loader import EVERYDAY_LISTS

#: The generated known list in rules.yaml.
GENERATED_LIST = "dictionary_words"
#: wordfreq's languages read, and the least frequency (Zipf scale) of an everyday word.
LANGUAGES: tuple[str, ...] = ("en", "fr")
MIN_ZIPF = 2.0
#: Readings that are a misreading when the word is a dictionary word.
_MISREAD = frozenset({How.NEAR, How.SOUND, How.PREFIX})

_BLOCK = re.compile(
    rf"(?P<head>^  {GENERATED_LIST}: \[\n)(?P<body>.*?)(?P<tail>^  \]\n)", re.M | re.S
)


class DictionaryMissing(RuntimeError):
    """wordfreq is not installed, so the everyday-word list cannot be generated or checked."""


@functools.lru_cache(maxsize=2)
def dictionary(
    languages: tuple[str, ...] = LANGUAGES, min_zipf: float = MIN_ZIPF
) -> dict[str, str]:
    """Return folded word -> the most frequent way it is written, for every everyday word.

    Only words of letters alone, MIN_TOLERANT_LENGTH or longer: shorter words are never
    read as near misses.
    """
    # Imported here: the lists take 70 MB and a second to load, and only this tool needs them.
    # Not installed with the app (its dependencies' licences): `pip install wordfreq` first.
    try:
        from wordfreq import get_frequency_dict
    except ImportError as missing:
        raise DictionaryMissing(
            "the everyday-word dictionary (wordfreq) is not installed; run "
            "`.venv/bin/pip install wordfreq` to regenerate or check the everyday-word list"
        ) from missing

    least = 10 ** (min_zipf - 9)
    best: dict[str, tuple[float, str]] = {}
    for language in languages:
        for word, frequency in get_frequency_dict(language, wordlist="large").items():
            if frequency < least or len(word) < MIN_TOLERANT_LENGTH or not word.isalpha():
                continue
            tokens = tokenize(word)
            if len(tokens) != 1:
                continue
            kept = best.get(tokens[0])
            if kept is None or frequency > kept[0]:
                best[tokens[0]] = (frequency, word)
    return {folded: written for folded, (_frequency, written) in best.items()}


def is_everyday(word: str) -> bool:
    """Return whether a word (any case or accents) is an everyday English or French word."""
    tokens = tokenize(word)
    return len(tokens) == 1 and tokens[0] in dictionary()


@dataclass(frozen=True, slots=True)
class Guard:
    """The words to keep in the generated list, and the terms that are themselves everyday words."""

    words: tuple[str, ...]
    #: (term as written, its list) for each single-word flagged term that is an everyday word.
    everyday_terms: tuple[tuple[str, str], ...]


def generate(flagged: Sequence[Lexicon], known: Sequence[Lexicon]) -> Guard:
    """Return every dictionary word that the lists (without the generated one) would misread.

    Cached by the lists' contents: `rules check` and `rules everyday` in one process (as in
    tests) read the dictionary once per distinct set of lists.
    """
    return _generate(tuple(flagged), tuple(known), dictionary)


@functools.lru_cache(maxsize=8)
def _generate(
    flagged: tuple[Lexicon, ...],
    known: tuple[Lexicon, ...],
    words_of: Callable[[], Mapping[str, str]],
) -> Guard:
    known = tuple(lexicon for lexicon in known if lexicon.name != GENERATED_LIST)
    reader = Reader.compile(flagged, known, everyday=EVERYDAY_LISTS)
    firsts = {term.tokens[0] for lexicon in flagged for term in lexicon.entries}
    dictionary_words = words_of()
    words: list[str] = []
    for folded, written in _resembling(reader, sorted(dictionary_words.items())):
        if folded in firsts or _variant_of_term(folded, firsts):
            continue  # a term, or its plural: a medicine word, not an everyday one
        reading = reader.read(folded)
        if any(match.how in _MISREAD for match in reading.matches):
            words.append(written)
    everyday_terms = tuple(
        (term.written, lexicon.name)
        for lexicon in flagged
        for term in lexicon.entries
        if len(term.tokens) == 1 and term.tokens[0] in dictionary_words
    )
    return Guard(tuple(words), everyday_terms)


def _resembling(reader: Reader, entries: Sequence[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    """Yield the entries some tolerant flagged word looks like (a cheap test before reading)."""
    for entry in entries:
        if reader.may_resemble(entry[0]):
            yield entry


def _variant_of_term(word: str, firsts: Iterable[str]) -> bool:
    terms = set(firsts)
    return (word.endswith("s") and word[:-1] in terms) or (
        word.endswith("es") and word[:-2] in terms
    )


def stored_words(lexicons: Mapping[str, Lexicon]) -> tuple[str, ...]:
    """Return the generated list as the table holds it."""
    lexicon = lexicons.get(GENERATED_LIST)
    return lexicon.terms if lexicon is not None else ()


def write_block(path: Path, words: Sequence[str]) -> None:
    """Rewrite the generated list in a rules.yaml file, leaving every other line as it is."""
    text = path.read_text(encoding="utf-8")
    match = _BLOCK.search(text)
    if match is None:
        raise ValueError(
            f"{path} has no '  {GENERATED_LIST}: [' block; add an empty one under lexicons:"
        )
    body = _wrap(words)
    path.write_text(text[: match.start("body")] + body + text[match.end("body") :], "utf-8")


def _wrap(words: Sequence[str], width: int = 96) -> str:
    lines: list[str] = []
    line = "   "
    for word in words:
        piece = f" {word},"
        if len(line) + len(piece) > width:
            lines.append(line)
            line = "   "
        line += piece
    if line.strip():
        lines.append(line)
    return "".join(f"{line}\n" for line in lines)
