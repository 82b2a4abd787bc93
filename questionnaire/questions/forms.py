"""WTForms classes derived from items.py, and the one entry point that validates a questionnaire.

The web pages, the CLI and the rule-table cases all validate answers here, so a
value the web would refuse can never reach the rules by another door.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

import wtforms
from werkzeug.datastructures import MultiDict
from wtforms import validators as v

from questionnaire.questions import catalogue
from questionnaire.questions.catalogue import Item, Kind, Section
from questionnaire.questions.text import checked_email, has_control
from questionnaire.questions.wording import N_, Phrase

PHONE_CHARS = set("0123456789 +-().extEXT")
HIDDEN_CHARACTER = N_(
    "This answer has a hidden character we cannot save. Type it again, then continue."
)
NOT_OFFERED = N_("Choose one of the answers shown.")
EMAIL_EXAMPLE = N_("Enter an email address like name@example.com.")
PHONE_EXAMPLE = N_("Enter a phone number like 416 555 0123, or leave it blank.")
#: The phone is needed once the patient agreed the clinic may call them if they are in danger.
PHONE_FOR_CONTACT = N_(
    "Enter a phone number. At the start you agreed that the clinic may contact you if your "
    "answers say you may be in danger: we need a number to call you."
)

FormValidator = Callable[[wtforms.Form, wtforms.Field], None]


def _required_message(item: Item) -> str:
    """Return the item's own message for a missing answer, which names the question."""
    if not item.error:
        # Caught when the form is built, so a new item cannot ship with a vague message.
        raise ValueError(f"item {item.id} can be required but has no error message")
    return item.error


def _message(error: ValueError) -> str:
    """Return a parser's message as raised (a marked string or a Phrase), not str() of it."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, str) else str(error)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def _other_value(form: wtforms.Form, name: str) -> Any:
    """Return another item's answer: from this form, else from answers already given."""
    if name in form._fields:
        return form[name].data
    context: Mapping[str, Any] = getattr(form, "context", {})
    return context.get(name)


def _requirement(item: Item) -> FormValidator:
    """Require an answer when the item is required, or when its condition holds."""
    message = _required_message(item) if item.can_be_required else ""

    def check(form: wtforms.Form, fld: wtforms.Field) -> None:
        needed = item.required
        if item.asked_when is not None:
            # Asked (and then needed, if the item is required) only when its condition holds.
            needed = item.required and item.asked_when.holds(
                _other_value(form, item.asked_when.item)
            )
        if item.required_with is not None:
            needed = not _is_empty(_other_value(form, item.required_with))
        if _is_empty(fld.data):
            if item.kind is Kind.PHONE and getattr(form, "contact_consent", False):
                # The call-back the patient agreed to needs a number (set by the page's view).
                fld.errors[:] = []
                raise v.StopValidation(PHONE_FOR_CONTACT)
            if needed:
                fld.errors[:] = []
                raise v.StopValidation(message)
            # An optional item left blank: nothing more to check.
            fld.errors[:] = []
            raise v.StopValidation()

    return check


def _offered_codes(item: Item) -> FormValidator:
    codes = set(item.codes)
    too_few = _required_message(item) if item.min_choices else ""

    def check(form: wtforms.Form, fld: wtforms.Field) -> None:
        chosen = fld.data if isinstance(fld.data, list) else [fld.data]
        if any(code not in codes for code in chosen):
            raise v.ValidationError(NOT_OFFERED)
        if item.kind is Kind.MULTI and len(chosen) < item.min_choices:
            raise v.ValidationError(too_few)

    return check


def _max_length(limit: int) -> FormValidator:
    def check(form: wtforms.Form, fld: wtforms.Field) -> None:
        if len(fld.data) > limit:
            raise v.ValidationError(
                Phrase(
                    N_("Use %(limit)s characters or fewer. You have used %(used)s."),
                    limit=limit,
                    used=len(fld.data),
                )
            )

    return check


def _parsed_by(parse: Callable[[str], object]) -> FormValidator:
    def check(form: wtforms.Form, fld: wtforms.Field) -> None:
        try:
            parse(fld.data)
        except ValueError as error:
            raise v.ValidationError(_message(error)) from None

    return check


def _date_of_birth(form: wtforms.Form, fld: wtforms.Field) -> None:
    today: date = getattr(form, "today", None) or date.today()
    if not isinstance(fld, DateParts) or fld.unsplit is not None:
        # One value that is not YYYY-MM-DD (the CLI, a rule-table case): say how to write it.
        try:
            catalogue.parse_date_of_birth(fld.data, today)
        except ValueError as error:
            raise v.ValidationError(_message(error)) from None
        return
    try:
        catalogue.parse_date_parts(**fld.parts, today=today, words=fld.words)
    except catalogue.DateProblem as problem:
        fld.error_parts = problem.parts
        raise v.ValidationError(problem.message) from None


def _email(form: wtforms.Form, fld: wtforms.Field) -> None:
    if fld.data and checked_email(fld.data) is None:
        raise v.ValidationError(EMAIL_EXAMPLE)


def _phone(form: wtforms.Form, fld: wtforms.Field) -> None:
    digits = sum(ch.isdigit() for ch in fld.data)
    if not set(fld.data) <= PHONE_CHARS or not 7 <= digits <= 20:
        raise v.ValidationError(PHONE_EXAMPLE)


def _plain_text(multiline: bool) -> FormValidator:
    def check(form: wtforms.Form, fld: wtforms.Field) -> None:
        if has_control(fld.data, multiline=multiline):
            raise v.ValidationError(HIDDEN_CHARACTER)

    return check


class _Consent(wtforms.BooleanField):
    """A tick box that counts only its own value ("y"): any other value is "not ticked"."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = bool(valuelist) and valuelist[0] == "y"


class _StrippedString(wtforms.StringField):
    """A text field that strips surrounding spaces and keeps '' for no answer."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = valuelist[0].strip() if valuelist else ""


class _StrippedTextArea(wtforms.TextAreaField):
    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = valuelist[0].strip() if valuelist else ""


_ISO_DATE = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})\s*")


def part_names(name: str) -> tuple[str, ...]:
    """Return the names a date's three inputs post: name-day, name-month and name-year."""
    return tuple(f"{name}-{part}" for part in catalogue.DATE_PARTS)


class DateParts(wtforms.Field):
    """A date asked as day, month and year (the GOV.UK memorable date), whose data is one date.

    It reads `<name>-day`, `<name>-month` and `<name>-year`; without them it reads `<name>`
    as YYYY-MM-DD, the stored form (a draft shown again, the CLI, a rule-table case). Its data
    is that date as YYYY-MM-DD once the parts make one, '' when nothing was typed, and
    otherwise the parts as typed (not empty, so the checks say what is wrong).
    """

    widget = wtforms.widgets.TextInput()

    def __init__(
        self, label: str, words: catalogue.DateWords = catalogue.DATE_OF_BIRTH_WORDS, **kwargs: Any
    ) -> None:
        super().__init__(label, **kwargs)
        #: This date's messages, whole sentences: "Date of birth must include a day".
        self.words = words
        self.parts: dict[str, str] = dict.fromkeys(catalogue.DATE_PARTS, "")
        #: A single value that is not YYYY-MM-DD, kept as it came.
        self.unsplit: str | None = None
        #: The parts to mark in error (all of them when the message is about the whole date).
        self.error_parts: tuple[str, ...] = ()

    def process(
        self,
        formdata: Any,
        data: Any = wtforms.utils.unset_value,
        extra_filters: Any = None,
    ) -> None:
        """Read the three parts (or one YYYY-MM-DD value) from what was posted."""
        self.process_errors: list[Any] = []
        self.parts = dict.fromkeys(catalogue.DATE_PARTS, "")
        self.unsplit = None
        self.error_parts = ()
        names = part_names(self.name)
        if formdata is not None and any(name in formdata for name in names):
            for part, name in zip(catalogue.DATE_PARTS, names, strict=True):
                self.parts[part] = formdata.get(name, "")
        elif formdata is not None and self.name in formdata:
            self._split(formdata.get(self.name, ""))
        elif isinstance(data, str):
            self._split(data)
        self.data = self._joined()

    def _split(self, value: str) -> None:
        match = _ISO_DATE.fullmatch(value)
        if match is None:
            self.unsplit = value.strip()
            return
        year, month, day = match.groups()
        self.parts = {"day": day.lstrip("0") or day, "month": month.lstrip("0") or month}
        self.parts["year"] = year

    def _joined(self) -> str:
        if self.unsplit is not None:
            return self.unsplit
        day, month, year = (self.parts[part].strip() for part in catalogue.DATE_PARTS)
        if not (day or month or year):
            return ""
        number = catalogue.month_number(month)
        if (
            len(year) == 4
            and year.isascii()
            and year.isdigit()
            and number is not None
            and day.isascii()
            and day.isdigit()
            and len(day) <= 2
        ):
            try:
                return date(int(year), number, int(day)).isoformat()
            except ValueError:
                pass
        return f"{year}-{month}-{day}"  # not a date: the checks say why

    def _value(self) -> str:
        return str(self.data or "")


def field_for(item: Item) -> wtforms.Field:
    """Return the unbound WTForms field that asks one item."""
    checks: list[FormValidator] = [_requirement(item)]
    label = item.label
    widget = item.kind.traits.widget
    if widget in ("choice", "multi"):
        checks.append(_offered_codes(item))
        choices = [wtforms.SelectChoice(c.code, c.label) for c in item.choices]
        if widget == "multi":
            return wtforms.SelectMultipleField(
                label, choices=choices, validators=checks, validate_choice=False
            )
        if len(choices) > 8:
            return wtforms.SelectField(
                label, choices=choices, validators=checks, validate_choice=False
            )
        return wtforms.RadioField(label, choices=choices, validators=checks, validate_choice=False)
    if widget == "tick":
        return _Consent(label, validators=checks)
    if item.kind is Kind.DATE:
        words = catalogue.DATE_WORDS[item.id]
        return DateParts(label, words, validators=[*checks, _date_of_birth])
    checks.append(_plain_text(multiline=widget == "textarea"))
    if item.max_length:
        checks.append(_max_length(item.max_length))
    if item.kind is Kind.EMAIL:
        checks.append(_email)
    elif item.kind is Kind.PHONE:
        checks.append(_phone)
    elif item.parser is not None or item.kind is Kind.NUMBER:
        checks.append(_parsed_by(catalogue.parser_of(item)))
    if widget == "textarea":
        return _StrippedTextArea(label, validators=checks)
    return _StrippedString(label, validators=checks)


@cache
def section_form_class(
    section_id: str,
    base: type[wtforms.Form] = wtforms.Form,
    screener: bool = False,
    asked: bool = False,
) -> type:
    """Return the form class for one section (base is FlaskForm on the web, for CSRF).

    `screener` is the C-SSRS setting. A page asks only that setting's items (`asked`); a
    whole questionnaire is validated with the other setting's items optional.
    """
    pick = catalogue.asked_section if asked else catalogue.accepted_section
    section = pick(SECTIONS_BY_ID[section_id], screener)
    fields = {item.id: field_for(item) for item in section.items}
    return type(f"{_camel(section_id)}Form", (base,), fields)


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


SECTIONS_BY_ID: dict[str, Section] = {section.id: section for section in catalogue.SECTIONS}

#: Every name a questionnaire's answers may use: the item ids, and a date's three parts.
FORM_NAMES: frozenset[str] = frozenset(catalogue.ITEMS).union(
    *(part_names(item.id) for item in catalogue.ITEMS.values() if item.kind is Kind.DATE)
)


def asked_now(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return the answers to questions the definition served now asks (a draft may hold
    answers to questions an earlier definition asked)."""
    return {name: value for name, value in raw.items() if name in FORM_NAMES}


@catalogue.on_install
def _refresh() -> None:
    """Build the forms of another definition's pages (catalogue.install)."""
    global FORM_NAMES
    SECTIONS_BY_ID.clear()
    SECTIONS_BY_ID.update({section.id: section for section in catalogue.SECTIONS})
    FORM_NAMES = frozenset(catalogue.ITEMS).union(
        *(part_names(item.id) for item in catalogue.ITEMS.values() if item.kind is Kind.DATE)
    )
    section_form_class.cache_clear()


def normalise(item: Item, data: Any) -> Any:
    """Return the stored form of one field's data, or None for no answer."""
    value = item.kind.traits.value
    if value == "codes":
        return list(data or [])
    if value == "tick":
        return True if data else None
    if _is_empty(data):
        return None
    if value == "number":
        return catalogue.parser_of(item)(data)
    return data


def form_answers(form: wtforms.Form, section: Section) -> dict[str, Any]:
    """Return a validated section form's answers, normalised, without unanswered items."""
    answers = {}
    for item in section.items:
        value = normalise(item, form[item.id].data)
        if value is not None:
            answers[item.id] = value
    return answers


def form_errors(form: wtforms.Form) -> dict[str, list[str]]:
    """Return a form's errors by item id, without WTForms' empty entries."""
    return {name: list(errors) for name, errors in form.errors.items() if errors}


@dataclass
class Validated:
    """The outcome of validating one whole questionnaire."""

    answers: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Return whether every answer was valid."""
        return not self.errors


def as_formdata(raw: Mapping[str, Any]) -> MultiDict[str, str]:
    """Turn raw answers (JSON-like) into what a browser would post."""
    pairs: list[tuple[str, str]] = []
    for key, value in raw.items():
        values = value if isinstance(value, list | tuple) else [value]
        for one in values:
            if one is None or one is False:
                continue
            pairs.append((key, "y" if one is True else str(one)))
    return MultiDict(pairs)


def partial_answers(
    raw: Mapping[str, Any], today: date, screener: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the valid answers of an unfinished questionnaire, and the facts they give.

    An answer that fails its checks, or a question not reached yet, is left out;
    everything else counts, so a half-finished draft can be judged by the rules.
    """
    formdata = as_formdata({key: value for key, value in raw.items() if key in FORM_NAMES})
    answers: dict[str, Any] = {}
    for section in catalogue.SECTIONS:
        form = section_form_class(section.id, screener=screener)(formdata=formdata)
        form.today = today
        form.context = answers
        form.validate()
        bad = set(form_errors(form))
        for item in section.items:
            if item.id in bad:
                continue
            value = normalise(item, form[item.id].data)
            if value is not None:
                answers[item.id] = value
    try:
        facts = catalogue.derive_facts(answers, today)
    except ValueError:  # cannot happen for checked answers; judge without facts rather than fail
        facts = dict.fromkeys(catalogue.FACTS)
    return answers, facts


#: Each thread's forms for whole-questionnaire validation, built once and filled again for
#: each send: building eleven forms' fields cost more than validating them.
_FORMS = threading.local()


def _filled_form(section_id: str, formdata: MultiDict[str, str], screener: bool = False) -> Any:
    """Return this thread's form for a section, filled from formdata alone (nothing kept)."""
    # Keyed by the form class, not the section id: another definition (catalogue.install)
    # has new classes, so a thread never fills a form of the questions asked before.
    forms: dict[type, Any] = _FORMS.__dict__.setdefault("by_class", {})
    form_class = section_form_class(section_id, screener=screener)
    form = forms.get(form_class)
    if form is None:
        form = forms[form_class] = form_class(formdata=formdata)
    else:
        # process() sets every field again from this formdata (or its default when absent),
        # and validate() starts from no errors: no earlier answer can survive.
        form.process(formdata)
    return form


def validate_answers(raw: Mapping[str, Any], today: date, screener: bool = False) -> Validated:
    """Validate a whole questionnaire of raw answers keyed by item id, and derive its facts.

    `screener` is the C-SSRS setting the patient was asked with: its items are required as
    asked; the other setting's are optional, checked and kept when sent.
    """
    result = Validated()
    for key in raw:
        if key not in FORM_NAMES:
            result.errors[key] = [
                "This is not a question of this questionnaire; remove it or check the spelling."
            ]
    formdata = as_formdata(raw)
    for section in catalogue.SECTIONS:
        form = _filled_form(section.id, formdata, screener)
        form.today = today
        form.context = result.answers
        if form.validate():
            result.answers.update(form_answers(form, catalogue.accepted_section(section, screener)))
        else:
            result.errors.update(form_errors(form))
    if result.ok:
        result.facts = catalogue.derive_facts(result.answers, today)
    else:
        result.answers = {}
    return result
