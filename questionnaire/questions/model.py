"""The questionnaire's vocabulary: answer kinds, roles, items, sections and facts.

Pure data types, no Flask, no database: a definition file (forms/intake.yaml) is
built into these (questions/definition.py), and every page, export and rule check
reads them through questions/catalogue.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from questionnaire.rules.vocabulary import FieldKind


class Kind(StrEnum):
    """How an item is answered, which decides its widget and its stored type."""

    TEXT = "text"  # one line of text
    LONG_TEXT = "long_text"  # a paragraph (a textarea)
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"  # stored as YYYY-MM-DD
    NUMBER = "number"  # stored as a float
    CHOICE = "choice"  # one answer code
    MULTI = "multi"  # a list of answer codes, possibly empty
    CONSENT = "consent"  # a single tick box, stored as True

    @property
    def traits(self) -> KindTraits:
        """Return what this kind decides everywhere it is used."""
        return KIND_TRAITS[self]


@dataclass(frozen=True, slots=True)
class KindTraits:
    """Everything an answer kind decides, in one place: adding a kind is one entry below."""

    #: The form widget: "text", "textarea", "choice" (radios, a list past 8), "multi", "tick".
    widget: str
    #: The type a rule sees.
    rule_field: FieldKind
    #: The FHIR Questionnaire item type.
    fhir_type: str
    #: The FHIR answer element (valueCoding for coded kinds).
    fhir_value: str
    #: How the value is stored, read out and written to CSV: "text", "number", "date",
    #: "code", "codes" (a list) or "tick" (True).
    value: str


KIND_TRAITS: dict[Kind, KindTraits] = {
    Kind.TEXT: KindTraits("text", FieldKind.TEXT, "string", "valueString", "text"),
    Kind.LONG_TEXT: KindTraits("textarea", FieldKind.TEXT, "text", "valueString", "text"),
    Kind.EMAIL: KindTraits("text", FieldKind.TEXT, "string", "valueString", "text"),
    Kind.PHONE: KindTraits("text", FieldKind.TEXT, "string", "valueString", "text"),
    Kind.DATE: KindTraits("text", FieldKind.DATE, "date", "valueDate", "date"),
    Kind.NUMBER: KindTraits("text", FieldKind.NUMBER, "decimal", "valueDecimal", "number"),
    Kind.CHOICE: KindTraits("choice", FieldKind.CODE, "choice", "valueCoding", "code"),
    Kind.MULTI: KindTraits("multi", FieldKind.CODES, "choice", "valueCoding", "codes"),
    Kind.CONSENT: KindTraits("tick", FieldKind.FLAG, "boolean", "valueBoolean", "tick"),
}


class Role(StrEnum):
    """What an item is for, where code outside the catalogue needs to find it."""

    DATE_OF_BIRTH = "date_of_birth"  # checked before a saved draft reopens
    CRISIS = "crisis"  # a crisis answer shows crisis help at once
    PRIVACY_CONSENT = "privacy_consent"  # ticked on the start page before anything is stored
    UNDERSTANDS_REVIEW = "understands_review"  # ticked on the last step before sending
    CONTACT = "contact"  # how the clinic reaches the patient (name, email, phone)


@dataclass(frozen=True, slots=True)
class Choice:
    """One answer code and the words a patient sees for it."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class AskedWhen:
    """The condition under which a conditional item is asked (and required)."""

    item: str
    one_of: frozenset[str]
    #: Shown beside the question when the page cannot hide it (no JavaScript).
    hint: str
    #: Whether the item it depends on is on the same page (the page hides or shows the
    #: question); False when it was answered on an earlier page, so the whole page is
    #: skipped when the condition does not hold (see section_is_asked).
    on_page: bool = True
    #: Also asked while the item it depends on has no answer (that item may be skipped:
    #: alcohol_can_pause is asked unless AUDIT-C item 1 says "Never").
    unanswered: bool = False

    def holds(self, value: Any) -> bool:
        """Return whether an answer to the item it depends on asks this one (any of a list)."""
        if value is None and self.unanswered:
            return True
        if isinstance(value, list | tuple):
            return any(entry in self.one_of for entry in value)
        return value in self.one_of


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One question."""

    id: str
    label: str
    kind: Kind
    required: bool = True
    hint: str = ""
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    #: For multi-choice items: the least number of boxes to tick.
    min_choices: int = 0
    asked_when: AskedWhen | None = None
    #: Required only when this other item is answered (a unit beside a number).
    required_with: str | None = None
    #: The browser's autocomplete token, so phones can fill it in.
    autocomplete: str | None = None
    #: A short name for the answer on summary pages and in exports.
    short_label: str = ""
    #: Turns typed text into the stored value (the kind's default when None).
    parser: Callable[[str], Any] | None = None
    #: A unit chosen beside another item's number: shown with it, e.g. "70 kg".
    unit_of: str | None = None
    #: What the item is for, when other code must find it (see Role).
    role: Role | None = None
    #: The message when an answer is needed and none was given. It names the question, in
    #: the GOV.UK pattern for its kind: "Select yes if ...", "Select ...", "Enter your ...",
    #: "Select to confirm that ...". Every item that can be required has one.
    error: str = ""
    #: The standard instrument the item belongs to (instruments.py), if any: its wording
    #: is the instrument's own, never paraphrased, and its answer code is its score.
    instrument: str | None = None
    #: A documented exemption from the French completeness test (README, "Languages"):
    #: why the item is shown in English on French pages. Empty for every other item.
    french_exempt: str = ""
    #: The C-SSRS screener setting this item belongs to (CSSRS_SCREENER_ENABLED): True for a
    #: screener item, False for the clinic's plain item asked in its place, None for both.
    screener: bool | None = None
    #: With the screener on: the screener's own wording (same id, same codes, same flag).
    screener_label: str = ""
    screener_hint: str = ""
    #: With the screener on: the screener's skip logic, where it differs from asked_when.
    screener_asked_when: AskedWhen | None = None
    #: With the screener on: whether an answer is needed when asked (None: as `required`).
    screener_required: bool | None = None

    @property
    def can_be_required(self) -> bool:
        """Return whether an answer can ever be needed (always, by condition, or with another)."""
        return (
            self.required
            or bool(self.screener_required)
            or self.required_with is not None
            or self.min_choices > 0
        )

    @property
    def codes(self) -> tuple[str, ...]:
        """Return the answer codes this item offers, in display order."""
        return tuple(choice.code for choice in self.choices)

    def choice_label(self, code: str) -> str:
        """Return the patient-facing words for one answer code."""
        for choice in self.choices:
            if choice.code == code:
                return choice.label
        raise KeyError(f"{code!r} is not an answer code of {self.id}")


@dataclass(frozen=True, slots=True)
class Section:
    """One page of the questionnaire."""

    id: str
    title: str
    intro: str
    items: tuple[Item, ...]
    #: Where the section's items are asked: its own page, the start page or the last step.
    placement: str = "page"
    #: The standard instrument the page asks (instruments.py), if any.
    instrument: str | None = None
    #: The instrument's own question stem, shown above its items.
    stem: str = ""
    #: Why the stem stays English on French pages (see Item.french_exempt), if it does.
    french_exempt: str = ""


@dataclass(frozen=True, slots=True)
class Fact:
    """A typed value derived from answers, visible to rules."""

    id: str
    label: str
    #: The items it is derived from (shown as evidence beside it).
    derived_from: tuple[str, ...]
    #: The codes of a fact that is a code, not a number (cssrs_risk); empty for a number.
    codes: tuple[str, ...] = ()
