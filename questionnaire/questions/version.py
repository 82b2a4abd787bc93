"""The questionnaire's version: a fingerprint of what items.py asks, stored with every submission.

Pure: no Flask, no database. The FHIR Questionnaire carries it as its business
version, and each submission stores the one its patient answered, so a response
always names the exact form it answers even after the questions change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from questionnaire.questions import catalogue, cssrs

#: Characters of the fingerprint (kept within Submission.questionnaire_version's column).
VERSION_LENGTH = 12


def catalogue_fingerprint(
    screener: bool = False, sections: tuple[catalogue.Section, ...] | None = None
) -> str:
    """Return a short SHA-256 of everything the patient is asked (with the screener on/off)."""
    asked = [
        {
            "id": section.id,
            "title": section.title,
            "items": [
                {
                    "id": item.id,
                    "label": item.label,
                    "kind": str(item.kind),
                    "required": item.required,
                    "max_length": item.max_length,
                    "choices": [[choice.code, choice.label] for choice in item.choices],
                    "asked_when": (
                        [item.asked_when.item, sorted(item.asked_when.one_of)]
                        if item.asked_when
                        else None
                    ),
                }
                for item in section.items
            ],
        }
        for section in (
            catalogue.asked_section(page, screener)
            for page in (catalogue.SECTIONS if sections is None else sections)
        )
    ]
    canonical = json.dumps(asked, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:VERSION_LENGTH]


#: The questionnaire's version: any edit to a question, answer code or condition gives a
#: new one (url|version must name one exact form), and an edit to anything else (hints,
#: the code) does not.
QUESTIONNAIRE_VERSION = catalogue_fingerprint()
#: The version with the C-SSRS screener off (the default) and on: the wording differs.
VERSIONS: dict[bool, str] = {False: QUESTIONNAIRE_VERSION, True: catalogue_fingerprint(True)}


@catalogue.on_install
def _refresh() -> None:
    """Fingerprint another definition's questions (catalogue.install)."""
    global QUESTIONNAIRE_VERSION
    QUESTIONNAIRE_VERSION = catalogue_fingerprint()
    VERSIONS.update({False: QUESTIONNAIRE_VERSION, True: catalogue_fingerprint(True)})


def screener_version(version: str | None) -> bool:
    """Return whether a stored questionnaire version was answered with the screener on."""
    return version == VERSIONS[True]


def screener_of(version: str | None, answers: Mapping[str, Any]) -> bool:
    """Return whether a submission was answered with the C-SSRS screener on.

    Read from its stored questionnaire version when that is one of today's two; for an
    older version (or none recorded), from its answers: with the screener on, questions 1
    and 6 are always asked, and without it never. Never from today's setting.
    """
    if version in VERSIONS.values():
        return screener_version(version)
    return any(answers.get(item_id) is not None for item_id in (cssrs.Q1, cssrs.Q6))
