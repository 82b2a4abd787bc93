"""The shipped definition (forms/intake.yaml) is today's questionnaire, exactly."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flask.testing import FlaskCliRunner

from questionnaire.exports import fhir
from questionnaire.language import compiled_catalogue
from questionnaire.questions import catalogue, version
from questionnaire.questions.definition import load_definition
from questionnaire.questions.export import definition_yaml

SHIPPED = Path(__file__).resolve().parents[2] / "forms" / "intake.yaml"


def _declared_items() -> list[catalogue.Item]:
    return [item for section in catalogue.DECLARED_SECTIONS for item in section.items]


def test_the_catalogue_is_built_from_the_shipped_definition() -> None:
    assert catalogue.DEFINITION.path == SHIPPED
    assert catalogue.SECTIONS is catalogue.DEFINITION.sections


def test_the_definition_builds_the_declared_questionnaire_exactly() -> None:
    # Every field of every item: ids, kinds, codes and words, conditions, order.
    assert catalogue.SECTIONS == catalogue.DECLARED_SECTIONS
    built = list(catalogue.ITEMS.values())
    declared = _declared_items()
    assert [item.id for item in built] == [item.id for item in declared]
    assert [item.codes for item in built] == [item.codes for item in declared]
    assert [item.asked_when for item in built] == [item.asked_when for item in declared]
    assert catalogue.CRISIS_TRIGGERS == catalogue.DECLARED_CRISIS_TRIGGERS
    assert list(catalogue.FACTS) == list(catalogue.ALL_FACTS)


def test_the_french_of_the_definition_is_the_message_catalogues() -> None:
    french = compiled_catalogue("fr_CA")
    texts = catalogue.DEFINITION.texts["fr_CA"]
    assert texts  # every label, hint, answer and message
    assert {english: french(english) for english in texts} == texts
    assert texts["Are you having thoughts of ending your life right now?"] != (
        "Are you having thoughts of ending your life right now?"
    )


def test_the_fingerprint_is_unchanged() -> None:
    for screener in (False, True):
        assert version.catalogue_fingerprint(screener) == version.catalogue_fingerprint(
            screener, catalogue.DECLARED_SECTIONS
        )


def test_the_fhir_questionnaire_has_the_same_items() -> None:
    translations = {"fr-CA": compiled_catalogue("fr_CA")}
    served = fhir.questionnaire_resource("https://clinic.example", "Clinic", translations)
    declared = dataclasses.replace(
        catalogue.DEFINITION,
        sections=catalogue.DECLARED_SECTIONS,
        crisis_triggers=catalogue.DECLARED_CRISIS_TRIGGERS,
        texts={},  # French from the message catalogues alone
        sha256="declared",
    )
    catalogue.install(declared)
    before = fhir.questionnaire_resource("https://clinic.example", "Clinic", translations)
    assert served == before
    assert served["item"]


def test_the_shipped_file_is_what_export_yaml_writes(runner: FlaskCliRunner) -> None:
    # The lead regenerates it after the declarations change: `flask questions export-yaml`.
    result = runner.invoke(args=["questions", "export-yaml"])
    assert result.exit_code == 0, result.output
    assert result.output == SHIPPED.read_text(encoding="utf-8"), (
        "forms/intake.yaml is out of date with questions/catalogue.py: run "
        "flask --app questionnaire questions export-yaml -o forms/intake.yaml"
    )


def test_an_exported_definition_loads_back_to_the_same_sections(tmp_path: Path) -> None:
    french = compiled_catalogue("fr_CA")
    text = definition_yaml(
        "intake",
        catalogue.DECLARED_SECTIONS,
        list(catalogue.ALL_FACTS),
        catalogue.DECLARED_CRISIS_TRIGGERS,
        {"fr_CA": french},
    )
    path = tmp_path / "intake.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_definition(path, ["en", "fr_CA"], all_facts=catalogue.ALL_FACTS)
    assert loaded.sections == catalogue.DECLARED_SECTIONS
