"""The message catalogues are complete: every patient-facing string has its French, none stale.

The strings are extracted afresh from the code, the templates and the questionnaire
(babel.cfg, as `make messages` does), so a string added without running `make messages`,
or a French entry left fuzzy, empty or for a string that no longer exists, fails here.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from questionnaire.language import CATALOGUES
from questionnaire.questions.extract import catalogue_strings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("fr_CA",)
#: Named placeholders (Python's and Jinja's %(name)s, the crisis-number braces) and HTML tags.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}|</?[a-z]+(?: [^>]*)?>")


@cache
def extracted() -> frozenset[str]:
    """Return every msgid the code, the templates and the questionnaire hold today."""
    with (PROJECT_ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    ids: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords={"N_": None, "Phrase": None,
        "_": None, "gettext": None, "ngettext": (1, 2)},
    ):  # fmt: skip
        ids.add(message[0] if isinstance(message, tuple) else message)
    return frozenset(ids)


def catalogue(locale: str) -> Catalog:
    with (CATALOGUES / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def key(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple | list) else message.id


def forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def test_extraction_finds_every_questionnaire_string() -> None:
    # The walker (extract.py) is wired into babel.cfg: every item's words are extracted.
    missing = {text for text, _ in catalogue_strings()} - extracted()
    assert not missing
    assert len(extracted()) > 250


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_has_a_translation(locale: str) -> None:
    catalog = catalogue(locale)
    translated = {key(message) for message in entries(catalog) if all(forms(message))}
    missing = sorted(extracted() - translated)
    assert not missing, (
        f"{len(missing)} strings have no {locale} translation: run `make messages` and translate: {missing[:10]}"
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_no_entry_is_fuzzy_stale_or_obsolete(locale: str) -> None:
    catalog = catalogue(locale)
    fuzzy = [key(message) for message in entries(catalog) if message.fuzzy]
    assert not fuzzy, f"fuzzy entries must be checked and the flag removed: {fuzzy[:10]}"
    stale = sorted({key(message) for message in entries(catalog)} - extracted())
    assert not stale, f"entries for strings no longer in the code: {stale[:10]}"
    assert not catalog.obsolete, "obsolete (#~) entries: run `make messages`"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_every_placeholder_and_tag(locale: str) -> None:
    problems = []
    for message in entries(catalogue(locale)):
        wanted = sorted(PLACEHOLDER.findall(key(message)))
        for form in forms(message):
            if sorted(PLACEHOLDER.findall(form)) != wanted:
                problems.append((key(message), form))
    assert not problems


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_is_the_po_file(locale: str) -> None:
    # make translations compiles each .po; a stale .mo would show old words.
    folder = CATALOGUES / locale / "LC_MESSAGES"
    with (folder / "messages.mo").open("rb") as mo:
        compiled = read_mo(mo)
    source = catalogue(locale)
    assert {key(m): forms(m) for m in entries(compiled)} == {
        key(m): forms(m) for m in entries(source) if all(forms(m)) and not m.fuzzy
    }, "the .mo file is older than the .po file: run `make translations`"
