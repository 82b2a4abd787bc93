"""Every FHIR resource we make, nested items included, passes two validators.

fhir.resources (pydantic models of R4B) and FHIR.js (npm `fhir`, the R4 JSON schema and
value sets, run by node from tests/browser/sdc, installed by `make sdc`). FHIR.js checks a
resource's top-level items only, so each nested item of a Questionnaire or a response is
also checked on its own, lifted into a resource of the same type.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from flask import Flask

from questionnaire import language
from questionnaire.exports import fhir
from questionnaire.extensions import db
from questionnaire.review import requests as patient_requests
from tests.exports import BASE_URL, CLINIC, INSTRUMENTS, URGENT, load, make_clinician, submit

SDC = Path(__file__).parents[1] / "browser" / "sdc"
VALIDATE = SDC / "validate.js"


def fhir_js(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return FHIR.js's verdict on each resource: {valid, errors}."""
    node = shutil.which("node")
    if node is None or not (SDC / "node_modules" / "fhir").is_dir():
        pytest.fail("FHIR.js is not installed: install node, then run `make sdc`")
    done = subprocess.run(
        [node, str(VALIDATE)],
        input=json.dumps(resources),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return list(json.loads(done.stdout))


def items_alone(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield each nested item (below the top level) as a resource of the same type."""

    def below(items: list[dict[str, Any]], depth: int) -> Iterator[dict[str, Any]]:
        for item in items:
            if depth > 0:
                alone = {k: v for k, v in item.items() if k != "item"}
                if "answer" in alone:
                    alone["answer"] = [
                        {k: v for k, v in answer.items() if k != "item"}
                        for answer in alone["answer"]
                    ]
                shell = {"resourceType": resource["resourceType"], "status": resource["status"]}
                yield {**shell, "item": [alone]}
            yield from below(item.get("item", []), depth + 1)

    yield from below(resource.get("item", []), 0)


def check_all(resources: list[dict[str, Any]]) -> int:
    """Validate resources and their nested items with both validators; return how many."""
    everything = [*resources, *(alone for r in resources for alone in items_alone(r))]
    for resource in everything:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    verdicts = fhir_js(everything)
    failures = [
        (resource["resourceType"], verdict["errors"])
        for resource, verdict in zip(everything, verdicts, strict=True)
        if not verdict["valid"]
    ]
    assert failures == []
    return len(everything)


def test_the_second_validator_finds_what_it_should() -> None:
    """FHIR.js catches a bad nested item once it is lifted out (so the checks below can fail)."""
    bad = {
        "resourceType": "Questionnaire",
        "status": "active",
        "item": [{"linkId": "g", "type": "group", "item": [{"linkId": "a", "type": "bogus"}]}],
    }
    whole, alone = fhir_js([bad, *items_alone(bad)])
    assert whole["valid"]  # FHIR.js alone misses it: hence items_alone
    assert not alone["valid"]


def test_the_questionnaire_and_each_of_its_items_validate(app: Flask) -> None:
    with app.app_context():
        questionnaire = fhir.questionnaire_resource(BASE_URL, CLINIC, language.catalogues())
    checked = check_all([questionnaire])
    assert checked > 80  # the resource and every group and question below the top level


def test_every_resource_of_a_bundle_and_each_nested_item_validate(app: Flask) -> None:
    reference = submit(app, {**URGENT, **{k: v for k, v in INSTRUMENTS.items() if k != "reasons"}})
    with app.app_context():
        submission = load(reference)
        patient_requests.add_correction(
            db.session, make_clinician(), submission, "medications", "Also lithium"
        )
        bundle = fhir.submission_bundle(load(reference), BASE_URL, CLINIC)
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert kinds == {
        "QuestionnaireResponse",
        "Patient",
        "Observation",
        "DetectedIssue",
        "Provenance",
    }
    check_all([bundle, *(entry["resource"] for entry in bundle["entry"])])


def test_the_public_surface_validates(client: Any) -> None:
    paths = [
        "/fhir/metadata",
        "/fhir/Questionnaire?url=http://localhost/fhir/Questionnaire/intake",
        "/fhir/CodeSystem",
        "/fhir/ValueSet",
        "/fhir/Questionnaire?colour=blue",
    ]
    check_all([client.get(path).get_json() for path in paths])
