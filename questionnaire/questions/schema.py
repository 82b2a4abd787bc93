"""The shape of a questionnaire definition (forms/intake.yaml), as pydantic models.

Conditions are the rule table's own (rules/schema.py): one grammar for "asked when"
and for "flag when". Texts are mappings of a locale id (as in LANGUAGES: en, fr_CA)
to the words in that language; every configured language must be present.
Standard instruments are named, never written out: their wording is in the package.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    Tag,
    model_validator,
)

from questionnaire.rules.schema import Condition

ITEM_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: Answer codes: ITEMS.md's codes include "CA-AB", "0" and "3_plus".
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

KINDS = ("text", "long_text", "email", "phone", "date", "number", "choice", "multi", "consent")
ROLES = ("date_of_birth", "crisis", "privacy_consent", "understands_review", "contact")
PARSERS = ("weight", "blood_pressure")


def _item_id(value: str) -> str:
    if not ITEM_ID.match(value):
        raise ValueError(
            f"id '{value}' must start with a lower-case letter and hold only lower-case "
            "letters, digits and _ (e.g. 'ride_home')"
        )
    return value


def _code(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f'must be text; write {value!r} in quotes, as "{value}"')
    if not CODE.match(value):
        raise ValueError(
            f"answer code '{value}' must hold only letters, digits, _ and - (e.g. 'not_sure')"
        )
    return value


def _texts(value: dict[str, str]) -> dict[str, str]:
    for language, text in value.items():
        if not text.strip():
            raise ValueError(f"the {language} text is empty; write the words or remove the key")
    return value


ItemId = Annotated[str, AfterValidator(_item_id)]
Code = Annotated[Any, AfterValidator(_code)]
#: The same words in each language: {en: Yes, fr_CA: Oui}.
Texts = Annotated[dict[str, str], AfterValidator(_texts)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceSpec(_Strict):
    """One answer: its code (stored, named by rules) and its words."""

    code: Code
    label: Texts


class AskedWhenSpec(_Strict):
    """When an item or page is asked: a condition on an earlier item, in the rules' language."""

    when: Condition
    #: Shown beside the question when the page cannot hide it (no JavaScript).
    hint: Texts | None = None


class ItemSpec(_Strict):
    """One question, written out in full."""

    id: Annotated[str, AfterValidator(_item_id)]
    kind: Literal[
        "text", "long_text", "email", "phone", "date", "number", "choice", "multi", "consent"
    ]
    #: Absent only for a C-SSRS screener item (`cssrs:`), whose words are the package's.
    label: Texts | None = None
    hint: Texts | None = None
    short_label: Texts | None = None
    error: Texts | None = None
    choices: list[ChoiceSpec] = Field(default_factory=list)
    required: StrictBool = True
    max_length: Annotated[StrictInt, Field(gt=0, le=100_000)] | None = None
    min_choices: Annotated[StrictInt, Field(ge=0)] = 0
    asked_when: AskedWhenSpec | None = None
    #: Required only when this other item is answered (a unit beside a number).
    required_with: ItemId | None = None
    #: A unit chosen beside another item's number.
    unit_of: ItemId | None = None
    autocomplete: str | None = None
    parser: Literal["weight", "blood_pressure"] | None = None
    role: (
        Literal["date_of_birth", "crisis", "privacy_consent", "understands_review", "contact"]
        | None
    ) = None
    #: Answers that show crisis help at once (the crisis item must have yes among them).
    shows_crisis_help: list[Code] = Field(default_factory=list)
    #: A C-SSRS screener item by its id: asked with the screener on, in its published words.
    cssrs: str | None = None
    #: False: the clinic's plain item asked only with the screener off.
    screener: StrictBool | None = None
    #: With the screener on, asked in this C-SSRS item's published words.
    screener_wording: str | None = None
    screener_asked_when: AskedWhenSpec | None = None
    screener_required: StrictBool | None = None

    @model_validator(mode="after")
    def _words(self) -> ItemSpec:
        if self.cssrs is None and self.label is None:
            raise ValueError(f"item '{self.id}' needs label: (its question, in each language)")
        if self.cssrs is not None and (self.label is not None or self.hint is not None):
            raise ValueError(
                f"item '{self.id}' is the C-SSRS item '{self.cssrs}': its words are the "
                "published ones, kept in the package; remove label: and hint:"
            )
        return self


class InstrumentItemsSpec(_Strict):
    """A standard instrument's items on a page with others, included by name (AUDIT-C)."""

    instrument: str


def _entry_tag(value: Any) -> str:
    # Route on the key that says what the entry is, so the errors are that shape's alone.
    if isinstance(value, InstrumentItemsSpec):
        return "instrument"
    if isinstance(value, dict) and "instrument" in value and "id" not in value:
        return "instrument"
    return "item"


#: An entry of a page's items: a question, or an instrument's items included by name.
ItemEntry = Annotated[
    Annotated[ItemSpec, Tag("item")] | Annotated[InstrumentItemsSpec, Tag("instrument")],
    Discriminator(_entry_tag),
]


class SectionSpec(_Strict):
    """One page: its own items, or a standard instrument included by name."""

    id: Annotated[str, AfterValidator(_item_id)]
    title: Texts
    intro: Texts | None = None
    #: "edges": asked on the start page and the last step, not a page of its own.
    placement: Literal["page", "edges"] = "page"
    #: A standard instrument by name (phq9, gad7, pcl5): its page, in its own words.
    instrument: str | None = None
    #: With instrument: when the whole page is asked.
    asked_when: AskedWhenSpec | None = None
    items: list[ItemEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _own_or_instrument(self) -> SectionSpec:
        if self.instrument is not None and self.items:
            raise ValueError(
                f"page '{self.id}' includes the instrument '{self.instrument}', whose items are "
                "kept word for word in the package; remove items: (an instrument cannot be "
                "edited, only included by name)"
            )
        if self.instrument is None and not self.items:
            raise ValueError(f"page '{self.id}' has no items; add items: or instrument:")
        if self.instrument is None and self.asked_when is not None:
            raise ValueError(
                f"page '{self.id}': asked_when: belongs on each item, not on the page "
                "(only an instrument's page is asked as a whole)"
            )
        return self


class DefinitionSpec(_Strict):
    """A whole questionnaire definition file."""

    #: The questionnaire's name (intake).
    questionnaire: Annotated[str, AfterValidator(_item_id)]
    #: Derived facts rules may use, by name (facts.py knows how each is derived).
    facts: list[str] = Field(default_factory=list)
    sections: Annotated[list[SectionSpec], Field(min_length=1)]


#: Every key the format knows, for "did you mean" suggestions on unexpected keys.
KNOWN_KEYS: frozenset[str] = frozenset(
    set(ItemSpec.model_fields)
    | set(SectionSpec.model_fields)
    | set(ChoiceSpec.model_fields)
    | set(AskedWhenSpec.model_fields)
    | set(DefinitionSpec.model_fields)
    | {"item", "fact", "all", "any", "not", "equals", "one_of", "includes_any", "answered"}
)
