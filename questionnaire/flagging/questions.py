"""Binds the questionnaire definition to this app: load QUESTIONS_PATH, check it, serve it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from questionnaire.flagging.table import load_rule_table
from questionnaire.questions import catalogue
from questionnaire.questions.definition import Definition, check_definition, load_definition
from questionnaire.rules import Problem, RuleTable


def load_questions(path: Path | str, languages: Iterable[str]) -> Definition:
    """Load and check a definition (fails closed), and make it the one this process asks.

    A file already loaded with the same bytes and languages is not read again (tests
    create many apps); the shipped definition is already in place and is not reinstalled.
    """
    resolved = Path(path).resolve()
    try:
        content = resolved.read_bytes()
    except OSError:
        content = b""  # load_definition names the problem
    sha256 = hashlib.sha256(content).hexdigest()
    served = catalogue.DEFINITION
    if sha256 == served.sha256 and set(languages) <= served.languages:
        return served  # already loaded and checked in these languages (the shipped file)
    definition = _load_cached(resolved, sha256, tuple(sorted(set(languages))))
    if definition.sha256 != catalogue.DEFINITION.sha256:
        catalogue.install(definition)
    return definition


@lru_cache(maxsize=8)
def _load_cached(path: Path, sha256: str, languages: tuple[str, ...]) -> Definition:
    del sha256  # part of the key only: an edited file is read again
    return load_definition(path, languages, all_facts=catalogue.ALL_FACTS)


def load_questions_and_rules(
    questions_path: Path | str, languages: Iterable[str], rules_path: Path | str
) -> tuple[Definition, RuleTable]:
    """Serve a definition and the rule table checked against it, or neither (fails closed).

    A rule table that does not fit the new questions puts the questions served before back:
    a process never asks half of a change.
    """
    before = catalogue.DEFINITION
    definition = load_questions(questions_path, languages)
    try:
        return definition, load_rule_table(rules_path)
    except BaseException:
        if catalogue.DEFINITION is not before:
            catalogue.install(before)
        raise


def check_questions(path: Path | str, languages: Iterable[str]) -> list[Problem]:
    """Return every problem of a definition ([] when it is sound), as `flask questions check`."""
    return check_definition(path, languages, all_facts=catalogue.ALL_FACTS)
