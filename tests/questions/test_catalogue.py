"""The catalogue: ids and codes exactly as ITEMS.md, and the typed parsers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questionnaire.questions import catalogue as items
from questionnaire.questions.catalogue import Kind

YES_NO_UNSURE = ["yes", "no", "unsure"]
YES_NO_PREFER_NOT = ["yes", "no", "prefer_not"]

#: Every item of ITEMS.md with its answer codes (None: not a choice), section by section.
EXPECTED = {
    "about_you": {
        "full_name": None,
        "date_of_birth": None,
        "email": None,
        "phone": None,
        "region": [
            "CA-AB",
            "CA-BC",
            "CA-MB",
            "CA-NB",
            "CA-NL",
            "CA-NS",
            "CA-NT",
            "CA-NU",
            "CA-ON",
            "CA-PE",
            "CA-QC",
            "CA-SK",
            "CA-YT",
            "US",
            "other",
        ],
        "weight_value": None,
        "weight_unit": ["kg", "lb"],
    },
    "looking_for": {
        "reasons": [
            "depression",
            "anxiety",
            "ptsd",
            "ocd",
            "chronic_pain",
            "suicidal_thoughts",
            "other",
        ],
        "treatments": ["iv", "injection", "lozenge", "nasal_spray", "not_sure"],
        "antidepressants_tried": ["0", "1", "2", "3_plus", "unsure"],
        "has_mh_provider": ["yes", "no"],
        "prior_ketamine_treatment": ["yes", "no"],
        "prior_ketamine_details": None,
    },
    # ITEMS.md section 11, in order: the screener's items (asked only with
    # CSSRS_SCREENER_ENABLED) and the clinic's plain ones, in one section.
    "safety": dict.fromkeys(
        [
            "wish_dead_past_month",
            "suicidal_thoughts_past_month",
            "suicidal_thoughts_method",
            "suicidal_intent",
            "suicide_plan",
            "suicidal_thoughts_now",
            "suicidal_behaviour_ever",
            "suicidal_behaviour_past_3_months",
            "suicide_attempt_ever",
            "suicide_attempt_past_3_months",
        ],
        YES_NO_PREFER_NOT,
    ),
    "phq9": {f"phq9_{n}": ["0", "1", "2", "3"] for n in range(1, 10)},
    "gad7": {f"gad7_{n}": ["0", "1", "2", "3"] for n in range(1, 8)},
    "pcl5": {f"pcl5_{n}": ["0", "1", "2", "3", "4"] for n in range(1, 21)},
    "mental_health": dict.fromkeys(
        [
            "psychosis_ever",
            "psychotic_illness_diagnosed",
            "psychosis_past_month",
            "bipolar_diagnosed",
            "mania_ever",
            "mania_past_2_weeks",
        ],
        YES_NO_UNSURE,
    ),
    "heart_brain": {
        "high_bp_told": YES_NO_UNSURE,
        "bp_reading": None,
        **dict.fromkeys(
            [
                "heart_condition",
                "heart_event_recent",
                "aneurysm_or_avm",
                "stroke_or_brain_bleed",
                "head_injury_or_pressure",
                "seizures",
            ],
            YES_NO_UNSURE,
        ),
    },
    "other_health": {
        **dict.fromkeys(
            [
                "eye_pressure",
                "overactive_thyroid",
                "liver_disease",
                "breathing_condition",
                "bladder_symptoms",
            ],
            YES_NO_UNSURE,
        ),
        "pregnant": ["yes", "no", "unsure", "not_applicable"],
        "breastfeeding": ["yes", "no", "not_applicable"],
        "ketamine_reaction": YES_NO_UNSURE,
        "ketamine_reaction_details": None,
    },
    "alcohol_drugs": {
        "auditc_1": ["0", "1", "2", "3", "4"],
        "auditc_2": ["0", "1", "2", "3", "4"],
        "auditc_3": ["0", "1", "2", "3", "4"],
        "alcohol_problems": YES_NO_PREFER_NOT,
        "alcohol_can_pause": YES_NO_UNSURE,
        "cannabis_frequency": ["never", "less_than_monthly", "monthly", "weekly", "daily"],
        "other_drugs_past_year": [
            "cocaine",
            "stimulants",
            "opioids",
            "sedatives",
            "hallucinogens",
            "other",
        ],
        "ketamine_nonmedical": YES_NO_PREFER_NOT,
        "substance_treatment_ever": YES_NO_PREFER_NOT,
    },
    "medicines": {"takes_benzodiazepine": YES_NO_UNSURE, "medications": None},
    "getting_home": {
        "escort_home": YES_NO_UNSURE,
        "travel_home": ["driven_by_someone", "taxi_with_adult", "public_transit", "drive_myself"],
    },
    "consent": {"privacy_consent": None, "understands_review": None},
}


def test_sections_and_items_are_those_of_items_md_in_order() -> None:
    actual = {
        section.id: {item.id: list(item.codes) or None for item in section.items}
        for section in items.SECTIONS
    }
    assert list(actual) == list(EXPECTED)
    for section_id, expected_items in EXPECTED.items():
        assert list(actual[section_id].items()) == list(expected_items.items()), section_id


def test_consent_items_sit_at_the_edges_and_twelve_sections_are_pages() -> None:
    assert [section.id for section in items.PAGES] == list(EXPECTED)[:-1]
    assert items.ITEMS["privacy_consent"].kind is Kind.CONSENT
    assert items.ITEMS["understands_review"].kind is Kind.CONSENT


def test_optional_items_are_exactly_the_optional_ones() -> None:
    optional = {item.id for item in items.ITEMS.values() if not item.required}
    assert optional == {
        "phone",
        "weight_value",
        "weight_unit",
        "treatments",
        "prior_ketamine_details",
        "bp_reading",
        "ketamine_reaction_details",
        "other_drugs_past_year",
        "medications",
        # The clinic's plain follow-ups with the screener off (Q5 is required when on).
        "suicide_plan",
        "suicide_attempt_past_3_months",
        *(
            item_id
            for item_id in items.ITEMS
            if item_id.startswith(("phq9_", "gad7_", "pcl5_", "auditc_"))
        ),
    }
    # Every instrument item may be skipped: a patient is never blocked by one.
    assert all(
        not item.can_be_required for item in items.ITEMS.values() if item.instrument is not None
    )


def test_the_conditional_items() -> None:
    conditional = [item for item in items.ITEMS.values() if item.asked_when]
    assert [item.id for item in conditional] == [
        "suicidal_thoughts_method",
        "suicidal_intent",
        "suicide_plan",
        "suicidal_thoughts_now",
        "suicidal_behaviour_past_3_months",
        "suicide_attempt_past_3_months",
        *(f"pcl5_{n}" for n in range(1, 21)),
        "auditc_2",
        "auditc_3",
        "alcohol_can_pause",
    ]
    condition = items.ITEMS["suicidal_thoughts_now"].asked_when
    assert condition is not None
    assert condition.item == "suicidal_thoughts_past_month"
    assert condition.one_of == {"yes", "prefer_not"}
    assert condition.on_page
    ptsd = items.ITEMS["pcl5_1"].asked_when
    assert ptsd is not None and ptsd.item == "reasons" and not ptsd.on_page
    assert ptsd.one_of == {"ptsd"}


def test_the_pcl5_page_is_asked_only_when_ptsd_is_among_the_reasons() -> None:
    pcl5 = items.SECTION_OF["pcl5_1"]
    assert items.section_is_asked(pcl5, {"reasons": ["depression", "ptsd"]})
    assert not items.section_is_asked(pcl5, {"reasons": ["depression", "anxiety"]})
    assert not items.section_is_asked(pcl5, {})
    # A page whose condition is on the page itself is always asked.
    assert items.section_is_asked(items.SECTION_OF["suicidal_thoughts_now"], {})
    assert items.section_is_asked(items.SECTION_OF["phq9_1"], {})


def test_the_instrument_pages_follow_the_safety_page_in_order() -> None:
    pages = [section.id for section in items.PAGES]
    assert pages[pages.index("safety") + 1 : pages.index("safety") + 4] == ["phq9", "gad7", "pcl5"]
    for section_id in ("phq9", "gad7", "pcl5"):
        section = next(s for s in items.PAGES if s.id == section_id)
        assert section.instrument == section_id and section.stem
        assert "most complete picture" in section.intro


def test_crisis_help_answers_include_phq9_item_9_above_not_at_all() -> None:
    assert not items.needs_crisis_help({"phq9_9": "0"})
    for code in ("1", "2", "3"):
        assert items.needs_crisis_help({"phq9_9": code})
    assert items.needs_crisis_help({"suicidal_thoughts_now": "yes"})
    assert not items.needs_crisis_help({})


def test_every_item_has_plain_words() -> None:
    for item in items.ITEMS.values():
        assert item.label and item.short_label, item.id
        for choice in item.choices:
            assert choice.label, (item.id, choice.code)


def test_medications_accepts_two_thousand_characters() -> None:
    assert items.ITEMS["medications"].max_length == 2000


# --- blood pressure ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "152/94",
        "152 / 94",
        "152 over 94",
        " 152  OVER 94 ",
        "152/94 mmHg",
        "152over94",
        "152 sur 94",
        "152 SUR 94",
        "152 Sur 94 mm Hg",
    ],
)
def test_blood_pressure_spellings(text: str) -> None:
    assert items.parse_blood_pressure(text) == (152, 94)


@pytest.mark.parametrize(
    "text", ["", "high", "152-94", "152", "152/", "/94", "152/94/80", "1520/94", "94/152", "15/9"]
)
def test_unreadable_blood_pressure_says_how_to_write_it(text: str) -> None:
    with pytest.raises(ValueError, match="128/82"):
        items.parse_blood_pressure(text)


@given(
    systolic=st.integers(90, 300),
    diastolic=st.integers(40, 89),
    separator=st.sampled_from(
        ["/", " / ", " over ", "over", " OVER ", "/ ", " sur ", "sur", " SUR ", " Sur "]
    ),
    padding=st.sampled_from(["", " ", "  "]),
)
def test_any_accepted_spelling_of_a_plausible_reading_parses(
    systolic: int, diastolic: int, separator: str, padding: str
) -> None:
    text = f"{padding}{systolic}{separator}{diastolic}{padding}"
    assert items.parse_blood_pressure(text) == (systolic, diastolic)


@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes_the_blood_pressure_parser(text: str) -> None:
    try:
        systolic, diastolic = items.parse_blood_pressure(text)
    except ValueError as error:
        assert "128" in str(error)
    else:
        assert 50 <= systolic <= 300 and 20 <= diastolic <= 200


# --- weight -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [("70", 70.0), ("70.5", 70.5), ("70,5", 70.5)])
def test_weight_numbers(text: str, value: float) -> None:
    assert items.parse_weight(text) == value


@pytest.mark.parametrize("text", ["", "seventy", "-70", "0", "70kg", "1e3", "nan", "5000"])
def test_weight_that_is_not_a_number_says_how_to_write_it(text: str) -> None:
    with pytest.raises(ValueError, match="like 70"):
        items.parse_weight(text)


@given(st.text(max_size=30))
def test_arbitrary_text_never_crashes_the_number_parser(text: str) -> None:
    try:
        value = items.parse_weight(text)
    except ValueError:
        return
    assert 0 < value <= items.WEIGHT_MAX


def test_pounds_become_kilograms() -> None:
    assert items.weight_in_kg(154, "lb") == pytest.approx(69.85, abs=0.01)
    assert items.weight_in_kg(70, "kg") == 70


# --- age and the derived facts ------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(2008, 6, 1), date(2026, 6, 1), 18),
        (date(2008, 6, 2), date(2026, 6, 1), 17),
        (date(2000, 2, 29), date(2026, 2, 28), 25),
        (date(2000, 2, 29), date(2026, 3, 1), 26),
    ],
)
def test_age_in_whole_years(born: date, today: date, age: int) -> None:
    assert items.age_on(born, today) == age


def test_date_of_birth_in_the_future_or_not_a_date() -> None:
    today = date(2026, 6, 1)
    with pytest.raises(ValueError, match="past"):
        items.parse_date_of_birth("2026-06-02", today)
    with pytest.raises(ValueError, match="1985-03-27"):
        items.parse_date_of_birth("27/03/1985", today)
    with pytest.raises(ValueError, match="year"):
        items.parse_date_of_birth("1850-01-01", today)
    assert items.parse_date_of_birth("2026-06-01", today) == today


def test_derive_facts() -> None:
    answers = {
        "date_of_birth": "1960-06-02",
        "weight_value": 200.0,
        "weight_unit": "lb",
        "bp_reading": "152 over 94",
    }
    facts = items.derive_facts(answers, date(2026, 6, 1))
    assert facts == {
        "age_years": 65,
        "weight_kg": 90.72,
        "bp_systolic": 152,
        "bp_diastolic": 94,
        # No instrument answered: no score, never a partial sum.
        "phq9_total": None,
        "gad7_total": None,
        "pcl5_total": None,
        "phq9_item9": None,
        "auditc_total": None,
        "cssrs_risk": None,
    }


def test_missing_facts_are_none() -> None:
    assert items.derive_facts({}, date(2026, 6, 1)) == dict.fromkeys(items.FACTS)


def test_the_screener_setting_decides_the_safety_questions_and_their_wording() -> None:
    safety = items.SECTION_OF["suicide_plan"]
    off = items.asked_section(safety, False)
    on = items.asked_section(safety, True)
    assert [item.id for item in off.items] == [
        "suicidal_thoughts_past_month",
        "suicide_plan",
        "suicidal_thoughts_now",
        "suicide_attempt_ever",
        "suicide_attempt_past_3_months",
    ]
    assert [item.id for item in on.items] == [
        "wish_dead_past_month",
        "suicidal_thoughts_past_month",
        "suicidal_thoughts_method",
        "suicidal_intent",
        "suicide_plan",
        "suicidal_thoughts_now",
        "suicidal_behaviour_ever",
        "suicidal_behaviour_past_3_months",
        "suicide_attempt_ever",
    ]
    plan_off = next(item for item in off.items if item.id == "suicide_plan")
    plan_on = next(item for item in on.items if item.id == "suicide_plan")
    assert plan_off.label.startswith("In the past month, have you worked out")
    assert plan_on.label == (
        "Have you started to work out or worked out the details of how to kill yourself? "
        "Do you intend to carry out this plan?"
    )
    assert plan_on.required and not plan_off.required
    attempt_on = next(item for item in on.items if item.id == "suicide_attempt_ever")
    assert attempt_on.asked_when is not None
    assert attempt_on.asked_when.item == "suicidal_behaviour_ever"
    assert items.ITEMS["suicide_attempt_ever"].asked_when is None  # screener off: always


@pytest.mark.parametrize(
    ("answers", "tier"),
    [
        (
            {
                "wish_dead_past_month": "no",
                "suicidal_thoughts_past_month": "no",
                "suicidal_behaviour_ever": "no",
            },
            "no_positive",
        ),
        (
            {
                "wish_dead_past_month": "yes",
                "suicidal_thoughts_past_month": "no",
                "suicidal_behaviour_ever": "no",
            },
            "low",
        ),
        (
            {
                "wish_dead_past_month": "no",
                "suicidal_thoughts_past_month": "yes",
                "suicidal_thoughts_method": "yes",
                "suicidal_behaviour_ever": "no",
            },
            "moderate",
        ),
        (
            {
                "wish_dead_past_month": "no",
                "suicidal_behaviour_ever": "yes",
                "suicidal_behaviour_past_3_months": "no",
            },
            "moderate",
        ),
        (
            {
                "wish_dead_past_month": "no",
                "suicidal_behaviour_ever": "yes",
                "suicidal_behaviour_past_3_months": "yes",
            },
            "high",
        ),
        (
            {
                "wish_dead_past_month": "no",
                "suicidal_thoughts_past_month": "yes",
                "suicide_plan": "prefer_not",
                "suicidal_behaviour_ever": "no",
            },
            "high",
        ),
        # Incomplete with nothing positive: no tier ("no risk" is never written).
        ({"wish_dead_past_month": "no"}, None),
        # The screener off: the clinic's plain plan question alone is not a C-SSRS tier.
        ({"suicidal_thoughts_past_month": "yes", "suicide_plan": "yes"}, None),
    ],
)
def test_cssrs_risk_is_the_highest_tier_reached(answers: dict[str, str], tier: str | None) -> None:
    assert items.derive_facts(answers, date(2026, 6, 1))["cssrs_risk"] == tier


@pytest.mark.parametrize(
    ("answers", "total"),
    [
        ({"auditc_1": "3", "auditc_2": "0", "auditc_3": "0"}, 3),
        ({"auditc_1": "0"}, 0),  # a non-drinker: items 2 and 3 not asked, scored 0
        ({"auditc_1": "4", "auditc_2": "2"}, None),  # item 3 skipped: incomplete
        ({"auditc_1": "4", "auditc_2": "4", "auditc_3": "4"}, 12),
        ({}, None),
    ],
)
def test_auditc_total_only_when_complete(answers: dict[str, str], total: int | None) -> None:
    assert items.derive_facts(answers, date(2026, 6, 1))["auditc_total"] == total
