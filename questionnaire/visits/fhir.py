"""A patient's course as FHIR R4: the Patient and one Observation per complete total.

The intake's totals (the baseline) and each check-in's, dated to the questionnaire
(effectiveDateTime: the intake's sending, the visit's booked time), LOINC-coded like
the submission's bundle. Response, remission and worsening have no standard code
(ITEMS.md 15, to verify): they go in interpretation.text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from questionnaire.exports.fhir import patient_of, reference_system, stable_urn, total_observation
from questionnaire.questions.instruments import GAD7, PHQ9, Instrument
from questionnaire.records.references import format_reference
from questionnaire.records.visits import Patient
from questionnaire.visits import course_view

#: Course facts written beside a total, in the words a clinician reads.
COURSE_WORDS = (
    ("phq9_remission", "PHQ-9 remission (below 5, baseline 10 or more)"),
    ("phq9_response", "PHQ-9 response (half or less of baseline)"),
    ("phq9_worsening", "PHQ-9 worsening (5 points or more)"),
    ("gad7_worsening", "GAD-7 worsening (4 points or more)"),
)


def _interpretation(
    instrument: Instrument, total: int, facts: dict[str, Any]
) -> list[dict[str, Any]]:
    words = [str(instrument.band(total).label)]
    for fact, text in COURSE_WORDS:
        if fact.startswith(instrument.id) and facts.get(fact) == "yes":
            if fact == "phq9_response" and facts.get("phq9_remission") == "yes":
                continue  # one observation per total: remission says it
            words.append(text)
    return [{"text": word} for word in words]


def _observation(
    instrument: Instrument, total: int, at: datetime, patient_url: str, facts: dict[str, Any]
) -> dict[str, Any]:
    return {
        **total_observation(instrument, total, patient_url, at),
        "interpretation": _interpretation(instrument, total, facts),
    }


def patient_bundle(patient: Patient, base_url: str) -> dict[str, Any]:
    """Return a collection Bundle: the Patient and an Observation for every complete total."""
    reference = patient.submission.reference
    patient_url = stable_urn(base_url, "patients", reference)
    resource = patient_of(patient.submission)
    resource["identifier"] = [
        {"system": reference_system(base_url), "value": format_reference(reference)}
    ]
    entries = [{"fullUrl": patient_url, "resource": resource}]
    for index, row in enumerate(course_view.rows(patient)):
        for instrument in (PHQ9, GAD7):
            total = row.reading.totals.get(instrument.total_fact)
            if total is None:
                continue
            entries.append(
                {
                    "fullUrl": stable_urn(
                        base_url, "patients", reference, str(index), instrument.id
                    ),
                    "resource": _observation(
                        instrument, total, row.reading.at, patient_url, row.facts
                    ),
                }
            )
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
