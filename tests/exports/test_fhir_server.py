"""The public read-only FHIR surface: metadata, Questionnaire versions, CodeSystems, refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.valueset import ValueSet
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.exports import fhir, fhir_versions
from questionnaire.exports.fhir_server import BASE_PLACEHOLDER
from questionnaire.extensions import db
from questionnaire.questions import catalogue
from questionnaire.questions.version import QUESTIONNAIRE_VERSION
from questionnaire.records.models import QuestionnaireVersion
from tests.exports import NO_FLAGS, load, submit

HOST = "http://localhost"
URL = f"{HOST}/fhir/Questionnaire/intake"


def fhir_get(client: FlaskClient, path: str, status: int = 200) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/fhir+json"
    return json.loads(response.get_data(as_text=True))


def refused(client: FlaskClient, path: str, status: int) -> str:
    """Return the diagnostics of the OperationOutcome a request is refused with."""
    outcome = fhir_get(client, path, status)
    OperationOutcome.model_validate(outcome)
    [issue] = outcome["issue"]
    assert issue["severity"] == "error"
    return str(issue["diagnostics"])


def old_version(app: Flask, version: str = "0123456789ab") -> dict[str, Any]:
    """Store an earlier version (its first question reworded, a region code since removed)."""
    with app.app_context():
        resource = json.loads(fhir_versions.stored_text("Test Clinic", {}))
        resource["version"] = version
        first = resource["item"][0]["item"][0]
        first["text"] = "Your name, please"
        for item in resource["item"]:
            for question in item["item"]:
                if question["linkId"] == "region":
                    question["answerOption"].append(
                        {
                            "valueCoding": {
                                "system": f"{BASE_PLACEHOLDER}/fhir/CodeSystem/region",
                                "code": "CA-XX",
                                "display": "A province since renamed",
                            }
                        }
                    )
        db.session.add(
            QuestionnaireVersion(
                version=version,
                first_served_at=app.config["CLOCK"](),
                resource=json.dumps(resource),
            )
        )
        db.session.commit()
    return resource


def test_metadata_states_exactly_what_is_served(client: FlaskClient) -> None:
    statement = fhir_get(client, "/fhir/metadata")
    CapabilityStatement.model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    [rest] = statement["rest"]
    served = {r["type"]: r for r in rest["resource"]}
    assert set(served) == {"Questionnaire", "CodeSystem", "ValueSet"}
    assert [i["code"] for i in served["Questionnaire"]["interaction"]] == [
        "read",
        "vread",
        "search-type",
    ]
    assert {p["name"] for p in served["Questionnaire"]["searchParam"]} == {"url", "version", "_id"}
    for kind in ("CodeSystem", "ValueSet"):
        assert [i["code"] for i in served[kind]["interaction"]] == ["read", "search-type"]
    # Nothing that writes, nothing of a patient's.
    interactions = {i["code"] for r in rest["resource"] for i in r["interaction"]}
    assert interactions == {"read", "vread", "search-type"}
    text = json.dumps(statement)
    for word in ("QuestionnaireResponse", '"Patient"', "DetectedIssue"):
        assert word not in text


def test_a_search_by_url_returns_a_searchset_bundle(client: FlaskClient) -> None:
    bundle = fhir_get(client, f"/fhir/Questionnaire?url={URL}")
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 1
    [entry] = bundle["entry"]
    assert entry["fullUrl"] == URL
    assert entry["search"] == {"mode": "match"}
    resource = entry["resource"]
    Questionnaire.model_validate(resource)
    assert resource["version"] == QUESTIONNAIRE_VERSION
    assert resource["meta"] == {"versionId": QUESTIONNAIRE_VERSION}
    # The same with url|version, with version, with _id, and with no parameter.
    for query in (
        f"url={URL}|{QUESTIONNAIRE_VERSION}",
        f"version={QUESTIONNAIRE_VERSION}",
        "_id=intake",
        "",
        "_format=json",
        "_format=application/fhir%2Bjson",
    ):
        again = fhir_get(client, f"/fhir/Questionnaire?{query}")
        assert [e["resource"] for e in again["entry"]] == [resource], query


def test_a_response_canonical_resolves_by_search(app: Flask, client: FlaskClient) -> None:
    """A client resolves an exported response's `questionnaire` by searching url|version."""
    reference = submit(app, NO_FLAGS)
    with app.app_context():
        bundle = fhir.submission_bundle(load(reference), HOST, "Test Clinic")
    canonical = bundle["entry"][0]["resource"]["questionnaire"]
    found = fhir_get(client, f"/fhir/Questionnaire?url={canonical}")
    [entry] = found["entry"]
    assert f"{entry['resource']['url']}|{entry['resource']['version']}" == canonical


def test_every_version_served_is_kept_and_still_resolves(app: Flask, client: FlaskClient) -> None:
    old_version(app)
    # Serving anything of the questionnaire records today's version, once.
    fhir_get(client, "/fhir/Questionnaire/intake")
    fhir_get(client, "/fhir/metadata")
    with app.app_context():
        stored = db.session.scalars(sa.select(QuestionnaireVersion.version)).all()
    assert sorted(stored) == sorted(["0123456789ab", QUESTIONNAIRE_VERSION])

    old = fhir_get(client, "/fhir/Questionnaire/intake/_history/0123456789ab")
    Questionnaire.model_validate(old)
    assert old["version"] == "0123456789ab"
    assert old["meta"] == {"versionId": "0123456789ab"}
    assert old["url"] == URL  # the placeholder is this deployment's address again
    assert old["item"][0]["item"][0]["text"] == "Your name, please"
    assert BASE_PLACEHOLDER not in json.dumps(old)
    by_search = fhir_get(client, f"/fhir/Questionnaire?url={URL}|0123456789ab")
    assert [e["resource"] for e in by_search["entry"]] == [old]
    # url alone: today's version.
    today = fhir_get(client, f"/fhir/Questionnaire?url={URL}")
    assert [e["resource"]["version"] for e in today["entry"]] == [QUESTIONNAIRE_VERSION]
    # A code an earlier version offered still resolves in its CodeSystem.
    region = fhir_get(client, "/fhir/CodeSystem/region")
    codes = {concept["code"]: concept["display"] for concept in region["concept"]}
    assert codes["CA-XX"] == "A province since renamed"
    assert codes["CA-ON"] == "Ontario"


def test_the_version_is_recorded_by_the_patient_pages_too(app: Flask) -> None:
    submit(app, NO_FLAGS)
    with app.app_context():
        stored = db.session.scalars(sa.select(QuestionnaireVersion)).all()
    assert [row.version for row in stored] == [QUESTIONNAIRE_VERSION]
    resource = json.loads(stored[0].resource)
    Questionnaire.model_validate(resource)
    assert resource["url"] == f"{BASE_PLACEHOLDER}/fhir/Questionnaire/intake"


def test_each_code_system_our_answers_name_is_served(app: Flask, client: FlaskClient) -> None:
    """Every CodeSystem URL the Questionnaire and a Bundle name resolves here."""
    questionnaire = fhir_get(client, "/fhir/Questionnaire/intake")
    reference = submit(app, NO_FLAGS)
    with app.app_context():
        bundle = fhir.submission_bundle(load(reference), HOST, "Test Clinic")
    named = {
        system
        for text in (json.dumps(questionnaire), json.dumps(bundle))
        for system in _systems(json.loads(text))
        if system.startswith(f"{HOST}/fhir/CodeSystem/")
    }
    assert len(named) >= 30  # instrument answers name LOINC instead
    for system in named:
        code_system = fhir_get(client, system.removeprefix(HOST))
        CodeSystem.model_validate(code_system)
        assert code_system["url"] == system
    everything = fhir_get(client, "/fhir/CodeSystem")
    Bundle.model_validate(everything)
    served = {entry["resource"]["url"] for entry in everything["entry"]}
    assert named <= served
    assert f"{HOST}/fhir/CodeSystem/rules" in served
    coded = [item for item in catalogue.ITEMS.values() if item.choices]
    assert everything["total"] == len(coded) + 1


def _systems(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("system"), str):
            found.add(node["system"])
        for value in node.values():
            found |= _systems(value)
    elif isinstance(node, list):
        for value in node:
            found |= _systems(value)
    return found


def test_a_code_system_lists_its_codes_with_french_designations(client: FlaskClient) -> None:
    region = fhir_get(client, "/fhir/CodeSystem/suicidal_thoughts_past_month")
    item = catalogue.ITEMS["suicidal_thoughts_past_month"]
    assert [c["code"] for c in region["concept"]] == list(item.codes)
    assert region["content"] == "complete" and region["count"] == len(item.codes)
    assert any(c.get("designation") for c in region["concept"])
    value_set = fhir_get(client, "/fhir/ValueSet/suicidal_thoughts_past_month")
    ValueSet.model_validate(value_set)
    assert value_set["compose"]["include"] == [{"system": region["url"]}]
    assert region["valueSet"] == value_set["url"]
    found = fhir_get(client, f"/fhir/ValueSet?url={value_set['url']}")
    assert [e["resource"] for e in found["entry"]] == [value_set]


def test_the_rules_code_system_labels_each_rule(app: Flask, client: FlaskClient) -> None:
    rules = fhir_get(client, "/fhir/CodeSystem/rules")
    CodeSystem.model_validate(rules)
    table = app.extensions["rule_table"]
    assert rules["version"] == table.version
    concepts = {c["code"]: c for c in rules["concept"]}
    assert set(concepts) == {rule.id for rule in table.rules}
    assert concepts["suicidal_thoughts_now"]["display"] == "suicidal thoughts now"
    # Messages as raised: the crisis numbers filled in, no placeholder left.
    assert "{crisis_line}" not in json.dumps(rules)
    assert "{emergency_number}" not in json.dumps(rules)


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/fhir/Questionnaire?colour=blue", 400, "Unknown parameter 'colour'"),
        ("/fhir/Questionnaire/intake?url=x", 400, "Unknown parameter 'url'"),
        ("/fhir/metadata?mode=full", 400, "Unknown parameter 'mode'"),
        ("/fhir/Questionnaire?url=http://elsewhere.example/fhir/Questionnaire/x", 404, "url"),
        ("/fhir/Questionnaire?_id=visit", 404, "visit"),
        (f"/fhir/Questionnaire?url={URL}|000000000000", 404, "never served"),
        ("/fhir/Questionnaire?version=000000000000", 404, "never served"),
        (f"/fhir/Questionnaire?url={URL}|a&version=b", 400, "different versions"),
        ("/fhir/Questionnaire/intake/_history/000000000000", 404, "never served"),
        ("/fhir/Questionnaire/visit", 404, "visit"),
        ("/fhir/CodeSystem/no_such_item", 404, "no_such_item"),
        ("/fhir/CodeSystem?url=http://localhost/fhir/CodeSystem/nope", 404, "nope"),
        ("/fhir/ValueSet/full_name", 404, "full_name"),  # a free-text question has no codes
        ("/fhir/Questionnaire/intake?_format=xml", 400, "JSON only"),
        ("/fhir/Questionnaire?_format=text/html", 400, "JSON only"),
        ("/fhir/metadata?_format=application/fhir%2Bxml", 400, "JSON only"),
        ("/fhir/Patient/1", 404, "Not Found"),
        ("/fhir/QuestionnaireResponse", 404, "Not Found"),
        ("/fhir", 404, "Not Found"),
    ],
)
def test_a_bad_request_is_an_operation_outcome_never_html(
    client: FlaskClient, path: str, status: int, says: str
) -> None:
    assert says in refused(client, path, status)


def test_writing_is_refused_as_an_operation_outcome(client: FlaskClient) -> None:
    for method in (client.post, client.put, client.delete):
        response = method("/fhir/Questionnaire/intake", json={"resourceType": "Questionnaire"})
        assert response.status_code in (400, 405)
        assert response.mimetype == "application/fhir+json"
        OperationOutcome.model_validate(response.get_json())


def test_no_patient_data_is_public(app: Flask, client: FlaskClient) -> None:
    reference = submit(app, NO_FLAGS)
    for path in (
        "/fhir/metadata",
        "/fhir/Questionnaire",
        "/fhir/CodeSystem",
        "/fhir/ValueSet",
        f"/fhir/QuestionnaireResponse/{reference}",
        f"/fhir/Patient/{reference}",
    ):
        text = client.get(path).get_data(as_text=True)
        for secret in ("Sam Example", "sam@example.com", "1980-05-17", reference):
            assert secret not in text, (path, secret)


def test_a_database_outage_is_a_503_operation_outcome(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(_session: Any, _current: str = "") -> dict[str, str]:
        raise sa.exc.OperationalError("SELECT", {}, Exception("gone"))

    monkeypatch.setattr(fhir_versions, "earlier", down)
    assert "try again" in refused(client, f"/fhir/Questionnaire?url={URL}|0123456789ab", 503)
    assert "try again" in refused(client, "/fhir/CodeSystem/region", 503)
    # What needs no stored version is still served.
    fhir_get(client, f"/fhir/Questionnaire?url={URL}")
    fhir_get(client, "/fhir/metadata")
