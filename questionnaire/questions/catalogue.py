"""The questionnaire: every section, item, answer code and derived fact.

This module is the single source of truth for the questions (see ITEMS.md).
Forms, the check-your-answers page, rule validation and exports are all
derived from it. It is pure Python: no Flask, no database.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from questionnaire.questions import cssrs, instruments
from questionnaire.questions.definition import Definition, load_definition
from questionnaire.questions.instruments import Instrument
from questionnaire.questions.model import (  # the types, re-exported for their users
    KIND_TRAITS,
    AskedWhen,
    Choice,
    Fact,
    Item,
    Kind,
    KindTraits,
    Role,
    Section,
)
from questionnaire.questions.parsers import (
    BP_EXAMPLE,
    DATE_EXAMPLE,
    DATE_OF_BIRTH_WORDS,
    DATE_PARTS,
    NUMBER_EXAMPLE,
    POUND_KG,
    WEIGHT_EXAMPLE,
    WEIGHT_MAX,
    WEIGHT_UNUSUAL,
    WEIGHT_USUAL_KG,
    DateProblem,
    DateWords,
    age_on,
    month_number,
    parse_blood_pressure,
    parse_date_of_birth,
    parse_date_parts,
    parse_number,
    parse_weight,
    weight_in_kg,
)
from questionnaire.questions.wording import N_

__all__ = [  # the parsers and types are part of the catalogue's vocabulary
    "BP_EXAMPLE",
    "DATE_EXAMPLE",
    "DATE_OF_BIRTH_WORDS",
    "DATE_PARTS",
    "KIND_TRAITS",
    "NUMBER_EXAMPLE",
    "POUND_KG",
    "WEIGHT_EXAMPLE",
    "WEIGHT_MAX",
    "WEIGHT_UNUSUAL",
    "WEIGHT_USUAL_KG",
    "AskedWhen",
    "Choice",
    "DateProblem",
    "DateWords",
    "Fact",
    "Item",
    "Kind",
    "KindTraits",
    "Role",
    "Section",
    "age_on",
    "month_number",
    "parse_blood_pressure",
    "parse_date_of_birth",
    "parse_date_parts",
    "parse_number",
    "parse_weight",
    "weight_in_kg",
]


# Answer sets used by many items. Codes are fixed by ITEMS.md; labels may improve.
YES_NO_UNSURE = (Choice("yes", "Yes"), Choice("no", "No"), Choice("unsure", "Not sure"))
YES_NO = (Choice("yes", "Yes"), Choice("no", "No"))
YES_NO_PREFER_NOT = (
    Choice("yes", "Yes"),
    Choice("no", "No"),
    Choice("prefer_not", "I'd rather not say"),
)

REGIONS = (
    Choice("CA-AB", "Alberta"),
    Choice("CA-BC", "British Columbia"),
    Choice("CA-MB", "Manitoba"),
    Choice("CA-NB", "New Brunswick"),
    Choice("CA-NL", "Newfoundland and Labrador"),
    Choice("CA-NS", "Nova Scotia"),
    Choice("CA-NT", "Northwest Territories"),
    Choice("CA-NU", "Nunavut"),
    Choice("CA-ON", "Ontario"),
    Choice("CA-PE", "Prince Edward Island"),
    Choice("CA-QC", "Quebec"),
    Choice("CA-SK", "Saskatchewan"),
    Choice("CA-YT", "Yukon"),
    Choice("US", "United States"),
    Choice("other", "Somewhere else"),
)

TEXT_MAX = 200
DETAIL_MAX = 1000
MEDICATIONS_MAX = 2000


def _choice_item(
    choices: tuple[Choice, ...], id: str, label: str, short: str, error: str, hint: str = ""
) -> Item:
    return Item(
        id=id,
        label=label,
        kind=Kind.CHOICE,
        choices=choices,
        hint=hint,
        short_label=short,
        error=error,
    )


def _yes_no_unsure(id: str, label: str, short: str, error: str, hint: str = "") -> Item:
    return _choice_item(YES_NO_UNSURE, id, label, short, error, hint)


def _yes_no_prefer_not(id: str, label: str, short: str, error: str, hint: str = "") -> Item:
    return _choice_item(YES_NO_PREFER_NOT, id, label, short, error, hint)


#: Said on every instrument page: every item may be skipped, and why answering helps.
INSTRUMENT_INTRO = (
    "These questions come from a questionnaire that many clinics use. You can skip any "
    "question, but answering all of them gives the clinician the most complete picture."
)
#: The PCL-5 is asked only of a patient who names PTSD among their reasons.
PTSD_REASON = "ptsd"


def instrument_section(
    instrument: Instrument, title: str, asked_when: AskedWhen | None = None
) -> Section:
    """Return one instrument's page: its stem and items in the instrument's own words."""
    exempt = instrument.french_exemption
    scale = tuple(
        Choice(code, label) for code, label in zip(instrument.codes, instrument.scale, strict=True)
    )
    items = tuple(
        Item(
            id=item_id,
            label=label,
            kind=Kind.CHOICE,
            choices=scale,
            required=False,
            asked_when=asked_when,
            short_label=f"{instrument.name} item {number}",
            instrument=instrument.id,
            french_exempt=exempt,
        )
        for number, (item_id, label) in enumerate(
            zip(instrument.item_ids, instrument.items, strict=True), start=1
        )
    )
    return Section(
        id=instrument.id,
        title=title,
        intro=INSTRUMENT_INTRO,
        items=items,
        instrument=instrument.id,
        stem=instrument.stem,
        french_exempt=exempt,
    )


#: The no-JavaScript hint of a follow-up question on the same page.
ANSWER_IF_ABOVE = "Answer this if you answered Yes or I'd rather not say to the question above."
#: Asked after thoughts of ending one's life in the past month (C-SSRS Q2) were not denied.
AFTER_THOUGHTS = AskedWhen(
    item="suicidal_thoughts_past_month",
    one_of=frozenset({"yes", "prefer_not"}),
    hint=(
        "Answer this if you answered Yes or I'd rather not say to the question about "
        "thoughts of ending your life in the past month."
    ),
)


def _screener_item(
    id: str, short: str, error: str, asked_when: AskedWhen | None = None, hint: str = ""
) -> Item:
    """Return a C-SSRS screener item: its published words, asked only with the screener on."""
    return Item(
        id=id,
        label=cssrs.ITEMS[id].text,
        kind=Kind.CHOICE,
        choices=YES_NO_PREFER_NOT,
        hint=hint,
        asked_when=asked_when,
        short_label=short,
        error=error,
        screener=True,
        french_exempt=instruments.NO_OFFICIAL_FRENCH,
    )


def instrument_items(instrument: Instrument) -> tuple[Item, ...]:
    """Return the items of an instrument asked among others (AUDIT-C), in its own words.

    Each item has its own scale; with `zero_first_ends`, items after the first are asked
    only when the first is not "0" (a non-drinker is not asked AUDIT-C items 2 and 3).
    """
    drinks = AskedWhen(
        item=instrument.item_ids[0],
        one_of=frozenset(instrument.codes[1:]),
        hint=INSTRUMENT_HINTS.get((instrument.id, "asked_when"), ""),
    )
    scales = instrument.item_scales or (instrument.scale,) * len(instrument.items)
    return tuple(
        Item(
            id=item_id,
            label=label,
            kind=Kind.CHOICE,
            choices=tuple(
                Choice(code, words) for code, words in zip(instrument.codes, scale, strict=True)
            ),
            required=False,
            hint=INSTRUMENT_HINTS.get((instrument.id, "first"), "") if number == 1 else "",
            asked_when=None if number == 1 or not instrument.zero_first_ends else drinks,
            short_label=f"{instrument.name} item {number}",
            instrument=instrument.id,
            french_exempt=instrument.french_exemption,
        )
        for number, (item_id, label, scale) in enumerate(
            zip(instrument.item_ids, instrument.items, scales, strict=True), start=1
        )
    )


def _auditc_items() -> tuple[Item, ...]:
    """Return AUDIT-C's three items in WHO's words; items 2 and 3 only after a drinker's item 1."""
    return instrument_items(instruments.AUDITC)


#: Canada's standard drink (CCSA 2023), shown with AUDIT-C's first item. Our own words, not
#: the AUDIT's: translated (questions/extract.py walks an instrument item's hint). No "%"
#: before a letter: pybabel would read "40% spirits" as a "% s" placeholder and refuse the
#: French ("12 % o") when compiling.
STANDARD_DRINK = N_(
    "A drink is 341 ml (12 oz) of beer, cider or cooler at 5%, 142 ml (5 oz) of wine at 12%, "
    "or 43 ml (1.5 oz) of spirits at 40%. You can skip these three questions."
)
AUDITC_IF_DRINKS = N_("Answer this if you have a drink containing alcohol.")
#: The project's own hints beside an instrument's items: (instrument, "first") on its first
#: item, (instrument, "asked_when") beside the items asked only after it.
INSTRUMENT_HINTS: dict[tuple[str, str], str] = {
    ("auditc", "first"): STANDARD_DRINK,
    ("auditc", "asked_when"): AUDITC_IF_DRINKS,
}


#: Today's questionnaire as Python declarations: forms/intake.yaml was generated from these
#: (`flask questions export-yaml`), and tests/questions/test_definition.py proves the
#: shipped definition builds exactly this. The app asks what the definition says.
DECLARED_SECTIONS: tuple[Section, ...] = (
    Section(
        id="about_you",
        title="About you",
        intro="We use these details to contact you and to plan a safe appointment.",
        items=(
            Item(
                id="full_name",
                role=Role.CONTACT,
                label="Your full name",
                kind=Kind.TEXT,
                max_length=TEXT_MAX,
                autocomplete="name",
                short_label="Name",
                error="Enter your full name",
            ),
            Item(
                id="date_of_birth",
                label="Date of birth",
                kind=Kind.DATE,
                role=Role.DATE_OF_BIRTH,
                hint="For example, 27 3 2007",
                autocomplete="bday",
                short_label="Date of birth",
                error="Enter your date of birth",
            ),
            Item(
                id="email",
                role=Role.CONTACT,
                label="Email address",
                kind=Kind.EMAIL,
                max_length=254,
                hint="We will only use this to contact you about your care.",
                autocomplete="email",
                short_label="Email",
                error="Enter your email address",
            ),
            Item(
                id="phone",
                role=Role.CONTACT,
                label="Phone number",
                kind=Kind.PHONE,
                required=False,
                max_length=40,
                autocomplete="tel",
                short_label="Phone",
            ),
            Item(
                id="region",
                label="Where do you live?",
                kind=Kind.CHOICE,
                choices=REGIONS,
                hint="Choose your province or territory. If you live outside Canada, choose "
                '"United States" or "Somewhere else".',
                short_label="Where you live",
                error="Select where you live",
            ),
            Item(
                id="weight_value",
                label="Your weight",
                kind=Kind.NUMBER,
                parser=parse_weight,
                required=False,
                hint="Your best guess is fine. It helps the clinician plan a safe dose.",
                short_label="Weight",
            ),
            Item(
                id="weight_unit",
                label="Unit for your weight",
                kind=Kind.CHOICE,
                choices=(Choice("kg", "kg"), Choice("lb", "lb")),
                required=False,
                required_with="weight_value",
                unit_of="weight_value",
                short_label="Weight unit",
                error="Select kg or lb for your weight",
            ),
        ),
    ),
    Section(
        id="looking_for",
        title="What you are looking for",
        intro="Tell us what you would like help with. There are no wrong answers.",
        items=(
            Item(
                id="reasons",
                label="What would you like help with?",
                kind=Kind.MULTI,
                min_choices=1,
                hint="Tick all that apply.",
                choices=(
                    Choice("depression", "Depression"),
                    Choice("anxiety", "Anxiety"),
                    Choice("ptsd", "PTSD (post-traumatic stress)"),
                    Choice("ocd", "OCD (obsessive-compulsive disorder)"),
                    Choice("chronic_pain", "Chronic pain"),
                    Choice("suicidal_thoughts", "Thoughts of ending my life"),
                    Choice("other", "Something else"),
                ),
                short_label="Help with",
                error="Select what you would like help with",
            ),
            Item(
                id="treatments",
                label="Which treatments are you asking about?",
                kind=Kind.MULTI,
                required=False,
                hint="Tick all that apply.",
                choices=(
                    Choice("iv", "Ketamine by IV drip"),
                    Choice("injection", "Ketamine by injection"),
                    Choice("lozenge", "Ketamine lozenges"),
                    Choice("nasal_spray", "Esketamine nasal spray (Spravato)"),
                    Choice("not_sure", "I'm not sure yet"),
                ),
                short_label="Treatments",
            ),
            Item(
                id="antidepressants_tried",
                label=(
                    "How many different antidepressant medicines have you tried, "
                    "each for at least 4 to 6 weeks?"
                ),
                kind=Kind.CHOICE,
                choices=(
                    Choice("0", "None"),
                    Choice("1", "1"),
                    Choice("2", "2"),
                    Choice("3_plus", "3 or more"),
                    Choice("unsure", "Not sure"),
                ),
                short_label="Antidepressants tried",
                error="Select how many antidepressant medicines you have tried",
            ),
            Item(
                id="has_mh_provider",
                label=(
                    "Do you have a doctor, nurse practitioner or therapist "
                    "for your mental health now?"
                ),
                kind=Kind.CHOICE,
                choices=YES_NO,
                short_label="Has a mental health provider",
                error=(
                    "Select yes if you have a doctor, nurse practitioner or therapist for your "
                    "mental health now"
                ),
            ),
            Item(
                id="prior_ketamine_treatment",
                label="Have you had ketamine or esketamine (Spravato) treatment before?",
                kind=Kind.CHOICE,
                choices=YES_NO,
                short_label="Ketamine treatment before",
                error=(
                    "Select yes if you have had ketamine or esketamine (Spravato) treatment before"
                ),
            ),
            Item(
                id="prior_ketamine_details",
                label="If you have, where was it and how did it go?",
                kind=Kind.LONG_TEXT,
                required=False,
                max_length=DETAIL_MAX,
                short_label="Ketamine treatment details",
            ),
        ),
    ),
    Section(
        id="safety",
        title="Your safety",
        intro=(
            "These questions are hard for many people. Your answers help the clinician "
            "look after you. If you are in danger right now, call or text {crisis_line}, "
            "or call {emergency_number}."
        ),
        items=(
            _screener_item(
                cssrs.Q1,
                "C-SSRS 1: wished to be dead, past month",
                "Select yes if in the past month you have wished you were dead or could go to "
                "sleep and not wake up",
            ),
            dataclasses.replace(
                _yes_no_prefer_not(
                    "suicidal_thoughts_past_month",
                    "In the past month, have you had thoughts of ending your life?",
                    "Thoughts of ending life, past month",
                    "Select yes if you have had thoughts of ending your life in the past month",
                ),
                screener_label=cssrs.ITEMS[cssrs.Q2].text,
            ),
            _screener_item(
                cssrs.Q3,
                "C-SSRS 3: thought about how, past month",
                "Select yes if you have been thinking about how you might do this",
                asked_when=AFTER_THOUGHTS,
            ),
            _screener_item(
                cssrs.Q4,
                "C-SSRS 4: intention of acting, past month",
                "Select yes if you have had these thoughts and some intention of acting on them",
                asked_when=AFTER_THOUGHTS,
            ),
            dataclasses.replace(
                _yes_no_prefer_not(
                    cssrs.Q5,
                    (
                        "In the past month, have you worked out how you would end your life "
                        "and meant to do it?"
                    ),
                    "Worked out a plan, past month",
                    "Select yes if in the past month you have worked out how you would end your "
                    "life and meant to do it",
                ),
                asked_when=AFTER_THOUGHTS,
                # The clinic's plain follow-up may be left blank (as before this item existed,
                # a patient is never stopped on the safety page for it); Q5 is required when
                # asked, as the screener's skip logic has it.
                required=False,
                screener_required=True,
                screener_label=cssrs.ITEMS[cssrs.Q5].text,
            ),
            Item(
                id="suicidal_thoughts_now",
                label="Are you having thoughts of ending your life right now?",
                kind=Kind.CHOICE,
                role=Role.CRISIS,
                choices=YES_NO_PREFER_NOT,
                asked_when=AFTER_THOUGHTS,
                short_label="Thoughts of ending life, now",
                error="Select yes if you are having thoughts of ending your life right now",
            ),
            _screener_item(
                cssrs.Q6,
                "C-SSRS 6: suicidal behaviour, ever",
                "Select yes if you have ever done, started to do or prepared to do anything to "
                "end your life",
                hint=cssrs.ITEMS[cssrs.Q6].examples,
            ),
            _screener_item(
                cssrs.Q6_RECENT,
                "C-SSRS 6: within the past 3 months",
                "Select yes if this was within the past 3 months",
                asked_when=AskedWhen(
                    item=cssrs.Q6,
                    one_of=frozenset({"yes", "prefer_not"}),
                    hint=ANSWER_IF_ABOVE,
                ),
            ),
            dataclasses.replace(
                _yes_no_prefer_not(
                    "suicide_attempt_ever",
                    "Have you ever tried to end your life?",
                    "Tried to end life, ever",
                    "Select yes if you have ever tried to end your life",
                ),
                # With the screener on, an attempt is one of Q6's behaviours: asked after it.
                screener_asked_when=AskedWhen(
                    item=cssrs.Q6,
                    one_of=frozenset({"yes", "prefer_not"}),
                    hint=ANSWER_IF_ABOVE,
                ),
            ),
            dataclasses.replace(
                _yes_no_prefer_not(
                    "suicide_attempt_past_3_months",
                    "Was that in the past 3 months?",
                    "Tried to end life, past 3 months",
                    "",  # optional: never required, so no message
                ),
                screener=False,
                required=False,
                asked_when=AskedWhen(
                    item="suicide_attempt_ever",
                    one_of=frozenset({"yes", "prefer_not"}),
                    hint=ANSWER_IF_ABOVE,
                ),
            ),
        ),
    ),
    instrument_section(instruments.PHQ9, "How you have been feeling"),
    instrument_section(instruments.GAD7, "Worry and nerves"),
    instrument_section(
        instruments.PCL5,
        "After a very stressful experience",
        asked_when=AskedWhen(
            item="reasons", one_of=frozenset({PTSD_REASON}), hint="", on_page=False
        ),
    ),
    Section(
        id="mental_health",
        title="Mental health history",
        intro="Some treatments can affect these experiences, so the clinician needs to know.",
        items=(
            _yes_no_unsure(
                "psychosis_ever",
                (
                    "Have you ever heard or seen things other people could not, or held "
                    "strong beliefs that others told you were not real?"
                ),
                "Unusual experiences, ever",
                (
                    "Select yes if you have ever heard or seen things others could not, or held "
                    "beliefs others said were not real"
                ),
                hint="Include times when you were unwell or using drugs.",
            ),
            _yes_no_unsure(
                "psychotic_illness_diagnosed",
                (
                    "Has a doctor ever told you that you have schizophrenia, "
                    "schizoaffective disorder or another psychotic illness?"
                ),
                "Told of a psychotic illness",
                "Select yes if a doctor has ever told you that you have a psychotic illness",
            ),
            _yes_no_unsure(
                "psychosis_past_month",
                (
                    "In the past month, have you heard or seen things others could not, "
                    "or felt that people were watching you or trying to harm you?"
                ),
                "Unusual experiences, past month",
                (
                    "Select yes if in the past month you have heard or seen things others could "
                    "not, or felt watched or threatened"
                ),
            ),
            _yes_no_unsure(
                "bipolar_diagnosed",
                "Has a doctor ever told you that you have bipolar disorder?",
                "Told of bipolar disorder",
                "Select yes if a doctor has ever told you that you have bipolar disorder",
            ),
            _yes_no_unsure(
                "mania_ever",
                (
                    'Have you ever had a time lasting days when you felt so "high", wired '
                    "or irritable that others were worried, and you needed much less sleep?"
                ),
                "High or wired spells, ever",
                (
                    "Select yes if you have ever had days when you felt so high, wired or "
                    "irritable that others were worried"
                ),
            ),
            _yes_no_unsure(
                "mania_past_2_weeks",
                (
                    'In the past 2 weeks, have you had that "high" or wired feeling, '
                    "or slept much less without feeling tired?"
                ),
                "High or wired, past 2 weeks",
                (
                    "Select yes if in the past 2 weeks you have felt high or wired, or slept much"
                    " less without feeling tired"
                ),
            ),
        ),
    ),
    Section(
        id="heart_brain",
        title="Heart, blood pressure and brain",
        intro="Ketamine raises blood pressure for a short time, so we ask about your heart and brain.",
        items=(
            _yes_no_unsure(
                "high_bp_told",
                "Has a health professional ever told you that you have high blood pressure?",
                "Told of high blood pressure",
                (
                    "Select yes if a health professional has ever told you that you have high "
                    "blood pressure"
                ),
            ),
            Item(
                id="bp_reading",
                label="If you know your latest blood pressure reading, type it here",
                kind=Kind.TEXT,
                required=False,
                max_length=40,
                parser=parse_blood_pressure,
                hint="Write it like 128/82 or 128 over 82. Leave it blank if you don't know.",
                short_label="Latest blood pressure",
            ),
            _yes_no_unsure(
                "heart_condition",
                (
                    "Do you have, or have you had, a heart problem such as a heart attack, "
                    "chest pain (angina), heart failure, a valve problem, or an irregular, "
                    "very fast or very slow heartbeat?"
                ),
                "Heart problem",
                "Select yes if you have, or have had, a heart problem",
            ),
            _yes_no_unsure(
                "heart_event_recent",
                (
                    "In the last 3 months, have you had a heart attack, a heart procedure "
                    "such as a stent, or a hospital stay for your heart?"
                ),
                "Heart event, last 3 months",
                (
                    "Select yes if you have had a heart attack, heart procedure or hospital stay "
                    "for your heart in the last 3 months"
                ),
            ),
            _yes_no_unsure(
                "aneurysm_or_avm",
                (
                    "Has a doctor ever told you that you have an aneurysm (a weak, bulging "
                    "blood vessel) or an AVM (a tangle of blood vessels)?"
                ),
                "Aneurysm or AVM",
                "Select yes if a doctor has ever told you that you have an aneurysm or an AVM",
            ),
            _yes_no_unsure(
                "stroke_or_brain_bleed",
                'Have you ever had bleeding in the brain, a stroke, or a "mini-stroke" (TIA)?',
                "Stroke or bleeding in the brain",
                "Select yes if you have ever had bleeding in the brain, a stroke or a mini-stroke",
            ),
            _yes_no_unsure(
                "head_injury_or_pressure",
                (
                    "Have you ever had a serious head injury, a brain tumour, a shunt, "
                    "or been told you have raised pressure inside your head?"
                ),
                "Head injury or pressure in the head",
                (
                    "Select yes if you have ever had a serious head injury, a brain tumour, a "
                    "shunt or raised pressure inside your head"
                ),
            ),
            _yes_no_unsure(
                "seizures",
                "Have you ever had a seizure or been told you have epilepsy?",
                "Seizures or epilepsy",
                "Select yes if you have ever had a seizure or been told you have epilepsy",
            ),
        ),
    ),
    Section(
        id="other_health",
        title="Other health",
        intro="A few more questions about your health.",
        items=(
            _yes_no_unsure(
                "eye_pressure",
                (
                    "Do you have glaucoma, high pressure in your eyes, or a recent eye "
                    "injury or eye surgery?"
                ),
                "Eye pressure, injury or surgery",
                (
                    "Select yes if you have glaucoma, high pressure in your eyes, or a recent eye"
                    " injury or eye surgery"
                ),
            ),
            _yes_no_unsure(
                "overactive_thyroid",
                "Do you have an overactive thyroid that is not fully treated right now?",
                "Overactive thyroid",
                "Select yes if you have an overactive thyroid that is not fully treated right now",
            ),
            _yes_no_unsure(
                "liver_disease",
                "Do you have liver disease, such as cirrhosis or hepatitis?",
                "Liver disease",
                "Select yes if you have liver disease",
            ),
            _yes_no_unsure(
                "breathing_condition",
                "Do you have a lung or breathing condition (such as COPD) or sleep apnea?",
                "Lung or breathing condition",
                "Select yes if you have a lung or breathing condition or sleep apnea",
            ),
            _yes_no_unsure(
                "bladder_symptoms",
                (
                    "In the past 3 months, have you had pain when peeing, needed to pee "
                    "very often or urgently, or seen blood in your urine?"
                ),
                "Bladder symptoms, past 3 months",
                (
                    "Select yes if in the past 3 months you have had pain or blood when peeing, "
                    "or needed to pee very often or urgently"
                ),
            ),
            Item(
                id="pregnant",
                label=(
                    "Are you pregnant, could you be pregnant, or are you trying to become pregnant?"
                ),
                kind=Kind.CHOICE,
                choices=(*YES_NO_UNSURE, Choice("not_applicable", "Does not apply to me")),
                short_label="Pregnancy",
                error=(
                    "Select yes if you are pregnant, could be pregnant or are trying to become "
                    "pregnant"
                ),
            ),
            Item(
                id="breastfeeding",
                label="Are you breastfeeding or chestfeeding?",
                kind=Kind.CHOICE,
                choices=(*YES_NO, Choice("not_applicable", "Does not apply to me")),
                short_label="Breastfeeding or chestfeeding",
                error="Select yes if you are breastfeeding or chestfeeding",
            ),
            _yes_no_unsure(
                "ketamine_reaction",
                (
                    "Have you ever had an allergy or a bad reaction to ketamine, "
                    "esketamine or an anaesthetic?"
                ),
                "Reaction to ketamine or an anaesthetic",
                (
                    "Select yes if you have ever had an allergy or a bad reaction to ketamine, "
                    "esketamine or an anaesthetic"
                ),
            ),
            Item(
                id="ketamine_reaction_details",
                label="If you have, what happened?",
                kind=Kind.LONG_TEXT,
                required=False,
                max_length=DETAIL_MAX,
                short_label="Reaction details",
            ),
        ),
    ),
    Section(
        id="alcohol_drugs",
        title="Alcohol and drugs",
        intro=(
            "Please answer honestly. Your answers are private, and they help the "
            "clinician keep your treatment safe. They are not shared with the police."
        ),
        items=(
            *_auditc_items(),
            _yes_no_prefer_not(
                "alcohol_problems",
                (
                    "In the past year, has drinking caused problems for you, or has anyone "
                    "been worried about your drinking?"
                ),
                "Problems with drinking, past year",
                (
                    "Select yes if in the past year drinking has caused problems for you, or "
                    "anyone has been worried about your drinking"
                ),
            ),
            dataclasses.replace(
                _yes_no_unsure(
                    "alcohol_can_pause",
                    "Could you go without alcohol for 24 hours before each treatment?",
                    "Can go without alcohol for 24 hours",
                    "Select yes if you could go without alcohol for 24 hours before each treatment",
                ),
                # Not asked of a non-drinker (AUDIT-C item 1 "Never"); asked if it was skipped.
                asked_when=AskedWhen(
                    item=instruments.AUDITC.item_ids[0],
                    one_of=frozenset(instruments.AUDITC.codes[1:]),
                    hint=AUDITC_IF_DRINKS,
                    unanswered=True,
                ),
            ),
            Item(
                id="cannabis_frequency",
                label="How often do you use cannabis (weed, THC edibles or vapes)?",
                kind=Kind.CHOICE,
                choices=(
                    Choice("never", "Never"),
                    Choice("less_than_monthly", "Less than once a month"),
                    Choice("monthly", "Once a month or more"),
                    Choice("weekly", "Once a week or more"),
                    Choice("daily", "Every day or almost every day"),
                ),
                short_label="Cannabis use",
                error="Select how often you use cannabis",
            ),
            Item(
                id="other_drugs_past_year",
                label="In the past year, have you used any of these without a prescription?",
                kind=Kind.MULTI,
                required=False,
                hint="Tick all that apply. Leave them all unticked if none.",
                choices=(
                    Choice("cocaine", "Cocaine or crack"),
                    Choice(
                        "stimulants", "Stimulants such as speed, meth or someone else's ADHD pills"
                    ),
                    Choice(
                        "opioids", "Opioids such as fentanyl, heroin or someone else's painkillers"
                    ),
                    Choice("sedatives", "Sedatives or sleeping pills"),
                    Choice("hallucinogens", "Hallucinogens such as LSD or mushrooms"),
                    Choice("other", "Something else"),
                ),
                short_label="Other drugs, past year",
            ),
            _yes_no_prefer_not(
                "ketamine_nonmedical",
                "Have you ever used ketamine without a prescription or outside a clinic?",
                "Ketamine outside a clinic, ever",
                (
                    "Select yes if you have ever used ketamine without a prescription or outside "
                    "a clinic"
                ),
            ),
            _yes_no_prefer_not(
                "substance_treatment_ever",
                "Have you ever had treatment or support for alcohol or drug use?",
                "Treatment for alcohol or drug use, ever",
                "Select yes if you have ever had treatment or support for alcohol or drug use",
            ),
        ),
    ),
    Section(
        id="medicines",
        title="Medicines",
        intro="Some medicines change how ketamine works. Your usual medicines are fine to list.",
        items=(
            _yes_no_unsure(
                "takes_benzodiazepine",
                (
                    "Do you take medicine for anxiety, panic or sleep such as lorazepam "
                    "(Ativan), alprazolam (Xanax), clonazepam (Klonopin, Rivotril) or "
                    "diazepam (Valium)?"
                ),
                "Takes medicine for anxiety, panic or sleep",
                "Select yes if you take medicine for anxiety, panic or sleep",
            ),
            Item(
                id="medications",
                label="Please list every medicine you take, with the dose if you know it",
                kind=Kind.LONG_TEXT,
                required=False,
                max_length=MEDICATIONS_MAX,
                hint="Include prescriptions, medicines you buy yourself, vitamins and supplements.",
                short_label="Medicines",
            ),
        ),
    ),
    Section(
        id="getting_home",
        title="Getting home",
        intro="After a treatment you may feel drowsy or unsteady for some hours.",
        items=(
            _yes_no_unsure(
                "escort_home",
                "After each treatment, can an adult take you home?",
                "An adult can take them home",
                "Select yes if an adult can take you home after each treatment",
            ),
            Item(
                id="travel_home",
                label="How will you get home after a treatment?",
                kind=Kind.CHOICE,
                choices=(
                    Choice("driven_by_someone", "Someone will drive me"),
                    Choice("taxi_with_adult", "A taxi with an adult I know"),
                    Choice("public_transit", "Public transit"),
                    Choice("drive_myself", "I will drive myself"),
                ),
                short_label="Way home",
                error="Select how you will get home after a treatment",
            ),
        ),
    ),
    Section(
        id="consent",
        title="Consent",
        intro="",
        placement="edges",
        items=(
            Item(
                id="privacy_consent",
                label=(
                    "I agree that the clinic may store and use my answers to plan my care, "
                    "as the privacy notice explains."
                ),
                kind=Kind.CONSENT,
                role=Role.PRIVACY_CONSENT,
                short_label="Agreed to the privacy notice",
                error="Select to confirm that you agree to the privacy notice",
            ),
            Item(
                id="understands_review",
                label=(
                    "I understand that this form does not decide my treatment. A clinician "
                    "will read my answers and contact me."
                ),
                kind=Kind.CONSENT,
                role=Role.UNDERSTANDS_REVIEW,
                short_label="Understands a clinician reviews the form",
                error="Select to confirm that you understand a clinician will read your answers",
            ),
        ),
    ),
)

#: Every fact the app knows how to derive (derive_facts); a definition names the ones it uses.
ALL_FACTS: dict[str, Fact] = {
    fact.id: fact
    for fact in (
        Fact("age_years", "Age in whole years on the day of submission", ("date_of_birth",)),
        Fact("weight_kg", "Weight in kilograms", ("weight_value", "weight_unit")),
        Fact("bp_systolic", "Systolic blood pressure (top number), mmHg", ("bp_reading",)),
        Fact("bp_diastolic", "Diastolic blood pressure (bottom number), mmHg", ("bp_reading",)),
        *(
            Fact(
                instrument.total_fact,
                f"{instrument.name} total score (0 to {instrument.max_total}; only when every "
                "item is answered)",
                instrument.item_ids,
            )
            for instrument in instruments.INSTRUMENTS
        ),
        Fact(
            instruments.PHQ9_ITEM9_FACT,
            "PHQ-9 item 9 score (0 to 3): thoughts of being better off dead or of self-harm",
            (instruments.PHQ9_ITEM9,),
        ),
        Fact(
            cssrs.RISK_FACT,
            "C-SSRS screener triage (high, moderate, low, or no_positive when questions 1, 2 "
            "and 6 were all no); for display and export, never a flag",
            (cssrs.Q1, cssrs.Q2, cssrs.Q3, cssrs.Q4, cssrs.Q5, cssrs.Q6, cssrs.Q6_RECENT),
            cssrs.TIERS,
        ),
    )
}


#: Answers to the crisis question that show crisis help at once.
CRISIS_ANSWERS = frozenset({"yes", "prefer_not"})
#: The answers that showed crisis help before the questions were data (DECLARED_SECTIONS).
DECLARED_CRISIS_TRIGGERS: dict[str, frozenset[str]] = {
    "suicidal_thoughts_now": CRISIS_ANSWERS,
    instruments.PHQ9_ITEM9: frozenset(instruments.PHQ9.codes[1:]),
    # Intent, a plan, and suicidal behaviour or an attempt within 3 months (ITEMS.md, 11).
    cssrs.Q4: CRISIS_ANSWERS,
    cssrs.Q5: CRISIS_ANSWERS,
    cssrs.Q6_RECENT: CRISIS_ANSWERS,
    "suicide_attempt_past_3_months": CRISIS_ANSWERS,
}

#: The questionnaire definition shipped with the app (QUESTIONS_PATH names the one served).
SHIPPED_PATH = Path(__file__).resolve().parents[2] / "forms" / "intake.yaml"

#: The definition this process asks (install() replaces it when QUESTIONS_PATH names another).
#: The shipped file is checked in both of the project's languages (start-up reuses it).
DEFINITION: Definition = load_definition(SHIPPED_PATH, ("en", "fr_CA"), all_facts=ALL_FACTS)

#: Every section of the definition, in order (pages and the start/last-step items).
SECTIONS: tuple[Section, ...] = DEFINITION.sections
#: The sections a patient answers one page at a time, in order.
PAGES: tuple[Section, ...] = tuple(s for s in SECTIONS if s.placement == "page")
#: Every item by id.
ITEMS: dict[str, Item] = {item.id: item for section in SECTIONS for item in section.items}
#: The messages of each date item, whole sentences that name it (see DateWords).
DATE_WORDS: dict[str, DateWords] = {"date_of_birth": DATE_OF_BIRTH_WORDS}
#: The section that holds each item.
SECTION_OF: dict[str, Section] = {
    item.id: section for section in SECTIONS for item in section.items
}
#: The derived facts the definition names, by id.
FACTS: dict[str, Fact] = dict(DEFINITION.facts)


def with_role(role: Role) -> Item:
    """Return the one item that has this role."""
    (item,) = (item for item in ITEMS.values() if item.role is role)
    return item


DATE_OF_BIRTH = with_role(Role.DATE_OF_BIRTH)
CRISIS_QUESTION = with_role(Role.CRISIS)
PRIVACY_CONSENT = with_role(Role.PRIVACY_CONSENT)
UNDERSTANDS_REVIEW = with_role(Role.UNDERSTANDS_REVIEW)
#: What a clinician needs to reach the patient, and nothing more.
CONTACT_ITEMS: tuple[Item, ...] = tuple(i for i in ITEMS.values() if i.role is Role.CONTACT)
#: Every answer that shows crisis help at once (item id -> answer codes): the items marked
#: shows_crisis_help in the definition, and PHQ-9 item 9 answered above "Not at all".
CRISIS_TRIGGERS: dict[str, frozenset[str]] = dict(DEFINITION.crisis_triggers)
#: The page that asks the crisis question.
CRISIS_SECTION = SECTION_OF[CRISIS_QUESTION.id]
#: Each number item's unit item, if it has one (weight_value -> weight_unit).
UNIT_OF: dict[str, Item] = {
    item.unit_of: item for item in ITEMS.values() if item.unit_of is not None
}
#: The words of earlier definitions built again to show old submissions (flagging/versions),
#: by language: English text -> its translation. Read after today's definition's own.
EARLIER_TEXTS: dict[str, dict[str, str]] = {}


def remember_texts(definition: Definition) -> None:
    """Keep an earlier definition's translations, for the pages that show its questions."""
    for locale, texts in definition.texts.items():
        EARLIER_TEXTS.setdefault(locale, {}).update(texts)


#: Called after install() with the new definition in place: modules that derive something
#: from the catalogue when imported (forms, version, the intake's pages) refresh it.
_LISTENERS: list[Callable[[], None]] = []


def on_install(listener: Callable[[], None]) -> Callable[[], None]:
    """Register a function to call whenever another definition is installed (a decorator)."""
    _LISTENERS.append(listener)
    return listener


def install(definition: Definition) -> None:
    """Make a checked definition the one this process asks (QUESTIONS_PATH; tests).

    One questionnaire per process: create_app installs the configured definition, and
    every page, export and rule check reads it through this module. Dicts are updated in
    place, so a module holding one sees the new questions.
    """
    global DEFINITION, SECTIONS, PAGES, DATE_OF_BIRTH, CRISIS_QUESTION
    global PRIVACY_CONSENT, UNDERSTANDS_REVIEW, CONTACT_ITEMS, CRISIS_SECTION
    DEFINITION = definition
    SECTIONS = definition.sections
    PAGES = tuple(s for s in SECTIONS if s.placement == "page")
    _replace(ITEMS, {item.id: item for section in SECTIONS for item in section.items})
    _replace(SECTION_OF, {item.id: section for section in SECTIONS for item in section.items})
    _replace(FACTS, definition.facts)
    _replace(CRISIS_TRIGGERS, definition.crisis_triggers)
    _replace(UNIT_OF, {item.unit_of: item for item in ITEMS.values() if item.unit_of is not None})
    DATE_OF_BIRTH = with_role(Role.DATE_OF_BIRTH)
    CRISIS_QUESTION = with_role(Role.CRISIS)
    PRIVACY_CONSENT = with_role(Role.PRIVACY_CONSENT)
    UNDERSTANDS_REVIEW = with_role(Role.UNDERSTANDS_REVIEW)
    CONTACT_ITEMS = tuple(i for i in ITEMS.values() if i.role is Role.CONTACT)
    CRISIS_SECTION = SECTION_OF[CRISIS_QUESTION.id]
    for listener in _LISTENERS:
        listener()


def _replace(target: dict[Any, Any], values: Mapping[Any, Any]) -> None:
    target.clear()
    target.update(values)


#: The weight, checked against WEIGHT_USUAL_KG on its page (the patient may confirm it).
WEIGHT_ITEM = "weight_value"


def parser_of(item: Item) -> Callable[[str], Any]:
    """Return the parser of a typed item: its own, or its kind's default."""
    if item.parser is not None:
        return item.parser
    return parse_number if item.kind is Kind.NUMBER else str


def derive_facts(answers: Mapping[str, Any], today: date) -> dict[str, int | float | str | None]:
    """Return every derived fact from normalised answers; None where it cannot be derived."""
    facts: dict[str, int | float | str | None] = dict.fromkeys(FACTS)
    born = answers.get("date_of_birth")
    if born:
        facts["age_years"] = age_on(date.fromisoformat(born), today)
    weight = answers.get("weight_value")
    if isinstance(weight, int | float) and math.isfinite(weight):
        facts["weight_kg"] = weight_in_kg(float(weight), answers.get("weight_unit") or "kg")
    reading = answers.get("bp_reading")
    if reading:
        facts["bp_systolic"], facts["bp_diastolic"] = parse_blood_pressure(reading)
    facts.update(instruments.scores(answers))
    facts[cssrs.RISK_FACT] = cssrs.risk_tier(answers)
    # Only the facts the definition names: a rule can name no other (and none is stored).
    return {name: value for name, value in facts.items() if name in FACTS}


# --- the C-SSRS screener setting (CSSRS_SCREENER_ENABLED) ------------------------------


def variant(item: Item, screener: bool) -> Item:
    """Return the item as asked with the screener on or off: its wording and skip logic."""
    if not screener or not (
        item.screener_label or item.screener_asked_when or item.screener_required is not None
    ):
        return item
    return dataclasses.replace(
        item,
        label=item.screener_label or item.label,
        hint=item.screener_hint or item.hint,
        asked_when=item.screener_asked_when or item.asked_when,
        french_exempt=instruments.NO_OFFICIAL_FRENCH if item.screener_label else item.french_exempt,
        required=item.required if item.screener_required is None else item.screener_required,
        screener_label="",
        screener_asked_when=None,
        screener_required=None,
    )


def asks(item: Item, screener: bool) -> bool:
    """Return whether the item is asked with the screener on (True) or off (False)."""
    return item.screener is None or item.screener is screener


# Keyed by the section itself (frozen, hashable): an edited catalogue is never served stale.
_ASKED: dict[tuple[Section, bool], Section] = {}
_ACCEPTED: dict[tuple[Section, bool], Section] = {}


def asked_section(section: Section, screener: bool) -> Section:
    """Return a page as the patient is asked it: only this setting's items, in its wording."""
    key = (section, screener)
    if key not in _ASKED:
        items = tuple(variant(item, screener) for item in section.items if asks(item, screener))
        _ASKED[key] = dataclasses.replace(section, items=items)
    return _ASKED[key]


def accepted_section(section: Section, screener: bool) -> Section:
    """Return a page as a whole questionnaire is validated: the other setting's items optional.

    An answer to an item of the other setting (a rule-table case, `rules evaluate`, a draft
    begun before the clinic changed the setting) is checked and kept, never required.
    """
    key = (section, screener)
    if key not in _ACCEPTED:
        items = tuple(
            variant(item, screener)
            if asks(item, screener)
            else dataclasses.replace(variant(item, screener), required=False)
            for item in section.items
        )
        _ACCEPTED[key] = dataclasses.replace(section, items=items)
    return _ACCEPTED[key]


def is_asked(item: Item, answers: Mapping[str, Any]) -> bool:
    """Return whether a conditional item's condition holds for these answers."""
    if item.asked_when is None:
        return True
    return item.asked_when.holds(answers.get(item.asked_when.item))


def needs_crisis_help(answers: Mapping[str, Any]) -> bool:
    """Return whether any answer calls for crisis help at once (CRISIS_TRIGGERS)."""
    return any(answers.get(item_id) in codes for item_id, codes in CRISIS_TRIGGERS.items())


def asked_in(section: Section, language: str) -> bool:
    """Return whether a page can be asked in a language (a BCP 47 tag such as fr-CA).

    A page whose official wording exists only in English (french_exempt) is left out
    for a patient answering in another language: never English among French
    (README, "Languages"). Its page says so on the one before it.
    """
    return not section.french_exempt or language.split("-")[0].lower() == "en"


def section_is_asked(section: Section, answers: Mapping[str, Any], language: str = "en") -> bool:
    """Return whether a page is asked: not when it depends on an earlier answer that rules it
    out, nor when its official wording does not exist in the patient's language."""
    if not asked_in(section, language):
        return False
    conditions = [item.asked_when for item in section.items]
    if not conditions or any(c is None or c.on_page for c in conditions):
        return True
    return any(is_asked(item, answers) for item in section.items)


def pages_as_answered(screener: bool) -> tuple[Section, ...]:
    """Return every page in the words a submission was asked with the screener on or off.

    Both settings' items stay (a stored answer to either still shows); Q2 and Q5 read as
    the patient read them. `screener` comes from the submission (version.screener_of),
    never from today's setting.
    """
    return tuple(accepted_section(page, screener) for page in PAGES)


#: The items whose words differ with the screener setting (Q2, Q5): shown in full, as asked.
WORDED_BY_SCREENER: frozenset[str] = frozenset(
    item.id for item in ITEMS.values() if item.screener_label
)


def item_asked_in(item: Item, language: str) -> bool:
    """Return whether an item can be asked in a language (a BCP 47 tag such as fr-CA).

    A standard instrument's item whose official wording exists only in English (the
    AUDIT-C's, on the alcohol page) is left out for a patient answering in another
    language, as a whole instrument page is (`asked_in`): never English among French.
    """
    english = language.split("-")[0].lower() == "en"
    return english or not (item.instrument and item.french_exempt)


def in_language(section: Section, language: str) -> Section:
    """Return a page without the items it cannot ask in this language (`item_asked_in`).

    An item asked only after a left-out one (the AUDIT-C's items 2 and 3 after item 1) goes
    too; one asked also while it is unanswered (`unanswered`, like alcohol_can_pause) is
    asked unconditionally: its condition is never answered in this language.
    """
    left_out = {item.id for item in section.items if not item_asked_in(item, language)}
    if not left_out:
        return section
    items = []
    for item in section.items:
        condition = item.asked_when
        if item.id in left_out:
            continue
        if condition is not None and condition.item in left_out:
            if not condition.unanswered:
                continue
            item = dataclasses.replace(item, asked_when=None)
        items.append(item)
    return dataclasses.replace(section, items=tuple(items))


def left_out_in(section: Section, language: str) -> tuple[str, ...]:
    """Return the names of the instruments whose items a page leaves out in this language."""
    names: list[str] = []
    for item in section.items:
        if not item_asked_in(item, language) and item.instrument is not None:
            name = instruments.BY_ID[item.instrument].name
            if name not in names:
                names.append(name)
    return tuple(names)
