"""The visit check-in: ITEMS.md section 15's questions, validated like the intake's.

Defined in Python beside the visits code until the questionnaire is data (issue 26):
one flat tuple of catalogue Items, so converting it is a matter of writing them out.
The non-instrument wording is the clinic's own (translated in messages.po); PHQ-9
and GAD-7 are the intake's items, word for word, asked only when due and GAD-7 only
in a language it is asked in at intake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import wtforms

from questionnaire.questions import catalogue, course, instruments
from questionnaire.questions.catalogue import AskedWhen, Choice, Item, Kind, Role
from questionnaire.questions.forms import as_formdata, field_for, form_answers, form_errors
from questionnaire.questions.parsers import parse_blood_pressure
from questionnaire.questions.wording import N_

DETAIL_MAX = 1000
YES_NO_UNSURE = catalogue.YES_NO_UNSURE
YES_NO_PREFER_NOT = catalogue.YES_NO_PREFER_NOT


def _choice(
    id: str, label: str, choices: tuple[Choice, ...], short: str, error: str, **kw: Any
) -> Item:
    return Item(
        id=id, label=label, kind=Kind.CHOICE, choices=choices, short_label=short, error=error, **kw
    )


CRISIS_ITEM = _choice(
    "visit_suicidal_thoughts_now",
    N_("Are you having thoughts of ending your life right now?"),
    YES_NO_PREFER_NOT,
    N_("Thoughts of ending life now"),
    N_("Select yes if you are having thoughts of ending your life right now"),
    role=Role.CRISIS,
)

#: The clinic's own questions, in page order (ITEMS.md 15: ids and codes exactly).
VISIT_ITEMS: tuple[Item, ...] = (
    CRISIS_ITEM,
    _choice(
        "visit_health_change",
        N_(
            "Since your last treatment, have you had a new health problem, or been to an "
            "emergency department or stayed in hospital?"
        ),
        (
            Choice("no", N_("No")),
            Choice("new_problem", N_("Yes, a new health problem")),
            Choice(
                "emergency_or_hospital",
                N_("Yes, I went to an emergency department or stayed in hospital"),
            ),
            Choice("unsure", N_("Not sure")),
        ),
        N_("New health problem or hospital"),
        N_("Select whether you have had a new health problem since your last treatment"),
    ),
    Item(
        id="visit_health_change_details",
        label=N_("What happened? (optional)"),
        kind=Kind.LONG_TEXT,
        required=False,
        max_length=DETAIL_MAX,
        asked_when=AskedWhen(
            item="visit_health_change",
            one_of=frozenset({"new_problem", "emergency_or_hospital", "unsure"}),
            hint=N_("Answer this if you answered yes or not sure to the question above."),
        ),
        short_label=N_("What happened"),
    ),
    _choice(
        "visit_heart_symptoms",
        N_(
            "Since your last treatment, have you had chest pain or pressure, a racing, pounding "
            "or uneven heartbeat, fainting, or new shortness of breath?"
        ),
        YES_NO_UNSURE,
        N_("Heart symptoms"),
        N_("Select yes if you have had any of these heart symptoms"),
    ),
    _choice(
        "visit_medicines_changed",
        N_(
            "Since your last treatment, have you started, stopped or changed any medicine, "
            "including sleeping pills, pain pills or anything not prescribed to you?"
        ),
        YES_NO_UNSURE,
        N_("Medicines changed"),
        N_("Select yes if you have started, stopped or changed any medicine"),
    ),
    Item(
        id="visit_medications",
        label=N_("Which ones, and what changed?"),
        kind=Kind.LONG_TEXT,
        required=False,
        max_length=DETAIL_MAX,
        asked_when=AskedWhen(
            item="visit_medicines_changed",
            one_of=frozenset({"yes", "unsure"}),
            hint=N_("Answer this if you answered yes or not sure to the question above."),
        ),
        short_label=N_("Medicine changes"),
    ),
    _choice(
        "visit_alcohol_24h",
        N_("In the last 24 hours, have you had any alcohol?"),
        YES_NO_PREFER_NOT,
        N_("Alcohol in the last 24 hours"),
        N_("Select yes if you have had alcohol in the last 24 hours"),
    ),
    _choice(
        "visit_drugs_24h",
        N_("In the last 24 hours, have you used cannabis or any drug not prescribed to you?"),
        YES_NO_PREFER_NOT,
        N_("Cannabis or drugs in the last 24 hours"),
        N_("Select yes if you have used cannabis or a drug in the last 24 hours"),
    ),
    _choice(
        "visit_last_solid_food",
        N_("When did you last eat solid food (a meal or a snack)?"),
        (
            Choice("under_2h", N_("Less than 2 hours ago")),
            Choice("2_to_4h", N_("2 to 4 hours ago")),
            Choice("4_to_6h", N_("4 to 6 hours ago")),
            Choice("6_to_8h", N_("6 to 8 hours ago")),
            Choice("over_8h", N_("More than 8 hours ago")),
        ),
        N_("Last solid food"),
        N_("Select when you last ate solid food"),
    ),
    Item(
        id="visit_bp_reading",
        label=N_("If you measured your blood pressure at home today, type it here"),
        kind=Kind.TEXT,
        required=False,
        max_length=20,
        parser=parse_blood_pressure,
        hint=N_("Like 128/82. Leave it empty if you did not measure it."),
        short_label=N_("Blood pressure today"),
    ),
    _choice(
        "visit_pregnancy_possible",
        N_("Could you be pregnant now?"),
        (*YES_NO_UNSURE, Choice("not_applicable", N_("Does not apply to me"))),
        N_("Could be pregnant"),
        N_("Select whether you could be pregnant now"),
    ),
    _choice(
        "visit_escort_home",
        N_("After today's treatment, will an adult take you home?"),
        YES_NO_UNSURE,
        N_("Adult to take them home"),
        N_("Select yes if an adult will take you home"),
    ),
    _choice(
        "visit_travel_home",
        N_("How will you get home today?"),
        catalogue.ITEMS["travel_home"].choices,
        N_("Way home today"),
        N_("Select how you will get home today"),
    ),
)


def _instrument_items(instrument_id: str) -> tuple[Item, ...]:
    (section,) = (s for s in catalogue.SECTIONS if s.id == instrument_id)
    return section.items


PHQ9_ITEMS = _instrument_items("phq9")
GAD7_ITEMS = _instrument_items("gad7")
#: Inputs the rules read that the patient is not asked: the course so far, from the record.
COURSE_INPUTS = (
    "course_phq9_baseline",
    "course_phq9_previous",
    "course_gad7_baseline",
    "course_gad7_previous",
    "course_visits_before",
)
#: Derived facts: today's blood pressure, the instruments' totals, the course's facts.
FACT_NUMBERS = (
    "visit_bp_systolic",
    "visit_bp_diastolic",
    "phq9_total",
    "gad7_total",
    instruments.PHQ9_ITEM9_FACT,
    "visit_number",
    "phq9_baseline",
    "phq9_previous",
    "phq9_change_baseline",
    "phq9_change_previous",
    "gad7_baseline",
    "gad7_previous",
    "gad7_change_baseline",
    "gad7_change_previous",
)
FACT_CODES = ("phq9_response", "phq9_remission", "phq9_worsening", "gad7_worsening")
#: Answers that show crisis help at once: the "right now" question and PHQ-9 item 9 > 0.
CRISIS_TRIGGERS: dict[str, frozenset[str]] = {
    CRISIS_ITEM.id: catalogue.CRISIS_ANSWERS,
    instruments.PHQ9_ITEM9: frozenset(instruments.PHQ9.codes[1:]),
}


@dataclass(frozen=True, slots=True)
class Asked:
    """What one check-in asks: the clinic's questions, and the instruments when due."""

    phq9: bool
    gad7: bool

    @property
    def items(self) -> tuple[Item, ...]:
        """Return every item asked, in page order."""
        return VISIT_ITEMS + (PHQ9_ITEMS if self.phq9 else ()) + (GAD7_ITEMS if self.gad7 else ())


ALL = Asked(phq9=True, gad7=True)


def asked(instruments_due: bool, language: str) -> Asked:
    """Return what to ask: the instruments when due, GAD-7 only where intake asks it."""
    gad7_section = next(s for s in catalogue.SECTIONS if s.id == "gad7")
    return Asked(
        phq9=instruments_due,
        gad7=instruments_due and catalogue.asked_in(gad7_section, language),
    )


def form_class(which: Asked, base: type[wtforms.Form] = wtforms.Form) -> type:
    """Return the form class asking these items (base is FlaskForm on the web)."""
    fields = {item.id: field_for(item) for item in which.items}
    return type("CheckInForm", (base,), fields)


def needs_crisis_help(answers: Mapping[str, Any]) -> bool:
    """Return whether an answer calls for crisis help at once."""
    return any(answers.get(item) in codes for item, codes in CRISIS_TRIGGERS.items())


def derive_facts(answers: Mapping[str, Any], history: Mapping[str, Any]) -> dict[str, Any]:
    """Return the check-in's facts: blood pressure, totals, and the course's facts."""
    facts: dict[str, Any] = dict.fromkeys((*FACT_NUMBERS, *FACT_CODES))
    reading = answers.get("visit_bp_reading")
    if reading:
        facts["visit_bp_systolic"], facts["visit_bp_diastolic"] = parse_blood_pressure(reading)
    scored = instruments.scores(answers)
    for name in ("phq9_total", "gad7_total", instruments.PHQ9_ITEM9_FACT):
        facts[name] = scored[name]
    facts.update(course_facts(facts, history))
    return facts


def course_facts(facts: Mapping[str, Any], history: Mapping[str, Any]) -> dict[str, Any]:
    """Return course.py's facts for this check-in from the course so far (COURSE_INPUTS)."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2000, 1, 1, tzinfo=UTC)
    totals = {
        key: history.get(f"course_{key[:4]}_baseline") for key in ("phq9_total", "gad7_total")
    }
    readings = [course.Reading(start, totals, "intake")]
    previous = {key: history.get(f"course_{key[:4]}_previous") for key in totals}
    if any(value is not None for value in previous.values()):
        readings.append(course.Reading(start + timedelta(days=1), previous))
    readings.append(
        course.Reading(start + timedelta(days=2), {key: facts.get(key) for key in totals})
    )
    found = course.course_facts(readings, len(readings) - 1)
    found["visit_number"] = int(history.get("course_visits_before") or 0) + 1
    return {key: value for key, value in found.items() if not key.endswith("_from")}


@dataclass
class Validated:
    """One check-in's validated answers and facts, or its errors."""

    answers: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


def validate(form: wtforms.Form, which: Asked, history: Mapping[str, Any]) -> Validated:
    """Validate a filled check-in form; derive its facts when every answer is valid."""
    form.context = {}
    if not form.validate():
        return Validated(errors=form_errors(form))
    section = catalogue.Section(id="checkin", title="", intro="", items=which.items)
    answers = form_answers(form, section)
    return Validated(answers=answers, facts=derive_facts(answers, history))


def validate_raw(raw: Mapping[str, Any], history: Mapping[str, Any]) -> Validated:
    """Validate raw answers (a rule case, the CLI) as the web would, every item asked."""
    unknown = [key for key in raw if key not in {i.id for i in ALL.items}]
    if unknown:
        return Validated(
            errors={key: ["This is not a question of the check-in."] for key in unknown}
        )
    form = form_class(ALL)(formdata=as_formdata(raw))
    return validate(form, ALL, history)
