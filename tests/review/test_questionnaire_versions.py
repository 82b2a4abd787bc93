"""A submission answered under an earlier definition is shown with the questions it answered.

The clinic rewords a question and adds one after a patient has sent their answers:
the clinician's page and the print of that submission still show the question as the
patient read it, and no question the patient was never asked.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from flask import Flask

from questionnaire.exports import jobs as export_jobs
from questionnaire.extensions import db
from questionnaire.questions import catalogue, version
from questionnaire.records.models import QuestionnaireDefinition, Submission
from questionnaire.rules.yamlload import StrictLoader
from tests.answers import with_changes
from tests.harness.app import make_app
from tests.harness.clinician import make_clinician, signed_in_client
from tests.harness.forms import visible_text
from tests.harness.patient import Patient

SHIPPED = Path(__file__).resolve().parents[2] / "forms" / "intake.yaml"
BEFORE = "After each treatment, can an adult take you home?"
AFTER = "After each treatment, can an adult you trust take you home?"
NEW_QUESTION = "Who will take you home after treatment?"
#: The print shows each answer's short label: reworded too.
SHORT_BEFORE = "An adult can take them home"
SHORT_AFTER = "An adult they trust can take them home"


def changed_definition(tmp_path: Path) -> Path:
    data: dict[str, Any] = yaml.load(SHIPPED.read_text(encoding="utf-8"), Loader=StrictLoader)  # noqa: S506
    data = copy.deepcopy(data)
    getting_home = next(s for s in data["sections"] if s["id"] == "getting_home")["items"]
    escort = next(one for one in getting_home if one["id"] == "escort_home")
    escort["label"]["en"] = AFTER
    escort["short_label"]["en"] = SHORT_AFTER
    getting_home.append(
        {
            "id": "ride_home_who",
            "kind": "text",
            "required": False,
            "label": {
                "en": NEW_QUESTION,
                "fr_CA": "Qui vous ramènera à la maison après le traitement\u00a0?",
            },
        }
    )
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def answers_of(html: str) -> str:
    """Return a submission page's text without the correction form's list of today's items
    (a correction is recorded against an item as it is asked now)."""
    return visible_text(re.sub(r'<select id="correction-item".*?</select>', "", html, flags=re.S))


def test_an_earlier_submission_keeps_its_own_questions(app: Flask, tmp_path: Path) -> None:
    first_version = version.QUESTIONNAIRE_VERSION
    Patient(app.test_client()).complete(with_changes({"escort_home": "yes"}))
    with app.app_context():
        (submission,) = db.session.scalars(sa.select(Submission))
        reference = submission.reference
        assert submission.questionnaire_version == first_version
        stored = db.session.get(QuestionnaireDefinition, first_version)
        assert stored is not None
        assert stored.definition == SHIPPED.read_text(encoding="utf-8")

    # The clinic deploys a changed definition on the same database.
    changed = make_app(
        tmp_path / "changed",
        QUESTIONS_PATH=str(changed_definition(tmp_path)),
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        CLOCK=app.config["CLOCK"],
    )
    assert first_version != version.QUESTIONNAIRE_VERSION
    assert catalogue.ITEMS["escort_home"].label == AFTER
    clinician = make_clinician(changed)
    reviewer = signed_in_client(changed, clinician)
    page = answers_of(reviewer.get(f"/clinic/submissions/{reference}").get_data(as_text=True))
    assert f"{BEFORE} Yes" in page
    assert AFTER not in page
    assert NEW_QUESTION not in page
    printed = visible_text(reviewer.get(f"/clinic/submissions/{reference}/print"))
    assert f"{SHORT_BEFORE} Yes" in printed
    assert SHORT_AFTER not in printed
    assert NEW_QUESTION not in printed

    bundle = reviewer.get(f"/clinic/submissions/{reference}/fhir").get_json()
    (response,) = (
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    assert response["questionnaire"].endswith(f"|{first_version}")
    texts = {item["linkId"]: item["text"] for group in response["item"] for item in group["item"]}
    assert texts["escort_home"] == BEFORE

    # A submission sent now is shown with the new questions.
    Patient(changed.test_client()).complete(with_changes({"ride_home_who": "My sister"}))
    with changed.app_context():
        latest = db.session.scalars(
            sa.select(Submission).where(Submission.reference != reference)
        ).one()
        assert latest.questionnaire_version == version.QUESTIONNAIRE_VERSION
    page = answers_of(
        reviewer.get(f"/clinic/submissions/{latest.reference}").get_data(as_text=True)
    )
    assert AFTER in page and NEW_QUESTION in page


def test_the_csv_keeps_a_column_for_a_question_no_longer_asked(app: Flask, tmp_path: Path) -> None:
    # The clinic asked its own question for a while, then went back to the shipped file.
    clinic = make_app(
        tmp_path / "clinic",
        QUESTIONS_PATH=str(changed_definition(tmp_path)),
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        CLOCK=app.config["CLOCK"],
    )
    Patient(clinic.test_client()).complete(with_changes({"ride_home_who": "My sister"}))
    shipped = make_app(
        tmp_path / "shipped",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        CLOCK=app.config["CLOCK"],
    )
    assert "ride_home_who" not in catalogue.ITEMS
    with shipped.app_context():
        lines = export_jobs.csv_lines(
            "submissions", db.session.scalars(sa.select(Submission)), db.session
        )
        (row,) = csv.DictReader(io.StringIO("".join(lines)))
    assert row["ride_home_who"] == "My sister"
    assert row["escort_home"] == "yes"
    # A clinician reading in French sees the dropped question in the French it was asked in
    # (kept with its definition: no message catalogue holds it).
    reviewer = signed_in_client(shipped, make_clinician(shipped))
    reviewer.get("/clinic/language/fr-CA")
    page = answers_of(
        reviewer.get(f"/clinic/submissions/{row['reference'].replace('-', '')}").get_data(
            as_text=True
        )
    )
    assert "Qui vous ramènera à la maison après le traitement ? My sister" in page
