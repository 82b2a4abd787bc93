"""A definition with a mistake is refused whole, with its file, line, item and what to do."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskCliRunner

from questionnaire.flagging.questions import check_questions
from questionnaire.questions import catalogue, instruments
from questionnaire.questions.definition import DefinitionError, load_definition
from questionnaire.rules.yamlload import StrictLoader
from tests.harness.app import make_app

SHIPPED = Path(__file__).resolve().parents[2] / "forms" / "intake.yaml"
LANGUAGES = ["en", "fr_CA"]


def shipped_data() -> dict[str, Any]:
    """Return the shipped definition as plain data, to change in a test."""
    return copy.deepcopy(_SHIPPED_DATA)


_SHIPPED_DATA = yaml.load(SHIPPED.read_text(encoding="utf-8"), Loader=StrictLoader)  # noqa: S506


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "intake.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    return [str(problem) for problem in check_questions(path, LANGUAGES)]


def section(data: dict[str, Any], section_id: str) -> dict[str, Any]:
    (found,) = (entry for entry in data["sections"] if entry["id"] == section_id)
    return found


def item(data: dict[str, Any], item_id: str) -> dict[str, Any]:
    for entry in data["sections"]:
        for one in entry.get("items", []):
            if one.get("id") == item_id:
                return one
    raise KeyError(item_id)


def refused(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> list[str]:
    data = shipped_data()
    change(data)
    found = problems_of(write(tmp_path, data))
    assert found, "the changed definition was accepted"
    return found


@pytest.fixture(autouse=True)
def served_unchanged() -> Iterator[None]:
    """No refused definition is ever half-installed."""
    before = catalogue.DEFINITION
    yield
    assert catalogue.DEFINITION is before


def test_the_shipped_definition_is_sound() -> None:
    assert problems_of(SHIPPED) == []


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "intake.yaml"
    path.write_text("sections: [\n  - id: x\n   title: {", encoding="utf-8")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:")
    assert "the YAML cannot be read" in problem and "indentation" in problem


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "intake.yaml"
    path.write_text("- just a list\n", encoding="utf-8")
    (problem,) = problems_of(path)
    assert "must be a YAML mapping with questionnaire:" in problem


def test_a_file_of_ten_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "intake.yaml"
    path.write_bytes(b"# " + b"x" * (10 * 1024 * 1024) + b"\n")
    (problem,) = problems_of(path)
    assert "10,485,763 bytes, more than the 1,000,000" in problem


def test_conditions_nested_a_thousand_deep(tmp_path: Path) -> None:
    deep = "{item: reasons, answered: true}"
    for _ in range(1000):
        deep = "{not: " + deep + "}"
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "  - id: treatments\n", f"  - id: treatments\n    asked_when:\n      when: {deep}\n", 1
    )
    path = tmp_path / "intake.yaml"
    path.write_text(text, encoding="utf-8")
    (problem,) = problems_of(path)
    assert "nests" in problem and "deep" in problem


def test_a_choice_with_no_code(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        del item(data, "escort_home")["choices"][1]["code"]

    (problem,) = refused(tmp_path, change)
    assert "item 'escort_home': 'code' is missing; add it" in problem


def test_an_unknown_role(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        item(data, "phone")["role"] = "emergency_contact"

    (problem,) = refused(tmp_path, change)
    assert "item 'phone': 'role' must be one of" in problem and "'contact'" in problem


def test_an_unknown_instrument(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        section(data, "gad7")["instrument"] = "gad8"

    problems = refused(tmp_path, change)
    assert any(
        "there is no standard instrument 'gad8'; did you mean 'gad7'?" in p for p in problems
    )


def test_a_repeated_item_id(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        item(data, "medications")["id"] = "escort_home"

    problems = refused(tmp_path, change)
    assert any("item id 'escort_home' is used twice (first on line" in p for p in problems)


def test_a_repeated_answer_code(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        item(data, "travel_home")["choices"][1]["code"] = "driven_by_someone"

    (problem,) = refused(tmp_path, change)
    assert "answer code 'driven_by_someone' is used twice in 'travel_home'" in problem


def test_a_repeated_key_is_named_with_both_lines(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "  - id: full_name\n", "  - id: full_name\n    id: name_again\n", 1
    )
    path = tmp_path / "intake.yaml"
    path.write_text(text, encoding="utf-8")
    problems = problems_of(path)
    assert any("key 'id' appears twice (first on line" in p for p in problems)


@pytest.mark.parametrize(
    ("item_id", "role"),
    [
        ("suicidal_thoughts_now", "crisis"),
        ("date_of_birth", "date_of_birth"),
        ("privacy_consent", "privacy_consent"),
        ("understands_review", "understands_review"),
    ],
)
def test_every_role_must_be_present(tmp_path: Path, item_id: str, role: str) -> None:
    def change(data: dict[str, Any]) -> None:
        del item(data, item_id)["role"]

    problems = refused(tmp_path, change)
    assert any(f"no item has role: {role}; the app needs exactly one" in p for p in problems)


def test_a_role_on_two_items(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        item(data, "email")["role"] = "date_of_birth"

    problems = refused(tmp_path, change)
    assert any(
        "item 'email': role: date_of_birth is on 2 items (date_of_birth, email)" in p
        for p in problems
    )


def test_the_crisis_question_cannot_be_removed(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        items = section(data, "safety")["items"]
        items[:] = [one for one in items if one.get("id") != "suicidal_thoughts_now"]

    problems = refused(tmp_path, change)
    assert any("no item has role: crisis" in p for p in problems)


def test_the_crisis_answers_must_show_crisis_help(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        item(data, "suicidal_thoughts_now")["shows_crisis_help"] = ["prefer_not"]

    (problem,) = refused(tmp_path, change)
    assert (
        "item 'suicidal_thoughts_now': the crisis question's answer 'yes' must show crisis help"
        in problem
    )


def test_the_crisis_question_cannot_lose_its_yes(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        crisis = item(data, "suicidal_thoughts_now")
        crisis["choices"] = [c for c in crisis["choices"] if c["code"] != "yes"]
        crisis["shows_crisis_help"] = ["prefer_not"]

    problems = refused(tmp_path, change)
    assert any("must be kind: choice with a 'yes' answer" in p for p in problems)


def test_the_crisis_question_cannot_move_off_the_pages(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        safety = section(data, "safety")
        crisis = item(data, "suicidal_thoughts_now")
        safety["items"].remove(crisis)
        del crisis["asked_when"]
        section(data, "consent")["items"].append(crisis)

    problems = refused(tmp_path, change)
    assert any("the crisis question must be on a page" in p for p in problems)


@pytest.mark.parametrize("depends_on", ["wish_dead_past_month", "suicidal_intent"])
def test_the_crisis_question_cannot_hide_behind_a_screener_item(
    tmp_path: Path, depends_on: str
) -> None:
    def change(data: dict[str, Any]) -> None:
        item(data, "suicidal_thoughts_now")["asked_when"]["when"] = {
            "item": depends_on,
            "one_of": ["yes"],
        }

    problems = refused(tmp_path, change)
    assert any(
        f"the crisis question can never be asked: it depends on '{depends_on}', which is not "
        "asked in every language and screener setting" in p
        for p in problems
    )


def test_a_condition_on_a_later_item(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        item(data, "treatments")["asked_when"] = {
            "when": {"item": "escort_home", "one_of": ["yes"]},
            "hint": {"en": "Answer this if so.", "fr_CA": "Répondez-y si oui."},
        }

    problems = refused(tmp_path, change)
    assert any("item 'treatments': there is no item 'escort_home'" in p for p in problems)
    assert any("can depend only on an item asked before it" in p for p in problems)


def test_a_condition_on_a_code_the_item_has_not(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        item(data, "suicidal_thoughts_now")["asked_when"]["when"]["one_of"] = ["yes", "maybe"]

    problems = refused(tmp_path, change)
    assert any(
        "item 'suicidal_thoughts_past_month' has no answer code 'maybe'; use one of:" in p
        for p in problems
    )


def test_a_condition_the_page_cannot_show(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        item(data, "treatments")["asked_when"] = {
            "when": {"all": [{"item": "reasons", "includes_any": ["ptsd"]}]}
        }

    (problem,) = refused(tmp_path, change)
    assert "asked_when: can be one comparison on one earlier item" in problem


def test_a_text_missing_a_language(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        del item(data, "escort_home")["label"]["fr_CA"]

    (problem,) = refused(tmp_path, change)
    assert "item 'escort_home': the text has no fr_CA version" in problem
    assert ":" + str(_line_of(tmp_path, "escort_home")) in problem or "intake.yaml:" in problem


def _line_of(tmp_path: Path, item_id: str) -> int:
    lines = (tmp_path / "intake.yaml").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if f"id: {item_id}" in line)


def test_a_problem_names_its_line(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        item(data, "escort_home")["kind"] = "yes_no"

    (problem,) = refused(tmp_path, change)
    line = _line_of(tmp_path, "escort_home") + 1  # kind: is on the line after the id
    assert problem.startswith(f"{tmp_path / 'intake.yaml'}:{line}: item 'escort_home': 'kind'")


def test_only_english_is_needed_when_only_english_is_offered(tmp_path: Path) -> None:
    data = shipped_data()
    del item(data, "escort_home")["label"]["fr_CA"]
    path = write(tmp_path, data)
    assert check_questions(path, ["en"]) == []


def test_an_instrument_cannot_be_written_out(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        section(data, "phq9")["items"] = [item(data, "escort_home")]

    problems = refused(tmp_path, change)
    assert any("kept word for word in the package; remove items:" in p for p in problems)


def test_an_instrument_item_cannot_be_written_by_hand(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        own = copy.deepcopy(item(data, "escort_home"))
        own["id"] = "phq9_3"
        section(data, "getting_home")["items"].append(own)

    problems = refused(tmp_path, change)
    assert any("'phq9_3' is item of PHQ-9" in p and "instrument: phq9" in p for p in problems)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda one: {"items": (*one.items[:8], "Thoughts of something else")}, id="wording"
        ),
        pytest.param(lambda one: {"items": one.items[:8]}, id="missing item"),
        pytest.param(lambda one: {"scale": ("No", "Yes")}, id="another scale"),
    ],
)
def test_an_altered_instrument_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: Callable[[Any], dict[str, Any]]
) -> None:
    import dataclasses

    changes = {"loinc_items": (), "loinc_answers": (), **tamper(instruments.PHQ9)}
    altered = dataclasses.replace(instruments.PHQ9, **changes)
    monkeypatch.setitem(instruments.BY_ID, "phq9", altered)
    problems = problems_of(SHIPPED)
    assert any(
        "page 'phq9': the package's PHQ-9 is not the published instrument" in p for p in problems
    )


def test_a_fact_whose_items_are_gone(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        items = section(data, "heart_brain")["items"]
        items[:] = [one for one in items if one.get("id") != "bp_reading"]

    problems = refused(tmp_path, change)
    assert any("fact 'bp_systolic' is derived from bp_reading" in p for p in problems)


def test_an_unknown_fact(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["facts"].append("age_yeers")

    (problem,) = refused(tmp_path, change)
    assert "there is no derived fact 'age_yeers'; did you mean 'age_years'?" in problem


def test_a_misspelt_key_gets_a_suggestion(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        item(data, "escort_home")["short_lable"] = item(data, "escort_home").pop("short_label")

    (problem,) = refused(tmp_path, change)
    assert "unexpected key 'short_lable'; did you mean 'short_label'?" in problem


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    data = shipped_data()
    del item(data, "escort_home")["choices"][0]["code"]
    item(data, "phone")["role"] = "emergency_contact"
    with pytest.raises(DefinitionError) as raised:
        load_definition(write(tmp_path, data), LANGUAGES, all_facts=catalogue.ALL_FACTS)
    message = str(raised.value)
    assert "has 2 problems; the app will not start until they are fixed" in message


def test_the_app_refuses_to_start(tmp_path: Path) -> None:
    data = shipped_data()
    del item(data, "suicidal_thoughts_now")["role"]
    path = write(tmp_path, data)
    with pytest.raises(DefinitionError, match="no item has role: crisis"):
        make_app(tmp_path, QUESTIONS_PATH=str(path))


def test_the_app_refuses_a_rule_table_naming_a_removed_item(tmp_path: Path) -> None:
    data = shipped_data()
    items = section(data, "getting_home")["items"]
    items[:] = [one for one in items if one.get("id") != "travel_home"]
    path = write(tmp_path, data)
    assert problems_of(path) == []  # the definition alone is sound
    with pytest.raises(Exception, match="travel_home"):
        make_app(tmp_path, QUESTIONS_PATH=str(path))


def test_check_command_prints_problems_and_exits_1(runner: FlaskCliRunner, tmp_path: Path) -> None:
    data = shipped_data()
    del item(data, "escort_home")["label"]["fr_CA"]
    path = write(tmp_path, data)
    result = runner.invoke(args=["questions", "check", str(path)])
    assert result.exit_code == 1
    assert "1 problem:" in result.output
    assert "item 'escort_home': the text has no fr_CA version" in result.output


def test_check_command_names_rules_that_no_longer_fit(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    data = shipped_data()
    items = section(data, "getting_home")["items"]
    items[:] = [one for one in items if one.get("id") != "travel_home"]
    result = runner.invoke(args=["questions", "check", str(write(tmp_path, data))])
    assert result.exit_code == 1
    assert "does not fit it" in result.output
    assert "there is no item 'travel_home'" in result.output


def test_check_command_on_the_shipped_definition(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["questions", "check", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert "sound. 13 sections, 97 items" in result.output


def test_conditions_nested_past_the_limit(tmp_path: Path) -> None:
    deep = "{item: reasons, answered: true}"
    for _ in range(60):
        deep = "{not: " + deep + "}"
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "  - id: treatments\n", f"  - id: treatments\n    asked_when:\n      when: {deep}\n", 1
    )
    path = tmp_path / "intake.yaml"
    path.write_text(text, encoding="utf-8")
    (problem,) = problems_of(path)
    assert "levels deep; a definition needs far fewer (at most 40)" in problem
