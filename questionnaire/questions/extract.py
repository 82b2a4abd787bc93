"""Every catalogue string a patient reads, for the message catalogue and its completeness test.

Walking the catalogue (not parsing its source) means no label, hint, answer or
message can be left unmarked: a new item is in the next `make translations`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from questionnaire.questions import catalogue


def catalogue_strings() -> Iterator[tuple[str, str]]:
    """Yield (text, where) for every patient-facing string of the catalogue, in page order."""
    for section in catalogue.SECTIONS:
        yield section.title, f"section {section.id}: title"
        if section.intro:
            yield section.intro, f"section {section.id}: intro"
        if section.stem and not section.french_exempt:
            yield section.stem, f"section {section.id}: stem"
        for item in section.items:
            where = f"item {item.id}"
            # An exempt item's words stay as published (README, "Languages"); its short
            # label is the project's own and is translated, and so is a standard
            # instrument's hint (the AUDIT-C's standard drink), which is ours, not the
            # instrument's. A C-SSRS hint is the screener's own examples: never translated.
            names = (
                ("hint", "short_label", "error")
                if item.french_exempt and item.instrument
                else ("short_label", "error")
                if item.french_exempt
                else ("label", "hint", "short_label", "error")
            )
            for name in names:
                text = getattr(item, name, "")
                if text:
                    yield text, f"{where}: {name}"
            if item.asked_when is not None and item.asked_when.hint:
                yield item.asked_when.hint, f"{where}: asked-when hint"
            if item.french_exempt:
                continue
            for choice in item.choices:
                yield choice.label, f"{where}: answer {choice.code}"
    for fact in catalogue.FACTS.values():  # read by clinicians, in a flag's evidence
        yield fact.label, f"fact {fact.id}: label"


def babel_extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel extraction method for catalogue.py (babel.cfg): its strings, with where each is."""
    del fileobj, keywords, comment_tags, options  # the catalogue is walked, not read
    for text, where in catalogue_strings():
        yield 0, None, text, [where]
