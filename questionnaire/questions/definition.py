"""Load a questionnaire definition (forms/intake.yaml): read, check and build it, failing closed.

Loading is strict, like the rule table's (rules/loader.py): the YAML is read with
`safe_load` semantics (rules/yamlload.py keeps each line), validated into typed
models (questions/schema.py), then checked as a whole; every problem names the
file, line, item and what to change. A definition with any problem is refused
whole: nothing of it is ever half-used. Pure: no Flask, no database.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from questionnaire.questions import cssrs, instruments
from questionnaire.questions.instruments import Instrument
from questionnaire.questions.model import AskedWhen, Choice, Fact, Item, Kind, Role, Section
from questionnaire.questions.parsers import parse_blood_pressure, parse_weight
from questionnaire.questions.schema import (
    KNOWN_KEYS,
    AskedWhenSpec,
    DefinitionSpec,
    InstrumentItemsSpec,
    ItemSpec,
    SectionSpec,
)
from questionnaire.rules.conditions import check_condition
from questionnaire.rules.errors import Problem
from questionnaire.rules.loader import Reporter, data_path, schema_message
from questionnaire.rules.schema import AnyOf, Leaf
from questionnaire.rules.vocabulary import Field
from questionnaire.rules.yamlload import Document, FastLoader, parse

#: The language every definition is written in first: the catalogue's own text.
SOURCE = "en"
#: A definition is a few hundred kilobytes at most; anything far larger is a mistake.
MAX_BYTES = 1_000_000
#: How deep a definition may nest (a condition in an item in a page is about 10).
MAX_DEPTH = 40
#: Answers to the crisis question that must show crisis help (ITEMS.md, 11).
CRISIS_CODE = "yes"

PARSERS = {"weight": parse_weight, "blood_pressure": parse_blood_pressure}

YamlPath = tuple[str | int, ...]


class DefinitionError(Exception):
    """The definition cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        file = self.problems[0].file if self.problems else "(unknown)"
        noun = "problem" if count == 1 else "problems"
        lines = [
            f"The questionnaire definition {file} has {count} {noun}; "
            "the app will not start until they are fixed:"
        ]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)


@dataclass(frozen=True)
class Definition:
    """A checked questionnaire, built into the catalogue's types."""

    path: Path
    #: SHA-256 of the file's bytes.
    sha256: str
    name: str
    sections: tuple[Section, ...]
    facts: dict[str, Fact]
    #: Item id -> the answer codes that show crisis help at once.
    crisis_triggers: dict[str, frozenset[str]]
    #: Locale id -> English text -> the text in that language (every text of the file).
    texts: dict[str, dict[str, str]]
    #: The languages every text of the file is written in.
    languages: frozenset[str]
    #: The file's text, kept with every submission's version (flagging/versions.py).
    source: str = ""


class _Reporter(Reporter):
    """The rule table's reporter, naming a definition's pages and items."""

    def subject(self, path: YamlPath) -> str | None:
        data = self.document.data if self.document else None
        if len(path) < 2 or path[0] != "sections" or not isinstance(data, dict):
            return None
        sections = data.get("sections")
        index = path[1]
        if not isinstance(sections, list) or not isinstance(index, int) or index >= len(sections):
            return None
        section = sections[index]
        if not isinstance(section, dict):
            return f"page {index + 1}"
        items = section.get("items")
        if len(path) > 3 and path[2] == "items" and isinstance(items, list):
            position = path[3]
            if isinstance(position, int) and position < len(items):
                entry = items[position]
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    return f"item '{entry['id']}'"
                if isinstance(entry, dict) and isinstance(entry.get("instrument"), str):
                    return f"instrument '{entry['instrument']}'"
        name = section.get("id")
        return f"page '{name}'" if isinstance(name, str) else f"page {index + 1}"


def load_definition(
    path: Path | str, languages: Iterable[str] | None = None, *, all_facts: Mapping[str, Fact]
) -> Definition:
    """Load, check and build a definition; raise DefinitionError listing every problem.

    `languages` are the configured locale ids (LANGUAGES): each text must be in each.
    """
    definition, problems = _load(Path(path), languages, all_facts)
    if problems or definition is None:
        raise DefinitionError(problems)
    return definition


def check_definition(
    path: Path | str, languages: Iterable[str] | None = None, *, all_facts: Mapping[str, Fact]
) -> list[Problem]:
    """Return every problem load_definition would raise ([] when the definition is sound)."""
    return _load(Path(path), languages, all_facts)[1]


def definition_from_text(
    text: str, origin: str, languages: Iterable[str] | None, *, all_facts: Mapping[str, Fact]
) -> Definition:
    """Build a definition from its text (a stored version); raise DefinitionError if unsound."""
    definition, problems = _load(Path(origin), languages, all_facts, text.encode("utf-8"))
    if problems or definition is None:
        raise DefinitionError(problems)
    return definition


def _load(
    path: Path,
    languages: Iterable[str] | None,
    all_facts: Mapping[str, Fact],
    content: bytes | None = None,
) -> tuple[Definition | None, list[Problem]]:
    reporter = _Reporter(str(path))
    document, raw = _read(path, reporter, content)
    if document is None:
        return None, reporter.problems
    reporter.document = document
    for key_path, first, again in document.duplicates:
        reporter.at(
            key_path,
            f"key '{key_path[-1]}' appears twice (first on line {first}); YAML would keep only "
            "the last one, so merge or rename them",
            again,
        )
    try:
        spec = DefinitionSpec.model_validate(document.data)
    except ValidationError as error:
        for details in error.errors():
            path_in = data_path(document.data, details["loc"])
            reporter.at(path_in, _schema_message(details, path_in))
        return None, _in_file_order(reporter.problems)
    except RecursionError:
        reporter.whole_file(f"the file nests too deeply; keep it under {MAX_DEPTH} levels")
        return None, reporter.problems
    wanted = frozenset(languages or ()) | {SOURCE}
    built = _Builder(reporter, wanted, all_facts).build(spec)
    if reporter.problems or built is None:
        return None, _in_file_order(reporter.problems)
    sections, facts, triggers, texts = built
    return (
        Definition(
            path=path,
            sha256=hashlib.sha256(raw).hexdigest(),
            name=spec.questionnaire,
            sections=sections,
            facts=facts,
            crisis_triggers=triggers,
            texts=texts,
            languages=wanted,
            source=raw.decode("utf-8-sig"),
        ),
        [],
    )


def _read(
    path: Path, reporter: _Reporter, content: bytes | None = None
) -> tuple[Document | None, bytes]:
    try:
        size = path.stat().st_size if content is None else len(content)
        if size > MAX_BYTES:
            reporter.whole_file(
                f"the file is {size:,} bytes, more than the {MAX_BYTES:,} a definition may "
                "be; check that QUESTIONS_PATH names the questionnaire definition"
            )
            return None, b""
        raw = path.read_bytes() if content is None else content
    except FileNotFoundError:
        reporter.whole_file(
            "the definition file does not exist; set QUESTIONS_PATH to its path, "
            "or create the file (forms/intake.yaml ships with the app)"
        )
        return None, b""
    except OSError as error:
        reporter.whole_file(f"the file cannot be read ({error.strerror}); check its path")
        return None, b""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        reporter.whole_file("the file is not UTF-8 text; save it as UTF-8")
        return None, raw
    try:
        document = parse(text, FastLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        what = error.problem or error.context or "invalid YAML"
        if "nesting depth" in what:  # libyaml's own limit, met before MAX_DEPTH
            reporter.whole_file(
                f"the file nests too deeply; keep it under {MAX_DEPTH} levels",
                mark.line + 1 if mark else None,
            )
            return None, raw
        reporter.whole_file(
            f"the YAML cannot be read: {what}; check the indentation, colons and quotes "
            "on this line and the one above",
            mark.line + 1 if mark else None,
        )
        return None, raw
    except yaml.YAMLError as error:
        reporter.whole_file(f"the YAML cannot be read ({type(error).__name__}); check its syntax")
        return None, raw
    except RecursionError:
        reporter.whole_file(f"the file nests too deeply; keep it under {MAX_DEPTH} levels")
        return None, raw
    if not isinstance(document.data, dict):
        reporter.whole_file(
            "the file must be a YAML mapping with questionnaire:, facts: and sections:",
            document.lines.get(()),
        )
        return None, raw
    deepest = max((len(key) for key in document.lines), default=0)
    if deepest > MAX_DEPTH:
        reporter.whole_file(
            f"the file nests {deepest} levels deep; a definition needs far fewer (at most "
            f"{MAX_DEPTH}): simplify the condition or the structure there",
            max(document.lines.items(), key=lambda entry: len(entry[0]))[1],
        )
        return None, raw
    return document, raw


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda problem: problem.line or 0)


def _schema_message(details: ErrorDetails, path: YamlPath) -> str:
    kind = details["type"]
    if kind.startswith("int"):
        return f"'{path[-1] if path else 'this entry'}' must be a whole number"
    if kind == "condition":
        return "a condition needs item: with one operator, or all:/any:/not:"
    return schema_message(details, path, KNOWN_KEYS)


class _Builder:
    """Checks a validated definition as a whole and builds the catalogue's types from it."""

    def __init__(
        self, reporter: _Reporter, languages: frozenset[str], all_facts: Mapping[str, Fact]
    ) -> None:
        self.reporter = reporter
        self.languages = languages
        self.all_facts = all_facts
        #: Items built so far, in order: a condition may name only these.
        self.items: dict[str, Item] = {}
        self.item_path: dict[str, YamlPath] = {}
        self.section_of: dict[str, str] = {}
        self.crisis: dict[str, frozenset[str]] = {}
        self.texts: dict[str, dict[str, str]] = {}
        self.text_path: dict[tuple[str, str], YamlPath] = {}
        self.section_ids: dict[str, YamlPath] = {}
        #: The ids of sections asked as pages of their own.
        self.pages: set[str] = set()

    # --- the whole ----------------------------------------------------------------

    def build(
        self, spec: DefinitionSpec
    ) -> (
        tuple[
            tuple[Section, ...],
            dict[str, Fact],
            dict[str, frozenset[str]],
            dict[str, dict[str, str]],
        ]
        | None
    ):
        sections = []
        for index, section_spec in enumerate(spec.sections):
            built = self.section(section_spec, ("sections", index))
            if built is not None:
                sections.append(built)
        facts = self.facts(spec.facts)
        self.roles()
        if self.reporter.problems:
            return None
        return tuple(sections), facts, dict(self.crisis), self.texts

    def facts(self, names: list[str]) -> dict[str, Fact]:
        facts: dict[str, Fact] = {}
        for index, name in enumerate(names):
            here: YamlPath = ("facts", index)
            fact = self.all_facts.get(name)
            if fact is None:
                close = difflib.get_close_matches(name, list(self.all_facts), n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'? " if close else ""
                self.reporter.at(
                    here,
                    f"there is no derived fact '{name}'; {hint}the facts the app derives are: "
                    f"{', '.join(self.all_facts)}",
                )
                continue
            if name in facts:
                self.reporter.at(here, f"fact '{name}' is named twice; remove one")
                continue
            missing = [item for item in fact.derived_from if item not in self.items]
            if missing:
                self.reporter.at(
                    here,
                    f"fact '{name}' is derived from {', '.join(fact.derived_from)}, but "
                    f"{', '.join(missing)} is not in the definition; add the item or remove "
                    "the fact",
                )
                continue
            facts[name] = fact
        return facts

    def roles(self) -> None:
        for role in Role:
            having = [item for item in self.items.values() if item.role is role]
            if role is Role.CONTACT:
                if not having:
                    self.reporter.whole_file(
                        "no item has role: contact; the clinic needs a way to reach the "
                        "patient (mark the name, email and phone items role: contact)"
                    )
                continue
            if not having:
                self.reporter.whole_file(
                    f"no item has role: {role.value}; the app needs exactly one (add "
                    f"role: {role.value} to the item that is {ROLE_WORDS[role]})"
                )
            elif len(having) > 1:
                for item in having[1:]:
                    self.reporter.at(
                        self.item_path[item.id],
                        f"role: {role.value} is on {len(having)} items "
                        f"({', '.join(i.id for i in having)}); it must be on exactly one",
                    )
        crisis = [item for item in self.items.values() if item.role is Role.CRISIS]
        if len(crisis) == 1:
            self.crisis_question(crisis[0])

    def crisis_question(self, item: Item) -> None:
        here = self.item_path[item.id]
        why = "so crisis help can never be switched off"
        if item.kind is not Kind.CHOICE or CRISIS_CODE not in item.codes:
            self.reporter.at(
                here,
                f"the crisis question must be kind: choice with a '{CRISIS_CODE}' answer, {why}",
            )
            return
        if CRISIS_CODE not in self.crisis.get(item.id, frozenset()):
            self.reporter.at(
                here,
                f"the crisis question's answer '{CRISIS_CODE}' must show crisis help: add "
                f"shows_crisis_help: [{CRISIS_CODE}, ...] to it, {why}",
            )
        if item.screener is not None or item.french_exempt:
            self.reporter.at(
                here, f"the crisis question must be asked in every setting and language, {why}"
            )
        section = self.section_of[item.id]
        if section not in self.pages:
            self.reporter.at(
                here, f"the crisis question must be on a page of its own section, {why}"
            )
        unreachable = self._unreachable(item)
        if unreachable:
            self.reporter.at(here, f"the crisis question can never be asked: {unreachable}; {why}")

    def _unreachable(self, item: Item) -> str:
        seen: set[str] = set()
        current: Item | None = item
        while current is not None and current.asked_when is not None:
            if current.id in seen:
                return f"its condition loops through '{current.id}'"
            seen.add(current.id)
            condition = current.asked_when
            before = self.items.get(condition.item)
            if before is None:
                return f"it depends on '{condition.item}', which is not asked"
            if before.french_exempt or before.screener is not None:
                return (
                    f"it depends on '{before.id}', which is not asked in every language "
                    "and screener setting; make it depend on an item everyone is asked"
                )
            if not condition.unanswered and not condition.one_of & set(before.codes):
                return f"no answer of '{before.id}' asks it"
            current = before
        return ""

    # --- pages --------------------------------------------------------------------

    def section(self, spec: SectionSpec, here: YamlPath) -> Section | None:
        if spec.id in self.section_ids:
            self.reporter.at(
                (*here, "id"),
                f"page id '{spec.id}' is used twice (first on line "
                f"{self.reporter.document.line_of(self.section_ids[spec.id]) if self.reporter.document else '?'}); "
                "give each page its own id",
            )
            return None
        self.section_ids[spec.id] = here
        title = self.text(spec.title, (*here, "title"))
        if spec.instrument is not None:
            return self.instrument_section(spec, title, here)
        intro = self.text(spec.intro, (*here, "intro"))
        items: list[Item] = []
        for index, entry in enumerate(spec.items):
            at = (*here, "items", index)
            if isinstance(entry, InstrumentItemsSpec):
                items.extend(self.instrument_items(entry.instrument, spec.id, at))
                continue
            built = self.item(entry, spec.id, at)
            if built is not None:
                items.append(built)
        if spec.placement == "page":
            self.pages.add(spec.id)
        return Section(
            id=spec.id, title=title, intro=intro, items=tuple(items), placement=spec.placement
        )

    def instrument_section(self, spec: SectionSpec, title: str, here: YamlPath) -> Section | None:
        from questionnaire.questions import catalogue  # the package's own words for instruments

        found = self.instrument(spec.instrument or "", (*here, "instrument"))
        if found is None:
            return None
        if spec.id != found.id:
            self.reporter.at(
                (*here, "id"), f"the page of instrument '{found.id}' must have id: {found.id}"
            )
            return None
        if found.item_scales:
            self.reporter.at(
                (*here, "instrument"),
                f"'{found.id}' is asked among other items, not on a page of its own; write "
                f"instrument: {found.id} in a page's items:",
            )
            return None
        condition = self.asked_when(spec.asked_when, spec.id, (*here, "asked_when"))
        section = catalogue.instrument_section(found, title, condition)
        for item in section.items:
            if not self.claim(item, spec.id, (*here, "instrument")):
                return None
        if spec.placement == "page":
            self.pages.add(spec.id)
        self.instrument_triggers(found)
        return section

    def instrument_items(self, name: str, section: str, here: YamlPath) -> list[Item]:
        from questionnaire.questions import catalogue  # the package's own words for instruments

        found = self.instrument(name, (*here, "instrument"))
        if found is None:
            return []
        if not found.item_scales:
            self.reporter.at(
                (*here, "instrument"),
                f"'{found.id}' is asked on a page of its own: write it as a page "
                f"(- id: {found.id}, instrument: {found.id}, title: ...)",
            )
            return []
        items = list(catalogue.instrument_items(found))
        for item in items:
            if not self.claim(item, section, here):
                return []
        self.instrument_triggers(found)
        return items

    def instrument(self, name: str, here: YamlPath) -> Instrument | None:
        found = instruments.BY_ID.get(name)
        if found is None:
            close = difflib.get_close_matches(name, list(instruments.BY_ID), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            self.reporter.at(
                here,
                f"there is no standard instrument '{name}'; {hint}the package has: "
                f"{', '.join(instruments.BY_ID)}",
            )
            return None
        tampered = instruments.altered(found)
        if tampered:
            self.reporter.at(
                here,
                f"the package's {found.name} is not the published instrument ({tampered}); "
                "restore questions/instruments.py from the release: an instrument's wording, "
                "items and scale are never edited",
            )
            return None
        return found

    def instrument_triggers(self, found: Instrument) -> None:
        if found.id == instruments.PHQ9.id:
            # PHQ-9 item 9 above "Not at all" shows crisis help at once (ITEMS.md, 11).
            self.crisis[instruments.PHQ9_ITEM9] = frozenset(instruments.PHQ9.codes[1:])

    # --- items --------------------------------------------------------------------

    def claim(self, item: Item, section: str, here: YamlPath) -> bool:
        if item.id in self.items:
            first = self.item_path[item.id]
            line = self.reporter.document.line_of(first) if self.reporter.document else None
            self.reporter.at(
                here,
                f"item id '{item.id}' is used twice (first on line {line}); every item needs "
                "its own id (an instrument's items are named after it: phq9_1, phq9_2, ...)",
            )
            return False
        self.items[item.id] = item
        self.item_path[item.id] = here
        self.section_of[item.id] = section
        return True

    def item(self, spec: ItemSpec, section: str, here: YamlPath) -> Item | None:
        kind = Kind(spec.kind)
        choices = self.choices(spec, kind, here)
        for name in instruments.BY_ID.values():
            if spec.id in name.item_ids:
                self.reporter.at(
                    (*here, "id"),
                    f"'{spec.id}' is item of {name.name}, whose words are kept in the package; "
                    f"include the instrument by name (instrument: {name.id}) instead",
                )
                return None
        label = self.text(spec.label, (*here, "label"))
        hint = self.text(spec.hint, (*here, "hint"))
        french_exempt = ""
        screener = spec.screener
        if spec.cssrs is not None:
            published = cssrs.ITEMS.get(spec.cssrs)
            if published is None:
                self.reporter.at(
                    (*here, "cssrs"),
                    f"there is no C-SSRS screener item '{spec.cssrs}'; the package has: "
                    f"{', '.join(cssrs.ITEMS)}",
                )
                return None
            if spec.id != spec.cssrs:
                self.reporter.at((*here, "id"), f"a C-SSRS item keeps its id: id: {spec.cssrs}")
                return None
            label, hint = published.text, published.examples
            french_exempt, screener = instruments.NO_OFFICIAL_FRENCH, True
        screener_label = ""
        if spec.screener_wording is not None:
            published = cssrs.ITEMS.get(spec.screener_wording)
            if published is None:
                self.reporter.at(
                    (*here, "screener_wording"),
                    f"there is no C-SSRS screener item '{spec.screener_wording}'",
                )
                return None
            screener_label = published.text
        if kind in (Kind.CHOICE, Kind.MULTI) and not choices:
            self.reporter.at(here, f"a {kind.value} item needs choices: (each a code and label)")
        if kind not in (Kind.CHOICE, Kind.MULTI) and choices:
            self.reporter.at(
                (*here, "choices"), f"a {kind.value} item has no choices; remove choices:"
            )
        for other in (spec.required_with, spec.unit_of):
            if other is not None and other not in self.items:
                self.reporter.at(
                    here,
                    f"'{other}' is not an item asked before '{spec.id}'; name an earlier item",
                )
        codes = {choice.code for choice in choices}
        shows = frozenset(spec.shows_crisis_help)
        if shows - codes:
            self.reporter.at(
                (*here, "shows_crisis_help"),
                f"'{spec.id}' has no answer {', '.join(sorted(shows - codes))}; use its codes: "
                f"{', '.join(sorted(codes))}",
            )
        error = self.text(spec.error, (*here, "error"))
        if spec.required and kind is not Kind.CONSENT and not error and spec.cssrs is None:
            self.reporter.at(
                here,
                f"required item '{spec.id}' needs error: (the message when it is left "
                "unanswered, e.g. 'Select yes if ...' or 'Enter your ...')",
            )
        item = Item(
            id=spec.id,
            label=label,
            kind=kind,
            required=spec.required,
            hint=hint,
            choices=choices,
            max_length=spec.max_length,
            min_choices=spec.min_choices,
            asked_when=self.asked_when(spec.asked_when, section, (*here, "asked_when")),
            required_with=spec.required_with,
            autocomplete=spec.autocomplete,
            short_label=self.text(spec.short_label, (*here, "short_label")),
            parser=PARSERS[spec.parser] if spec.parser else None,
            unit_of=spec.unit_of,
            role=Role(spec.role) if spec.role else None,
            error=error,
            french_exempt=french_exempt,
            screener=screener,
            screener_label=screener_label,
            screener_asked_when=self.asked_when(
                spec.screener_asked_when, section, (*here, "screener_asked_when")
            ),
            screener_required=spec.screener_required,
        )
        if not self.claim(item, section, here):
            return None
        if shows:
            self.crisis[item.id] = shows
        return item

    def choices(self, spec: ItemSpec, kind: Kind, here: YamlPath) -> tuple[Choice, ...]:
        choices = []
        seen: set[str] = set()
        for index, choice in enumerate(spec.choices):
            at = (*here, "choices", index)
            if choice.code in seen:
                self.reporter.at(
                    (*at, "code"),
                    f"answer code '{choice.code}' is used twice in '{spec.id}'; give each "
                    "answer its own code",
                )
                continue
            seen.add(choice.code)
            choices.append(Choice(choice.code, self.text(choice.label, (*at, "label"))))
        del kind
        return tuple(choices)

    def asked_when(
        self, spec: AskedWhenSpec | None, section: str, here: YamlPath
    ) -> AskedWhen | None:
        if spec is None:
            return None
        hint = self.text(spec.hint, (*here, "hint"))
        fields = {
            item.id: Field(item.id, "item", item.kind.traits.rule_field, frozenset(item.codes))
            for item in self.items.values()
        }
        before = len(self.reporter.problems)

        def report(path: YamlPath, message: str) -> None:
            self.reporter.at((*here, "when", *path), message)

        check_condition(spec.when, (), fields, {}, report)
        if len(self.reporter.problems) > before:
            if any("there is no item" in p.message for p in self.reporter.problems[before:]):
                self.reporter.at(
                    (*here, "when"),
                    "a question can depend only on an item asked before it (earlier on "
                    "the same page, or on an earlier page)",
                )
            return None
        shape = _simple(spec.when)
        if shape is None:
            self.reporter.at(
                (*here, "when"),
                "asked_when: can be one comparison on one earlier item (equals, one_of or "
                "includes_any), or any: of that and answered: false on the same item; "
                "the page cannot hide a question on anything else yet",
            )
            return None
        name, codes, unanswered = shape
        return AskedWhen(
            item=name,
            one_of=frozenset(codes),
            hint=hint,
            on_page=self.section_of.get(name) == section,
            unanswered=unanswered,
        )

    # --- words --------------------------------------------------------------------

    def text(self, texts: Mapping[str, str] | None, here: YamlPath) -> str:
        if texts is None:
            return ""
        missing = sorted(self.languages - set(texts))
        if missing:
            self.reporter.at(
                here,
                f"the text has no {', '.join(missing)} version; write it in every language "
                f"of LANGUAGES ({', '.join(sorted(self.languages))})",
            )
        english = texts.get(SOURCE, "")
        for language, words in texts.items():
            if language == SOURCE:
                continue
            known = self.texts.setdefault(language, {})
            if english in known and known[english] != words:
                first = self.text_path[(language, english)]
                line = self.reporter.document.line_of(first) if self.reporter.document else None
                self.reporter.at(
                    (*here, language),
                    f"the English text {english!r} is translated differently on line {line}; "
                    "the same words must read the same way everywhere: make them match, or "
                    "change the English",
                )
                continue
            known[english] = words
            self.text_path.setdefault((language, english), (*here, language))
        return english


#: What each role's item is, for the message that asks for one.
ROLE_WORDS = {
    Role.DATE_OF_BIRTH: "the patient's date of birth",
    Role.CRISIS: "the question about thoughts of ending one's life right now",
    Role.PRIVACY_CONSENT: "the privacy consent tick box",
    Role.UNDERSTANDS_REVIEW: "the tick box saying a clinician will read the answers",
    Role.CONTACT: "how the clinic reaches the patient",
}


def _simple(condition: Any) -> tuple[str, list[str], bool] | None:
    """Return (item, codes, also when unanswered) of a condition the page can show and hide."""
    if isinstance(condition, Leaf) and condition.item is not None:
        operator, operand = condition.operator
        if operator == "equals" and isinstance(operand, str):
            return condition.item, [operand], False
        if operator in ("one_of", "includes_any"):
            return condition.item, [str(code) for code in operand], False
        return None
    if isinstance(condition, AnyOf) and len(condition.conditions) == 2:
        first, second = condition.conditions
        shape = _simple(first)
        if (
            shape is not None
            and isinstance(second, Leaf)
            and second.item == shape[0]
            and second.operator == ("answered", False)
        ):
            return shape[0], shape[1], True
    return None
