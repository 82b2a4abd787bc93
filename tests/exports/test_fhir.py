"""FHIR exports: the Questionnaire from items.py, and a stored submission as a Bundle."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.detectedissue import DetectedIssue
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask import Flask

from questionnaire import language
from questionnaire.exports import fhir
from questionnaire.extensions import db
from questionnaire.questions import catalogue, version
from questionnaire.questions.catalogue import Kind
from questionnaire.questions.instruments import INSTRUMENT_OF
from questionnaire.questions.instruments import INSTRUMENTS as ALL_INSTRUMENTS
from questionnaire.records.models import Submission
from questionnaire.records.references import format_reference
from questionnaire.review import requests as patient_requests
from tests.answers import baseline
from tests.exports import (
    BASE_URL,
    BENZODIAZEPINE,
    BLOOD_PRESSURE,
    CLINIC,
    INSTRUMENTS,
    NO_FLAGS,
    URGENT,
    load,
    make_clinician,
    submit,
)
from tests.harness.app import Clock
from tests.harness.patient import Patient

URI = re.compile(r"\S+")


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Yield every item of a Questionnaire or a response, groups and questions, depth first."""
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def questions(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in walk(resource["item"]) if item.get("type") != "group"}


@pytest.fixture(scope="module")
def questionnaire() -> dict[str, Any]:
    return fhir.questionnaire_resource(BASE_URL + "/", CLINIC)


# --- the Questionnaire -----------------------------------------------------------------


def test_the_questionnaire_validates_as_fhir(questionnaire: dict[str, Any]) -> None:
    model = Questionnaire.model_validate(questionnaire)
    assert model.status == "active"
    assert questionnaire["url"] == f"{BASE_URL}/fhir/Questionnaire/intake"
    assert questionnaire["version"] == fhir.QUESTIONNAIRE_VERSION
    assert questionnaire["publisher"] == CLINIC
    assert questionnaire["title"]
    # Round trip: the validated model says the same as the dict.
    assert json.loads(model.model_dump_json())["item"] == questionnaire["item"]


def test_the_questionnaire_carries_the_loinc_notice_its_codes_need(
    questionnaire: dict[str, Any],
) -> None:
    # LOINC's licence asks every product that ships its codes to carry its notice.
    codes = [c for item in walk(questionnaire["item"]) for c in item.get("code", [])]
    assert any(code["system"] == "http://loinc.org" for code in codes)
    notice = questionnaire["copyright"]
    assert "content from LOINC" in notice and "http://loinc.org/license" in notice
    assert "Regenstrief Institute" in notice and "Pfizer" in notice


def test_every_item_is_a_link_id_exactly_once_in_its_section(
    questionnaire: dict[str, Any],
) -> None:
    # The instruments' totals are calculated items, not questions (tests/exports/test_fhir_totals.py).
    question_ids = [
        item["linkId"]
        for item in walk(questionnaire["item"])
        if item["type"] != "group" and not item.get("readOnly")
    ]
    assert question_ids == list(catalogue.ITEMS)
    all_ids = Counter(item["linkId"] for item in walk(questionnaire["item"]))
    assert max(all_ids.values()) == 1
    groups = questionnaire["item"]
    assert [group["linkId"] for group in groups] == [section.id for section in catalogue.SECTIONS]
    for group, section in zip(groups, catalogue.SECTIONS, strict=True):
        assert group["type"] == "group"
        assert group["text"] == section.title
        asked = [item["linkId"] for item in group["item"] if not item.get("readOnly")]
        assert asked == [item.id for item in section.items]


def test_each_question_has_its_label_type_and_requiredness(
    questionnaire: dict[str, Any],
) -> None:
    found = questions(questionnaire)
    for item in catalogue.ITEMS.values():
        question = found[item.id]
        assert question["text"] == item.label
        assert question["type"] == item.kind.traits.fhir_type
        assert question["required"] is (item.required or item.min_choices > 0)
        assert question.get("repeats", False) is (item.kind is Kind.MULTI)
    assert found["privacy_consent"]["type"] == "boolean"
    assert found["date_of_birth"]["type"] == "date"
    assert found["weight_value"]["type"] == "decimal"
    assert found["medications"]["type"] == "text"
    assert found["full_name"]["type"] == "string"
    assert found["reasons"]["type"] == "choice" and found["reasons"]["repeats"] is True
    assert found["reasons"]["required"] is True
    assert found["treatments"]["required"] is False


def test_answer_options_carry_the_codes_of_items_py(questionnaire: dict[str, Any]) -> None:
    found = questions(questionnaire)
    for item in catalogue.ITEMS.values():
        options = found[item.id].get("answerOption", [])
        codings = [option["valueCoding"] for option in options]
        instrument = INSTRUMENT_OF.get(item.id)
        if instrument is not None:  # LOINC answer codes, weighted: tested below
            assert [weight_of(option) for option in options] == [int(c) for c in item.codes]
            continue
        assert [coding["code"] for coding in codings] == list(item.codes)
        assert [coding["display"] for coding in codings] == [c.label for c in item.choices]
        assert {coding["system"] for coding in codings} <= {f"{BASE_URL}/fhir/CodeSystem/{item.id}"}
    assert [o["valueCoding"]["code"] for o in found["region"]["answerOption"]][:2] == [
        "CA-AB",
        "CA-BC",
    ]


def test_the_question_about_right_now_is_enabled_by_the_past_month_answer(
    questionnaire: dict[str, Any],
) -> None:
    found = questions(questionnaire)
    now = found["suicidal_thoughts_now"]
    assert now["enableBehavior"] == "any"
    conditions = now["enableWhen"]
    assert {condition["question"] for condition in conditions} == {"suicidal_thoughts_past_month"}
    assert {condition["operator"] for condition in conditions} == {"="}
    assert {condition["answerCoding"]["code"] for condition in conditions} == {"yes", "prefer_not"}
    system = f"{BASE_URL}/fhir/CodeSystem/suicidal_thoughts_past_month"
    assert {condition["answerCoding"]["system"] for condition in conditions} == {system}
    conditional = {link for link, question in found.items() if "enableWhen" in question}
    assert conditional == {item.id for item in catalogue.ITEMS.values() if item.asked_when}


def test_the_version_follows_the_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    assert re.fullmatch(r"[0-9a-f]{12}", fhir.QUESTIONNAIRE_VERSION)
    assert fhir.QUESTIONNAIRE_VERSION == version.QUESTIONNAIRE_VERSION
    assert version.catalogue_fingerprint() == fhir.QUESTIONNAIRE_VERSION
    first = catalogue.SECTIONS[0]
    reworded = replace(first.items[0], label="Your name, please")
    edited = (replace(first, items=(reworded, *first.items[1:])), *catalogue.SECTIONS[1:])
    monkeypatch.setattr(catalogue, "SECTIONS", edited)
    assert version.catalogue_fingerprint() != fhir.QUESTIONNAIRE_VERSION


# --- a submission as a Bundle ----------------------------------------------------------


def weight_of(option: dict[str, Any]) -> int:
    """Return an answer option's (or coding's) ordinalValue, checking any itemWeight agrees."""
    weights = {
        extension["url"]: extension["valueDecimal"] for extension in option.get("extension", [])
    }
    ordinal = weights[fhir.ORDINAL_VALUE_EXTENSION]
    assert weights.get(fhir.ITEM_WEIGHT_EXTENSION, ordinal) == ordinal
    return int(ordinal)


def response_values(response: dict[str, Any]) -> dict[str, Any]:
    """Return a QuestionnaireResponse's answers keyed by linkId, as the app stores them.

    An instrument answer is a LOINC answer code: its weight is the app's answer code.
    """
    values: dict[str, Any] = {}
    for item in walk(response["item"]):
        if "answer" not in item:
            continue
        found = []
        for answer in item["answer"]:
            [(key, value)] = answer.items()
            if key == "valueCoding" and value["system"] == "http://loinc.org":
                found.append(str(weight_of(value)))
                continue
            found.append(value["code"] if key == "valueCoding" else value)
        multi = catalogue.ITEMS[item["linkId"]].kind is Kind.MULTI
        values[item["linkId"]] = found if multi else found[0]
    return values


def value_keys(response: dict[str, Any]) -> dict[str, str]:
    return {
        item["linkId"]: next(iter(item["answer"][0]))
        for item in walk(response["item"])
        if "answer" in item
    }


def bundle_of(app: Flask, reference: str) -> tuple[dict[str, Any], Submission]:
    with app.app_context():
        submission = load(reference)
        bundle = fhir.submission_bundle(submission, BASE_URL, CLINIC)
        db.session.expunge(submission)
    return bundle, submission


def split(bundle: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    [response_entry] = [
        e for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    issues = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "DetectedIssue"]
    # and one Patient, and one Observation per complete instrument
    assert len(issues) + 2 + len(observations(bundle)) == len(bundle["entry"])
    return response_entry, issues


def observations(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]


def patient_of(bundle: dict[str, Any]) -> dict[str, Any]:
    [entry] = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    return entry


ANSWER_SETS = {
    "benzodiazepine": (BENZODIAZEPINE, {"benzodiazepine"}),
    "urgent": (URGENT, {"suicidal_thoughts_now", "suicidal_thoughts_recent"}),
    "blood pressure": (
        BLOOD_PRESSURE,
        {"blood_pressure_raised", "few_prior_treatments", "drug_use"},
    ),
    "no flags": (NO_FLAGS, set()),
}


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_a_submission_exports_as_a_valid_bundle_of_its_answers_and_flags(
    app: Flask, name: str, questionnaire: dict[str, Any]
) -> None:
    answers, expected_rules = ANSWER_SETS[name]
    bundle, submission = bundle_of(app, submit(app, answers))
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    response_entry, issues = split(bundle)
    response = response_entry["resource"]
    QuestionnaireResponse.model_validate(response)

    # The response: what the patient answered, nothing else.
    assert response["status"] == "completed"
    assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    assert response["authored"] == submission.submitted_at.isoformat()
    # The reference as the screen shows it (K7QM-4TZ9).
    assert response["identifier"]["value"] == format_reference(submission.reference)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", response["identifier"]["value"])
    assert response["subject"] == {"reference": patient_of(bundle)["fullUrl"]}
    stored = {k: v for k, v in submission.answers.items() if v not in (None, "", [])}
    assert response_values(response) == stored
    kinds = {item_id: catalogue.ITEMS[item_id].kind for item_id in stored}
    expected_keys = {
        Kind.CHOICE: "valueCoding",
        Kind.MULTI: "valueCoding",
        Kind.CONSENT: "valueBoolean",
        Kind.NUMBER: "valueDecimal",
        Kind.DATE: "valueDate",
        Kind.TEXT: "valueString",
        Kind.LONG_TEXT: "valueString",
        Kind.EMAIL: "valueString",
        Kind.PHONE: "valueString",
    }
    assert value_keys(response) == {item_id: expected_keys[kind] for item_id, kind in kinds.items()}
    for item in walk(response["item"]):
        for answer in item.get("answer", []):
            if "valueCoding" in answer:
                expected = (
                    "http://loinc.org"
                    if item["linkId"] in INSTRUMENT_OF
                    else f"{BASE_URL}/fhir/CodeSystem/{item['linkId']}"
                )
                assert answer["valueCoding"]["system"] == expected
    # Each answer sits in its section's group, as in the Questionnaire.
    for group in response["item"]:
        for item in group["item"]:
            assert catalogue.SECTION_OF[item["linkId"]].id == group["linkId"]
    text = json.dumps(bundle)
    for fact in catalogue.FACTS:
        assert fact not in text  # derived facts are not answers of the form

    # One DetectedIssue per stored flag.
    assert {flag.rule for flag in submission.flags} == expected_rules
    assert len(issues) == len(submission.flags)
    by_rule = {}
    for entry in issues:
        issue = entry["resource"]
        DetectedIssue.model_validate(issue)
        [coding] = issue["code"]["coding"]
        assert coding["system"] == f"{BASE_URL}/fhir/CodeSystem/rules"
        assert coding["version"] == submission.rules_version
        by_rule[coding["code"]] = issue
    assert set(by_rule) == expected_rules
    severity = {"urgent": "high", "review": "moderate", "info": "low"}
    for flag in submission.flags:
        issue = by_rule[flag.rule]
        assert issue["severity"] == severity[flag.level]
        assert issue["detail"] == flag.message
        assert URI.fullmatch(issue["reference"])  # a FHIR uri holds no whitespace
        assert unquote(issue["reference"].removeprefix("data:text/plain;charset=utf-8,")) == (
            flag.source
        )
        assert issue["status"] == "preliminary"
        assert issue["identifiedDateTime"] == submission.submitted_at.isoformat()
        assert issue["evidence"] == [
            {
                "detail": [
                    {
                        "reference": response_entry["fullUrl"],
                        "display": f"Submission {format_reference(submission.reference)}",
                    }
                ]
            }
        ]
        assert issue["patient"] == {"reference": patient_of(bundle)["fullUrl"]}
        assert issue["identifier"][0]["value"] == (
            f"{format_reference(submission.reference)}-{flag.rule}"
        )

    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", url) for url in full_urls)


def test_the_levels_map_to_severities_over_one_urgent_submission(app: Flask) -> None:
    bundle, _ = bundle_of(app, submit(app, {**URGENT, "antidepressants_tried": "0"}))
    _, issues = split(bundle)
    severities = {
        entry["resource"]["code"]["coding"][0]["code"]: entry["resource"]["severity"]
        for entry in issues
    }
    assert severities == {
        "suicidal_thoughts_now": "high",
        "suicidal_thoughts_recent": "moderate",
        "few_prior_treatments": "low",
    }


def test_an_export_is_the_same_every_time(app: Flask) -> None:
    reference = submit(app, BENZODIAZEPINE)
    first, _ = bundle_of(app, reference)
    second, _ = bundle_of(app, reference)
    assert first == second


def test_an_acknowledged_flag_is_final_and_names_no_clinician(app: Flask, clock: Clock) -> None:
    reference = submit(app, BENZODIAZEPINE)
    with app.app_context():
        clinician = make_clinician()
        [flag] = load(reference).flags
        flag.acknowledged_by = clinician
        flag.acknowledged_at = clock()
        flag.acknowledgement_note = "Discussed with Doctor Zebedee"
        db.session.commit()
    bundle, _ = bundle_of(app, reference)
    Bundle.model_validate(bundle)
    _, [issue] = split(bundle)
    assert issue["resource"]["status"] == "final"
    text = json.dumps(bundle)
    assert "Zebedee" not in text and "dr.who" not in text


def test_a_source_that_is_a_uri_is_kept_as_it_is() -> None:
    assert fhir._uri("https://doi.org/10.1176/appi.ajp.2017.17040472") == (
        "https://doi.org/10.1176/appi.ajp.2017.17040472"
    )
    assert fhir._uri("Sanacora 2017; Swainson 2021") == (
        "data:text/plain;charset=utf-8,Sanacora%202017%3B%20Swainson%202021"
    )


# --- languages -------------------------------------------------------------------------


def translations_of(element: dict[str, Any], name: str) -> dict[str, str]:
    """Return {language: words} from an element's FHIR translation extensions."""
    found = {}
    for extension in element.get(f"_{name}", {}).get("extension", []):
        assert extension["url"] == fhir.TRANSLATION_EXTENSION
        parts = {part["url"]: part for part in extension["extension"]}
        found[parts["lang"]["valueCode"]] = parts["content"]["valueString"]
    return found


def test_the_questionnaire_carries_the_french_the_patient_read() -> None:
    french = language.catalogue("fr_CA")
    resource = fhir.questionnaire_resource(BASE_URL, CLINIC, {"fr-CA": french})
    Questionnaire.model_validate(resource)
    assert resource["language"] == "en"
    by_id = questions(resource)
    crisis = catalogue.CRISIS_QUESTION
    assert by_id[crisis.id]["text"] == crisis.label
    assert translations_of(by_id[crisis.id], "text") == {"fr-CA": french(crisis.label)}
    assert french(crisis.label) != crisis.label
    for group, section in zip(resource["item"], catalogue.SECTIONS, strict=True):
        assert translations_of(group, "text") == {"fr-CA": french(section.title)}
    for item in catalogue.ITEMS.values():
        if item.french_exempt:
            # Shown as published, in English, on French pages too: no translation rides along.
            assert translations_of(by_id[item.id], "text") == {}, item.id
            for option in by_id[item.id].get("answerOption", []):
                assert translations_of(option["valueCoding"], "display") == {}, item.id
            continue
        assert translations_of(by_id[item.id], "text") == {"fr-CA": french(item.label)}
        for option, choice in zip(
            by_id[item.id].get("answerOption", []), item.choices, strict=True
        ):
            coding = option["valueCoding"]
            expected = (
                {"fr-CA": french(choice.label)} if french(choice.label) != choice.label else {}
            )
            assert translations_of(coding, "display") == expected, (item.id, choice.code)


def test_without_translations_the_questionnaire_is_english_only(
    questionnaire: dict[str, Any],
) -> None:
    assert not any(key.startswith("_") for item in walk(questionnaire["item"]) for key in item)


def test_the_public_questionnaire_offers_every_configured_language(plain_app: Flask) -> None:
    resource = plain_app.test_client().get("/fhir/Questionnaire/intake").get_json()
    Questionnaire.model_validate(resource)
    item = questions(resource)["full_name"]
    assert set(translations_of(item, "text")) == {"fr-CA"}


def test_a_french_response_is_labelled_by_its_own_words_and_the_patient_prefers_french(
    app: Flask,
) -> None:
    """The response's words are the catalogue's English; the patient's language is theirs."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA"
    assert Patient(client).complete(baseline()).status_code == 303
    with app.app_context():
        submission = db.session.scalars(sa.select(Submission)).one()
        bundle = fhir.submission_bundle(load(submission.reference), BASE_URL, CLINIC)
    Bundle.model_validate(bundle)
    response = bundle["entry"][0]["resource"]
    assert response["language"] == "en"
    # Every text of the response is the English of the catalogue, so "en" describes it.
    for item in walk(response["item"]):
        catalogue_text = (
            catalogue.ITEMS[item["linkId"]].label
            if item["linkId"] in catalogue.ITEMS
            else {s.id: s.title for s in catalogue.SECTIONS}[item["linkId"]]
        )
        assert item["text"] == catalogue_text
    patient = patient_of(bundle)["resource"]
    FhirPatient.model_validate(patient)
    assert patient["communication"] == [
        {
            "language": {
                "coding": [
                    {"system": "urn:ietf:bcp:47", "code": "fr-CA", "display": "French (Canada)"}
                ],
                "text": "French (Canada)",
            },
            "preferred": True,
        }
    ]
    # Answers are codes and English words whatever the language: the record reads the same.
    [region] = [
        item for group in response["item"] for item in group["item"] if item["linkId"] == "region"
    ]
    assert region["answer"][0]["valueCoding"]["display"] == "Ontario"


# --- the version answered, and the Patient ---------------------------------------------


def test_a_response_names_the_version_its_patient_answered_not_todays(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = submit(app, NO_FLAGS)
    with app.app_context():
        stored = db.session.scalar(
            sa.select(Submission.questionnaire_version).where(Submission.reference == reference)
        )
    assert stored == version.QUESTIONNAIRE_VERSION
    # The questions change after the send: the response still names the version answered.
    monkeypatch.setattr(fhir, "QUESTIONNAIRE_VERSION", "0123456789ab")
    bundle, _ = bundle_of(app, reference)
    response, _ = split(bundle)
    assert response["resource"]["questionnaire"] == (
        f"{BASE_URL}/fhir/Questionnaire/intake|{stored}"
    )
    assert fhir.questionnaire_resource(BASE_URL, CLINIC)["version"] == "0123456789ab"


def test_a_submission_stored_before_versions_names_the_url_alone(app: Flask) -> None:
    reference = submit(app, NO_FLAGS)
    with app.app_context():
        db.session.execute(
            sa.update(Submission)
            .where(Submission.reference == reference)
            .values(questionnaire_version=None)
        )
        db.session.commit()
    bundle, _ = bundle_of(app, reference)
    Bundle.model_validate(bundle)
    response, _ = split(bundle)
    assert response["resource"]["questionnaire"] == f"{BASE_URL}/fhir/Questionnaire/intake"


def test_the_patient_is_the_subject_with_name_birth_date_and_telecom(app: Flask) -> None:
    reference = submit(app, NO_FLAGS)
    first, submission = bundle_of(app, reference)
    Bundle.model_validate(first)
    entry = patient_of(first)
    patient = entry["resource"]
    FhirPatient.model_validate(patient)
    answers = submission.answers
    assert patient == {
        "resourceType": "Patient",
        "name": [{"text": answers["full_name"], "family": "Example", "given": ["Sam"]}],
        "telecom": [
            {"system": "email", "value": answers["email"]},
            {"system": "phone", "value": answers["phone"]},
        ],
        "birthDate": answers["date_of_birth"],
        "communication": [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": "en", "display": "English"}],
                    "text": "English",
                },
                "preferred": True,
            }
        ],
    }
    assert patient["name"][0]["text"] == "Sam Example"
    assert patient["birthDate"] == "1980-05-17"
    response, _ = split(first)
    assert response["resource"]["subject"] == {"reference": entry["fullUrl"]}
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", entry["fullUrl"])
    # Stable: the same Patient fullUrl on every export of the same submission.
    second, _ = bundle_of(app, reference)
    assert patient_of(second)["fullUrl"] == entry["fullUrl"]
    # Nothing of the patient's in any URL of the Bundle.
    urls = json.dumps([e["fullUrl"] for e in first["entry"]])
    assert "Sam" not in urls and "example.com" not in urls and "1980" not in urls


def test_a_patient_without_a_phone_has_only_the_email(app: Flask) -> None:
    bundle, _ = bundle_of(app, submit(app, BLOOD_PRESSURE))  # phone left empty
    patient = patient_of(bundle)["resource"]
    FhirPatient.model_validate(patient)
    assert [point["system"] for point in patient["telecom"]] == ["email"]


def test_a_name_stored_with_a_bidi_override_shows_it_as_a_code() -> None:
    """Rows stored before the input filter may hold one: the record shows it harmlessly."""
    patient = fhir._patient({"full_name": "Sam \u202eelpmaxE", "email": None, "phone": ""})
    assert patient == {
        "resourceType": "Patient",
        "name": [{"text": "Sam [U+202E]elpmaxE", "family": "[U+202E]elpmaxE", "given": ["Sam"]}],
    }
    FhirPatient.model_validate(patient)


def test_a_complete_instrument_exports_as_a_loinc_coded_observation(app: Flask) -> None:
    bundle, submission = bundle_of(app, submit(app, INSTRUMENTS))
    Bundle.model_validate(bundle)
    response_entry, _ = split(bundle)
    found = {}
    for entry in observations(bundle):
        observation = entry["resource"]
        Observation.model_validate(observation)
        [coding] = observation["code"]["coding"]
        assert coding["system"] == "http://loinc.org"
        found[coding["code"]] = observation
    # PHQ-9 (44261-6) and PCL-5 (101698-9) are complete; GAD-7 (70274-6) has a skipped item.
    assert set(found) == {"44261-6", "101698-9"}
    assert found["44261-6"]["valueInteger"] == 14
    assert found["101698-9"]["valueInteger"] == 20
    for observation in found.values():
        assert observation["status"] == "final"
        assert observation["derivedFrom"] == [{"reference": response_entry["fullUrl"]}]
        assert observation["subject"] == {"reference": patient_of(bundle)["fullUrl"]}
        assert observation["effectiveDateTime"] == submission.submitted_at.isoformat()
        assert observation["category"][0]["coding"][0]["code"] == "survey"
    assert found["44261-6"]["interpretation"] == [{"text": "moderate"}]
    # The same export again is the same Bundle (stable fullUrls).
    again, _ = bundle_of(app, submission.reference)
    assert again == bundle


def test_no_observation_without_a_complete_instrument(app: Flask) -> None:
    bundle, _ = bundle_of(app, submit(app, NO_FLAGS))
    assert observations(bundle) == []


def test_the_questionnaire_carries_the_instruments_loinc_codes(
    questionnaire: dict[str, Any],
) -> None:
    groups = {group["linkId"]: group for group in questionnaire["item"]}
    assert groups["phq9"]["code"][0] == {
        "system": "http://loinc.org",
        "code": "44249-1",
        "display": "PHQ-9",
    }
    assert groups["gad7"]["code"][0]["code"] == "69737-5"
    assert groups["pcl5"]["code"][0]["code"] == "101697-1"
    assert "code" not in groups["safety"]
    found = questions(questionnaire)
    assert found["phq9_9"]["code"] == [{"system": "http://loinc.org", "code": "44260-8"}]
    assert found["gad7_1"]["code"] == [{"system": "http://loinc.org", "code": "69725-0"}]
    assert "code" not in found["pcl5_1"]  # LOINC codes the PCL-5 as a panel and a score
    # The PCL-5 is enabled by PTSD among the reasons.
    [condition] = found["pcl5_1"]["enableWhen"]
    assert condition["question"] == "reasons" and condition["answerCoding"]["code"] == "ptsd"
    Questionnaire.model_validate(questionnaire)


# --- flags' labels, corrections, names, scored answers -----------------------------------


def test_each_flag_code_has_the_rules_short_label_and_the_message_as_raised(app: Flask) -> None:
    bundle, submission = bundle_of(app, submit(app, URGENT))
    _, issues = split(bundle)
    table = app.extensions["rule_table"]
    labels = {rule.id: rule.short_name for rule in table.rules}
    messages = {flag.rule: flag.message for flag in submission.flags}
    for entry in issues:
        issue = entry["resource"]
        DetectedIssue.model_validate(issue)
        [coding] = issue["code"]["coding"]
        assert coding["display"] == labels[coding["code"]]
        assert issue["code"]["text"] == labels[coding["code"]]
        assert issue["detail"] == messages[coding["code"]]
    now = next(
        e["resource"]
        for e in issues
        if e["resource"]["code"]["coding"][0]["code"] == ("suicidal_thoughts_now")
    )
    assert now["code"]["text"] == "suicidal thoughts now"
    # The message as raised: the clinic's crisis numbers filled in, no placeholder left.
    assert "{" not in now["detail"]


def test_a_rule_gone_from_the_table_is_labelled_by_its_id_in_words(app: Flask) -> None:
    with app.app_context():
        concept = fhir._rule_concept("an_old_rule", "2020.1", BASE_URL)
    assert concept["text"] == "an old rule"
    assert concept["coding"][0]["display"] == "an old rule"


def corrected(app: Flask, answers: dict[str, Any], corrections: list[tuple[str, str]]) -> str:
    reference = submit(app, answers)
    with app.app_context():
        clinician = make_clinician()
        submission = load(reference)
        for item_id, text in corrections:
            patient_requests.add_correction(db.session, clinician, submission, item_id, text)
    return reference


def test_a_correction_travels_beside_the_answer_it_corrects(app: Flask) -> None:
    reference = corrected(
        app,
        BLOOD_PRESSURE,  # phone left empty: a correction may add what was not answered
        [("medications", "Also takes lithium 300 mg"), ("phone", "416 555 0199")],
    )
    bundle, submission = bundle_of(app, reference)
    Bundle.model_validate(bundle)
    entries = bundle["entry"]
    response = entries[0]["resource"]
    QuestionnaireResponse.model_validate(response)
    assert response["status"] == "completed"  # nothing in it was changed
    items = {item["linkId"]: item for item in walk(response["item"])}
    # The answer stays exactly as given.
    assert items["medications"]["answer"] == [{"valueString": submission.answers["medications"]}]
    assert "answer" not in items["phone"]
    for item_id, text in (("medications", "Also takes lithium 300 mg"), ("phone", "416 555 0199")):
        item = items[item_id]
        assert item["id"] == f"item-{item_id}"
        [extension] = item["extension"]
        assert extension["url"] == f"{BASE_URL}/fhir/StructureDefinition/answer-correction"
        parts = {part["url"]: part for part in extension["extension"]}
        assert parts["text"]["valueString"] == text
        assert parts["recorded"]["valueDateTime"]
        # In its own section, in the catalogue's order.
        assert catalogue.SECTION_OF[item_id].id in {g["linkId"] for g in response["item"]}
    order = [item["linkId"] for group in response["item"] for item in group["item"]]
    assert order == [i for i in catalogue.ITEMS if i in order]

    provenances = [e for e in entries if e["resource"]["resourceType"] == "Provenance"]
    assert len(provenances) == 2
    patient_url = patient_of(bundle)["fullUrl"]
    targets = set()
    for entry in provenances:
        provenance = entry["resource"]
        Provenance.model_validate(provenance)
        [target] = provenance["target"]
        assert target["reference"] == entries[0]["fullUrl"]
        targets.add(target["extension"][0]["valueUri"])
        assert provenance["reason"][0]["coding"][0]["code"] == "PATRQT"
        assert provenance["agent"][0]["who"] == {"reference": patient_url}
        assert "Zebedee" not in json.dumps(provenance)  # no clinician named
    assert targets == {"item-medications", "item-phone"}
    # The same export again is the same Bundle.
    again, _ = bundle_of(app, reference)
    assert again == bundle


def test_a_submission_without_corrections_has_no_provenance(app: Flask) -> None:
    bundle, _ = bundle_of(app, submit(app, NO_FLAGS))
    assert not [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance"]
    assert all("id" not in item for item in walk(bundle["entry"][0]["resource"]["item"]))


@pytest.mark.parametrize(
    ("written", "given", "family"),
    [
        ("Sam Example", ["Sam"], "Example"),
        ("Marie-Ève Tremblay", ["Marie-Ève"], "Tremblay"),
        ("Anne Marie Smith", ["Anne", "Marie"], "Smith"),
        ("Jean de la Fontaine", ["Jean"], "de la Fontaine"),
        ("Ludwig van Beethoven", ["Ludwig"], "van Beethoven"),
        ("  Sam   Example  ", ["Sam"], "Example"),
    ],
)
def test_a_name_of_two_words_or_more_is_split_into_given_and_family(
    written: str, given: list[str], family: str
) -> None:
    name = fhir.human_name(written)
    assert name == {"text": written, "given": given, "family": family}
    FhirPatient.model_validate({"resourceType": "Patient", "name": [name]})


def test_a_one_word_name_stays_text_only() -> None:
    assert fhir.human_name("Cher") == {"text": "Cher"}


def test_instrument_answers_are_loinc_answer_codes_weighted_by_their_score(
    app: Flask, questionnaire: dict[str, Any]
) -> None:
    found = questions(questionnaire)
    # Every instrument, the AUDIT-C included, has its answers' LOINC codes (docs/fhir.md).
    assert all(instrument.has_loinc_answers for instrument in ALL_INSTRUMENTS)
    for instrument in ALL_INSTRUMENTS:
        for item_id in instrument.item_ids:
            options = found[item_id]["answerOption"]
            scale = instrument.scale_of(item_id)
            assert [o["valueCoding"]["system"] for o in options] == ["http://loinc.org"] * len(
                scale
            )
            assert [o["valueCoding"]["code"] for o in options] == [
                instrument.loinc_answer(code, item_id) for code in instrument.codes
            ]
            assert [o["valueCoding"]["display"] for o in options] == list(scale)
            assert [weight_of(o) for o in options] == list(range(len(scale)))
    assert [o["valueCoding"]["code"] for o in found["phq9_1"]["answerOption"]] == [
        "LA6568-5",
        "LA6569-3",
        "LA6570-1",
        "LA6571-9",
    ]
    assert [o["valueCoding"]["code"] for o in found["pcl5_20"]["answerOption"]] == [
        "LA6568-5",
        "LA13863-8",
        "LA13939-6",
        "LA13902-4",
        "LA14868-6",
    ]
    # The AUDIT-C's three answer lists, as LOINC's own AUDIT-C form has them (72109-2).
    audit = {
        item_id: [o["valueCoding"]["code"] for o in found[item_id]["answerOption"]]
        for item_id in ("auditc_1", "auditc_2", "auditc_3")
    }
    assert audit == {
        "auditc_1": ["LA6270-8", "LA18926-8", "LA18927-6", "LA18928-4", "LA18929-2"],
        "auditc_2": ["LA15694-5", "LA15695-2", "LA18930-0", "LA18931-8", "LA18932-6"],
        "auditc_3": ["LA6270-8", "LA18933-4", "LA18876-5", "LA18891-4", "LA18934-2"],
    }
    # A response's instrument answers are the same codings, each with its weight.
    bundle, submission = bundle_of(app, submit(app, INSTRUMENTS))
    response, _ = split(bundle)
    answered = {item["linkId"]: item for item in walk(response["resource"]["item"])}
    total = 0
    for item_id in ALL_INSTRUMENTS[0].item_ids:
        [answer] = answered[item_id]["answer"]
        coding = answer["valueCoding"]
        assert coding["code"] == ALL_INSTRUMENTS[0].loinc_answers[int(submission.answers[item_id])]
        total += weight_of(coding)
    assert total == 14 == ALL_INSTRUMENTS[0].total(submission.answers)
    # The AUDIT-C's answers too: each item its own list, each answer weighted by its score.
    drinker = {**INSTRUMENTS, "auditc_1": "3", "auditc_2": "1", "auditc_3": "2"}
    bundle, submission = bundle_of(app, submit(app, drinker))
    response, _ = split(bundle)
    answered = {item["linkId"]: item for item in walk(response["resource"]["item"])}
    codings = [answered[f"auditc_{n}"]["answer"][0]["valueCoding"] for n in (1, 2, 3)]
    assert [c["code"] for c in codings] == ["LA18928-4", "LA15695-2", "LA18876-5"]
    assert sum(weight_of(c) for c in codings) == 6 == instruments_total(submission.answers)


def instruments_total(answers: dict[str, Any]) -> int | None:
    """Return the app's own AUDIT-C total."""
    [audit] = [i for i in ALL_INSTRUMENTS if i.id == "auditc"]
    return audit.total(answers)
