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
def test_the_catalogue_passes_the_checks_pybabel_compile_runs(locale: str) -> None:
    # `make translations` fails on any of these (a "%" read as a placeholder, say), and with
    # it `make run` and `make test`; an old .mo would hide it from the test above.
    problems = [
        (key(message), str(error))
        for message, errors in catalogue(locale).check()
        for error in errors
    ]
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


#: HTML tags inside a message (their attributes may hold straight quotes).
TAG = re.compile(r"<[^>]*>")


@pytest.mark.parametrize("locale", LOCALES)
def test_french_typography_no_plain_space_before_a_colon_no_straight_apostrophe(
    locale: str,
) -> None:
    """French text uses a non-breaking space before « : » and the typographic apostrophe \u2019."""
    spaced, straight = [], []
    for message in entries(catalogue(locale)):
        for text in forms(message):
            words = TAG.sub("", text)
            if " :" in words:
                spaced.append(key(message))
            if "'" in words:
                straight.append(key(message))
    assert spaced == [], f"ordinary space before a colon: {spaced}"
    assert straight == [], f"straight apostrophe: {straight}"


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("Has a health professional ever told you that you have high blood pressure?",
         "un professionnel ou une professionnelle de la santé"),
        ("What would you like help with?", "Pour quels problèmes souhaitez-vous recevoir de l\u2019aide?"),
        ("What you are looking for", "Ce qui vous amène"),
        ("Date of birth must be a real date", "une date valide"),
        ("Could you go without alcohol for 24 hours before each treatment?",
         "vous abstenir d\u2019alcool pendant les 24 heures précédant"),
        ("Have you ever heard or seen things other people could not, or held strong beliefs that "
         "others told you were not real?", "été fermement convaincu(e) de choses"),
        ("Do you have a doctor, nurse practitioner or therapist for your mental health now?",
         "Êtes-vous suivi(e) par un ou une médecin, une IPS ou un ou une thérapeute"),
        ("You can carry on with this form when you are ready.",
         "quand vous vous sentirez prêt ou prête"),
        ("A clinician at %(clinic)s reads your answers.", "l\u2019équipe de %(clinic)s"),
    ],
)  # fmt: skip
def test_the_quebec_reviewers_corrections_hold(english: str, french: str) -> None:
    """Issue 25: each wording a native Quebec reviewer corrected stays corrected."""
    found = catalogue("fr_CA").get(english)
    assert found is not None, english
    assert french in found.string
    assert "« high »" not in found.string.replace("\u00a0", " ")


def test_no_high_anglicism_nor_one_gender_noun_pair_left() -> None:
    """« si high » reads as English; « un ou une professionnelle » drops the masculine noun."""
    texts = [text for message in entries(catalogue("fr_CA")) for text in forms(message)]
    joined = "\n".join(texts).replace("\u00a0", " ")
    for wrong in ("« high »", "un ou une professionnelle", "un ou une clinicienne",
                  "Pour quoi", "anesthésiant", "date réelle", "cru très fort"):  # fmt: skip
        assert wrong not in joined, wrong
