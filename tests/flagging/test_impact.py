"""`flask rules impact NEW.yaml`: which stored submissions would gain or lose flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from questionnaire.extensions import db
from questionnaire.flagging.impact import Rewording, SubmissionImpact, rules_impact
from questionnaire.flagging.table import load_rule_table
from questionnaire.records.models import Flag, Submission
from tests.answers import with_changes
from tests.exports import URGENT, submit
from tests.harness.app import PROJECT_ROOT, Clock

#: The candidate lowers the systolic threshold of blood_pressure_raised (140 -> 135) and
#: raises the diastolic one (90 -> 95); its version and the one case it moves change too.
CANDIDATE_EDITS = [
    ('version: "2026.12.2"', 'version: "2026.12.3"'),
    (
        "        - any:\n"
        "            - {fact: bp_systolic, at_least: 140}\n"
        "            - {fact: bp_diastolic, at_least: 90}\n",
        "        - any:\n"
        "            - {fact: bp_systolic, at_least: 135}\n"
        "            - {fact: bp_diastolic, at_least: 95}\n",
    ),
    (
        "    answers: {bp_reading: 139 / 89}\n    expect: []",
        "    answers: {bp_reading: 139 / 89}\n    expect: [blood_pressure_raised]",
    ),
]

GAINS = with_changes({"bp_reading": "138/80"})  # raised under the candidate only
LOSES = with_changes({"bp_reading": "130/92"})  # raised under the shipped table only
KEEPS = with_changes({"bp_reading": "150/96", "high_bp_told": "yes"})  # raised under both


def edited_copy(tmp_path: Path, edits: list[tuple[str, str]], name: str = "new.yaml") -> Path:
    """Write rules.yaml with each edit made everywhere its old text occurs (at least once)."""
    text = (PROJECT_ROOT / "rules.yaml").read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def snapshot() -> list[list[tuple[Any, ...]]]:
    """Return every stored submission and flag row, every column."""
    return [
        [tuple(row) for row in db.session.execute(sa.select(table).order_by(table.c.id))]
        for table in (Submission.__table__, Flag.__table__)
    ]


@pytest.fixture
def stored(app: Flask, clock: Clock) -> dict[str, str]:
    """Store four submissions through the form; return their references by role."""
    references = {}
    for role, answers in (
        ("gains", GAINS),
        ("loses", LOSES),
        ("keeps", KEEPS),
        ("urgent", URGENT),
    ):
        references[role] = submit(app, answers)
        clock.advance(minutes=1)
    return references


@pytest.fixture
def candidate_path(tmp_path: Path) -> Path:
    return edited_copy(tmp_path, CANDIDATE_EDITS)


def test_the_candidate_is_sound_and_passes_its_own_cases(candidate_path: Path) -> None:
    table = load_rule_table(candidate_path)  # raises if a case fails
    assert table.version == "2026.12.3"


def test_the_report_lists_exactly_the_gains_and_losses(
    app: Flask, stored: dict[str, str], candidate_path: Path
) -> None:
    candidate = load_rule_table(candidate_path)
    with app.app_context():
        before = snapshot()
        stored_flags = {
            reference: {
                flag.rule
                for flag in db.session.scalars(
                    sa.select(Flag).join(Submission).where(Submission.reference == reference)
                )
            }
            for reference in stored.values()
        }
        report = rules_impact(db.session, candidate, app.config)
        db.session.commit()  # even a commit finds nothing to write
        assert snapshot() == before
    assert "blood_pressure_raised" not in stored_flags[stored["gains"]]
    assert "blood_pressure_raised" in stored_flags[stored["loses"]]
    assert report.by_reference() == {
        stored["gains"]: SubmissionImpact(
            stored["gains"], ("blood_pressure_raised",), (), None, "review"
        ),
        stored["loses"]: SubmissionImpact(
            stored["loses"], (), ("blood_pressure_raised",), "review", None
        ),
    }
    assert [change.reference for change in report.changes] == [stored["gains"], stored["loses"]]
    assert report.evaluated == 4
    assert (report.changed, report.unchanged) == (2, 2)
    assert report.gained_per_rule == {"blood_pressure_raised": 1}
    assert report.lost_per_rule == {"blood_pressure_raised": 1}
    assert (report.flags_gained, report.flags_lost) == (1, 1)
    assert (report.candidate_version, report.candidate_sha256) == (
        candidate.version,
        candidate.sha256,
    )


def test_the_same_table_changes_nothing(app: Flask, stored: dict[str, str]) -> None:
    with app.app_context():
        report = rules_impact(db.session, app.extensions["rule_table"], app.config)
    assert report.evaluated == 4
    assert report.changes == []
    # The crisis message is stored with its numbers filled in, and compared so.
    assert report.reworded_per_rule == {}
    assert report.rewordings == {}


def test_a_flag_swapped_at_the_same_level_is_a_gain_and_a_loss(
    app: Flask, stored: dict[str, str], tmp_path: Path
) -> None:
    """Lowering the very-high threshold to 150 moves 150/96 from raised to very high."""
    path = edited_copy(
        tmp_path,
        [
            ("{fact: bp_systolic, at_least: 180}", "{fact: bp_systolic, at_least: 150}"),
            (
                "    answers: {bp_reading: 152/94}\n    expect: [blood_pressure_raised]",
                "    answers: {bp_reading: 152/94}\n    expect: [blood_pressure_very_high]",
            ),
            (
                "blood_pressure_history, blood_pressure_raised, heart_condition",
                "blood_pressure_history, blood_pressure_very_high, heart_condition",
            ),
        ],
    )
    with app.app_context():
        report = rules_impact(db.session, load_rule_table(path), app.config)
    assert report.by_reference() == {
        stored["keeps"]: SubmissionImpact(
            stored["keeps"],
            ("blood_pressure_very_high",),
            ("blood_pressure_raised",),
            "review",
            "review",
        )
    }
    result = app.test_cli_runner().invoke(args=["rules", "impact", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        f"{stored['keeps']}: gains blood_pressure_very_high; loses blood_pressure_raised\n"
        in result.output
    )
    assert "blood_pressure_raised     +0  -1" in result.output
    assert "blood_pressure_very_high  +1  -0" in result.output


def test_the_command_prints_the_changes_and_totals_and_stores_nothing(
    app: Flask, stored: dict[str, str], candidate_path: Path
) -> None:
    with app.app_context():
        before = snapshot()
    result = app.test_cli_runner().invoke(args=["rules", "impact", str(candidate_path)])
    assert result.exit_code == 0, result.output
    output = result.output
    assert "version 2026.12.3" in output
    assert f"{stored['gains']}: gains blood_pressure_raised (level none -> review)" in output
    assert f"{stored['loses']}: loses blood_pressure_raised (level review -> none)" in output
    assert stored["keeps"] not in output and stored["urgent"] not in output
    assert "blood_pressure_raised  +1  -1" in output
    assert "2 of 4 submissions would change (2 unchanged): 1 flag gained, 1 flag lost." in output
    with app.app_context():
        assert snapshot() == before


def test_the_command_says_when_nothing_would_change(app: Flask, stored: dict[str, str]) -> None:
    result = app.test_cli_runner().invoke(
        args=["rules", "impact", str(PROJECT_ROOT / "rules.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "compared with the flags stored for 4 submissions" in result.output
    assert "No submission would gain or lose a flag." in result.output
    assert "No stored flag's level, message or source would change." in result.output


def test_a_broken_candidate_exits_1_with_its_problems(
    app: Flask, stored: dict[str, str], tmp_path: Path
) -> None:
    # The threshold moves but the case that it breaks is not adjusted.
    path = edited_copy(tmp_path, CANDIDATE_EDITS[:2], name="broken.yaml")
    with app.app_context():
        before = snapshot()
    result = app.test_cli_runner().invoke(args=["rules", "impact", str(path)])
    assert result.exit_code == 1
    assert "broken.yaml cannot be used" in result.output
    assert "reading 139/89 (just below)" in result.output
    assert "blood_pressure_raised" in result.output
    assert stored["gains"] not in result.output
    with app.app_context():
        assert snapshot() == before


def test_a_missing_candidate_exits_1(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["rules", "impact", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "nope.yaml" in result.output


# --- rules whose level, message or source would change ---------------------------------

OLD_RECENT_MESSAGE = "Reports thoughts of ending their life in the past month, or chose not to say."
NEW_RECENT_MESSAGE = (
    "Reports thoughts of ending their life in the past 30 days, or chose not to say."
)
#: suicidal_thoughts_recent goes from review to urgent, with new words and a new source;
#: the crisis rule's source changes too. No rule is gained or lost.
REWORDING_EDITS = [
    ('version: "2026.12.2"', 'version: "2026.12.4"'),
    (
        "  - id: suicidal_thoughts_recent\n"
        "    level: review\n"
        '    short: "suicidal thoughts, past month"\n'
        '    when: {item: suicidal_thoughts_past_month, one_of: ["yes", prefer_not]}\n'
        f"    message: {OLD_RECENT_MESSAGE}\n"
        "    source: Sanacora 2017; Swainson 2021\n",
        "  - id: suicidal_thoughts_recent\n"
        "    level: urgent\n"
        '    short: "suicidal thoughts, past month"\n'
        '    when: {item: suicidal_thoughts_past_month, one_of: ["yes", prefer_not]}\n'
        f"    message: {NEW_RECENT_MESSAGE}\n"
        "    source: Clinic protocol 2026\n",
    ),
]


def test_a_changed_level_message_or_source_is_counted_per_rule_old_to_new(
    app: Flask, stored: dict[str, str], tmp_path: Path
) -> None:
    submit(app, URGENT)  # a second submission with the same flags
    path = edited_copy(tmp_path, REWORDING_EDITS)
    candidate = load_rule_table(path)
    with app.app_context():
        before = snapshot()
        report = rules_impact(db.session, candidate, app.config)
        assert snapshot() == before
    # Same rule ids everywhere: nothing gained or lost, but two submissions' flags reworded.
    assert report.changes == []
    assert report.reworded_per_rule == {"suicidal_thoughts_recent": 2}
    assert report.flags_reworded == 2
    rule = "suicidal_thoughts_recent"
    assert report.rewordings == {
        Rewording(rule, "level", "review", "urgent"): 2,
        Rewording(rule, "message", OLD_RECENT_MESSAGE, NEW_RECENT_MESSAGE): 2,
        Rewording(rule, "source", "Sanacora 2017; Swainson 2021", "Clinic protocol 2026"): 2,
    }

    result = app.test_cli_runner().invoke(args=["rules", "impact", str(path)])
    assert result.exit_code == 0, result.output
    assert "No submission would gain or lose a flag." in result.output
    assert (
        "Rules whose level, message or source would change (stored flags that differ):\n"
        "  suicidal_thoughts_recent: 2 submissions\n"
        "    level: review -> urgent (2 submissions)\n"
        f"    message: {OLD_RECENT_MESSAGE!r} -> {NEW_RECENT_MESSAGE!r} (2 submissions)\n"
        "    source: 'Sanacora 2017; Swainson 2021' -> 'Clinic protocol 2026' (2 submissions)\n"
    ) in result.output
    # Only references and the table's words: no answer of any patient.
    assert "Sam Example" not in result.output


def test_flags_stored_under_an_older_wording_are_shown_apart(
    app: Flask, stored: dict[str, str]
) -> None:
    """A snapshot from an older table differs from today's table: each old wording is counted."""
    with app.app_context():
        flag = db.session.scalar(
            sa.select(Flag)
            .join(Submission)
            .where(Submission.reference == stored["keeps"], Flag.rule == "blood_pressure_raised")
        )
        assert flag is not None
        new_message, new_source = flag.message, flag.source
        flag.message = "Blood pressure high (older wording)."
        flag.level = "info"
        db.session.commit()
        report = rules_impact(db.session, app.extensions["rule_table"], app.config)
    assert report.changes == []
    assert report.reworded_per_rule == {"blood_pressure_raised": 1}
    assert report.rewordings == {
        Rewording("blood_pressure_raised", "level", "info", "review"): 1,
        Rewording(
            "blood_pressure_raised", "message", "Blood pressure high (older wording).", new_message
        ): 1,
    }
    assert all(change.field != "source" for change in report.rewordings)
    assert new_source


def test_moved_thresholds_alone_reword_nothing(
    app: Flask, stored: dict[str, str], candidate_path: Path
) -> None:
    with app.app_context():
        report = rules_impact(db.session, load_rule_table(candidate_path), app.config)
    # The candidate only moves thresholds: its words are the shipped ones.
    assert report.rewordings == {}
