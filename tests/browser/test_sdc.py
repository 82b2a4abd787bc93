"""A real SDC renderer over our FHIR: NLM's LHC-Forms (npm `lforms`) in the project's Chromium.

LHC-Forms is the reference renderer of HL7's Structured Data Capture guide; a record
system's form viewer behaves like it. It is installed from npm by `make sdc` into
tests/browser/sdc/node_modules (pinned by package-lock.json, never shipped) and served to
the page by Playwright's router from those files: the page reaches no network at all.

What it proves: every question renders, the enableWhen conditions behave as the app's,
a response it exports is valid FHIR that names only our linkIds and keeps our answers,
and totals it computes itself from our answer weights equal the app's.
"""

from __future__ import annotations

import copy
import json
import mimetypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask import Flask
from playwright.sync_api import Page, Route

from questionnaire import language
from questionnaire.exports import fhir
from questionnaire.questions import catalogue, cssrs
from questionnaire.questions.instruments import INSTRUMENTS
from tests.exports import BASE_URL, CLINIC, load, submit
from tests.exports import INSTRUMENTS as SCORED

pytestmark = pytest.mark.browser

SDC = Path(__file__).parent / "sdc"
DIST = SDC / "node_modules" / "lforms" / "dist" / "lforms"
ORIGIN = "http://sdc.test"
SCRIPTS = (
    "webcomponent/assets/lib/zone.min.js",
    "webcomponent/runtime.js",
    "webcomponent/polyfills.js",
    "webcomponent/main.js",
    "fhir/R4/lformsFHIR.min.js",
)
PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SDC</title>'
    '<link rel="stylesheet" href="/lforms/webcomponent/styles.css"></head>'
    '<body><div id="form"></div>'
    + "".join(f'<script src="/lforms/{script}"></script>' for script in SCRIPTS)
    + "</body></html>"
)
CALCULATED = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
#: Every instrument complete: PHQ-9 14, GAD-7 9, PCL-5 20, AUDIT-C 6.
COMPLETE = {**SCORED, "gad7_7": "3", "auditc_1": "3", "auditc_2": "1", "auditc_3": "2"}


@pytest.fixture
def questionnaire(app: Flask) -> dict[str, Any]:
    """Return our Questionnaire as the public endpoint serves it (with its French)."""
    with app.app_context():
        return fhir.questionnaire_resource(BASE_URL, CLINIC, language.catalogues())


@pytest.fixture
def sdc(page: Page) -> Iterator[Page]:
    """Yield a page with LHC-Forms loaded from node_modules, every other request refused."""
    if not DIST.is_dir():
        pytest.fail(f"LHC-Forms is not installed in {SDC}: run `make sdc` (npm ci from the lock)")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )

    def serve(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        if path == "/":
            route.fulfill(body=PAGE, content_type="text/html")
            return
        found = DIST / path.removeprefix("/lforms/")
        if path.startswith("/lforms/") and found.is_file() and DIST in found.resolve().parents:
            kind = mimetypes.guess_type(found.name)[0] or "application/javascript"
            route.fulfill(body=found.read_bytes(), content_type=kind)
            return
        route.fulfill(status=404, body="")

    page.route(f"{ORIGIN}/**", serve)
    page.route(lambda url: not url.startswith(ORIGIN), lambda route: route.abort())
    page.goto(f"{ORIGIN}/")
    page.wait_for_function("() => !!(window.LForms && window.LForms.FHIR)")
    yield page
    assert errors == []  # no console error from the renderer over our resources


def show(page: Page, questionnaire: dict[str, Any], response: dict[str, Any] | None = None) -> None:
    """Render a Questionnaire (and a response merged into it) in the form container."""
    options = {"questionnaireResponse": response} if response else {}
    page.evaluate(
        """([q, options]) => {
            document.getElementById('form').innerHTML = '';
            return LForms.Util.addFormToPage(q, 'form', options);
        }""",
        [questionnaire, options],
    )
    page.wait_for_selector("lhc-item")


def rendered(page: Page) -> set[str]:
    """Return the linkIds of every item LHC-Forms shows."""
    ids = page.evaluate(
        "Array.from(document.querySelectorAll('lhc-item[id^=\"item-\"]')).map(e => e.id)"
    )
    return {ident.removeprefix("item-").split("/")[0] for ident in ids}


def exported(page: Page) -> dict[str, Any]:
    """Return the QuestionnaireResponse LHC-Forms exports from what it shows."""
    text = page.evaluate(
        "JSON.stringify(LForms.Util.getFormFHIRData("
        "'QuestionnaireResponse', 'R4', document.getElementById('form')))"
    )
    return dict(json.loads(text))


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def response_for(app: Flask, answers: dict[str, Any]) -> dict[str, Any]:
    """Return the QuestionnaireResponse the app exports for answers sent through the form."""
    reference = submit(app, answers)
    with app.app_context():
        bundle = fhir.submission_bundle(load(reference), BASE_URL, CLINIC)
    return dict(bundle["entry"][0]["resource"])


def with_totals(questionnaire: dict[str, Any]) -> dict[str, Any]:
    """Return a copy with a calculated total per instrument: the sum of the answers' weights.

    Written the standard SDC way (a FHIRPath calculatedExpression over the answers'
    weights), so the renderer scores the instrument itself from our LOINC answer codes and
    their ordinalValue, with no help from the app.
    """
    scored = copy.deepcopy(questionnaire)
    for instrument in INSTRUMENTS:
        # The instrument's own page (PHQ-9, GAD-7, PCL-5), or the page it is asked on (the
        # AUDIT-C, in the alcohol section).
        [group] = [
            g for g in scored["item"] if instrument.item_ids[0] in {i["linkId"] for i in g["item"]}
        ]
        its_items = " or ".join(f"linkId='{item_id}'" for item_id in instrument.item_ids)
        group["item"].append(
            {
                "linkId": f"{instrument.id}_sdc_total",
                "text": "Total (computed by the renderer)",
                "type": "integer",
                "readOnly": True,
                "extension": [
                    {
                        "url": CALCULATED,
                        "valueExpression": {
                            "language": "text/fhirpath",
                            "expression": f"%resource.item.where(linkId='{group['linkId']}')"
                            f".item.where({its_items}).answer.value.weight().sum()",
                        },
                    }
                ],
            }
        )
    return scored


def enabling_answers() -> dict[str, Any]:
    """Return answers that make every conditional question asked."""
    wanted: dict[str, set[str]] = {}
    for item in catalogue.ITEMS.values():
        if item.asked_when is not None:
            wanted.setdefault(item.asked_when.item, set()).add(min(item.asked_when.one_of))
    return {
        item_id: sorted(codes)
        if catalogue.ITEMS[item_id].kind.traits.value == "codes"
        else min(codes)
        for item_id, codes in wanted.items()
    }


def test_every_question_renders_and_conditions_open_the_rest(
    app: Flask, sdc: Page, questionnaire: dict[str, Any]
) -> None:
    questions = set(catalogue.ITEMS)
    conditional = {item.id for item in catalogue.ITEMS.values() if item.asked_when}
    groups = {section.id for section in catalogue.SECTIONS}
    show(sdc, questionnaire)
    shown = rendered(sdc)
    assert shown & questions == questions - conditional
    assert groups - {catalogue.SECTION_OF[i].id for i in conditional} <= shown
    # With the answers that open every condition, every one of the questions renders: with
    # the C-SSRS screener off (the clinic's plain follow-ups) and on (the screener's own),
    # since one form asks one set or the other and the Questionnaire holds both.
    answers = {**COMPLETE, **enabling_answers(), "suicidal_thoughts_now": "no"}
    seen: set[str] = set()
    # The screener's own questions are required when asked: "no" wherever nothing opens more.
    screener_answers = {
        item.id: "no"
        for item in catalogue.ITEMS.values()
        if item.screener is True or item.id == "suicide_plan"
    }
    for screener in (False, True):
        app.config["CSSRS_SCREENER_ENABLED"] = screener
        # "I'd rather not say" to a screener question exports as no answer (asked-declined),
        # which opens nothing: "yes" opens the screener's follow-ups.
        declined = {item_id: "yes" for item_id in (cssrs.Q2, cssrs.Q6)}
        sent = {**screener_answers, **answers, **declined} if screener else answers
        show(sdc, questionnaire, response_for(app, sent))
        seen |= rendered(sdc)
    assert seen >= questions | groups


@pytest.mark.parametrize(
    ("past_month", "asked"), [("no", False), ("yes", True), ("prefer_not", True)]
)
def test_the_right_now_question_follows_the_past_month_answer(
    app: Flask, sdc: Page, questionnaire: dict[str, Any], past_month: str, asked: bool
) -> None:
    answers = {**COMPLETE, "suicidal_thoughts_past_month": past_month}
    if asked:
        answers["suicidal_thoughts_now"] = "no"
    response = response_for(app, answers)
    show(sdc, questionnaire, response)
    assert ("suicidal_thoughts_now" in rendered(sdc)) is asked
    assert "suicidal_thoughts_past_month" in rendered(sdc)


def test_its_response_is_valid_ours_and_scored_as_the_app_scores(
    app: Flask, sdc: Page, questionnaire: dict[str, Any]
) -> None:
    ours = response_for(app, COMPLETE)
    show(sdc, with_totals(questionnaire), ours)
    theirs = exported(sdc)
    QuestionnaireResponse.model_validate(theirs)

    # Every instrument's answers carry LOINC answer codes and weights, the AUDIT-C's too.
    weighted = {instrument.id for instrument in INSTRUMENTS}
    totals = {
        item["linkId"].removesuffix("_sdc_total"): item["answer"][0]["valueInteger"]
        for item in walk(theirs["item"])
        if item["linkId"].endswith("_sdc_total")
        and item["linkId"].removesuffix("_sdc_total") in weighted
    }
    expected = {
        instrument.id: instrument.total(COMPLETE)
        for instrument in INSTRUMENTS
        if instrument.id in weighted
    }
    assert expected == {"phq9": 14, "gad7": 9, "pcl5": 20, "auditc": 6}
    assert totals == expected

    # Every other linkId is ours, and every answer is the one the app exported.
    link_ids = {item["linkId"] for item in walk(theirs["item"])} - {
        f"{instrument.id}_sdc_total" for instrument in INSTRUMENTS
    }
    ours_ids = {item["linkId"] for item in walk(questionnaire["item"])}
    assert link_ids <= ours_ids
    # The Questionnaire's own calculated totals (SDC calculatedExpression) are the renderer's.
    calculated = {
        item["linkId"]
        for item in walk(questionnaire["item"])
        if any(extension["url"] == CALCULATED for extension in item.get("extension", ()))
    }

    def answers(response: dict[str, Any]) -> dict[str, list[Any]]:
        found = {}
        for item in walk(response["item"]):
            skip = item["linkId"].endswith("_sdc_total") or item["linkId"] in calculated
            if "answer" in item and not skip:
                found[item["linkId"]] = [
                    answer["valueCoding"]["code"] if "valueCoding" in answer else answer
                    for answer in item["answer"]
                ]
        return found

    assert answers(theirs) == answers(ours)
