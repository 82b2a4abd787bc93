"""`flask questions import-fhir`: an R4 Questionnaire becomes a definition, and says what it lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskCliRunner

from questionnaire.questions import catalogue
from questionnaire.questions.fhir_import import import_questionnaire
from questionnaire.rules.yamlload import StrictLoader

SHIPPED = Path(__file__).resolve().parents[2] / "forms" / "intake.yaml"
LOINC = "http://loinc.org"

#: A form in the style of LHC-Forms' published R4 questionnaires: LOINC-coded items,
#: answer lists of LA codes, a yes/no question, a display line and a skip pattern.
LHC_STYLE: dict[str, Any] = {
    "resourceType": "Questionnaire",
    "id": "tobacco-use",
    "name": "Tobacco use",
    "title": "Tobacco use",
    "status": "draft",
    "code": [{"system": LOINC, "code": "72166-2", "display": "Tobacco smoking status"}],
    "item": [
        {
            "linkId": "/72166-2",
            "code": [{"system": LOINC, "code": "72166-2"}],
            "text": "Tobacco smoking status",
            "type": "choice",
            "required": True,
            "answerOption": [
                {
                    "valueCoding": {
                        "system": LOINC,
                        "code": "LA18976-3",
                        "display": "Current every day smoker",
                    }
                },
                {"valueCoding": {"system": LOINC, "code": "LA18978-9", "display": "Never smoker"}},
            ],
        },
        {
            "linkId": "/72166-2/note",
            "text": "The next question is about the last 30 days.",
            "type": "display",
        },
        {
            "linkId": "/64234-8",
            "text": "Do you use e-cigarettes?",
            "type": "boolean",
            "enableWhen": [
                {
                    "question": "/72166-2",
                    "operator": "=",
                    "answerCoding": {"system": LOINC, "code": "LA18976-3"},
                }
            ],
        },
        {
            "linkId": "/8663-7",
            "text": "Cigarettes per day",
            "type": "quantity",
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"}],
        },
    ],
}

#: LHC-Forms' PHQ-9 is coded with its LOINC panel: it is the package's PHQ-9.
LHC_PHQ9: dict[str, Any] = {
    "resourceType": "Questionnaire",
    "name": "PHQ-9 quick depression assessment panel",
    "title": "PHQ-9 quick depression assessment panel",
    "status": "draft",
    "code": [
        {"system": LOINC, "code": "44249-1", "display": "PHQ-9 quick depression assessment panel"}
    ],
    "item": [
        {
            "linkId": "/44250-9",
            "text": "Little interest or pleasure in doing things",
            "type": "choice",
        }
    ],
}

FRENCH = {"fr-CA": "fr_CA", "fr": "fr_CA"}


def test_the_apps_own_questionnaire_comes_back_as_its_questions(app: Flask) -> None:
    resource = app.test_client().get("/fhir/Questionnaire/intake").get_json()
    imported = import_questionnaire(resource, FRENCH)
    pages = {page["id"]: page for page in imported.data["sections"]}
    assert list(pages) == [section.id for section in catalogue.SECTIONS]
    for name in ("phq9", "gad7", "pcl5"):
        assert pages[name]["instrument"] == name  # by name, the package's words
    assert {"instrument": "auditc"} in pages["alcohol_drugs"]["items"]
    fr = catalogue.DEFINITION.texts["fr_CA"]
    compared = 0
    for page in imported.data["sections"]:
        for entry in page.get("items", []):
            if "instrument" in entry or "cssrs" in entry:
                continue
            item = catalogue.ITEMS[entry["id"]]
            if item.kind is catalogue.Kind.CONSENT:
                assert [c["code"] for c in entry["choices"]] == ["yes", "no"]  # a FHIR boolean
                continue
            # FHIR has one type for a line of text: an email or phone comes back as text.
            kind = {"email": "text", "phone": "text"}.get(item.kind.value, item.kind.value)
            assert entry["kind"] == kind, item.id
            assert entry["label"]["en"] == item.label
            assert entry["label"].get("fr_CA") == fr.get(item.label, item.label)
            assert [c["code"] for c in entry.get("choices", [])] == list(item.codes)
            if item.asked_when is not None and item.asked_when.on_page:
                (operator,) = set(entry["asked_when"]["when"]) - {"item"}
                assert set(entry["asked_when"]["when"][operator]) == set(item.asked_when.one_of)
            compared += 1
    assert compared > 45  # every own item but the consent boxes and C-SSRS items
    carried = {
        entry.get("id") for page in imported.data["sections"] for entry in page.get("items", [])
    }
    assert carried - {None} == {
        item.id for item in catalogue.ITEMS.values() if item.instrument is None
    }
    assert any("roles are not part of FHIR" in note for note in imported.notes)


def test_an_lhc_style_form_says_what_it_could_not_carry(tmp_path: Path) -> None:
    imported = import_questionnaire(LHC_STYLE, FRENCH)
    (page,) = imported.data["sections"]
    first, ecig, per_day = page["items"]
    assert first["id"] == "q_72166_2"
    assert [c["code"] for c in first["choices"]] == ["LA18976-3", "LA18978-9"]
    assert ecig["kind"] == "choice" and [c["code"] for c in ecig["choices"]] == ["yes", "no"]
    assert ecig["asked_when"] == {"when": {"item": "q_72166_2", "one_of": ["LA18976-3"]}}
    assert per_day["kind"] == "text"
    notes = "\n".join(imported.notes)
    assert "'/72166-2/note' is display text, not a question: not carried over" in notes
    assert "of FHIR type quantity, which has no kind here" in notes
    assert "'q_8663_7': its extension was not carried over" in notes
    assert "yes/no (boolean) question" in notes


def test_lhc_forms_phq9_is_the_packages_phq9() -> None:
    imported = import_questionnaire(LHC_PHQ9, FRENCH)
    (page,) = imported.data["sections"]
    assert page == {
        "id": "phq9",
        "title": {"en": "PHQ-9 quick depression assessment panel"},
        "instrument": "phq9",
    }
    assert any("included by name" in note for note in imported.notes)


def test_the_command_merges_into_a_definition_that_then_loads(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    source = tmp_path / "tobacco.json"
    source.write_text(json.dumps(LHC_STYLE), encoding="utf-8")
    output = tmp_path / "intake.yaml"
    args = [
        "questions",
        "import-fhir",
        str(source),
        "-o",
        str(output),
        "--merge-into",
        str(SHIPPED),
    ]
    # In English only, the merged file is sound as it is.
    result = runner.invoke(args=args, env={"LANGUAGES": "en"})
    assert result.exit_code == 0, result.output
    assert "not carried over or to check:" in result.output
    assert f"{output} is sound" in result.output
    data = yaml.load(output.read_text(encoding="utf-8"), Loader=StrictLoader)  # noqa: S506
    ids = [section["id"] for section in data["sections"]]
    assert ids[-2:] == ["tobacco_use", "consent"]  # before the last step
    # With French offered, what is left to write is listed, line by line.
    result = runner.invoke(args=args, env={"LANGUAGES": "en,fr_CA"})
    assert "To finish before the file can be used:" in result.output
    assert "the text has no fr_CA version" in result.output


def test_a_file_that_is_not_a_questionnaire_is_refused(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    source = tmp_path / "patient.json"
    source.write_text(json.dumps({"resourceType": "Patient"}), encoding="utf-8")
    result = runner.invoke(args=["questions", "import-fhir", str(source)])
    assert result.exit_code == 1
    assert "is not a FHIR Questionnaire" in result.output
    source.write_text("{not json", encoding="utf-8")
    result = runner.invoke(args=["questions", "import-fhir", str(source)])
    assert result.exit_code == 1 and "cannot be imported" in result.output
