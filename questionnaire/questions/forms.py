"""WTForms classes derived from items.py, and the one entry point that validates a questionnaire.

The web pages, the CLI and the rule-table cases all validate answers here, so a
value the web would refuse can never reach the rules by another door.
"""

from __future__ import annotations

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
from questionnaire.questions.text import has_control

PHONE_CHARS = set("0123456789 +-().extEXT")
HIDDEN_CHARACTER = (
    "This answer has a hidden character we cannot save. Type it again, then continue."
)

FormValidator = Callable[[wtforms.Form, wtforms.Field], None]


def _required_message(item: Item) -> str:
    if item.required_with is not None:
        return f"Choose the {item.short_label.lower()}."
    if item.kind is Kind.CHOICE:
        return "Choose an answer."
    if item.kind is Kind.MULTI:
        return "Tick at least one box."
    if item.kind is Kind.CONSENT:
        return "Tick the box to continue."
    return f"Enter your {item.short_label.lower()}."


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
    message = _required_message(item)

    def check(form: wtforms.Form, fld: wtforms.Field) -> None:
        needed = item.required
        if item.asked_when is not None:
            needed = _other_value(form, item.asked_when.item) in item.asked_when.one_of
        if item.required_with is not None:
            needed = not _is_empty(_other_value(form, item.required_with))
        if _is_empty(fld.data):
            if needed:
                fld.errors[:] = []
                raise v.StopValidation(message)
            # An optional item left blank: nothing more to check.
            fld.errors[:] = []
            raise v.StopValidation()

    return check


def _offered_codes(item: Item) -> FormValidator:
    codes = set(item.codes)

    def check(form: wtforms.Form, fld: wtforms.Field) -> None:
        chosen = fld.data if isinstance(fld.data, list) else [fld.data]
        if any(code not in codes for code in chosen):
            raise v.ValidationError("Choose one of the answers shown.")
        if item.kind is Kind.MULTI and len(chosen) < item.min_choices:
            raise v.ValidationError(_required_message(item))

    return check


def _max_length(limit: int) -> FormValidator:
    def check(form: wtforms.Form, fld: wtforms.Field) -> None:
        if len(fld.data) > limit:
            raise v.ValidationError(
                f"Use {limit:,} characters or fewer. You have used {len(fld.data):,}."
            )

    return check


def _parsed_by(parse: Callable[[str], object]) -> FormValidator:
    def check(form: wtforms.Form, fld: wtforms.Field) -> None:
        try:
            parse(fld.data)
        except ValueError as error:
            raise v.ValidationError(str(error)) from None

    return check


def _date_of_birth(form: wtforms.Form, fld: wtforms.Field) -> None:
    today: date = getattr(form, "today", None) or date.today()
    try:
        catalogue.parse_date_of_birth(fld.data, today)
    except ValueError as error:
        raise v.ValidationError(str(error)) from None


def _phone(form: wtforms.Form, fld: wtforms.Field) -> None:
    digits = sum(ch.isdigit() for ch in fld.data)
    if not set(fld.data) <= PHONE_CHARS or not 7 <= digits <= 20:
        raise v.ValidationError("Enter a phone number like 416 555 0123, or leave it blank.")


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
    checks.append(_plain_text(multiline=widget == "textarea"))
    if item.max_length:
        checks.append(_max_length(item.max_length))
    if item.kind is Kind.DATE:
        checks.append(_date_of_birth)
    elif item.kind is Kind.EMAIL:
        checks.append(v.Email("Enter an email address like name@example.com."))
    elif item.kind is Kind.PHONE:
        checks.append(_phone)
    elif item.parser is not None or item.kind is Kind.NUMBER:
        checks.append(_parsed_by(catalogue.parser_of(item)))
    if widget == "textarea":
        return _StrippedTextArea(label, validators=checks)
    return _StrippedString(label, validators=checks)


@cache
def section_form_class(section_id: str, base: type[wtforms.Form] = wtforms.Form) -> type:
    """Return the form class for one section (base is FlaskForm on the web, for CSRF)."""
    section = SECTIONS_BY_ID[section_id]
    fields = {item.id: field_for(item) for item in section.items}
    return type(f"{_camel(section_id)}Form", (base,), fields)


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


SECTIONS_BY_ID: dict[str, Section] = {section.id: section for section in catalogue.SECTIONS}


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


def partial_answers(raw: Mapping[str, Any], today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the valid answers of an unfinished questionnaire, and the facts they give.

    An answer that fails its checks, or a question not reached yet, is left out;
    everything else counts, so a half-finished draft can be judged by the rules.
    """
    formdata = as_formdata({key: value for key, value in raw.items() if key in catalogue.ITEMS})
    answers: dict[str, Any] = {}
    for section in catalogue.SECTIONS:
        form = section_form_class(section.id)(formdata=formdata)
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


def _filled_form(section_id: str, formdata: MultiDict[str, str]) -> Any:
    """Return this thread's form for a section, filled from formdata alone (nothing kept)."""
    forms: dict[str, Any] = _FORMS.__dict__.setdefault("by_section", {})
    form = forms.get(section_id)
    if form is None:
        form = forms[section_id] = section_form_class(section_id)(formdata=formdata)
    else:
        # process() sets every field again from this formdata (or its default when absent),
        # and validate() starts from no errors: no earlier answer can survive.
        form.process(formdata)
    return form


def validate_answers(raw: Mapping[str, Any], today: date) -> Validated:
    """Validate a whole questionnaire of raw answers keyed by item id, and derive its facts."""
    result = Validated()
    for key in raw:
        if key not in catalogue.ITEMS:
            result.errors[key] = [
                "This is not a question of this questionnaire; remove it or check the spelling."
            ]
    formdata = as_formdata(raw)
    for section in catalogue.SECTIONS:
        form = _filled_form(section.id, formdata)
        form.today = today
        form.context = result.answers
        if form.validate():
            result.answers.update(form_answers(form, section))
        else:
            result.errors.update(form_errors(form))
    if result.ok:
        result.facts = catalogue.derive_facts(result.answers, today)
    else:
        result.answers = {}
    return result
