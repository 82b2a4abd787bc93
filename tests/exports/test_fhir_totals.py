"""The FHIR Questionnaire's calculated totals: SDC calculatedExpression, checked by FHIRPath.

Each instrument's total is a read-only item coded with its total-score LOINC code; its
FHIRPath (run here by fhirpathpy, a FHIRPath engine from PyPI) must give the app's own
total on the app's own QuestionnaireResponse, including "no total" when an item is skipped.
"""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhirpathpy import evaluate as fhirpath
from fhirpathpy.models import models
from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaire.exports import fhir
from questionnaire.questions import instruments

BASE_URL = "https://clinic.example"
LOINC_TOTALS = {"phq9": "44261-6", "gad7": "70274-6", "pcl5": "101698-9", "auditc": "75626-2"}


def response_for(answers: dict[str, Any]) -> dict[str, Any]:
    """Return the QuestionnaireResponse the app exports for these answers."""
    resource = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": fhir.questionnaire_canonical(BASE_URL),
        "item": fhir._response_items(answers, BASE_URL),
    }
    QuestionnaireResponse.model_validate(resource)
    return resource


def calculated(instrument: instruments.Instrument, answers: dict[str, Any]) -> int | None:
    """Return what the Questionnaire's calculatedExpression gives for these answers."""
    expression = fhir.total_item(instrument)["extension"][0]["valueExpression"]["expression"]
    resource = response_for(answers)
    # The R4 model lets `answer.value` resolve to valueCoding, as a form filler reads it.
    result = fhirpath(resource, expression, {"resource": resource}, models["r4"])
    assert len(result) <= 1, result
    return result[0] if result else None


def test_each_instrument_total_is_a_coded_calculated_item_and_the_questionnaire_is_valid() -> None:
    resource = fhir.questionnaire_resource(BASE_URL, "Clinic")
    Questionnaire.model_validate(resource)
    totals = {
        item["linkId"]: item
        for group in resource["item"]
        for item in group["item"]
        if item["linkId"].endswith("_total")
    }
    assert set(totals) == {instrument.total_fact for instrument in instruments.INSTRUMENTS}
    for instrument in instruments.INSTRUMENTS:
        item = totals[instrument.total_fact]
        assert item["type"] == "integer" and item["readOnly"] is True
        assert item["code"][0] == {
            "system": "http://loinc.org",
            "code": LOINC_TOTALS[instrument.id],
            "display": instrument.loinc_total_display,
        }
        (extension,) = item["extension"]
        assert extension["url"] == fhir.CALCULATED_EXPRESSION
        assert extension["valueExpression"]["language"] == "text/fhirpath"
    # AUDIT-C's total sits in the alcohol section, after its three items.
    alcohol = next(group for group in resource["item"] if group["linkId"] == "alcohol_drugs")
    assert [item["linkId"] for item in alcohol["item"]].index("auditc_total") > 2


def scores(instrument: instruments.Instrument) -> st.SearchStrategy[dict[str, Any]]:
    """Answers to an instrument, each item answered with a score or skipped."""
    return st.fixed_dictionaries(
        {
            item_id: st.one_of(st.none(), st.sampled_from(instrument.codes))
            for item_id in instrument.item_ids
        }
    ).map(lambda found: {key: value for key, value in found.items() if value is not None})


@pytest.mark.parametrize("instrument", instruments.INSTRUMENTS, ids=lambda i: i.id)
def test_every_item_answered_gives_the_app_s_total(instrument: instruments.Instrument) -> None:
    for score in instrument.codes:
        answers = dict.fromkeys(instrument.item_ids, score)
        assert calculated(instrument, answers) == instrument.total(answers)
    highest = dict.fromkeys(instrument.item_ids, instrument.codes[-1])
    assert calculated(instrument, highest) == instrument.max_total


@pytest.mark.parametrize("instrument", instruments.INSTRUMENTS, ids=lambda i: i.id)
def test_a_skipped_item_gives_no_total_as_in_the_app(instrument: instruments.Instrument) -> None:
    answers = dict.fromkeys(instrument.item_ids[:-1], "1")
    assert instrument.total(answers) is None
    assert calculated(instrument, answers) is None


@pytest.mark.parametrize(
    ("answers", "total"),
    [
        ({"auditc_1": "0"}, 0),  # a non-drinker: items 2 and 3 not asked, count 0
        ({"auditc_1": "3", "auditc_2": "0", "auditc_3": "0"}, 3),
        ({"auditc_1": "4", "auditc_2": "2"}, None),
    ],
)
def test_auditc_cases_of_items_md(answers: dict[str, str], total: int | None) -> None:
    assert instruments.AUDITC.total(answers) == total
    assert calculated(instruments.AUDITC, answers) == total


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_answers_give_the_same_total_in_fhirpath_and_in_the_app(data: st.DataObject) -> None:
    instrument = data.draw(st.sampled_from(instruments.INSTRUMENTS))
    answers = data.draw(scores(instrument))
    assert calculated(instrument, answers) == instrument.total(answers)
