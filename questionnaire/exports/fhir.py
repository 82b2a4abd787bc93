"""FHIR R4 exports: the Questionnaire derived from items.py, and a submission as a Bundle.

Pure functions that return JSON-ready dicts: no Flask request, no database
query beyond the submission's own loaded flags. The caller passes the
deployment's public base URL (no trailing slash needed) and the clinic's name.

Only answers of the form go into the resources: no derived facts, no clinician,
no notes. A submission's Bundle holds a Patient built from the contact answers
(name as written, given and family where there are two words or more, birth date,
email and phone, the language answered in as preferred): the QuestionnaireResponse's
subject and every DetectedIssue's patient. Those details stay answers in the
response too, like every other answer. The Patient is this submission's patient
as they described themselves, not a matched record: a record system links it
to its own. Nothing of the patient's goes into a URL or an identifier.

A reference code reads as the screen shows it (K7QM-4TZ9) in every identifier
value and display, so a clinician can search the record system for what the
queue shows.

The response's `language` is that of its own texts (the catalogue's English), and
instrument answers are LOINC answer codes weighted by their score; a patient's
corrections ride beside the answers they correct (`_correction_entries`). docs/fhir.md
says all this for clinic IT.

Every fullUrl is a urn:uuid derived from the deployment and the submission's
reference (`stable_urn`), so exporting the same submission twice gives the same Bundle.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from babel import Locale, UnknownLocaleError
from flask import current_app, has_app_context

from questionnaire.questions import catalogue, cssrs
from questionnaire.questions import version as versions
from questionnaire.questions.catalogue import Item, Kind, Section
from questionnaire.questions.instruments import BY_ID, INSTRUMENT_OF, INSTRUMENTS, LOINC, Instrument
from questionnaire.questions.text import show_bidi
from questionnaire.questions.version import VERSIONS, screener_of
from questionnaire.records.models import Flag, Submission
from questionnaire.records.references import format_reference

#: The version of the questionnaire served now (questions/version.py), kept beside it here.
QUESTIONNAIRE_VERSION: str = versions.QUESTIONNAIRE_VERSION


@catalogue.on_install
def _refresh() -> None:
    """Name the version of another definition (catalogue.install); read by tests and tools."""
    global QUESTIONNAIRE_VERSION
    QUESTIONNAIRE_VERSION = versions.QUESTIONNAIRE_VERSION


#: The FHIR item type of each answer kind (R4 Questionnaire.item.type).
#: DetectedIssue.severity of each flag level.
SEVERITY: dict[str, str] = {"urgent": "high", "review": "moderate", "info": "low"}

QUESTIONNAIRE_ID = "intake"
QUESTIONNAIRE_NAME = "KetamineClinicIntake"
QUESTIONNAIRE_TITLE = "Ketamine and esketamine treatment: pre-consultation questionnaire"
#: The language the catalogue is written in; others ride along as translation extensions.
SOURCE_LANGUAGE = "en"
TRANSLATION_EXTENSION = "http://hl7.org/fhir/StructureDefinition/translation"

#: A language's catalogue lookup, by BCP 47 tag: "fr-CA" -> gettext.
Translations = Mapping[str, Callable[[str], str]]


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def questionnaire_url(base_url: str) -> str:
    """Return the Questionnaire's canonical URL for a deployment."""
    return f"{_base(base_url)}/fhir/Questionnaire/{QUESTIONNAIRE_ID}"


def questionnaire_canonical(base_url: str, version: str | None = "") -> str:
    """Return the canonical reference a response points to: url|version, or url without one.

    A submission stored before versions were recorded (version None) names the url
    alone: which version its patient answered is unknown, and naming today's would
    claim a form the patient may never have seen. Left out (""), the version served now.
    """
    if version == "":
        version = QUESTIONNAIRE_VERSION
    url = questionnaire_url(base_url)
    return f"{url}|{version}" if version else url


def answer_system(base_url: str, item_id: str) -> str:
    """Return the code system of one item's answer codes."""
    return f"{_base(base_url)}/fhir/CodeSystem/{item_id}"


def rules_system(base_url: str) -> str:
    """Return the code system of rule ids (DetectedIssue.code)."""
    return f"{_base(base_url)}/fhir/CodeSystem/rules"


def reference_system(base_url: str) -> str:
    """Return the identifier system of submission reference codes, valued as shown (K7QM-4TZ9)."""
    return f"{_base(base_url)}/fhir/NamingSystem/submission-reference"


def flag_system(base_url: str) -> str:
    """Return the identifier system of flags (reference-rule)."""
    return f"{_base(base_url)}/fhir/NamingSystem/flag"


# --- the Questionnaire -----------------------------------------------------------------


def _translated(text: str, translations: Translations) -> dict[str, Any] | None:
    """Return the `_element` of a string: one FHIR translation extension per language."""
    extensions = [
        {
            "url": TRANSLATION_EXTENSION,
            "extension": [
                {"url": "lang", "valueCode": tag},
                {"url": "content", "valueString": words},
            ],
        }
        for tag, gettext in translations.items()
        if (words := gettext(text)) and words != text
    ]
    return {"extension": extensions} if extensions else None


def _with_translations(
    element: dict[str, Any], name: str, translations: Translations
) -> dict[str, Any]:
    """Add the translations of element[name] beside it, as FHIR's `_name`."""
    extra = _translated(element[name], translations)
    if extra is not None:
        element[f"_{name}"] = extra
    return element


def _question(
    item: Item, base_url: str, translations: Translations, screener: bool = False
) -> dict[str, Any]:
    if item.french_exempt:
        translations = {}  # shown as published, in English, on every page (README, "Languages")
    question: dict[str, Any] = {
        "linkId": item.id,
        "text": item.label,
        "type": item.kind.traits.fhir_type,
        "required": item.required or (item.kind is Kind.MULTI and item.min_choices > 0),
    }
    instrument = INSTRUMENT_OF.get(item.id)
    if instrument is not None and instrument.loinc_items:
        number = instrument.item_ids.index(item.id)
        question["code"] = [{"system": LOINC, "code": instrument.loinc_items[number]}]
    if screener and cssrs_worded(item):
        # The C-SSRS screener's item code (93246-7 ... 93269-9), only where the patient is
        # asked the screener's own words: the clinic's plain items are not the C-SSRS.
        question["code"] = [
            {"system": LOINC, "code": cssrs.ITEMS[item.id].loinc, "display": item.label}
        ]
    if item.kind is Kind.MULTI:
        question["repeats"] = True
    if item.max_length is not None and item.kind.traits.value == "text":
        question["maxLength"] = item.max_length
    if item.choices:
        system = answer_system(base_url, item.id)
        question["answerOption"] = [
            {
                "valueCoding": _with_translations(
                    {"system": system, "code": choice.code, "display": choice.label},
                    "display",
                    translations,
                )
            }
            for choice in item.choices
        ]
        if instrument is not None:
            question["answerOption"] = _scored_options(instrument, item, base_url, translations)
    if item.asked_when is not None:
        condition = item.asked_when
        asked_after = catalogue.ITEMS[condition.item]
        system = answer_system(base_url, condition.item)
        # In items.py order, so the resource is the same on every run.
        question["enableWhen"] = [
            {
                "question": condition.item,
                "operator": "=",
                "answerCoding": _condition_coding(asked_after, code, system),
            }
            for code in asked_after.codes
            if code in condition.one_of
        ]
        question["enableBehavior"] = "any"
    return _with_translations(question, "text", translations)


def _condition_coding(asked_after: Item, code: str, system: str) -> dict[str, Any]:
    """Return the coding an enableWhen compares with: as the earlier question codes its answer.

    An instrument's answer is its LOINC answer code (the AUDIT-C's item 1 opens items 2
    and 3), any other the question's own code.
    """
    instrument = INSTRUMENT_OF.get(asked_after.id)
    if instrument is not None and instrument.loinc_answer(code, asked_after.id):
        coding = _scored_coding(instrument, code, asked_after.id)
        return {k: v for k, v in coding.items() if k != "extension"} | {
            "display": asked_after.choice_label(code)
        }
    return {"system": system, "code": code, "display": asked_after.choice_label(code)}


#: SDC: an item whose value a form filler computes with FHIRPath (LHC-Forms' PHQ-9 does so).
CALCULATED_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
)


def total_expression(instrument: Instrument) -> str:
    """Return the FHIRPath that computes an instrument's total from a QuestionnaireResponse.

    As the app scores it (instruments.Instrument.total): each answer's code is its score;
    the total exists only when every item is answered, never as a partial sum (empty
    otherwise); AUDIT-C's item 1 at "0" (never drinks) makes the total 0.
    """
    ids = " | ".join(f"'{item_id}'" for item_id in instrument.item_ids)
    answers = f"%resource.repeat(item).where(linkId in ({ids})).answer.value"
    # An answer coded with LOINC carries its score as its ordinalValue (the SDC weight);
    # an answer coded locally is its own score ("0" to "4").
    scores = (
        f"{answers}.extension.where(url = '{ORDINAL_VALUE_EXTENSION}')"
        ".value.select($this.toDecimal())"
        if instrument.has_loinc_answers
        else f"{answers}.code.select(toInteger())"
    )
    whole = f"iif({answers}.count() = {len(instrument.item_ids)}, {scores}.sum(), {{}})"
    if not instrument.zero_first_ends:
        return whole
    first_id = instrument.item_ids[0]
    first = f"%resource.repeat(item).where(linkId = '{first_id}').answer.value.code"
    never = instrument.loinc_answer("0", first_id) or "0"  # AUDIT-C's "Never": LA6270-8
    return f"iif({first} = '{never}', 0, {whole})"


def total_item(instrument: Instrument) -> dict[str, Any]:
    """Return an instrument's total score as a read-only calculated item with its LOINC code."""
    return {
        "linkId": instrument.total_fact,
        "text": f"{instrument.name} total score",
        "type": "integer",
        "readOnly": True,
        "required": False,
        "code": [
            {
                "system": LOINC,
                "code": instrument.loinc_total,
                "display": instrument.loinc_total_display,
            }
        ],
        "extension": [
            {
                "url": CALCULATED_EXPRESSION,
                "valueExpression": {
                    "language": "text/fhirpath",
                    "expression": total_expression(instrument),
                },
            }
        ],
    }


def _totals(section: Section) -> list[dict[str, Any]]:
    """Return the calculated total of each instrument asked in this section (after its items)."""
    ids = {item.id for item in section.items}
    return [total_item(instrument) for instrument in INSTRUMENTS if instrument.item_ids[0] in ids]


def _group(
    section: Section, base_url: str, translations: Translations, screener: bool = False
) -> dict[str, Any]:
    questions = [_question(item, base_url, translations, screener) for item in section.items]
    group: dict[str, Any] = {
        "linkId": section.id,
        "text": section.title,
        "type": "group",
        "required": any(question["required"] for question in questions),
        "item": [*questions, *_totals(section)],
    }
    if section.instrument is not None:
        # The instrument's LOINC panel (PHQ-9 44249-1, GAD-7 69737-5, PCL-5 101697-1).
        instrument = BY_ID[section.instrument]
        group["code"] = [
            {"system": LOINC, "code": instrument.loinc_panel, "display": instrument.name}
        ]
    if screener and any(cssrs_worded(item) for item in section.items):
        group["code"] = [{"system": LOINC, "code": cssrs.PANEL_LOINC, "display": CSSRS_PANEL}]
    return _with_translations(group, "text", translations)


#: LOINC's display of the C-SSRS screener panel (93373-9).
CSSRS_PANEL = "Columbia - suicide severity rating scale screener - recent [C-SSRS]"


def cssrs_worded(item: Item) -> bool:
    """Return whether an item, as asked, is a C-SSRS screener question in its own words."""
    screen_item = cssrs.ITEMS.get(item.id)
    return screen_item is not None and item.label == screen_item.text


def asked_sections(
    screener: bool, sections: tuple[Section, ...] | None = None
) -> tuple[Section, ...]:
    """Return every page with each item in the wording and skip logic of the screener setting.

    `sections`: a stored version's questions (today's when None). Both settings' items stay
    (a response may hold either; catalogue.accepted_section); only Q2's and Q5's words and
    the attempt question's condition differ.
    """
    return tuple(
        dataclasses.replace(
            section, items=tuple(catalogue.variant(item, screener) for item in section.items)
        )
        for section in (catalogue.SECTIONS if sections is None else sections)
    )


#: The notice LOINC's licence asks for wherever its codes are shipped (loinc.org/license),
#: and the instruments' own terms (docs/instruments.md has the full citations).
COPYRIGHT = (
    "This material contains content from LOINC (http://loinc.org). LOINC is copyright "
    "Regenstrief Institute, Inc. and the Logical Observation Identifiers Names and Codes "
    "(LOINC) Committee and is available at no cost under the license at "
    "http://loinc.org/license. LOINC® is a registered United States trademark of "
    "Regenstrief Institute, Inc. PHQ-9 and GAD-7: developed by Drs. Robert L. Spitzer, "
    "Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational grant from "
    "Pfizer Inc.; no permission required to reproduce, translate, display or distribute. "
    "PCL-5: National Center for PTSD (public domain). AUDIT: World Health Organization "
    "(Babor et al. 2001). The C-SSRS, where asked: © 2008 The Research Foundation for "
    "Mental Hygiene, Inc., used under the clinic's own permission."
)


def questionnaire_resource(
    base_url: str,
    clinic_name: str,
    translations: Translations | None = None,
    screener: bool = False,
) -> dict[str, Any]:
    """Return the FHIR R4 Questionnaire of the intake form, derived from items.py.

    Its text is English; `translations` (BCP 47 tag -> gettext) adds each other
    language's words for every question, group and answer as FHIR translation
    extensions, as the patient read them. `screener`: as asked with the C-SSRS screener
    on (CSSRS_SCREENER_ENABLED), its own version, the screener's words and LOINC codes.
    """
    translations = translations or {}
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "language": SOURCE_LANGUAGE,
        "url": questionnaire_url(base_url),
        "version": VERSIONS[True] if screener else QUESTIONNAIRE_VERSION,
        "name": QUESTIONNAIRE_NAME,
        "title": QUESTIONNAIRE_TITLE,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": clinic_name,
        "copyright": COPYRIGHT,
        "description": (
            "Questions a prospective patient answers before a consultation. A clinician "
            "reviews every response; the form makes no diagnosis or treatment decision."
        ),
        "item": [
            _group(section, base_url, translations, screener)
            for section in asked_sections(screener)
        ],
    }


# --- a submission ----------------------------------------------------------------------


def stable_urn(base_url: str, *parts: str) -> str:
    """Return a urn:uuid that is the same on every export of the same thing."""
    name = "/".join((_base(base_url), *parts))
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def _decimal(value: Any) -> int | float:
    number = float(value)
    # 70.0 exports as 70: a decimal in FHIR JSON has no float noise to keep.
    return int(number) if number.is_integer() else number


def _answers(item: Item, value: Any, base_url: str) -> list[dict[str, Any]]:
    """Return the FHIR answers to one item, or [] when it was not answered."""
    if value is None or value == "" or value == []:
        return []
    element = item.kind.traits.fhir_value
    if element == "valueCoding":
        codes = value if isinstance(value, list) else [value]
        instrument = INSTRUMENT_OF.get(item.id)
        if instrument is not None and all(instrument.loinc_answer(str(c), item.id) for c in codes):
            return [
                {"valueCoding": _scored_coding(instrument, str(code), item.id)} for code in codes
            ]
        system = answer_system(base_url, item.id)
        return [
            {
                "valueCoding": {
                    "system": system,
                    "code": str(code),
                    "display": _display(item, str(code)),
                }
            }
            for code in codes
        ]
    if element == "valueBoolean":
        return [{element: bool(value)}]
    if element == "valueDecimal":
        return [{element: _decimal(value)}]
    if element == "valueDate":
        return [{element: str(value)}]
    # Bidi and control characters as visible codes: the record system shows them harmlessly.
    return [{element: show_bidi(str(value))}]


def _display(item: Item, code: str) -> str:
    try:
        return item.choice_label(code)
    except KeyError:  # a code removed from items.py since: keep the code, without words
        return code


#: An Observation's category: a questionnaire's score (FHIR's observation-category "survey").
SURVEY_CATEGORY = [
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "survey",
                "display": "Survey",
            }
        ]
    }
]
#: FHIR's data-absent-reason extension, and its code for a question the patient declined.
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
ASKED_DECLINED = "asked-declined"
#: The answer that is not a C-SSRS answer (ITEMS.md, section 11).
DECLINED = "prefer_not"


def _response_items(
    answers: dict[str, Any],
    base_url: str,
    screener: bool = False,
    sections: tuple[Section, ...] | None = None,
) -> list[dict[str, Any]]:
    """Return the response's groups: each answered question in the words it was asked in.

    `sections` are the questions of the version it was answered with (today's when None).
    "I'd rather not say" to a C-SSRS screener question is not one of the screener's answers:
    the item goes without an answer, with data-absent-reason `asked-declined`.
    """
    groups = []
    for section in asked_sections(screener, sections):
        questions = []
        for item in section.items:
            if answers.get(item.id) == DECLINED and cssrs_worded(item):
                questions.append(
                    {
                        "extension": [{"url": DATA_ABSENT_REASON, "valueCode": ASKED_DECLINED}],
                        "linkId": item.id,
                        "text": item.label,
                    }
                )
                continue
            answered = _answers(item, answers.get(item.id), base_url)
            if answered:
                questions.append({"linkId": item.id, "text": item.label, "answer": answered})
        if questions:
            groups.append({"linkId": section.id, "text": section.title, "item": questions})
    return groups


def _uri(text: str) -> str:
    """Return text as a valid FHIR uri: as is when it is one, else as a data: URI of the text.

    Rule sources are citations ("Sanacora 2017; Swainson 2021"), and a uri may not
    hold spaces; a data: URI keeps the words exactly and stays valid.
    """
    if text and not any(char.isspace() for char in text) and ":" in text:
        return text
    return "data:text/plain;charset=utf-8," + quote(text, safe="")


@dataclass(frozen=True, slots=True)
class _Urls:
    """The fullUrls other entries of a submission's Bundle point to."""

    response: str
    patient: str


#: The contact answers a Patient resource is made of: (items.py id, ContactPoint.system).
PATIENT_TELECOM = (("email", "email"), ("phone", "phone"))


def _patient(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return the Patient the contact answers describe: name as text, birth date, telecom.

    Each value is written as the response writes the answer (bidi and control
    characters as visible codes); an unanswered one is left out.
    """
    patient: dict[str, Any] = {"resourceType": "Patient"}
    name = answers.get("full_name")
    if name:
        patient["name"] = [human_name(show_bidi(str(name)))]
    telecom = [
        {"system": system, "value": show_bidi(str(value))}
        for item_id, system in PATIENT_TELECOM
        if (value := answers.get(item_id))
    ]
    if telecom:
        patient["telecom"] = telecom
    birth_date = answers.get("date_of_birth")
    if birth_date:
        patient["birthDate"] = str(birth_date)
    return patient


def _detected_issue(
    flag: Flag, submission: Submission, urls: _Urls, base_url: str, clinic_name: str
) -> dict[str, Any]:
    shown = format_reference(submission.reference)
    return {
        "resourceType": "DetectedIssue",
        "identifier": [{"system": flag_system(base_url), "value": f"{shown}-{flag.rule}"}],
        # A rule's observation stands until a clinician has acknowledged it.
        "status": "final" if flag.acknowledged_at is not None else "preliminary",
        "code": _rule_concept(flag.rule, submission.rules_version, base_url),
        "severity": SEVERITY[flag.level],
        "patient": {"reference": urls.patient},
        "identifiedDateTime": submission.submitted_at.isoformat(),
        "author": {
            "display": f"{clinic_name} intake rule table, version {submission.rules_version}"
        },
        "evidence": [{"detail": [{"reference": urls.response, "display": f"Submission {shown}"}]}],
        "detail": flag.message,
        "reference": _uri(flag.source),
    }


def total_observation(
    instrument: Instrument, total: int, subject_url: str, effective: datetime
) -> dict[str, Any]:
    """Return one instrument's total as a survey Observation, coded in LOINC.

    The submission's bundle and a course's visits (visits/fhir.py) add what each knows:
    an interpretation, what it was derived from.
    """
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": SURVEY_CATEGORY,
        "code": {
            "coding": [
                {
                    "system": LOINC,
                    "code": instrument.loinc_total,
                    "display": instrument.loinc_total_display,
                }
            ],
            "text": f"{instrument.name} total score",
        },
        "subject": {"reference": subject_url},
        "effectiveDateTime": effective.isoformat(),
        "valueInteger": total,
    }


def _observation(
    instrument: Instrument, total: int, submission: Submission, urls: _Urls
) -> dict[str, Any]:
    """Return one instrument's total at intake, with its band and the response it came from."""
    return {
        **total_observation(instrument, total, urls.patient, submission.submitted_at),
        "interpretation": [{"text": instrument.band(total).label}],
        "derivedFrom": [{"reference": urls.response}],
    }


def submission_bundle(
    submission: Submission,
    base_url: str,
    clinic_name: str,
    *,
    answers_only: bool = False,
    sections: tuple[Section, ...] | None = None,
) -> dict[str, Any]:
    """Return a collection Bundle: the QuestionnaireResponse, its Patient, and its flags.

    answers_only (the patient's own copy): the QuestionnaireResponse and the Patient,
    nothing the clinic derived; patients never see a flag (no DetectedIssue).

    Each complete instrument adds an Observation of its total (LOINC-coded, derived from
    the response); an instrument with any item skipped adds none.

    The response names the questionnaire version the patient answered, as stored
    with the submission (see `questionnaire_canonical` for rows stored before), and
    holds its questions as `sections` (that version's; today's when None) ask them.
    """
    urls = _Urls(
        response=stable_urn(base_url, "submissions", submission.reference),
        patient=stable_urn(base_url, "submissions", submission.reference, "patient"),
    )
    # The words the patient was asked: the screener's when it was on for this submission.
    screener = screener_of(submission.questionnaire_version, submission.answers)
    response = {
        "resourceType": "QuestionnaireResponse",
        # The language of the response's own words (questions and answer displays are the
        # catalogue's English); the patient's language is the Patient's communication.
        "language": SOURCE_LANGUAGE,
        "identifier": {
            "system": reference_system(base_url),
            "value": format_reference(submission.reference),
        },
        "questionnaire": questionnaire_canonical(base_url, submission.questionnaire_version),
        "status": "completed",
        "subject": {"reference": urls.patient},
        "authored": submission.submitted_at.isoformat(),
        "item": _response_items(submission.answers, base_url, screener, sections),
    }
    entries = [
        {"fullUrl": urls.response, "resource": response},
        {"fullUrl": urls.patient, "resource": patient_of(submission)},
    ]
    if answers_only:
        return {"resourceType": "Bundle", "type": "collection", "entry": entries}
    for instrument in INSTRUMENTS:
        total = instrument.total(submission.answers)
        if total is not None:  # complete instruments only: never a partial sum
            entries.append(
                {
                    "fullUrl": stable_urn(
                        base_url, "submissions", submission.reference, "scores", instrument.id
                    ),
                    "resource": _observation(instrument, total, submission, urls),
                }
            )
    risk = _risk_observation(submission, urls)
    if risk is not None:
        entries.append(
            {
                "fullUrl": stable_urn(
                    base_url, "submissions", submission.reference, "scores", "cssrs"
                ),
                "resource": risk,
            }
        )
    entries.extend(_correction_entries(submission, response, urls, base_url, clinic_name, screener))
    for flag in submission.flags:
        entries.append(
            {
                "fullUrl": stable_urn(
                    base_url, "submissions", submission.reference, "flags", flag.rule
                ),
                "resource": _detected_issue(flag, submission, urls, base_url, clinic_name),
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": entries,
    }


# --- scored instrument answers (LOINC answer codes and weights) ------------------------

#: The weight of an answer in R4 (core extension) and in SDC (the R5 name, read by renderers).
ORDINAL_VALUE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT_EXTENSION = "http://hl7.org/fhir/StructureDefinition/itemWeight"


def _scored_coding(instrument: Instrument, code: str, item_id: str) -> dict[str, Any]:
    """Return one instrument answer as LOINC codes it (an LA code), weighted by its score."""
    return {
        "extension": [{"url": ORDINAL_VALUE_EXTENSION, "valueDecimal": int(code)}],
        "system": LOINC,
        "code": instrument.loinc_answer(code, item_id),
        "display": instrument.scale_of(item_id)[int(code)],
    }


def _scored_options(
    instrument: Instrument, item: Item, base_url: str, translations: Translations
) -> list[dict[str, Any]]:
    """Return an instrument item's answer options: LOINC answer codes, each with its weight.

    The weight is the answer's score (0 to 3, or 0 to 4), so an SDC renderer sums a total
    the app's own arithmetic agrees with. An instrument LOINC has no answer codes for keeps
    the app's own codes, weighted all the same.
    """
    options = []
    for code in instrument.codes:
        weight = [
            {"url": ORDINAL_VALUE_EXTENSION, "valueDecimal": int(code)},
            {"url": ITEM_WEIGHT_EXTENSION, "valueDecimal": int(code)},
        ]
        if instrument.loinc_answer(code, item.id):
            coding = {
                k: v
                for k, v in _scored_coding(instrument, code, item.id).items()
                if k != "extension"
            }
        else:
            coding = {
                "system": answer_system(base_url, item.id),
                "code": code,
                "display": instrument.scale_of(item.id)[int(code)],
            }
        coding["display"] = item.choice_label(code)
        options.append(
            {
                "extension": weight,
                "valueCoding": _with_translations(coding, "display", translations),
            }
        )
    return options


# --- the patient: name parts and language ----------------------------------------------

#: Words that open a family name rather than end the given names ("Jean de la Fontaine").
NAME_PARTICLES = frozenset(
    {"al", "bin", "da", "das", "de", "del", "della", "der", "des", "di", "do", "dos", "du",
     "el", "ibn", "la", "le", "st", "st.", "ten", "ter", "van", "von"}
)  # fmt: skip


def human_name(text: str) -> dict[str, Any]:
    """Return a HumanName: the name as written, and given and family where both were given.

    One word is a name we cannot split: it stays text only. Otherwise the family name is
    the last word, or starts at a particle (de, van, bin ...) after the first word; the
    text stays the name as the patient wrote it, for a record system to show.
    """
    name: dict[str, Any] = {"text": text}
    words = text.split()
    if len(words) < 2:
        return name
    start = next(
        (i for i in range(1, len(words) - 1) if words[i].lower() in NAME_PARTICLES),
        len(words) - 1,
    )
    name["family"] = " ".join(words[start:])
    name["given"] = words[:start]
    return name


#: The code system of language tags (Patient.communication.language).
BCP47 = "urn:ietf:bcp:47"


def language_concept(tag: str) -> dict[str, Any]:
    """Return a language tag as a CodeableConcept, with its English name (French (Canada))."""
    tag = tag.replace("_", "-")
    try:
        name = str(Locale.parse(tag, sep="-").get_display_name("en"))
    except (ValueError, UnknownLocaleError):
        name = tag
    return {"coding": [{"system": BCP47, "code": tag, "display": name}], "text": name}


def patient_of(submission: Submission) -> dict[str, Any]:
    """Return the submission's Patient, with the language they answered in as preferred."""
    patient = _patient(submission.answers)
    patient["communication"] = [
        {"language": language_concept(submission.language or SOURCE_LANGUAGE), "preferred": True}
    ]
    return patient


# --- flags: the rule's label ------------------------------------------------------------


def rule_labels() -> dict[str, str]:
    """Return each rule's short label (rules.yaml `short`, else its id in words), by id."""
    if not has_app_context():
        return {}
    table = current_app.extensions.get("rule_table")
    return {rule.id: rule.short_name for rule in table.rules} if table is not None else {}


def _rule_concept(rule_id: str, version: str, base_url: str) -> dict[str, Any]:
    """Return DetectedIssue.code: the rule id in the rules' code system, with its label."""
    label = rule_labels().get(rule_id) or rule_id.replace("_", " ")
    return {
        "coding": [
            {
                "system": rules_system(base_url),
                "version": version,
                "code": rule_id,
                "display": label,
            }
        ],
        "text": label,
    }


# --- corrections -------------------------------------------------------------------------

PROVENANCE_TARGET_ELEMENT = "http://hl7.org/fhir/StructureDefinition/targetElement"
V3_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
V3_DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def correction_extension(base_url: str) -> str:
    """Return the URL of the extension that carries a correction on a response item."""
    return f"{_base(base_url)}/fhir/StructureDefinition/answer-correction"


def _walk(items: list[dict[str, Any]]) -> Any:
    for item in items:
        yield item
        yield from _walk(item.get("item", []))


def _item_for(response: dict[str, Any], item_id: str, screener: bool = False) -> dict[str, Any]:
    """Return the response's item for a question, adding it (unanswered) where it belongs."""
    for item in _walk(response["item"]):
        if item["linkId"] == item_id:
            return item
    section = catalogue.SECTION_OF[item_id]
    order = [s.id for s in catalogue.SECTIONS]
    groups = response["item"]
    group = next((g for g in groups if g["linkId"] == section.id), None)
    if group is None:
        group = {"linkId": section.id, "text": section.title, "item": []}
        groups.append(group)
        groups.sort(key=lambda g: order.index(g["linkId"]))
    item = {"linkId": item_id, "text": catalogue.variant(catalogue.ITEMS[item_id], screener).label}
    ids = [i.id for i in section.items]
    group["item"].append(item)
    group["item"].sort(key=lambda i: ids.index(i["linkId"]))
    return item


def _correction_entries(
    submission: Submission,
    response: dict[str, Any],
    urls: _Urls,
    base_url: str,
    clinic_name: str,
    screener: bool = False,
) -> list[dict[str, Any]]:
    """Mark each correction on its item, beside the answer it corrects; add its Provenance.

    The answer stays as the patient gave it (the response stays `completed`, not
    `amended`: nothing in it was changed). The item gains an extension holding what the
    patient says the answer should be and when it was recorded, and an element id; a
    Provenance targets that element of the response, the patient as informant.
    """
    entries = []
    for correction in sorted(submission.corrections, key=lambda c: (c.created_at, c.id)):
        item = _item_for(response, correction.item_id, screener)
        item["id"] = f"item-{correction.item_id}"
        recorded = correction.created_at.isoformat()
        item.setdefault("extension", []).append(
            {
                "url": correction_extension(base_url),
                "extension": [
                    {"url": "text", "valueString": show_bidi(correction.text)},
                    {"url": "recorded", "valueDateTime": recorded},
                ],
            }
        )
        provenance = {
            "resourceType": "Provenance",
            "target": [
                {
                    "reference": urls.response,
                    "extension": [{"url": PROVENANCE_TARGET_ELEMENT, "valueUri": item["id"]}],
                }
            ],
            "recorded": recorded,
            "reason": [
                {
                    "coding": [
                        {"system": V3_ACT_REASON, "code": "PATRQT", "display": "patient requested"}
                    ],
                    "text": f"Correction of {correction.item_id}, asked for by the patient",
                }
            ],
            "activity": {
                "coding": [{"system": V3_DATA_OPERATION, "code": "APPEND", "display": "append"}]
            },
            "agent": [
                {
                    "type": _participant("informant", "Informant"),
                    "who": {"reference": urls.patient},
                },
                {
                    "type": _participant("enterer", "Enterer"),
                    "who": {"display": clinic_name},
                },
            ],
        }
        entries.append(
            {
                "fullUrl": stable_urn(
                    base_url, "submissions", submission.reference, "corrections", str(correction.id)
                ),
                "resource": provenance,
            }
        )
    return entries


def _participant(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": PARTICIPANT_TYPE, "code": code, "display": display}]}


# --- the C-SSRS screener's triage (cssrs_risk) -------------------------------------------

#: LOINC 93374-7 "Suicide risk level" and its answer list LL465-6 (docs/fhir.md, "Codes").
RISK_LEVEL = "93374-7"
RISK_LEVEL_DISPLAY = "Suicide risk level"
RISK_ANSWERS: dict[str, tuple[str, str]] = {
    "low": ("LA9194-7", "Low"),
    "moderate": ("LA6751-7", "Moderate"),
    "high": ("LA9193-9", "High"),
}


def _risk_observation(submission: Submission, urls: _Urls) -> dict[str, Any] | None:
    """Return the screener's triage as a 93374-7 Observation, or None.

    None when the screener was not answered enough for a tier, for `no_positive` (LOINC's
    list has no such level, and the form names none: we never write "no risk"), and when
    an "I'd rather not say" counted toward the tier: the response holds no answer for it
    (asked-declined), and a level it does not show would either overstate or understate.
    The flags (DetectedIssue) carry those cases.
    """
    found = cssrs.risk(submission.answers)
    if found is None or found.tier not in RISK_ANSWERS or found.includes_prefer_not:
        return None
    code, display = RISK_ANSWERS[found.tier]
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": SURVEY_CATEGORY,
        "code": {
            "coding": [{"system": LOINC, "code": RISK_LEVEL, "display": RISK_LEVEL_DISPLAY}],
            "text": "C-SSRS screener triage",
        },
        "subject": {"reference": urls.patient},
        "effectiveDateTime": submission.submitted_at.isoformat(),
        "valueCodeableConcept": {
            "coding": [{"system": LOINC, "code": code, "display": display}],
            "text": f"{display} ({', '.join(found.because)})",
        },
        "derivedFrom": [{"reference": urls.response}],
    }
