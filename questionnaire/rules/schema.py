"""The shape of a rules.yaml file, as pydantic models that reject anything unexpected."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StrictBool,
    Tag,
    model_validator,
)

from questionnaire.rules.vocabulary import RULES_ERROR

RULE_ID = re.compile(r"^[a-z][a-z0-9_]*$")

#: The operators a leaf condition may use, in the order error messages list them.
OPERATORS: tuple[str, ...] = (
    "equals",
    "one_of",
    "includes_any",
    "at_least",
    "at_most",
    "answered",
    "mentions",
)

#: The longest short name a rule may have: it sits in a queue row beside others.
SHORT_MAX = 40

#: The contexts a mention of a medicine is read in (ITEMS.md 14.1), besides plain.
CONTEXT_NAMES: tuple[str, ...] = ("negated", "historical", "other_person", "allergy")
#: What `context:` may say on a mentions condition: plain (named as taken, the default),
#: only_in_context (named, but never as taken), or one context by name.
MentionContext = Literal[
    "plain", "only_in_context", "negated", "historical", "other_person", "allergy"
]
ContextName = Literal["negated", "historical", "other_person", "allergy"]

CONDITION_HELP = "a condition needs item: or fact: with one operator, or all:/any:/not:"


def _scalar(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        return value
    raise ValueError("must be a single value: text, a number, true or false")


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("must be a number, such as 35 or 1.5")
    return value


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty; write some text")
    return value


def _rule_id(value: str) -> str:
    if not RULE_ID.match(value):
        raise ValueError(
            f"rule id '{value}' must start with a lower-case letter and hold only "
            "lower-case letters, digits and _ (e.g. 'heart_condition')"
        )
    if value == RULES_ERROR:
        raise ValueError(
            f"rule id '{RULES_ERROR}' is reserved for the engine's own errors; choose another id"
        )
    return value


def _raw_answer(value: Any) -> Any:
    # Raw answers are what a browser posts; YAML may give numbers, dates and booleans,
    # which cases.py turns into strings. Nested mappings have no meaning here.
    allowed = str | bool | int | float | date | datetime
    if value is None or isinstance(value, allowed):
        return value
    if isinstance(value, list) and all(isinstance(entry, allowed) for entry in value):
        return value
    raise ValueError(
        "an answer must be text, a number, a date, true/false, a list of those, "
        "or null to remove the baseline's answer"
    )


Scalar = Annotated[Any, AfterValidator(_scalar)]
Number = Annotated[Any, AfterValidator(_number)]
Text = Annotated[str, AfterValidator(_nonblank)]
RawAnswer = Annotated[Any, AfterValidator(_raw_answer)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Leaf(_Strict):
    """A comparison on one item or fact: exactly one of item/fact, exactly one operator."""

    item: str | None = None
    fact: str | None = None
    equals: Scalar = None
    one_of: Annotated[list[Scalar], Field(min_length=1)] | None = None
    includes_any: Annotated[list[str], Field(min_length=1)] | None = None
    at_least: Number = None
    at_most: Number = None
    answered: StrictBool | None = None
    mentions: str | None = None
    #: With mentions: which mentions count (MENTION_CONTEXTS); plain, as taken, by default.
    context: MentionContext | None = None

    @model_validator(mode="after")
    def _one_name_one_operator(self) -> Leaf:
        if self.item is not None and self.fact is not None:
            raise ValueError("name either item: or fact:, not both")
        if self.item is None and self.fact is None:
            raise ValueError(CONDITION_HELP)
        used = [name for name in OPERATORS if name in self.model_fields_set]
        if not used:
            raise ValueError(
                f"the condition on '{self.name}' needs one operator: {', '.join(OPERATORS)}"
            )
        if len(used) > 1:
            raise ValueError(
                f"the condition on '{self.name}' has {len(used)} operators ({', '.join(used)}); "
                "use one per condition and combine them with all:"
            )
        if getattr(self, used[0]) is None:
            raise ValueError(f"'{used[0]}' needs a value")
        if self.context is not None and used[0] != "mentions":
            raise ValueError(
                "context: applies only to mentions: (which mentions of a term list count); "
                "remove it or use mentions:"
            )
        return self

    @property
    def source(self) -> Literal["item", "fact"]:
        """Return whether this leaf names an item or a fact."""
        return "item" if self.item is not None else "fact"

    @property
    def name(self) -> str:
        """Return the item or fact name this leaf looks at."""
        return self.item if self.item is not None else (self.fact or "")

    @property
    def operator(self) -> tuple[str, Any]:
        """Return the single operator this leaf uses, and its operand."""
        for name in OPERATORS:
            if name in self.model_fields_set:
                return name, getattr(self, name)
        raise AssertionError("a validated leaf always has an operator")


class AllOf(_Strict):
    """True when every condition is true."""

    conditions: list[Condition] = Field(alias="all", min_length=1)


class AnyOf(_Strict):
    """True when at least one condition is true."""

    conditions: list[Condition] = Field(alias="any", min_length=1)


class Not(_Strict):
    """True when its condition is false."""

    condition: Condition = Field(alias="not")


def _condition_tag(value: Any) -> str | None:
    # Route on the key that says what kind of condition this is, so pydantic reports the
    # errors of that one shape instead of every shape's errors at once.
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return key
        if "item" in value or "fact" in value:
            return "leaf"
        return None
    if isinstance(value, Leaf):
        return "leaf"
    if isinstance(value, AllOf):
        return "all"
    if isinstance(value, AnyOf):
        return "any"
    if isinstance(value, Not):
        return "not"
    return None


Condition = Annotated[
    Annotated[Leaf, Tag("leaf")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")],
    Discriminator(
        _condition_tag, custom_error_type="condition", custom_error_message=CONDITION_HELP
    ),
]


Level = Literal["urgent", "review", "info"]


class EscalateSpec(_Strict):
    """A higher level for the same flag, under a further condition (read only when the rule holds)."""

    level: Level
    when: Condition
    #: The step's own words; the rule's when absent.
    short: Annotated[Text, Field(max_length=SHORT_MAX)] | None = None
    message: Text | None = None


class RuleSpec(_Strict):
    """One rule as written."""

    id: Annotated[str, AfterValidator(_rule_id)]
    level: Level
    when: Condition
    message: Text
    source: Text
    #: A few words the queue shows for the flag (e.g. "BP ≥ 180/120"); the id when absent.
    short: Annotated[Text, Field(max_length=SHORT_MAX)] | None = None
    #: Higher levels of the same flag, each with its condition, lowest first.
    escalate: Annotated[list[EscalateSpec], Field(min_length=1)] | None = None


class RetiredSpec(_Strict):
    """A rule id no longer raised: stored flags keep it, and no rule may take it again."""

    id: Annotated[str, AfterValidator(_rule_id)]
    #: The table version in which it stopped being raised.
    retired: Text
    #: What raises the same observation now.
    replaced_by: Text


class BaselineSpec(_Strict):
    """The complete answer set every case starts from."""

    as_of: date
    answers: dict[str, RawAnswer]


class CaseSpec(_Strict):
    """One worked example: overrides on the baseline and the flags they must raise."""

    name: Text
    as_of: date | None = None
    answers: dict[str, RawAnswer] = Field(default_factory=dict)
    #: Rule ids (at their base level), or {rule_id: level} for an escalated flag.
    expect: list[str | dict[str, Level]]

    def expected(self) -> dict[str, str | None]:
        """Return each expected rule id and its level (None: the rule's base level)."""
        found: dict[str, str | None] = {}
        for entry in self.expect:
            if isinstance(entry, str):
                found[entry] = None
            else:
                found.update(entry)
        return found


class ExactTerm(_Strict):
    """A term that must be written exactly: no near misses (e.g. `{exact: Doral}`)."""

    exact: str


class KindTerm(_Strict):
    """A class word (`{class: sleeping pills}`) or a street name (`{street: percs}`, exact only)."""

    kind: Literal["class", "street"]
    term: str


def _term_entry(value: Any) -> str | ExactTerm | KindTerm:
    # One message for a wrong entry, not one per shape a term may take.
    if isinstance(value, str | ExactTerm | KindTerm):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((key, text),) = value.items()
        if isinstance(text, str) and key == "exact":
            return ExactTerm(exact=text)
        if isinstance(text, str) and key in ("class", "street"):
            return KindTerm(kind=key, term=text)
    raise ValueError(
        "must be text (put the value in quotes), {exact: text} for a term that must be "
        "written exactly, {class: text} for a class word or {street: text} for a street name"
    )


def term_text(entry: str | ExactTerm | KindTerm) -> str:
    """Return a term list entry's text, whatever its mark."""
    if isinstance(entry, ExactTerm):
        return entry.exact
    if isinstance(entry, KindTerm):
        return entry.term
    return entry


#: A term list's entry: a term, or a term marked exact, a class word or a street name.
TermEntry = Annotated[str | ExactTerm | KindTerm, PlainValidator(_term_entry)]


class TriggerLists(_Strict):
    """The phrases that open one context: before the mention (pre) and after it (post)."""

    pre: list[Text] = Field(default_factory=list)
    post: list[Text] = Field(default_factory=list)


class TerminatorSpec(_Strict):
    """Words that end the scopes of the contexts named in `ends`."""

    ends: Annotated[list[ContextName], Field(min_length=1)]
    words: Annotated[list[Text], Field(min_length=1)]


def _default_precedence() -> list[ContextName]:
    return ["other_person", "allergy", "negated", "historical"]


class ContextSpec(_Strict):
    """How free text is read in context (ITEMS.md 14.1): triggers, pseudo-triggers, terminators."""

    #: Where scopes overlap, the first context listed wins.
    precedence: list[ContextName] = Field(default_factory=_default_precedence)
    negated: TriggerLists = Field(default_factory=TriggerLists)
    historical: TriggerLists = Field(default_factory=TriggerLists)
    other_person: TriggerLists = Field(default_factory=TriggerLists)
    allergy: TriggerLists = Field(default_factory=TriggerLists)
    #: Phrases that contain a trigger but negate nothing ("no side effects").
    pseudo: list[Text] = Field(default_factory=list)
    #: Words that negate only what follows them directly ("didn't" in "didn't stop"): they
    #: open no scope, but cancel a past-use trigger right after them.
    negators: list[Text] = Field(default_factory=list)
    terminators: list[TerminatorSpec] = Field(default_factory=list)


class TableSpec(_Strict):
    """A whole rules.yaml file."""

    version: Text
    lexicons: dict[str, list[TermEntry]] = Field(default_factory=dict)
    #: Term lists of medicines (and words) that no rule flags: written exactly, they win.
    known: list[str] = Field(default_factory=list)
    #: How a mention's context is read; absent, every mention is plain.
    context: ContextSpec | None = None
    rules: Annotated[list[RuleSpec], Field(min_length=1)]
    #: Rule ids no longer raised (stored flags keep them; no rule may reuse one).
    retired: list[RetiredSpec] = Field(default_factory=list)
    baseline: BaselineSpec
    cases: list[CaseSpec] = Field(default_factory=list)


AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()
EscalateSpec.model_rebuild()
RuleSpec.model_rebuild()
TableSpec.model_rebuild()

#: Every key the format knows, for "did you mean" suggestions on unexpected keys.
KNOWN_KEYS: frozenset[str] = frozenset(
    {"item", "fact", "all", "any", "not", "exact", "class", "street", "context", *OPERATORS}
    | set(ContextSpec.model_fields)
    | set(TriggerLists.model_fields)
    | set(TerminatorSpec.model_fields)
    | set(RuleSpec.model_fields)
    | set(EscalateSpec.model_fields)
    | set(RetiredSpec.model_fields)
    | set(BaselineSpec.model_fields)
    | set(CaseSpec.model_fields)
    | set(TableSpec.model_fields)
)
