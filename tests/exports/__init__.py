"""Exports (FHIR, CSV) and the rule-change impact report, on submissions made through the form."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from questionnaire.extensions import db
from questionnaire.records.models import Clinician, Submission
from tests.answers import with_changes
from tests.harness.patient import Patient

BASE_URL = "https://intake.clinic.example"
CLINIC = "Test Clinic"

#: Answer sets in the style of the rules.yaml cases, each raising different flags.
BENZODIAZEPINE = with_changes(
    {"takes_benzodiazepine": "yes", "medications": "Ativan 1 mg at night, sertraline 100 mg"}
)
URGENT = with_changes(
    {
        "reasons": ["depression", "suicidal_thoughts"],
        "suicidal_thoughts_past_month": "yes",
        "suicidal_thoughts_now": "yes",
    }
)
BLOOD_PRESSURE = with_changes(
    {
        "bp_reading": "152/94",
        "weight_value": "154.5",
        "weight_unit": "lb",
        "antidepressants_tried": "1",
        "other_drugs_past_year": ["cocaine", "opioids"],
        "treatments": [],
        "phone": None,
    }
)
NO_FLAGS = with_changes({})
#: PHQ-9 complete (total 14, item 9 "Not at all"), GAD-7 with one item skipped, PCL-5 complete
#: (total 20) after PTSD among the reasons.
INSTRUMENTS = with_changes(
    {
        "reasons": ["depression", "ptsd"],
        **{f"phq9_{n}": score for n, score in enumerate("222222200", start=1)},
        **{f"gad7_{n}": "1" for n in range(1, 7)},
        **{f"pcl5_{n}": "1" for n in range(1, 21)},
    }
)


def submit(app: Flask, answers: dict[str, Any]) -> str:
    """Complete the real web form in a fresh browser; return the new submission's reference."""
    response = Patient(app.test_client()).complete(answers)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        reference = db.session.scalar(
            sa.select(Submission.reference).order_by(Submission.id.desc()).limit(1)
        )
    assert reference is not None
    return reference


def load(reference: str) -> Submission:
    """Return a stored submission with its flags and acknowledgers loaded (inside an app context)."""
    submission = db.session.scalar(sa.select(Submission).where(Submission.reference == reference))
    assert submission is not None
    for flag in submission.flags:
        _ = flag.acknowledged_by
    return submission


def make_clinician(email: str = "dr.who@clinic.example", name: str = "Doctor Zebedee") -> Clinician:
    """Add a clinician (inside an app context) and return it."""
    clinician = Clinician(email=email, name=name, password_hash="x", totp_secret="x")
    db.session.add(clinician)
    db.session.commit()
    return clinician
