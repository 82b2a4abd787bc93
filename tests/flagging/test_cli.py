"""`flask rules check | test | evaluate`, through the app's CLI runner and as a real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from questionnaire.flagging.table import load_rule_table
from tests.answers import baseline, with_changes
from tests.harness.app import PROJECT_ROOT
from tests.test_app import broken_copy

FLASK = [sys.executable, "-m", "flask", "--app", "questionnaire"]


def write_answers(tmp_path: Path, answers: dict) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers), encoding="utf-8")
    return path


def test_check_says_the_shipped_table_is_sound(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["rules", "check"])
    assert result.exit_code == 0, result.output
    assert "sound" in result.output and "57 rules" in result.output


def test_check_lists_each_problem_with_its_line_and_rule(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = broken_copy(tmp_path, "equals: drive_myself", "equals: drive_myself_home")
    result = runner.invoke(args=["rules", "check", str(path)])
    assert result.exit_code == 1
    assert "rule 'plans_to_drive'" in result.output
    assert "no answer code 'drive_myself_home'" in result.output
    assert f"{path}:" in result.output


def test_test_runs_every_case(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["rules", "test"])
    assert result.exit_code == 0, result.output
    assert "ok    no flags (the baseline)" in result.output
    total = len(load_rule_table(PROJECT_ROOT / "rules.yaml").cases) + 1
    assert f"{total} of {total} cases pass" in result.output


def test_test_reports_each_case_whose_flags_differ(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = broken_copy(
        tmp_path,
        "    answers: {cannabis_frequency: daily}\n    expect: [cannabis_daily]",
        "    answers: {cannabis_frequency: weekly}\n    expect: [cannabis_daily]",
    )
    result = runner.invoke(args=["rules", "test", str(path)])
    assert result.exit_code == 1
    assert "FAIL  daily cannabis" in result.output
    assert "expected but not raised: cannabis_daily" in result.output
    total = len(load_rule_table(PROJECT_ROOT / "rules.yaml").cases) + 1
    assert f"{total - 1} of {total} cases pass" in result.output


def test_test_reports_a_rule_that_no_case_raises(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = broken_copy(
        tmp_path,
        '    answers: {medications: "Theo-24 300 mg"}\n    expect: [xanthine]',
        '    answers: {medications: "naproxen 250 mg"}\n    expect: []',
    )
    result = runner.invoke(args=["rules", "test", str(path)])
    assert result.exit_code == 1
    assert "rule 'xanthine': no case raises this rule" in result.output


def test_evaluate_prints_the_flags_as_json(runner: FlaskCliRunner, tmp_path: Path) -> None:
    answers = with_changes(
        {"bp_reading": "185/100", "medications": "Ativan 1mg", "escort_home": "no"}
    )
    path = write_answers(tmp_path, answers)
    result = runner.invoke(args=["rules", "evaluate", str(path), "--as-of", "2026-06-01"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["rules_version"] == "2026.12.2"
    import hashlib

    expected_hash = hashlib.sha256((PROJECT_ROOT / "rules.yaml").read_bytes()).hexdigest()
    assert report["rules_sha256"] == expected_hash
    assert [flag["rule"] for flag in report["flags"]] == [
        "blood_pressure_very_high",
        "benzodiazepine",
        "no_escort_home",
    ]
    benzo = report["flags"][1]
    assert set(benzo) == {"rule", "level", "message", "source", "evidence"}
    assert benzo["level"] == "review"
    assert benzo["evidence"] == [
        {
            "item": "medications",
            "matched": ["Ativan"],
            "read": [{"written": "Ativan", "term": "Ativan", "how": "exact", "edits": 0}],
        }
    ]


def test_evaluate_accepts_the_instruments_answers(runner: FlaskCliRunner, tmp_path: Path) -> None:
    answers = with_changes(
        {
            **{f"phq9_{n}": "3" for n in range(1, 10)},
            **{f"gad7_{n}": "0" for n in range(1, 7)},  # one GAD-7 item skipped
        }
    )
    path = write_answers(tmp_path, answers)
    result = runner.invoke(args=["rules", "evaluate", str(path), "--as-of", "2026-06-01"])
    assert result.exit_code == 0, result.output
    flags = {flag["rule"]: flag for flag in json.loads(result.output)["flags"]}
    # One answer, one flag: item 9 "Nearly every day" escalates phq9_item9_positive.
    assert set(flags) == {"phq9_item9_positive", "phq9_severe_band"}
    assert flags["phq9_item9_positive"]["level"] == "urgent"
    assert {"fact": "phq9_item9", "value": 3, "escalated": "urgent"} in flags[
        "phq9_item9_positive"
    ]["evidence"]
    assert {"fact": "phq9_total", "value": 27} in [
        {key: row.get(key) for key in ("fact", "value")}
        for row in flags["phq9_severe_band"]["evidence"]
    ]
    # An answer off the instrument's scale is refused like any other.
    bad = write_answers(tmp_path, with_changes({"phq9_1": "4"}))
    refused = runner.invoke(args=["rules", "evaluate", str(bad)])
    assert refused.exit_code == 2 and "phq9_1" in refused.output


def test_evaluate_with_no_flags(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = write_answers(tmp_path, baseline())
    result = runner.invoke(args=["rules", "evaluate", str(path), "--as-of", "2026-06-01"])
    assert result.exit_code == 0
    assert json.loads(result.output)["flags"] == []


def test_evaluate_refuses_invalid_answers_listing_each_by_item(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    answers = with_changes({"bp_reading": "high", "heart_condition": "maybe", "email": None})
    path = write_answers(tmp_path, answers)
    result = runner.invoke(args=["rules", "evaluate", str(path)])
    assert result.exit_code == 2
    assert "bp_reading: Write your blood pressure like 128/82" in result.output
    assert "heart_condition: Choose one of the answers shown." in result.output
    assert "email: Enter your email address" in result.output


def test_evaluate_refuses_a_file_that_is_not_a_json_object(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "answers.json"
    path.write_text("[1, 2]", encoding="utf-8")
    assert runner.invoke(args=["rules", "evaluate", str(path)]).exit_code == 2
    path.write_text("{not json", encoding="utf-8")
    result = runner.invoke(args=["rules", "evaluate", str(path)])
    assert result.exit_code == 2
    assert "not JSON" in result.output


def test_check_works_as_a_real_command_even_when_the_app_cannot_start(tmp_path: Path) -> None:
    """A clinical lead can still check the table that stops the app from starting."""
    path = broken_copy(tmp_path, "lexicons:\n", "lexicons:\n  empty_list: []\n")
    env = {**os.environ, "RULES_PATH": str(path)}
    result = subprocess.run(
        [*FLASK, "rules", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lexicon 'empty_list'" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_lists_the_resolved_look_alike_pairs(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["rules", "check"])
    assert result.exit_code == 0, result.output
    assert "pair(s) of terms the tolerance could confuse, each resolved" in result.output
    assert "'Ultram' (sedatives_and_opioids) and 'ultra' (everyday_words) are 1 letter apart" in (
        result.output
    )


def test_explain_shows_each_word_and_the_rules_it_raises(runner: FlaskCliRunner) -> None:
    text = "Restorill 30mg, clonidine, apo-lorazepam, Tylenol No. 3, Zpak"
    result = runner.invoke(args=["rules", "explain", text])
    assert result.exit_code == 0, result.output
    lines = [line.split(None, 1) for line in result.output.splitlines()]
    rows = {parts[0]: parts[1] for parts in lines if len(parts) == 2}
    assert rows["Restorill"].split()[:2] == ["near", "match"]
    assert "Restoril, 1 letter different (benzodiazepines)" in rows["Restorill"]
    assert rows["clonidine"].startswith("known") and "resembles Klonopin" in rows["clonidine"]
    assert rows["apo-lorazepam"].startswith("maker prefix")
    assert "Tylenol #3 (sedatives and opioids)" in result.output
    assert rows["Zpak"].startswith("unknown")
    assert result.output.splitlines()[-1] == (
        "Rules this text raises: benzodiazepine (review), sedative_or_opioid (review)"
    )


@pytest.mark.parametrize("text", ["", "💊 🙂", "500 1000"])
def test_explain_reads_odd_text_without_a_crash(runner: FlaskCliRunner, text: str) -> None:
    result = runner.invoke(args=["rules", "explain", text])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Rules this text raises: none"


def test_explain_asks_for_an_item_that_the_rules_read(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["rules", "explain", "Xanax", "--item", "full_name"])
    assert result.exit_code == 2
    assert "Name the item with --item, one of: medications" in result.output


def test_evaluate_fills_the_crisis_numbers_from_the_settings(
    runner: FlaskCliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRISIS_LINE_NUMBER", "116 123")
    monkeypatch.setenv("EMERGENCY_NUMBER", "999")
    answers = with_changes({"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "yes"})
    path = write_answers(tmp_path, answers)
    result = runner.invoke(args=["rules", "evaluate", str(path), "--as-of", "2026-06-01"])
    assert result.exit_code == 0, result.output
    (now,) = [f for f in json.loads(result.output)["flags"] if f["rule"] == "suicidal_thoughts_now"]
    assert "(116 123, 999)" in now["message"]
    assert "{crisis_line}" not in now["message"]


@pytest.mark.parametrize(
    "born",
    [
        {"date_of_birth": "1980-05-17"},
        {"date_of_birth-day": "17", "date_of_birth-month": "5", "date_of_birth-year": "1980"},
    ],
)
def test_evaluate_takes_the_date_of_birth_whole_or_in_three_parts(
    runner: FlaskCliRunner, tmp_path: Path, born: dict[str, str]
) -> None:
    answers = {key: value for key, value in baseline().items() if key != "date_of_birth"}
    path = write_answers(tmp_path, {**answers, **born})
    result = runner.invoke(args=["rules", "evaluate", str(path), "--as-of", "2026-06-01"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["flags"] == []


def test_evaluate_refuses_a_date_in_parts_that_is_not_real(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    answers = {key: value for key, value in baseline().items() if key != "date_of_birth"}
    parts = {"date_of_birth-day": "31", "date_of_birth-month": "2", "date_of_birth-year": "1980"}
    path = write_answers(tmp_path, {**answers, **parts})
    result = runner.invoke(args=["rules", "evaluate", str(path), "--as-of", "2026-06-01"])
    assert result.exit_code == 2
    assert "Date of birth must be a real date" in result.output


def test_explain_shows_each_mentions_reading_context_and_trigger(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["rules", "explain", "Nothing myself, my wife takes Ativan. Riddlin, percs"]
    )
    assert result.exit_code == 0, result.output
    assert "Ativan: exact 'Ativan' (benzodiazepines), someone else's, set by 'my wife'" in (
        result.output
    )
    assert "Riddlin: sounds like 'Ritalin' (stimulants), named as taken" in result.output
    assert "percs: street name 'percs' (sedatives and opioids), named as taken" in result.output
    assert "medicine_mentioned_in_context (info)" in result.output
    assert "stimulant (review)" in result.output and "benzodiazepine (review)" not in (
        result.output
    )
