"""A clinic's own question, added in forms/intake.yaml with a rule that uses it, end to end.

The worked example of docs/clinical-leads-questions.md: "Who will take you home after
treatment?" in both languages, and a review flag when no one will. It appears on its
page in English and French, on the check page, in the CSV and the FHIR Questionnaire
and response, and its rule raises its flag.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from flask import Flask
from flask.testing import FlaskClient

from questionnaire import language
from questionnaire.exports import fhir
from questionnaire.exports.csv import submissions_csv
from questionnaire.extensions import db
from questionnaire.questions import catalogue
from questionnaire.records.models import Draft, Submission
from questionnaire.rules.yamlload import StrictLoader
from tests.answers import with_changes
from tests.harness.app import make_app
from tests.harness.forms import visible_text
from tests.harness.patient import Patient

PROJECT = Path(__file__).resolve().parents[2]
NBSP = "\u00a0"
#: "No one yet" in French, with its typographic apostrophe.
NO_ONE_FR = "Personne pour l\u2019instant"

#: The clinic's question, as a clinical lead writes it (docs/clinical-leads-questions.md).
RIDE_HOME = f"""\
id: ride_home_who
kind: choice
required: false
label:
  en: Who will take you home after treatment?
  fr_CA: Qui vous ramènera à la maison après le traitement{NBSP}?
hint:
  en: You cannot drive or go home alone after a treatment.
  fr_CA: Vous ne pouvez pas conduire ni rentrer seul ou seule après un traitement.
short_label:
  en: Who takes them home
  fr_CA: Qui la ramène à la maison
choices:
  - code: family
    label: {{en: A partner or family member, fr_CA: Un ou une partenaire ou un membre de la famille}}
  - code: friend
    label: {{en: A friend, fr_CA: Un ami ou une amie}}
  - code: no_one
    label: {{en: No one yet, fr_CA: {NO_ONE_FR}}}
"""

#: The rule that uses it, and the case that proves the rule fires.
NO_RIDE_RULE = """\
  - id: no_ride_home
    level: review
    short: "no ride home yet"
    when: {item: ride_home_who, equals: no_one}
    message: Reports that no one will take them home after treatment yet (the clinic's question).
    source: Clinic policy (an adult takes each patient home)
"""
NO_RIDE_CASE = """\
  - name: no one to take them home yet
    answers: {ride_home_who: no_one}
    expect: [no_ride_home]
"""


def _load(text: str) -> Any:
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506


@pytest.fixture
def clinic_files(tmp_path: Path) -> tuple[Path, Path]:
    """Write the shipped definition and rule table, each with the clinic's additions."""
    definition = _load((PROJECT / "forms" / "intake.yaml").read_text(encoding="utf-8"))
    getting_home = next(s for s in definition["sections"] if s["id"] == "getting_home")
    getting_home["items"].append(_load(RIDE_HOME))
    questions = tmp_path / "intake.yaml"
    questions.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    # The rule table is edited as text, as a clinical lead does: a rule, and its case.
    table = (PROJECT / "rules.yaml").read_text(encoding="utf-8")
    table = table.replace("\nrules:\n", "\nrules:\n" + NO_RIDE_RULE, 1)
    table = table.replace("\ncases:\n", "\ncases:\n" + NO_RIDE_CASE, 1)
    rules = tmp_path / "rules.yaml"
    rules.write_text(table, encoding="utf-8")
    return questions, rules


@pytest.fixture
def clinic_app(tmp_path: Path, clinic_files: tuple[Path, Path]) -> Iterator[Flask]:
    questions, rules = clinic_files
    app = make_app(
        tmp_path,
        QUESTIONS_PATH=str(questions),
        RULES_PATH=str(rules),
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'clinic.db'}",
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_question_is_asked_on_its_page_in_both_languages(clinic_app: Flask) -> None:
    assert catalogue.SECTION_OF["ride_home_who"].id == "getting_home"
    english = clinic_app.test_client()
    Patient(english).start()
    page = visible_text(english.get("/questions/getting_home"))
    assert "Who will take you home after treatment?" in page
    assert "No one yet" in page
    french = clinic_app.test_client()
    french.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA"
    Patient(french).start()
    page = visible_text(french.get("/questions/getting_home"))
    # visible_text reads a no-break space as a space.
    assert "Qui vous ramènera à la maison après le traitement ? (facultatif)" in page
    assert NO_ONE_FR in page
    assert "Who will take you home" not in page


def _sent(app: Flask, client: FlaskClient, answer: str) -> Submission:
    patient = Patient(client)
    patient.start()
    patient.answer_all(with_changes({"ride_home_who": answer}))
    check = visible_text(client.get("/check"))
    assert (
        f"Who will take you home after treatment? {'No one yet' if answer == 'no_one' else 'A friend'}"
        in check
    )
    patient.send()
    with app.app_context():
        (submission,) = db.session.scalars(sa.select(Submission))
        _ = submission.flags
        return submission


def test_the_check_page_shows_it_and_its_rule_raises_its_flag(clinic_app: Flask) -> None:
    submission = _sent(clinic_app, clinic_app.test_client(), "no_one")
    assert submission.answers["ride_home_who"] == "no_one"
    flags = {flag.rule: flag for flag in submission.flags}
    assert flags["no_ride_home"].level == "review"
    assert flags["no_ride_home"].evidence == [{"item": "ride_home_who", "value": "no_one"}]


def test_another_answer_raises_no_flag(clinic_app: Flask) -> None:
    submission = _sent(clinic_app, clinic_app.test_client(), "friend")
    assert "no_ride_home" not in {flag.rule for flag in submission.flags}


def test_it_is_a_column_of_the_csv(clinic_app: Flask) -> None:
    _sent(clinic_app, clinic_app.test_client(), "no_one")
    with clinic_app.app_context():
        rows = list(
            csv.DictReader(
                io.StringIO("".join(submissions_csv(db.session.scalars(sa.select(Submission)))))
            )
        )
    (row,) = rows
    assert row["ride_home_who"] == "no_one"
    header = list(rows[0])
    assert header.index("ride_home_who") == header.index("travel_home") + 1


def test_it_is_in_the_fhir_questionnaire_in_both_languages(clinic_app: Flask) -> None:
    with clinic_app.app_context():
        resource = fhir.questionnaire_resource(
            "https://clinic.example", "Clinic", language.catalogues(clinic_app)
        )

    def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for entry in items:
            yield entry
            yield from walk(entry.get("item", []))

    (question,) = (entry for entry in walk(resource["item"]) if entry["linkId"] == "ride_home_who")
    assert question["text"] == "Who will take you home after treatment?"
    assert question["type"] == "choice"
    (translation,) = question["_text"]["extension"]
    assert translation["extension"] == [
        {"url": "lang", "valueCode": "fr-CA"},
        {
            "url": "content",
            "valueString": f"Qui vous ramènera à la maison après le traitement{NBSP}?",
        },
    ]
    codes = [option["valueCoding"]["code"] for option in question["answerOption"]]
    assert codes == ["family", "friend", "no_one"]
    assert NO_ONE_FR in str(question["answerOption"][2])


def test_a_draft_with_an_answer_to_a_dropped_question_can_still_be_sent(
    app: Flask, client: FlaskClient
) -> None:
    # The draft was saved while the clinic asked its own question; the clinic has since
    # gone back to the shipped definition, which does not ask it.
    patient = Patient(client)
    patient.start()
    patient.answer_all(with_changes({}))
    with app.app_context():
        (draft,) = db.session.scalars(sa.select(Draft))
        draft.answers = {**draft.answers, "ride_home_who": "no_one"}
        db.session.commit()
    assert "ride_home_who" not in catalogue.ITEMS
    response = patient.send()
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/done")
    with app.app_context():
        (submission,) = db.session.scalars(sa.select(Submission))
        assert "ride_home_who" not in submission.answers
