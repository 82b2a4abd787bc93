"""Error messages that name the question, and every message marked for translation."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract
from werkzeug.datastructures import MultiDict

from questionnaire.intake import forms as intake_forms
from questionnaire.questions import catalogue as items
from questionnaire.questions import forms, parsers, words
from questionnaire.questions.catalogue import Item, Kind
from questionnaire.questions.extract import catalogue_strings
from questionnaire.questions.wording import Phrase, translated
from tests.answers import BASELINE_DATE, with_changes

REQUIRABLE = [item for item in items.ITEMS.values() if item.can_be_required]
YES_NO_CODES = ("yes", "no")

#: Words too common to show that a message names its question.
COMMON = {
    "select", "enter", "your", "have", "that", "with", "been", "ever", "told", "this",
    "what", "could", "there", "from", "about", "does", "like", "when", "confirm",
}  # fmt: skip


def content_words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z]+", text.lower()) if len(word) >= 4} - COMMON


def test_every_item_that_can_be_required_has_its_own_message() -> None:
    missing = [item.id for item in REQUIRABLE if not item.error.strip()]
    assert missing == []
    messages = [item.error for item in REQUIRABLE]
    assert len(set(messages)) == len(messages), "two questions share a message"


def test_only_items_that_can_be_required_have_a_message() -> None:
    # A message on an optional item would never be shown, and would go stale unnoticed.
    assert {item.id for item in items.ITEMS.values() if item.error} == {
        item.id for item in REQUIRABLE
    }


def test_can_be_required_covers_every_way_an_answer_is_needed() -> None:
    assert items.ITEMS["full_name"].can_be_required  # required
    assert items.ITEMS["suicidal_thoughts_now"].can_be_required  # asked_when
    assert items.ITEMS["weight_unit"].can_be_required  # required_with
    assert items.ITEMS["reasons"].can_be_required  # min_choices
    assert not items.ITEMS["phone"].can_be_required
    assert not items.ITEMS["other_drugs_past_year"].can_be_required


def test_an_item_that_can_be_required_without_a_message_is_refused_when_built() -> None:
    nameless = Item(id="shoe_size", label="Shoe size", kind=Kind.TEXT, short_label="Shoe")
    with pytest.raises(ValueError, match="shoe_size"):
        forms.field_for(nameless)
    optional = Item(id="shoe_size", label="Shoe size", kind=Kind.TEXT, required=False)
    forms.field_for(optional)  # no message needed: it can never be missing


@pytest.mark.parametrize("item", REQUIRABLE, ids=lambda item: item.id)
def test_each_message_follows_the_gov_uk_pattern_for_its_kind(item: Item) -> None:
    message = item.error
    if item.kind is Kind.CHOICE and item.codes[:2] == YES_NO_CODES:
        assert message.startswith("Select yes if "), message
    elif item.kind in (Kind.CHOICE, Kind.MULTI):
        assert message.startswith("Select ") and not message.startswith("Select yes if ")
    elif item.kind is Kind.CONSENT:
        assert message.startswith("Select to confirm that you "), message
    else:
        assert message.startswith("Enter your "), message
    # GOV.UK: no full stop, one sentence, short enough to read at a glance.
    assert not message.endswith((".", "?", "!")) and message == message.strip()
    assert len(message.split()) <= 24, message
    assert not re.search(r"\b(you are|you have been) (diagnosed|at risk)\b", message)


@pytest.mark.parametrize("item", REQUIRABLE, ids=lambda item: item.id)
def test_each_message_names_its_question(item: Item) -> None:
    shared = content_words(item.error) & content_words(f"{item.label} {item.short_label}")
    assert shared, f"{item.id}: {item.error!r} does not name {item.label!r}"


def test_two_questions_left_blank_on_one_page_get_two_messages_naming_each() -> None:
    form = forms.section_form_class("heart_brain")(
        formdata=forms.as_formdata(with_changes({"heart_condition": None, "seizures": None}))
    )
    assert not form.validate()
    errors = forms.form_errors(form)
    assert set(errors) == {"heart_condition", "seizures"}
    heart, seizures = errors["heart_condition"][0], errors["seizures"][0]
    assert heart != seizures
    assert "heart problem" in heart and "seizure" not in heart
    assert "seizure" in seizures and "heart" not in seizures


def test_every_blank_question_of_a_page_gets_a_different_message() -> None:
    for section in items.PAGES:
        blank = {item.id: None for item in section.items}
        result = forms.validate_answers(with_changes(blank), BASELINE_DATE)
        mine = {name: errs[0] for name, errs in result.errors.items() if name in blank}
        assert len(set(mine.values())) == len(mine), section.id


def test_too_few_boxes_ticked_gives_the_item_message() -> None:
    errors = forms.validate_answers(with_changes({"reasons": []}), BASELINE_DATE).errors
    assert errors == {"reasons": ["Select what you would like help with"]}


def test_the_message_catalogue_walks_every_item_message() -> None:
    where = {where: text for text, where in catalogue_strings()}
    for item in REQUIRABLE:
        assert where[f"item {item.id}: error"] == item.error


# --- marked for translation ---------------------------------------------------------

QUESTIONS = Path(forms.__file__).parent


def marked_in(path: Path) -> set[str]:
    """Return the msgids pybabel finds in a file, as `make translations` runs it."""
    source = io.BytesIO(path.read_bytes())
    found = extract("python", source, keywords={"N_": None, "Phrase": None})
    return {message for _, message, _, _ in found if isinstance(message, str)}


def test_every_patient_message_of_the_questions_package_is_extracted() -> None:
    marked = (
        marked_in(QUESTIONS / "forms.py")
        | marked_in(QUESTIONS / "parsers.py")
        | marked_in(QUESTIONS / "words.py")
    )
    w = parsers.DATE_OF_BIRTH_WORDS
    expected = {
        forms.HIDDEN_CHARACTER,
        forms.NOT_OFFERED,
        forms.EMAIL_EXAMPLE,
        forms.PHONE_EXAMPLE,
        "Use %(limit)s characters or fewer. You have used %(used)s.",
        parsers.BP_EXAMPLE,
        parsers.BP_CHECK,
        parsers.BP_ORDER,
        parsers.NUMBER_EXAMPLE,
        parsers.WEIGHT_EXAMPLE,
        parsers.WEIGHT_CHECK,
        parsers.DATE_EXAMPLE,
        parsers.DATE_NOT_PAST,
        parsers.DATE_CHECK_YEAR,
        parsers.YEAR_DIGITS,
        w.enter,
        w.real,
        w.past,
        w.earliest,
        *w.missing.values(),
        words.NOT_PROVIDED,
        words.NONE_TICKED,
        words.TICKED,
    }
    assert expected - marked == set()


def test_the_intake_forms_words_are_extracted() -> None:
    marked = marked_in(Path(intake_forms.__file__))
    assert intake_forms.CONTACT_CONSENT_LABEL in marked
    assert "Leave this empty" in marked


def test_every_part_combination_has_a_whole_sentence() -> None:
    combos = {("day",), ("month",), ("year",), ("day", "month"), ("day", "year")}
    assert set(parsers.DATE_OF_BIRTH_WORDS.missing) == combos | {("month", "year")}
    for parts, message in parsers.DATE_OF_BIRTH_WORDS.missing.items():
        assert message == f"Date of birth must include a {' and '.join(parts)}"


def fake_french(text: str) -> str:
    return {
        "Use %(limit)s characters or fewer. You have used %(used)s.": (
            "Utilisez %(limit)s caractères au plus. Vous en avez utilisé %(used)s."
        ),
        parsers.BP_EXAMPLE: "Écrivez votre tension comme 128/82 ou 128 sur 82.",
        parsers.DATE_OF_BIRTH_WORDS.past: "La date de naissance doit être dans le passé",
    }.get(text, text)


def french_number(value: int | float) -> str:
    return f"{value:,}".replace(",", "\u202f")


def test_a_length_message_is_a_phrase_that_translates_with_its_numbers() -> None:
    result = forms.validate_answers(with_changes({"medications": "x" * 2001}), BASELINE_DATE)
    [message] = result.errors["medications"]
    assert isinstance(message, Phrase)
    assert message == "Use 2,000 characters or fewer. You have used 2,001."
    assert message.params == {"limit": 2000, "used": 2001}
    assert translated(message, fake_french, french_number) == (
        "Utilisez 2\u202f000 caractères au plus. Vous en avez utilisé 2\u202f001."
    )


def test_a_parser_message_reaches_the_form_as_marked() -> None:
    result = forms.validate_answers(with_changes({"bp_reading": "high"}), BASELINE_DATE)
    [message] = result.errors["bp_reading"]
    assert message == parsers.BP_EXAMPLE
    assert translated(message, fake_french) == "Écrivez votre tension comme 128/82 ou 128 sur 82."


def test_a_date_problem_carries_its_message_and_reads_as_english() -> None:
    with pytest.raises(parsers.DateProblem) as problem:
        parsers.parse_date_parts("27", "3", "2030", date(2026, 6, 1))
    assert str(problem.value) == "Date of birth must be in the past"
    assert problem.value.message == parsers.DATE_OF_BIRTH_WORDS.past
    form = forms.section_form_class("about_you")(
        formdata=MultiDict(
            {"date_of_birth-day": "27", "date_of_birth-month": "3", "date_of_birth-year": "2030"}
        )
    )
    form.today = date(2026, 6, 1)
    form.validate()
    [message] = form.date_of_birth.errors
    assert translated(message, fake_french) == "La date de naissance doit être dans le passé"
