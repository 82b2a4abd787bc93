"""FHIR of the C-SSRS screener: its LOINC panel and item codes, a declined answer, its triage.

With the screener on (CSSRS_SCREENER_ENABLED) the Questionnaire asks the screener's own
words, coded with LOINC (panel 93373-9, items 93246-7 ... 93269-9); with it off, the
clinic's plain items carry no C-SSRS code. "I'd rather not say" is not a C-SSRS answer: a
response exports it as no answer, data-absent-reason `asked-declined`. The screener's
triage (cssrs_risk) becomes a 93374-7 "Suicide risk level" Observation (ITEMS.md, 11).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.exports import fhir
from questionnaire.extensions import db
from questionnaire.questions import cssrs
from questionnaire.questions.version import VERSIONS
from questionnaire.review import requests as patient_requests
from tests.answers import with_changes
from tests.exports import BASE_URL, CLINIC, load, make_clinician, submit
from tests.exports.test_fhir_validators import check_all

ITEM_CODES = {
    "wish_dead_past_month": "93246-7",
    "suicidal_thoughts_past_month": "93247-5",
    "suicidal_thoughts_method": "93248-3",
    "suicidal_intent": "93249-1",
    "suicide_plan": "93250-9",
    "suicidal_behaviour_ever": "93267-3",
    "suicidal_behaviour_past_3_months": "93269-9",
}
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
#: The screener answered: nothing positive unless a test says otherwise.
SCREEN = {"wish_dead_past_month": "no", "suicidal_behaviour_ever": "no"}


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def by_link(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in walk(resource["item"])}


def screened(app: Flask, changes: dict[str, Any], screener: bool = True) -> dict[str, Any]:
    """Send the form with the screener on (or off) and return the submission's Bundle."""
    app.config["CSSRS_SCREENER_ENABLED"] = screener
    reference = submit(app, with_changes({**(SCREEN if screener else {}), **changes}))
    app.config["CSSRS_SCREENER_ENABLED"] = False  # today's setting: never what is read back
    with app.app_context():
        return fhir.submission_bundle(load(reference), BASE_URL, CLINIC)


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def risk_levels(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        o
        for o in resources(bundle, "Observation")
        if o["code"]["coding"][0]["code"] == fhir.RISK_LEVEL
    ]


def test_with_the_screener_on_the_group_and_each_screener_item_carry_their_loinc_codes() -> None:
    resource = fhir.questionnaire_resource(BASE_URL, CLINIC, screener=True)
    Questionnaire.model_validate(resource)
    assert resource["version"] == VERSIONS[True]
    items = by_link(resource)
    assert items["safety"]["code"] == [
        {"system": "http://loinc.org", "code": "93373-9", "display": fhir.CSSRS_PANEL}
    ]
    for item_id, code in ITEM_CODES.items():
        [coding] = items[item_id]["code"]
        assert (coding["system"], coding["code"]) == ("http://loinc.org", code)
        # In the screener's own words (Q2 and Q5 take them from the screener).
        assert items[item_id]["text"] == cssrs.ITEMS[item_id].text == coding["display"]
    # The clinic's own items in the same group are not the C-SSRS: no code.
    for item_id in ("suicidal_thoughts_now", "suicide_attempt_ever"):
        assert "code" not in items[item_id]


def test_with_the_screener_off_no_item_claims_a_c_ssrs_code() -> None:
    resource = fhir.questionnaire_resource(BASE_URL, CLINIC)
    items = by_link(resource)
    assert resource["version"] == VERSIONS[False]
    assert "code" not in items["safety"]
    assert not any("code" in items[item_id] for item_id in ITEM_CODES)
    # The plain wording of the clinic's items, which the screener-off form asks.
    assert items["suicide_plan"]["text"].startswith("In the past month, have you worked out")


def test_the_screener_questionnaire_validates_with_both_validators() -> None:
    assert check_all([fhir.questionnaire_resource(BASE_URL, CLINIC, screener=True)]) > 80


def test_a_declined_screener_answer_is_no_answer_with_asked_declined(app: Flask) -> None:
    bundle = screened(
        app,
        {
            "suicidal_thoughts_past_month": "yes",
            "suicidal_thoughts_method": "no",
            "suicidal_intent": "no",
            "suicide_plan": "prefer_not",
            "suicidal_thoughts_now": "no",
        },
    )
    [response] = resources(bundle, "QuestionnaireResponse")
    QuestionnaireResponse.model_validate(response)
    items = by_link(response)
    plan = items["suicide_plan"]
    assert "answer" not in plan
    assert plan["extension"] == [{"url": DATA_ABSENT, "valueCode": "asked-declined"}]
    # The words the patient was asked: the screener's, though today's setting is off.
    assert plan["text"] == cssrs.ITEMS["suicide_plan"].text
    assert items["suicidal_thoughts_past_month"]["text"] == cssrs.ITEMS[cssrs.Q2].text
    assert response["questionnaire"].endswith(f"|{VERSIONS[True]}")
    # Every other answer is an answer; the declined one raised its urgent flag all the same.
    assert items["suicidal_intent"]["answer"][0]["valueCoding"]["code"] == "no"
    issues = {
        i["code"]["coding"][0]["code"]: i["severity"] for i in resources(bundle, "DetectedIssue")
    }
    assert issues["suicide_plan"] == "high"
    # A tier a declined answer counted toward is not exported as a risk level.
    assert risk_levels(bundle) == []
    check_all([bundle, *(entry["resource"] for entry in bundle["entry"])])


def test_with_the_screener_off_rather_not_say_stays_the_clinic_item_s_answer(app: Flask) -> None:
    bundle = screened(
        app,
        {
            "suicidal_thoughts_past_month": "yes",
            "suicide_plan": "prefer_not",
            "suicidal_thoughts_now": "no",
        },
        screener=False,
    )
    [response] = resources(bundle, "QuestionnaireResponse")
    plan = by_link(response)["suicide_plan"]
    assert "extension" not in plan
    assert plan["answer"][0]["valueCoding"]["code"] == "prefer_not"
    assert plan["text"].startswith("In the past month, have you worked out")
    assert risk_levels(bundle) == []  # no screener, no C-SSRS tier


@pytest.mark.parametrize(
    ("changes", "code", "display"),
    [
        ({"wish_dead_past_month": "yes"}, "LA9194-7", "Low (Q1)"),
        (
            {"suicidal_behaviour_ever": "yes", "suicidal_behaviour_past_3_months": "no"},
            "LA6751-7",
            "Moderate (Q6)",
        ),
        (
            {
                "suicidal_thoughts_past_month": "yes",
                "suicidal_thoughts_method": "yes",
                "suicidal_intent": "yes",
                "suicide_plan": "no",
                "suicidal_thoughts_now": "no",
            },
            "LA9193-9",
            "High (Q4)",
        ),
    ],
)
def test_the_screener_s_triage_is_a_suicide_risk_level_observation(
    app: Flask, changes: dict[str, str], code: str, display: str
) -> None:
    bundle = screened(app, changes)
    [risk] = risk_levels(bundle)
    Observation.model_validate(risk)
    assert risk["code"]["coding"] == [
        {"system": "http://loinc.org", "code": "93374-7", "display": "Suicide risk level"}
    ]
    assert risk["valueCodeableConcept"]["coding"][0]["code"] == code
    assert risk["valueCodeableConcept"]["text"] == display
    [response_entry] = [
        e for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    assert risk["derivedFrom"] == [{"reference": response_entry["fullUrl"]}]


def test_an_all_no_screen_has_no_risk_level(app: Flask) -> None:
    # no_positive: LOINC's list (Low, Moderate, High) has no such level, and we never write
    # "no risk".
    assert risk_levels(screened(app, {})) == []


def test_the_public_questionnaire_follows_the_clinic_s_setting(
    app: Flask, client: FlaskClient
) -> None:
    app.config["CSSRS_SCREENER_ENABLED"] = True
    served = client.get("/fhir/Questionnaire/intake").get_json()
    assert served["version"] == VERSIONS[True]
    assert by_link(served)["safety"]["code"][0]["code"] == "93373-9"
    # A screener-on response's canonical resolves by search, and so does the other setting's
    # version once it was served.
    url = fhir.questionnaire_url("http://localhost")
    found = client.get(f"/fhir/Questionnaire?url={url}|{VERSIONS[True]}").get_json()
    assert [e["resource"]["version"] for e in found["entry"]] == [VERSIONS[True]]


def test_a_correction_to_an_unasked_screener_question_names_it_in_the_words_asked(
    app: Flask,
) -> None:
    app.config["CSSRS_SCREENER_ENABLED"] = True
    reference = submit(app, with_changes(SCREEN))
    app.config["CSSRS_SCREENER_ENABLED"] = False
    with app.app_context():
        patient_requests.add_correction(
            db.session, make_clinician(), load(reference), "suicide_plan", "I had made a plan"
        )
        bundle = fhir.submission_bundle(load(reference), BASE_URL, CLINIC)
    [response] = resources(bundle, "QuestionnaireResponse")
    plan = by_link(response)["suicide_plan"]
    assert "answer" not in plan and plan["text"] == cssrs.ITEMS[cssrs.Q5].text
    check_all([response])
