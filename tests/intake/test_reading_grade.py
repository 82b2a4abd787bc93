"""Plain words, checked: the reading grade of the English prose on every patient page.

Each page is rendered as a patient meets it and its prose taken from <main> (the crisis
panel on its own row): headings, labels, legends, hints, paragraphs, list items and
answer options, each its own sentence when it has no full stop. Left out: hidden
elements, form machinery (buttons, drop-down lists, the honeypot), the check page's
echoed answers, the step caption, the reference code, links to phone numbers, emails
and the resume URL, numbers, and the words of GLOSSARY.

English pages must read at Flesch-Kincaid grade 9 or below, and 7 or below on average.
The same pages asked for in French (Accept-Language: fr-CA) are reported with LIX and
Kandel-Moles, not asserted: run with -s to see the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from statistics import mean
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.questions.catalogue import PAGES
from tests.answers import baseline, with_changes
from tests.harness.forms import page_html
from tests.harness.patient import Patient, asked_pages
from tests.harness.readability import (
    ENGLISH,
    FRENCH,
    count,
    flesch_kincaid_grade,
    kandel_moles,
    lix,
)

#: The highest Flesch-Kincaid grade of any one page, and of the pages on average.
MOST_PER_PAGE = 9.0
MOST_ON_AVERAGE = 7.0

#: Words the formulas do not count. Each is a term the questions cannot do without: a
#: medicine's generic or brand name the patient must recognise on their own prescription,
#: or a diagnosis they would have been given by name. Plainer words would be less exact,
#: and each is either explained by its question's hint or widely known. Long, rare words
#: like these would otherwise decide a page's grade on their own.
GLOSSARY = frozenset(
    {
        # The treatment itself.
        "ketamine",
        "esketamine",
        "spravato",
        # Benzodiazepines, generic and brand names (the medicines page asks about them).
        "lorazepam",
        "ativan",
        "alprazolam",
        "xanax",
        "clonazepam",
        "klonopin",
        "rivotril",
        "diazepam",
        "valium",
        # A medicine named as an example of an opioid (alcohol and drugs page).
        "fentanyl",
        # Diagnoses asked about by name.
        "schizophrenia",
        "schizoaffective",
        "psychotic",
        "bipolar",
        "aneurysm",
        "avm",
        "tia",
        "epilepsy",
        "glaucoma",
        "thyroid",
        "cirrhosis",
        "hepatitis",
        "copd",
        "apnea",
        "anaesthetic",
        "antidepressant",
        "ptsd",
        "ocd",
    }
)

#: Addresses and numbers a patient copies rather than reads.
NOT_PROSE = re.compile(r"https?://\S+|\S+@\S+\.\S+")
#: Elements whose text is not prose: form machinery (buttons, drop-down lists, typed
#: text), scripts, and <dd>: the check page's answers (the patient's own words, and answer
#: options already measured on their question pages) and its Change links.
SKIPPED_TAGS = frozenset({"script", "style", "button", "select", "textarea", "template", "dd"})
#: Classes whose text is not prose: the step caption, the reference code, the resume
#: link, screen-reader-only words, the honeypot.
SKIPPED_CLASSES = frozenset({"caption", "reference", "resume-link", "visually-hidden", "hp"})
#: Elements that end one block of text and start another.
BLOCK_TAGS = frozenset(
    {
        "address",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "label",
        "legend",
        "li",
        "main",
        "ol",
        "p",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)
VOID_TAGS = frozenset({"br", "hr", "img", "input", "link", "meta", "source", "wbr"})

Selector = Callable[[str, dict[str, str]], bool]


def in_main(tag: str, attrs: dict[str, str]) -> bool:
    """Select the page's <main>."""
    return tag == "main"


def in_crisis_panel(tag: str, attrs: dict[str, str]) -> bool:
    """Select the crisis panel."""
    return "crisis-panel" in attrs.get("class", "").split()


def is_skipped(tag: str, attrs: dict[str, str]) -> bool:
    """Return whether an element's text is not prose a patient reads."""
    href = attrs.get("href", "")
    return (
        tag in SKIPPED_TAGS
        or "hidden" in attrs
        or attrs.get("aria-hidden") == "true"
        or bool(SKIPPED_CLASSES & set(attrs.get("class", "").split()))
        or href.startswith(("tel:", "mailto:"))
    )


class ProseReader(HTMLParser):
    """Collect the blocks of prose inside the selected element, as a patient reads them."""

    def __init__(self, root: Selector) -> None:
        super().__init__(convert_charrefs=True)
        self.root = root
        self.blocks: list[str] = []
        self._open: list[tuple[str, bool, bool]] = []  # (tag, is the root, is skipped)
        self._text: list[str] = []

    @property
    def _reading(self) -> bool:
        inside = any(root for _tag, root, _skip in self._open)
        return inside and not any(skip for _tag, _root, skip in self._open)

    def _flush(self) -> None:
        text = " ".join(NOT_PROSE.sub(" ", "".join(self._text)).split())
        if text:
            self.blocks.append(text)
        self._text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag in BLOCK_TAGS:
            self._flush()
        if tag not in VOID_TAGS:
            self._open.append((tag, self.root(tag, found), is_skipped(tag, found)))

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self._flush()
        names = [name for name, _root, _skip in self._open]
        if tag in names:
            del self._open[len(names) - 1 - names[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if self._reading:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def prose(html: str, root: Selector = in_main) -> list[str]:
    """Return the blocks of prose a patient reads inside `root` (the page's <main>)."""
    reader = ProseReader(root)
    reader.feed(html)
    reader.close()
    return reader.blocks


# --- the pages ---------------------------------------------------------------------------

RESUME_LINK = re.compile(r'href="http://localhost(/resume/[A-Za-z0-9_-]+)"')
#: Old enough to hold the draft's date of birth, and far below the minimum age.
CHILD_BORN = "2020-01-01"


@dataclass
class Page:
    """One patient page: its name in the table and the prose blocks it shows."""

    name: str
    blocks: list[str]


def _client(app: Flask, language: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def _get(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, f"GET {path}: {response.status_code}"
    return page_html(response)


def patient_pages(app: Flask, language: str) -> list[Page]:
    """Render every patient page as a patient meets it, asking for `language`."""
    pages: list[Page] = []
    walker = _client(app, language)
    patient = Patient(walker, language=language)
    pages.append(Page("start", prose(_get(walker, "/"))))
    pages.append(Page("privacy notice", prose(_get(walker, "/privacy"))))
    assert patient.start().status_code == 303
    answers = baseline()
    for section in asked_pages(answers, language):
        pages.append(Page(section.id, prose(_get(walker, f"/questions/{section.id}"))))
        assert patient.answer(section, answers).status_code == 303, section.id
    pages.append(Page("check", prose(_get(walker, "/check"))))
    assert patient.send().status_code == 303
    pages.append(Page("done", prose(_get(walker, "/done"))))

    leaver = _client(app, language)
    patient = Patient(leaver)
    assert patient.start().status_code == 303
    assert patient.answer(PAGES[0], answers).status_code == 303
    assert patient.answer(PAGES[1], {}, action="later").status_code == 303
    saved = _get(leaver, "/saved")
    pages.append(Page("saved", prose(saved)))
    link = RESUME_LINK.search(saved)
    assert link, "the saved page shows no resume link"
    pages.append(Page("resume", prose(_get(_client(app, language), link.group(1)))))

    child = Patient(_client(app, language))
    assert child.start().status_code == 303
    too_young = child.answer(PAGES[0], {**answers, "date_of_birth": CHILD_BORN})
    assert too_young.status_code == 200
    pages.append(Page("too young", prose(page_html(too_young))))

    in_crisis = _client(app, language)
    patient = Patient(in_crisis, language=language)
    assert patient.start().status_code == 303
    urgent = with_changes({"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "yes"})
    for section in PAGES:
        assert patient.answer(section, urgent).status_code == 303, section.id
    pages.append(Page("crisis panel", prose(_get(in_crisis, "/check"), in_crisis_panel)))
    return pages


# --- the grades ----------------------------------------------------------------------------


@dataclass
class Grade:
    """One page's reading figures: English grade, French LIX and Kandel-Moles."""

    name: str
    grade: float
    sentences: int
    words: int
    lix: float
    kandel_moles: float


def grades(english: list[Page], french: list[Page]) -> list[Grade]:
    """Return each page's English grade and the French figures of the same page."""
    rows = []
    # A page left out in French (an instrument with no official French) has no French figures.
    by_name = {page.name: page for page in french}
    for page in english:
        page_fr = by_name.get(page.name, Page(page.name, []))
        counts = count(page.blocks, ENGLISH, GLOSSARY)
        counts_fr = count(page_fr.blocks, FRENCH, GLOSSARY)
        rows.append(
            Grade(
                page.name,
                flesch_kincaid_grade(counts),
                counts.sentences,
                counts.words,
                lix(counts_fr) if counts_fr.words else float("nan"),
                kandel_moles(counts_fr) if counts_fr.words else float("nan"),
            )
        )
    return rows


def report(rows: list[Grade]) -> str:
    """Return the table of reading figures, one row a page and the average last."""
    lines = [
        f"{'page':<22} {'FK grade':>8} {'sentences':>9} {'words':>6} {'fr LIX':>7} {'fr K-M':>7}"
    ]
    for row in rows:
        lines.append(
            f"{row.name:<22} {row.grade:>8.1f} {row.sentences:>9} {row.words:>6}"
            f" {row.lix:>7.1f} {row.kandel_moles:>7.1f}"
        )
    lines.append(
        f"{'average':<22} {mean(r.grade for r in rows):>8.1f} {'':>9} {'':>6}"
        f" {mean(r.lix for r in rows if r.lix == r.lix):>7.1f}"
        f" {mean(r.kandel_moles for r in rows if r.kandel_moles == r.kandel_moles):>7.1f}"
    )
    return "\n".join(lines)


def hardest_sentences(page: Page, limit: int = 5) -> list[str]:
    """Return a page's sentences with the highest grade on their own, hardest first."""
    graded: list[tuple[float, str]] = []
    for block in page.blocks:
        counts = count([block], ENGLISH, GLOSSARY)
        if counts.words:
            graded.append((flesch_kincaid_grade(counts), block))
    return [f"{grade:5.1f}  {text}" for grade, text in sorted(graded, reverse=True)[:limit]]


def test_every_patient_page_reads_at_grade_9_or_below(
    app: Flask, record_property: Callable[[str, Any], None]
) -> None:
    english = patient_pages(app, "en-CA")
    french = patient_pages(app, "fr-CA")
    rows = grades(english, french)
    for row in rows:
        record_property(f"grade {row.name}", round(row.grade, 1))
        record_property(f"fr {row.name}", f"LIX {row.lix:.1f}, Kandel-Moles {row.kandel_moles:.1f}")
    print("\n" + report(rows))

    too_hard = [
        (row, page) for row, page in zip(rows, english, strict=True) if row.grade > MOST_PER_PAGE
    ]
    average = mean(row.grade for row in rows)
    problems = [
        f"{row.name}: grade {row.grade:.1f} > {MOST_PER_PAGE}; its hardest sentences:\n  "
        + "\n  ".join(hardest_sentences(page))
        for row, page in too_hard
    ]
    if average > MOST_ON_AVERAGE:
        problems.append(f"average grade {average:.1f} > {MOST_ON_AVERAGE}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<main><h1>Title</h1><p>One <strong>two</strong>. <a href="tel:988">988</a></p></main>',
            ["Title", "One two."],
        ),
        ('<p>outside</p><main><p class="caption">Step 1 of 9</p><p>in</p></main>', ["in"]),
        (
            '<main><aside hidden><p>not shown</p></aside><label>Name<input name="n"></label></main>',
            ["Name"],
        ),
        (
            "<main><p>Open http://localhost/resume/abc now</p><button>Go</button></main>",
            ["Open now"],
        ),
    ],
)
def test_prose_is_the_text_a_patient_reads_in_main(html: str, expected: list[str]) -> None:
    assert prose(html) == expected
