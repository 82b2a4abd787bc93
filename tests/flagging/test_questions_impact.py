"""`flask questions impact NEW.yaml`: what a candidate definition changes, before deploying it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.questions import catalogue
from questionnaire.rules.yamlload import StrictLoader
from tests.answers import with_changes
from tests.harness.patient import Patient

SHIPPED = Path(__file__).resolve().parents[2] / "forms" / "intake.yaml"
DATA = yaml.load(SHIPPED.read_text(encoding="utf-8"), Loader=StrictLoader)  # noqa: S506


def item(data: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(
        one
        for section in data["sections"]
        for one in section.get("items", [])
        if one.get("id") == item_id
    )


def candidate(tmp_path: Path, drop: bool = False) -> Path:
    """Write a candidate: a reworded label, a new answer, a new item; with drop, also a
    dropped answer code and a removed item (which the rule table still names)."""
    data = copy.deepcopy(DATA)
    item(data, "escort_home")["label"]["en"] = (
        "After each treatment, can an adult you trust take you home?"
    )
    travel = item(data, "travel_home")
    travel["choices"].append({"code": "walk", "label": {"en": "I will walk", "fr_CA": "À pied"}})
    if drop:
        travel["choices"] = [c for c in travel["choices"] if c["code"] != "drive_myself"]
        others = next(s for s in data["sections"] if s["id"] == "looking_for")["items"]
        others[:] = [one for one in others if one.get("id") != "prior_ketamine_details"]
    getting_home = next(s for s in data["sections"] if s["id"] == "getting_home")["items"]
    getting_home.append(
        {
            "id": "ride_home_who",
            "kind": "text",
            "required": False,
            "label": {
                "en": "Who will take you home after treatment?",
                "fr_CA": "Qui vous ramènera à la maison après le traitement\u00a0?",
            },
        }
    )
    path = tmp_path / "new.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def stored(app: Flask, client: FlaskClient) -> None:
    """Two stored submissions: one drives home, one is driven, both told their last treatment."""
    Patient(client).complete(
        with_changes({"travel_home": "drive_myself", "prior_ketamine_details": "Two sessions"})
    )
    Patient(app.test_client()).complete(with_changes({}))


def test_impact_names_every_change_and_the_submissions_it_concerns(
    app: Flask, stored: None, tmp_path: Path
) -> None:
    result = app.test_cli_runner().invoke(args=["questions", "impact", str(candidate(tmp_path))])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "2 stored submission(s) read." in lines
    assert "added      ride_home_who (a new CSV column; no stored submission answers it)" in lines
    assert (
        "reworded   escort_home (label): 2 of 2 stored submission(s) answered the earlier wording"
    ) in lines
    assert (
        "re-coded   travel_home (adds walk): 0 of 2 stored submission(s) hold a dropped code"
        in lines
    )
    assert any(line.startswith("rule       no_escort_home names escort_home") for line in lines)
    assert "rule       plans_to_drive names travel_home: check it still means what it says" in lines
    assert "case       'plans to drive' answers travel_home" in lines
    assert "CSV        columns added: ride_home_who; removed: none" in lines
    assert "Two sessions" not in result.output  # ids, codes and counts only, never an answer
    assert catalogue.DEFINITION.path == SHIPPED  # nothing deployed


def test_a_dropped_code_or_item_the_rules_name_stops_the_candidate(
    app: Flask, stored: None, tmp_path: Path
) -> None:
    path = candidate(tmp_path, drop=True)
    result = app.test_cli_runner().invoke(args=["questions", "impact", str(path)])
    assert result.exit_code == 1
    assert (
        "re-coded   travel_home (drops drive_myself; adds walk): 1 of 2 stored submission(s) "
        "hold a dropped code"
    ) in result.output
    assert (
        "removed    prior_ketamine_details: 1 of 2 stored submission(s) answered it "
        "(they keep their answers; the CSV column goes)"
    ) in result.output
    assert (
        "CSV        columns added: ride_home_who; removed: prior_ketamine_details" in result.output
    )
    assert "would stop start-up with NEW.yaml" in result.output
    assert "has no answer code 'drive_myself'" in result.output
    assert "there is no item 'prior_ketamine_details'" in result.output


def test_a_candidate_with_problems_is_refused(app: Flask, tmp_path: Path) -> None:
    data = copy.deepcopy(DATA)
    del item(data, "suicidal_thoughts_now")["role"]
    path = tmp_path / "new.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["questions", "impact", str(path)])
    assert result.exit_code == 1
    assert "cannot be used" in result.output and "no item has role: crisis" in result.output
