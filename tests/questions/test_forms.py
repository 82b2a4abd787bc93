"""The one validation entry point: what a browser posts in, answers and facts out."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from questionnaire.questions import catalogue as items
from questionnaire.questions.forms import form_answers, section_form_class, validate_answers
from tests.answers import BASELINE_DATE, baseline, with_changes


def errors_for(changes: dict[str, Any]) -> dict[str, list[str]]:
    result = validate_answers(with_changes(changes), BASELINE_DATE)
    assert result.answers == {} or result.ok
    return result.errors


def test_the_baseline_is_valid_and_normalised() -> None:
    result = validate_answers(baseline(), BASELINE_DATE)
    assert result.ok, result.errors
    assert result.answers["weight_value"] == 70.0
    assert result.answers["reasons"] == ["depression"]
    assert result.answers["other_drugs_past_year"] == []
    assert result.answers["privacy_consent"] is True
    assert "suicidal_thoughts_now" not in result.answers
    assert result.facts == {
        "age_years": 46,
        "weight_kg": 70.0,
        "bp_systolic": 122,
        "bp_diastolic": 78,
        # The baseline skips the instruments: no score, never a partial sum.
        "phq9_total": None,
        "gad7_total": None,
        "pcl5_total": None,
        "phq9_item9": None,
        "auditc_total": None,
        "cssrs_risk": None,
    }


def test_every_required_item_says_what_to_do_when_missing() -> None:
    # With the screener off (the default), its items are not asked, so never required.
    required = [
        i.id for i in items.ITEMS.values() if i.required and not i.asked_when and not i.screener
    ]
    errors = errors_for(dict.fromkeys(required))
    assert set(errors) == set(required)
    assert all(errors[name] == [items.ITEMS[name].error] for name in required)
    assert errors["full_name"] == ["Enter your full name"]
    assert errors["heart_condition"] == ["Select yes if you have, or have had, a heart problem"]
    assert errors["region"] == ["Select where you live"]
    assert errors["reasons"] == ["Select what you would like help with"]
    assert errors["understands_review"] == [
        "Select to confirm that you understand a clinician will read your answers"
    ]


def test_with_the_screener_on_its_questions_are_required_as_its_skip_logic_asks() -> None:
    answers = with_changes({"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "no"})
    errors = validate_answers(answers, BASELINE_DATE, screener=True).errors
    assert set(errors) == {
        "wish_dead_past_month",
        "suicidal_thoughts_method",
        "suicidal_intent",
        "suicide_plan",
        "suicidal_behaviour_ever",
    }
    assert errors["suicide_plan"] == [items.ITEMS["suicide_plan"].error]
    # Q6 "yes" asks its recency question and the attempt question after it.
    answers.update(
        {
            "wish_dead_past_month": "no",
            "suicidal_thoughts_method": "no",
            "suicidal_intent": "no",
            "suicide_plan": "no",
            "suicidal_behaviour_ever": "yes",
            "suicide_attempt_ever": None,
        }
    )
    answers = {key: value for key, value in answers.items() if value is not None}
    errors = validate_answers(answers, BASELINE_DATE, screener=True).errors
    assert set(errors) == {"suicidal_behaviour_past_3_months", "suicide_attempt_ever"}
    answers.update({"suicidal_behaviour_past_3_months": "no", "suicide_attempt_ever": "no"})
    result = validate_answers(answers, BASELINE_DATE, screener=True)
    assert result.ok, result.errors
    assert result.facts["cssrs_risk"] == "moderate"


@pytest.mark.parametrize(
    ("item", "value"),
    [("auditc_1", "5"), ("auditc_2", "-1"), ("auditc_3", "never"), ("suicidal_intent", "maybe")],
)
def test_an_answer_off_the_scale_is_refused_naming_nothing_stored(item: str, value: str) -> None:
    result = validate_answers(with_changes({item: value}), BASELINE_DATE)
    assert result.errors == {item: ["Choose one of the answers shown."]}
    assert result.answers == {}


def test_a_forged_escalated_field_is_refused() -> None:
    result = validate_answers(with_changes({"escalated": "urgent"}), BASELINE_DATE)
    assert "escalated" in result.errors and result.answers == {}


def test_optional_items_may_be_left_out() -> None:
    optional = [item.id for item in items.ITEMS.values() if not item.required]
    result = validate_answers(with_changes(dict.fromkeys(optional)), BASELINE_DATE)
    assert result.ok, result.errors
    assert result.facts["weight_kg"] is None and result.facts["bp_systolic"] is None


@pytest.mark.parametrize(
    ("changes", "item", "words"),
    [
        ({"region": "CA-XX"}, "region", "Choose one of the answers shown."),
        ({"heart_condition": "maybe"}, "heart_condition", "Choose one of the answers shown."),
        ({"reasons": ["depression", "boredom"]}, "reasons", "Choose one of the answers shown."),
        ({"date_of_birth": "2030-01-01"}, "date_of_birth", "must be in the past"),
        ({"date_of_birth": "yesterday"}, "date_of_birth", "1985-03-27"),
        ({"bp_reading": "high-ish"}, "bp_reading", "128/82"),
        ({"weight_value": "seventy"}, "weight_value", "like 70"),
        ({"weight_unit": None}, "weight_unit", "Select kg or lb for your weight"),
        ({"email": "sam at example"}, "email", "name@example.com"),
        ({"phone": "call me"}, "phone", "416 555 0123"),
        ({"medications": "x" * 2001}, "medications", "2,000 characters or fewer"),
        ({"full_name": "x" * 201}, "full_name", "200 characters or fewer"),
        ({"shoe_size": "9"}, "shoe_size", "not a question"),
    ],
)
def test_bad_answers_get_a_message_that_says_what_to_do(
    changes: dict[str, Any], item: str, words: str
) -> None:
    errors = errors_for(changes)
    assert list(errors) == [item]
    assert words in errors[item][0]


def test_invalid_answers_return_no_answers_and_no_facts() -> None:
    result = validate_answers(with_changes({"bp_reading": "nonsense"}), BASELINE_DATE)
    assert not result.ok
    assert result.answers == {} and result.facts == {}


@pytest.mark.parametrize("past_month", ["yes", "prefer_not"])
def test_conditional_item_is_required_when_its_condition_holds(past_month: str) -> None:
    errors = errors_for({"suicidal_thoughts_past_month": past_month})
    assert errors == {
        "suicidal_thoughts_now": [
            "Select yes if you are having thoughts of ending your life right now"
        ]
    }


def test_conditional_item_is_not_required_when_its_condition_is_false() -> None:
    assert errors_for({"suicidal_thoughts_past_month": "no"}) == {}


def test_an_answer_to_a_conditional_item_is_kept_when_not_asked() -> None:
    raw = with_changes({"suicidal_thoughts_past_month": "no", "suicidal_thoughts_now": "yes"})
    result = validate_answers(raw, BASELINE_DATE)
    assert result.ok
    assert result.answers["suicidal_thoughts_now"] == "yes"


def test_raw_json_values_are_read_as_a_browser_would_post_them() -> None:
    raw = with_changes({"weight_value": 70, "privacy_consent": True, "reasons": "anxiety"})
    result = validate_answers(raw, BASELINE_DATE)
    assert result.ok, result.errors
    assert result.answers["weight_value"] == 70.0
    assert result.answers["privacy_consent"] is True
    assert result.answers["reasons"] == ["anxiety"]


def test_an_unticked_consent_is_refused() -> None:
    errors = errors_for({"privacy_consent": False})
    assert errors == {"privacy_consent": ["Select to confirm that you agree to the privacy notice"]}


def test_text_is_stripped_and_blank_text_is_no_answer() -> None:
    result = validate_answers(
        with_changes({"full_name": "  Sam Example  ", "phone": "   "}), BASELINE_DATE
    )
    assert result.answers["full_name"] == "Sam Example"
    assert "phone" not in result.answers


def test_a_section_form_keeps_every_value_typed_on_error() -> None:
    form_class = section_form_class("about_you")
    posted = MultiDict(
        {
            "full_name": "Sam",
            "date_of_birth": "not a date",
            "email": "sam@example.com",
            "region": "CA-ON",
            "weight_value": "70",
            "weight_unit": "kg",
        }
    )
    form = form_class(formdata=posted)
    form.today = BASELINE_DATE
    assert not form.validate()
    assert list(form.errors) == ["date_of_birth"]
    assert form["full_name"].data == "Sam"
    assert form["date_of_birth"].data == "not a date"


def test_a_valid_section_form_gives_normalised_answers() -> None:
    section = items.SECTIONS[0]
    posted = MultiDict(
        {
            "full_name": "Sam",
            "date_of_birth": "1980-05-17",
            "email": "sam@example.com",
            "region": "CA-ON",
            "weight_value": "154,5",
            "weight_unit": "lb",
        }
    )
    form = section_form_class(section.id)(formdata=posted)
    assert form.validate(), form.errors
    assert form_answers(form, section) == {
        "full_name": "Sam",
        "date_of_birth": "1980-05-17",
        "email": "sam@example.com",
        "region": "CA-ON",
        "weight_value": 154.5,
        "weight_unit": "lb",
    }
