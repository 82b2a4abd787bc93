"""Reading-level formulas for the patient pages: words, sentences, syllables and grades.

Pure functions, no Flask and no pytest. The text comes in as blocks (a paragraph, a
label, a heading, a list item); each block holds one sentence or more.

- A sentence ends at ".", "!" or "?" followed by a space or the end of its block, and
  every block ends one: a label or a heading without a full stop is still a sentence.
  A sentence without a word (a lone number) is not counted.
- A word is a run of letters, with inner apostrophes and hyphens ("I'd", "self-harm").
  Numbers are not words; callers remove URLs, emails and phone numbers before counting.
- Syllables come from pyphen's hyphenation dictionaries: the hyphenation points of a
  word plus one, at least one a word, each part of a hyphenated word counted alone.
  Hyphenation dictionaries leave out points near the ends of a word and in some long
  words, so they undercount. One correction, English only: when pyphen finds no point
  in a word longer than 6 letters, the word's vowel groups are counted instead (less a
  silent final "e" or "es", as in "medicines"), whichever is higher.

Formulas:

- Flesch-Kincaid grade (English): 0.39 x words/sentences + 11.8 x syllables/words - 15.59.
- LIX (any language): words/sentences + 100 x long words (more than 6 letters)/words.
- Kandel-Moles (French Flesch): 207 - 1.015 x words/sentences - 73.6 x syllables/words.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache

import pyphen  # type: ignore[import-untyped]  # no type hints shipped

#: Letters of English and French words (Latin-1 accented letters included).
_LETTER = "A-Za-zÀ-ÖØ-öø-ÿŒœ"
WORD = re.compile(rf"[{_LETTER}]+(?:['\u2019-][{_LETTER}]+)*")
#: A sentence's end: one or more of . ! ? (and a closing bracket or quote) before a space.
SENTENCE_END = re.compile(r"(?<=[.!?])[)\"'\u201d\u2019]*\s+")
#: English vowel groups, for the correction of long words pyphen cannot split.
VOWEL_GROUP = re.compile(r"[aeiouy]+")
#: The length past which a word with no hyphenation point gets the vowel-group count,
#: and past which LIX counts a word as long.
LONG_WORD = 6

ENGLISH = "en_US"
FRENCH = "fr_FR"


@dataclass(frozen=True)
class Counts:
    """What the formulas need from a text: sentences, words, syllables and long words."""

    sentences: int
    words: int
    syllables: int
    long_words: int


@cache
def _dictionary(lang: str) -> pyphen.Pyphen:
    return pyphen.Pyphen(lang=lang)


def sentences(block: str) -> list[str]:
    """Split one block of text into its sentences (the block's end ends the last one)."""
    return [part.strip() for part in SENTENCE_END.split(block) if part.strip()]


def words(text: str) -> list[str]:
    """Return the words of a text, in order (numbers and punctuation left out)."""
    return WORD.findall(text)


def vowel_groups(word: str) -> int:
    """Return an English word's vowel groups, less a silent final "e" or "es" (at least 1)."""
    lower = word.lower()
    groups = len(VOWEL_GROUP.findall(lower))
    silent_e = lower.endswith("e") and not lower.endswith(("le", "ee", "ye"))
    silent_es = lower.endswith("es") and lower[-3:-2] not in set("sxzcgh")
    if (silent_e or silent_es) and groups > 1:
        groups -= 1
    return max(groups, 1)


def syllables(word: str, lang: str = ENGLISH) -> int:
    """Return a word's syllables: pyphen's hyphenation points + 1 (see the module notes)."""
    total = 0
    for part in re.split(r"[-]", word):
        points = len(_dictionary(lang).positions(part.lower()))
        count = points + 1
        if lang == ENGLISH and points == 0 and len(part) > LONG_WORD:
            count = max(count, vowel_groups(part))
        total += max(count, 1)
    return total


def count(blocks: Iterable[str], lang: str = ENGLISH, leave_out: Collection[str] = ()) -> Counts:
    """Count a text given as blocks; words in `leave_out` (lower case) are not counted."""
    n_sentences = n_words = n_syllables = n_long = 0
    for block in blocks:
        for sentence in sentences(block):
            kept = [word for word in words(sentence) if not is_left_out(word, leave_out)]
            if not kept:
                continue
            n_sentences += 1
            n_words += len(kept)
            n_syllables += sum(syllables(word, lang) for word in kept)
            n_long += sum(1 for word in kept if len(word) > LONG_WORD)
    return Counts(n_sentences, n_words, n_syllables, n_long)


def is_left_out(word: str, leave_out: Collection[str]) -> bool:
    """Return whether a word, or its singular with a final "s" dropped, is in `leave_out`."""
    lower = word.lower().replace("\u2019", "'")
    return lower in leave_out or (lower.endswith("s") and lower[:-1] in leave_out)


def flesch_kincaid_grade(counts: Counts) -> float:
    """Return the Flesch-Kincaid grade level of an English text."""
    return 0.39 * counts.words / counts.sentences + 11.8 * counts.syllables / counts.words - 15.59


def lix(counts: Counts) -> float:
    """Return the LIX readability index (any language; under 40 reads easily)."""
    return counts.words / counts.sentences + 100 * counts.long_words / counts.words


def kandel_moles(counts: Counts) -> float:
    """Return the Kandel-Moles reading ease of a French text (higher reads more easily)."""
    return 207 - 1.015 * counts.words / counts.sentences - 73.6 * counts.syllables / counts.words
