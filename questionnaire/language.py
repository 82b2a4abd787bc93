"""The reader's language: Flask-Babel, chosen by the patient, else by Accept-Language.

Languages are written two ways: Babel's locale ids in settings and catalogues
(`fr_CA`), and BCP 47 tags wherever the language is recorded or shown to a
machine (`fr-CA`: the draft, the submission, FHIR, `<html lang>`). Patient pages
follow the patient's choice (kept in the session and on the draft). The clinician's
pages are in English unless the clinician chose another language with the switch in
the clinic header (kept in the session under its own key): the clinic's working
language is a choice, never guessed from the browser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.support import Translations
from flask import Flask, current_app, request, session
from flask_babel import Babel, format_date, format_decimal, get_locale, gettext

from questionnaire.config import WORDED_SETTINGS, ConfigError
from questionnaire.questions import catalogue as questions
from questionnaire.questions.wording import translated

#: The session key that holds the patient's chosen language (a BCP 47 tag).
SESSION_KEY = "language"
#: The session key that holds the clinician's chosen language, apart from the patient's.
CLINIC_SESSION_KEY = "clinic_language"  # kept across sign-in and sign-out (auth/guard.py)
#: The language of the catalogue's own text, and of the clinician's pages by default.
SOURCE = "en"
#: Blueprints of the clinician's side: English unless the clinician chose (module docstring).
CLINICIAN_BLUEPRINTS = frozenset({"review", "auth", "exports", "health"})
#: How each language names itself, for the switch link.
NAMES = {"en": "English", "fr-CA": "Français"}

#: The message catalogues: .po files in the repository, .mo files compiled by `make translations`.
CATALOGUES = Path(__file__).resolve().parent / "translations"

babel = Babel()


def as_tag(locale_id: str) -> str:
    """Return the BCP 47 tag of a Babel locale id: fr_CA -> fr-CA."""
    return locale_id.replace("_", "-")


def tags(app: Flask | None = None) -> tuple[str, ...]:
    """Return the offered languages as BCP 47 tags, the first being the default."""
    return tuple((app or current_app).config["LANGUAGE_TAGS"])


def chosen_tag() -> str:
    """Return the tag of the language this request is shown in."""
    offered = tags()
    if request.blueprint in CLINICIAN_BLUEPRINTS or request.path.startswith("/clinic"):
        chosen = session.get(CLINIC_SESSION_KEY)
        return str(chosen) if chosen in offered else SOURCE
    kept = session.get(SESSION_KEY)
    if kept in offered:
        return str(kept)
    return preferred(request.accept_languages.values(), offered)


def preferred(wanted: Iterable[str], offered: tuple[str, ...]) -> str:
    """Return the offered tag that best serves a browser's languages, most wanted first.

    A browser's first language wins in any region: fr-FR before en means French, so
    fr-CA (werkzeug's best_match would pick the exact en). Else the first offered.
    """
    by_primary = {}
    for tag in reversed(offered):
        by_primary[tag.split("-")[0].lower()] = tag
    exact = {tag.lower(): tag for tag in offered}
    for tag in wanted:
        tag = tag.replace("_", "-").lower()
        if tag in exact:
            return exact[tag]
        if tag.split("-")[0] in by_primary:
            return by_primary[tag.split("-")[0]]
    return offered[0]


def _select_locale() -> str:
    return chosen_tag().replace("-", "_")


def current_tag() -> str:
    """Return the BCP 47 tag of the locale in use (en outside a request)."""
    locale = get_locale()
    return as_tag(str(locale)) if locale is not None else SOURCE


def translate(text: str) -> str:
    """Return catalogue text or a Phrase in the reader's language."""
    return translated(text, _with_definition(gettext, str(get_locale() or SOURCE)), format_decimal)


def _with_definition(lookup: Callable[[str], str], locale_id: str) -> Callable[[str], str]:
    """Return a lookup that reads the questionnaire definition's own words first.

    The definition (forms/intake.yaml) carries every question's text in each language; a
    clinic's added question is in no message catalogue, and is still read in French.
    """
    texts = questions.DEFINITION.texts.get(locale_id)
    earlier = questions.EARLIER_TEXTS.get(locale_id)
    if not texts and not earlier:
        return lookup
    own, kept = texts or {}, earlier or {}
    # An earlier definition's words (a submission shown with the questions it answered)
    # come after today's, then the message catalogue.
    return lambda text: own.get(text) or kept.get(text) or lookup(text)


def number(value: float) -> str:
    """Return an answer's number as the reader writes it (70,5 in French), without float noise."""
    return str(format_decimal(value, format="#,##0.##"))


def lower_first(text: str) -> str:
    """Return words for the middle of a sentence: the first letter in lower case, unless the
    first word is an abbreviation (PHQ-9, AVM, AVC stay as they are)."""
    first = text.split(" ", 1)[0]
    letters = [char for char in first if char.isalpha()]
    if not letters or (len(letters) > 1 and all(char.isupper() for char in letters)):
        return text
    return text[:1].lower() + text[1:]


def long_date(value: object) -> str:
    """Return a stored date (YYYY-MM-DD) as people read it: 27 March 1985, 27 mars 1985.

    Anything that is not a calendar date is returned as it is.
    """
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return str(format_date(day, format="d MMMM y"))


def setting(name: str) -> str:
    """Return a setting written in words, in the reader's language (see WORDED_SETTINGS).

    The clinic's own value for this language (CLINIC_HOURS_FR_CA) comes first; else
    the setting, looked up in the catalogue, so a default reads in every language.
    """
    if name not in WORDED_SETTINGS:
        raise KeyError(f"{name} is not a setting in words; use config.{name}")
    config = current_app.config
    own = config.get(f"{name}_{str(get_locale()).upper()}")
    if own:
        return str(own)
    value = str(config.get(name) or "")
    return gettext(value) if value else value


def catalogue(locale_id: str) -> Callable[[str], str]:
    """Return one language's lookup (fr_CA) for use outside a request: the definition's
    words first, then the compiled catalogue."""
    return _with_definition(compiled_catalogue(locale_id), locale_id)


@cache
def compiled_catalogue(locale_id: str) -> Callable[[str], str]:
    """Return one language's compiled message catalogue alone (questions/export.py)."""
    return Translations.load(str(CATALOGUES), [locale_id]).gettext


def catalogues(app: Flask | None = None) -> dict[str, Callable[[str], str]]:
    """Return each offered language but English as tag -> its gettext, outside any request."""
    return {tag: catalogue(tag.replace("-", "_")) for tag in tags(app) if tag != SOURCE}


def language_name(tag: str) -> str:
    """Return a language's name in the reader's language, for clinicians: French (Canada)."""
    try:
        return str(Locale.parse(tag, sep="-").get_display_name(str(get_locale() or SOURCE)))
    except (ValueError, UnknownLocaleError):
        return tag  # an odd stored tag is shown as it is


def other_languages() -> list[tuple[str, str]]:
    """Return (tag, name) for each language the reader can switch to."""
    here = current_tag()
    return [(tag, NAMES.get(tag, tag)) for tag in tags() if tag != here]


def locale_ids(config: Mapping[str, Any]) -> list[str]:
    """Return the configured languages (LANGUAGES) as Babel locale ids: en, fr_CA."""
    return [one.strip() for one in str(config["LANGUAGES"]).split(",") if one.strip()]


def init_app(app: Flask) -> None:
    """Attach Flask-Babel, the `t` filter and the switch's names to the app."""
    configured = locale_ids(app.config)
    for locale_id in configured:
        if (
            locale_id != SOURCE
            and not (CATALOGUES / locale_id / "LC_MESSAGES/messages.mo").is_file()
        ):
            raise ConfigError(
                f"LANGUAGES names {locale_id}, but its compiled catalogue is missing: run "
                "`make translations` (make run and make test do it), or remove it from LANGUAGES."
            )
    if not configured:
        raise ConfigError("LANGUAGES is empty; set it to en, or en,fr_CA.")
    app.config["LANGUAGE_TAGS"] = tuple(as_tag(one) for one in configured)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", SOURCE)
    babel.init_app(app, locale_selector=_select_locale)
    # Messages are extracted trimmed (babel.cfg), so the template's line breaks never matter.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters["t"] = translate
    app.jinja_env.globals["setting"] = setting
    app.jinja_env.filters["language_name"] = language_name
    app.jinja_env.filters["lower_first"] = lower_first
    app.jinja_env.filters["long_date"] = long_date
    # A count the reader's way: 1,234 in English, 1 234 in French.
    app.jinja_env.globals["number"] = format_decimal

    @app.context_processor
    def _language() -> dict[str, Any]:
        return {"language_tag": current_tag(), "other_languages": other_languages}
