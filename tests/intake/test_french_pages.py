"""Every patient page in French holds no untranslated English.

A French patient walks the questionnaire with the answers of every usable rules.yaml
case (tests.harness.patient.usable_cases), then meets the pages off the main road
(privacy, saved, resume, too young, errors). Each page's visible text is split into
words; a word that the English catalogue uses and the French catalogue never does is
English that slipped through. The patient's own typed answers are left out (a name is
no translation), and so are the words of ALLOWED.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from questionnaire.extensions import db
from questionnaire.intake import service as services
from questionnaire.language import CATALOGUES
from questionnaire.questions import cssrs, instruments
from questionnaire.questions.catalogue import PAGES, asked_in, asked_section, section_is_asked
from tests.answers import baseline, with_changes
from tests.harness.app import CASE_DAY, Clock, make_app
from tests.harness.forms import page_html, visible_text
from tests.harness.patient import Patient, asked_pages, usable_cases

FRENCH = "fr-CA,fr;q=0.9"
WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
#: Words that are English in the catalogue and rightly stay so on a French page, kept short:
#: the switch names English in English (as every bilingual site does).
ALLOWED = frozenset({"english"})
#: The clinic's French name in this test: a setting in words given per language.
CLINIQUE = "Clinique Essai"


def words(text: str) -> set[str]:
    return {word.lower() for word in WORD.findall(text)}


@cache
def vocabularies() -> tuple[frozenset[str], frozenset[str]]:
    """Return (English words of the catalogue's msgids, French words of its msgstrs)."""
    with (CATALOGUES / "fr_CA" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    english: set[str] = set()
    french: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in ids:
            english |= words(re.sub(r"%\([a-z_]+\)s|<[^>]+>|\{[a-z_]+\}", " ", text))
        for text in strings:
            french |= words(text)
    return frozenset(english), frozenset(french)


#: A reference code (K7QM-4TZ9): random letters, no words.
REFERENCE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")
URL = re.compile(r"https?://\S+")


def english_left(page_text: str, typed: set[str]) -> set[str]:
    """Return the words of a page that only the English catalogue uses."""
    english, french = vocabularies()
    # The resume link's random token is no words either.
    text = URL.sub(" ", REFERENCE.sub(" ", page_text))
    return (words(text) & english) - french - typed - ALLOWED


def typed_words(answers: dict[str, Any]) -> set[str]:
    """Return the words the patient typed (free text: names, emails, medicines)."""
    found: set[str] = set()
    for value in answers.values():
        if isinstance(value, str):
            found |= words(value)
    return found


@pytest.fixture
def french_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path, CLOCK=Clock(CASE_DAY), CLINIC_NAME_FR_CA=CLINIQUE)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def french_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = FRENCH
    return client


def test_the_check_finds_english(french_app: Flask) -> None:
    # The same walk in English finds English words: the check can fail.
    page = visible_text(french_app.test_client().get("/"))
    assert {"before", "your", "appointment"} <= english_left(page, set())


def as_a_french_patient(answers: dict[str, Any]) -> dict[str, Any]:
    """Return a case's answers as a French patient gives them: no AUDIT-C (not asked in
    French), so "24 hours without alcohol" is asked of a non-drinker too, who says yes."""
    french = {key: value for key, value in answers.items() if not key.startswith("auditc_")}
    if french.get("alcohol_can_pause") is None:
        french["alcohol_can_pause"] = "yes"
    return french


def test_every_case_walks_through_french_pages_only(french_app: Flask) -> None:
    cases, _ = usable_cases(CASE_DAY.date())
    assert len(cases) > 50
    seen: dict[str, set[str]] = {}
    ptsd_walks = 0
    for case in cases:
        client = french_client(french_app)
        patient = Patient(client, language="fr-CA")
        answers = as_a_french_patient(case.answers)
        typed = typed_words(answers)
        pages = [("/", client.get("/"))]
        patient.start()
        for section in asked_pages(answers, "fr-CA"):
            path = f"/questions/{section.id}"
            response = patient.answer(section, answers)
            if response.status_code != 303:
                pages.append((path + " (refused)", response))
            pages.append((path, client.get(path)))
        # The GAD-7 and PCL-5 have no official French here: never asked in English among
        # French, and the page before them says so (naming the PCL-5 only after PTSD).
        for left_out in ("gad7", "pcl5"):
            assert client.get(f"/questions/{left_out}").status_code == 303, left_out
        before = visible_text(client.get("/questions/phq9"))
        assert "(GAD-7), ne sont pas posées en français ici" in before
        ptsd = "ptsd" in (case.answers.get("reasons") or [])
        assert ("(PCL-5), ne sont pas posées en français ici" in before) == ptsd
        ptsd_walks += ptsd
        pages.append(("/check", client.get("/check")))
        patient.send()
        pages.append(("/done", client.get("/done")))
        for where, response in pages:
            assert 'lang="fr-CA"' in page_html(response), where
            left = english_left(visible_text(response, skip_lang="en"), typed)
            if left:
                seen.setdefault(where, set()).update(left)
    assert not seen, f"English words on French pages (where: words): {seen}"
    assert ptsd_walks > 0  # PTSD among the reasons: the walk meets the PCL-5's place too


def test_the_pages_off_the_main_road_are_french_too(french_app: Flask) -> None:
    client = french_client(french_app)
    patient = Patient(client)
    answers = baseline()
    typed = typed_words(answers)
    pages = {
        "privacy": client.get("/privacy"),
        "not found": client.get("/no-such-page"),
        "expired link": client.get("/resume/not-a-real-token"),
        "start, expired": client.get("/?expired=1"),
    }
    patient.start()
    empty = patient.answer(PAGES[0], {})
    assert empty.status_code == 400
    pages["about you, sent empty"] = empty
    patient.answer(PAGES[0], answers)
    patient.answer(PAGES[1], answers)
    crisis = dict(answers, suicidal_thoughts_past_month="yes", suicidal_thoughts_now="yes")
    patient.answer(PAGES[2], crisis, action="later")
    saved = client.get("/saved")
    pages["saved, with the crisis panel"] = saved
    link = re.search(r'class="resume-link"><a href="([^"]+)"', page_html(saved))
    assert link
    resume = link.group(1).removeprefix("http://localhost")
    pages["resume"] = french_client(french_app).get(resume)
    young = french_client(french_app)
    Patient(young).start()
    minor = dict(answers, date_of_birth=f"{CASE_DAY.year - 10}-01-01")
    pages["too young"] = Patient(young).answer(PAGES[0], minor)
    problems = {}
    for where, response in pages.items():
        assert 'lang="fr-CA"' in page_html(response), where
        left = english_left(visible_text(response, skip_lang="en"), typed)
        if left:
            problems[where] = left
    assert not problems


def _database_down(*args: object, **kwargs: object) -> None:
    raise OperationalError("SELECT 1", {}, OSError())


def test_the_error_pages_are_french_too(
    tmp_path: Path, french_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = french_client(french_app)
    patient = Patient(client)
    patient.start()
    pages = {
        "413": client.post("/start", data={"privacy_consent": "y", "filler": "x" * 70_000}),
        "400, timed out": client.post("/check", data={"csrf_token": "stale"}),
    }
    monkeypatch.setattr(services, "save_answers", _database_down)
    pages["503, a question page"] = patient.answer(PAGES[0], baseline())
    monkeypatch.setattr(services, "find_draft", _database_down)
    pages["503, elsewhere"] = client.get("/")
    monkeypatch.undo()
    limited = make_app(
        tmp_path / "limited",
        CLOCK=Clock(CASE_DAY),
        CLINIC_NAME_FR_CA=CLINIQUE,
        RATELIMIT_ENABLED=True,
        RATELIMIT_START="1 per hour",
    )
    with limited.app_context():
        db.create_all()
    hurried = french_client(limited)
    Patient(hurried).start()
    pages["429"] = Patient(hurried).start()
    expected = {"413": 413, "400, timed out": 400, "429": 429}
    problems = {}
    for where, response in pages.items():
        assert response.status_code == expected.get(where, 503), where
        assert 'lang="fr-CA"' in page_html(response), where
        left = english_left(visible_text(response, skip_lang="en"), typed_words(baseline()))
        if left:
            problems[where] = left
    assert not problems


# --- The strict walk: nothing marked English but the switch and a named exemption ---------

#: Nothing may be marked English (lang="en") on a French page but the language switch and,
#: with the screener on, the C-SSRS screener's items (no Canadian-French text to cite). The
#: AUDIT-C, like the GAD-7 and PCL-5, is left out in French, so it is exempt from nothing.
NO_EXEMPTION: frozenset[str] = frozenset()


def screener_exempt() -> frozenset[str]:
    """Return the items the C-SSRS screener asks in its published English (README exemption)."""
    return frozenset(
        item.id
        for section in PAGES
        for item in asked_section(section, screener=True).items
        if item.french_exempt and item.instrument is None
    )


@cache
def instrument_english() -> frozenset[str]:
    """Return the words of every standard instrument's English text (kept out of the catalogue)."""
    texts: list[str] = []
    for instrument in instruments.BY_ID.values():
        texts += [instrument.stem, *instrument.items, *instrument.scale]
        texts += [label for scale in instrument.item_scales for label in scale]
    texts += [item.text for item in cssrs.ITEMS.values()]
    return frozenset(word for text in texts for word in words(text))


def strictly_english_left(page_text: str, typed: set[str]) -> set[str]:
    """Return the words of a page that only English uses: the interface's and the instruments'."""
    english, french = vocabularies()
    text = URL.sub(" ", REFERENCE.sub(" ", page_text))
    return (words(text) & (english | instrument_english())) - french - typed - ALLOWED


class _MarkedEnglish(HTMLParser):
    """Collect every element marked lang="en": its tag, id and the text it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []
        self._open: list[tuple[str, str, list[str]] | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            return
        values = dict(attrs)
        self._open.append((tag, values.get("id") or "", []) if values.get("lang") == "en" else None)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or not self._open:
            return
        closed = self._open.pop()
        if closed is not None:
            name, ident, parts = closed
            self.found.append((name, ident, " ".join(" ".join(parts).split())))

    def handle_data(self, data: str) -> None:
        for element in self._open:
            if element is not None:
                element[2].append(data)


VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


def marked_english_not_exempt(html: str, exempt: frozenset[str], screener: bool) -> list[str]:
    """Return each element marked English that is neither the switch nor an exempt item."""
    items = {
        item.id: item
        for section in PAGES
        for item in asked_section(section, screener).items
        if item.id in exempt
    }
    labels = {item.label for item in items.values()}
    answers = {choice.label for item in items.values() for choice in item.choices}
    parser = _MarkedEnglish()
    parser.feed(html)
    wrong = []
    for tag, ident, text in parser.found:
        if text == "English":
            continue  # the language switch names English in English
        if ident.removeprefix("field-") in exempt and ident.startswith("field-"):
            continue  # an exempt item's question (its hint, the project's words, in French)
        if (tag == "dt" and text in labels) or (tag == "dd" and text in answers):
            continue  # an exempt item's row on the check page
        wrong.append(f"<{tag} id={ident!r}>{text[:80]}")
    return wrong


#: Every page asked in French: PTSD among the reasons (the PCL-5 would be asked in English),
#: a drinker (AUDIT-C's items 2 and 3 asked), thoughts of suicide (every follow-up asked).
EVERY_PAGE = with_changes(
    {
        "reasons": ["depression", "ptsd"],
        **{f"phq9_{n}": "1" for n in range(1, 10)},
        "auditc_1": "2",
        "auditc_2": "1",
        "auditc_3": "1",
        "suicidal_thoughts_past_month": "yes",
        "suicide_plan": "no",
        "suicidal_thoughts_now": "no",
        "wish_dead_past_month": "yes",
        "suicidal_thoughts_method": "no",
        "suicidal_intent": "no",
        "suicidal_behaviour_ever": "yes",
        "suicidal_behaviour_past_3_months": "no",
        "suicide_attempt_ever": "no",
    }
)


@pytest.mark.parametrize("screener", [False, True], ids=["default", "cssrs-screener"])
def test_every_french_page_with_ptsd_shows_no_english_sentence_but_named_exemptions(
    tmp_path: Path, screener: bool
) -> None:
    """Issue 25: no English sentence of the interface or of a question on any French page,
    the check page included; nothing hidden by being marked English but the exemptions."""
    app = make_app(
        tmp_path, CLOCK=Clock(CASE_DAY), CLINIC_NAME_FR_CA=CLINIQUE, CSSRS_SCREENER_ENABLED=screener
    )
    with app.app_context():
        db.create_all()
    exempt = screener_exempt() if screener else NO_EXEMPTION
    client = french_client(app)
    patient = Patient(client, language="fr-CA")
    typed = typed_words(EVERY_PAGE)
    pages = [("/", client.get("/"))]
    assert patient.start().status_code == 303
    reached = []
    for section in asked_pages(EVERY_PAGE, "fr-CA"):
        path = f"/questions/{section.id}"
        pages.append((path, client.get(path)))
        reached.append(section.id)
        response = patient.answer(section, EVERY_PAGE)
        assert response.status_code == 303, (path, visible_text(response)[:500])
    pages.append(("/check", client.get("/check")))
    assert patient.send().status_code == 303
    pages.append(("/done", client.get("/done")))
    # Every instrument page French can ask is reached; those it cannot are not asked at all.
    in_french = {s.id for s in PAGES if s.instrument and asked_in(s, "fr-CA")}
    assert in_french <= set(reached) and "phq9" in reached
    assert section_is_asked(next(s for s in PAGES if s.id == "pcl5"), EVERY_PAGE, "en")
    for left_out in {s.id for s in PAGES if s.instrument} - in_french:
        assert client.get(f"/questions/{left_out}").status_code == 303, left_out
    problems: dict[str, Any] = {}
    for where, response in pages:
        html = page_html(response)
        assert 'lang="fr-CA"' in html, where
        if wrong := marked_english_not_exempt(html, exempt, screener):
            problems[f"{where}: marked English"] = wrong
        if left := strictly_english_left(visible_text(response, skip_lang="en"), typed):
            problems[f"{where}: English words"] = sorted(left)
    assert not problems, problems
    check = page_html(pages[-2][1])
    assert "Où habitez-vous" in check  # the check page was read, in French


def test_the_strict_walk_finds_english_marked_or_not() -> None:
    # An instrument's words outside the catalogue count as English; an element marked English
    # that no exemption names is reported; an exempt item's question is not.
    assert {"nervous", "anxious"} <= strictly_english_left("Feeling nervous, anxious", set())
    html = '<div lang="en" id="field-gad7_1"><p>Feeling nervous</p></div>'
    assert marked_english_not_exempt(html, NO_EXEMPTION, False) == [
        "<div id='field-gad7_1'>Feeling nervous"
    ]
    exempt = '<div lang="en" id="field-auditc_1"><p>How often</p></div><a lang="en">English</a>'
    assert marked_english_not_exempt(exempt, frozenset({"auditc_1"}), False) == []
