"""`flask rules …`: check, test, evaluate, explain and weigh a rule table; thin Click wrappers.

The group needs no app and no database (but for `impact`), so a clinical lead can
check a broken table even when the app refuses to start because of it. It is
registered as a Flask plugin command (pyproject.toml) and on the app.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from questionnaire.clinic_time import clinic_today
from questionnaire.config import DEFAULT_RULES_PATH, from_environment
from questionnaire.extensions import db
from questionnaire.flagging.impact import format_report, rules_impact
from questionnaire.flagging.table import (
    evaluate,
    load_rule_table,
    prepare,
    rule_fields,
    run_table_cases,
)
from questionnaire.questions.crisis import fill_numbers
from questionnaire.questions.forms import validate_answers
from questionnaire.rules import Lexicon, Problem, RuleTable, RuleTableError, compile_table, everyday
from questionnaire.rules.cases import describe_mismatch

EXIT_PROBLEMS = 1
EXIT_INVALID_ANSWERS = 2

PathArgument = click.Path(dir_okay=False, path_type=Path)


def _rules_path(path: Path | None) -> Path:
    return path or Path(os.environ.get("RULES_PATH") or DEFAULT_RULES_PATH)


def _print_problems(problems: list[Problem], heading: str = "") -> None:
    noun = "problem" if len(problems) == 1 else "problems"
    click.echo(f"{heading}{len(problems)} {noun}:", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)


def _table_or_exit(path: Path | None, heading: str = "") -> RuleTable:
    """Load a table, or print every problem and exit 1 (the table fails closed)."""
    try:
        return load_rule_table(_rules_path(path))
    except RuleTableError as error:
        _print_problems(error.problems, heading)
        sys.exit(EXIT_PROBLEMS)


@click.group("rules")
def rules() -> None:
    """Check, test and try out the rule table (rules.yaml)."""


@rules.command("check")
@click.argument("path", required=False, type=PathArgument)
def check_command(path: Path | None) -> None:
    """Check that a rule table is sound: names, answer codes, term lists, wording and cases.

    PATH defaults to RULES_PATH, then to the rules.yaml shipped with the app.
    """
    path = _rules_path(path)
    table = _table_or_exit(path)
    click.echo(
        f"{path}: sound. Version {table.version}, {len(table.rules)} rules, "
        f"{len(table.lexicons)} term lists, {len(table.cases)} cases, sha256 {table.sha256}."
    )
    if table.collisions:
        click.echo(
            f"{len(table.collisions)} pair(s) of terms the tolerance could confuse, each resolved:"
        )
        for collision in table.collisions:
            click.echo(f"  {collision.describe()}")
    try:
        guard = everyday.generate(*_lists(table))
    except everyday.DictionaryMissing as missing:
        click.echo(f"The everyday-word list was not re-checked: {missing}.")
        return
    if guard.everyday_terms:
        click.echo(
            f"{len(guard.everyday_terms)} term(s) are also everyday English or French words; "
            "written exactly they still raise their rule, so keep each only if a patient "
            "writing it means the medicine:"
        )
        click.echo(
            "  " + ", ".join(f"{term} ({lexicon})" for term, lexicon in guard.everyday_terms)
        )
    added, removed = _guard_changes(table, guard)
    if added or removed:
        click.echo(
            f"The everyday-word list ({everyday.GENERATED_LIST}) is out of date: "
            f"{len(added)} word(s) would now be misread as a medicine"
            + (f" ({', '.join(added[:20])})" if added else "")
            + f", {len(removed)} no longer would. Run flask --app questionnaire rules "
            "everyday --write, then check again.",
            err=True,
        )
        sys.exit(EXIT_PROBLEMS)


def _lists(table: RuleTable) -> tuple[list[Lexicon], list[Lexicon]]:
    flagged = list(table.reader.flagged)
    return flagged, list(table.reader.known)


def _guard_changes(table: RuleTable, guard: everyday.Guard) -> tuple[list[str], list[str]]:
    stored = set(everyday.stored_words(table.lexicons))
    fresh = set(guard.words)
    return sorted(fresh - stored), sorted(stored - fresh)


@rules.command("everyday")
@click.argument("path", required=False, type=PathArgument)
@click.option("--write", is_flag=True, help="Rewrite the list in the file (else only report).")
def everyday_command(path: Path | None, write: bool) -> None:
    """Regenerate the everyday-word guard: dictionary words the lists would misread.

    Reads wordfreq's English and French lists (every word of 5 letters or more at Zipf
    2.0 and over) against the term lists, and keeps each word that would be read as a
    near miss, a maker prefix plus a near miss, or a sound-alike of a flagged term.
    """
    path = _rules_path(path)
    try:
        # Compiled without running the cases: a case that needs the new list must not stop it.
        table, _case_problems = compile_table(path, rule_fields(), prepare)
    except RuleTableError as error:
        _print_problems(error.problems)
        sys.exit(EXIT_PROBLEMS)
    try:
        guard = everyday.generate(*_lists(table))
    except everyday.DictionaryMissing as missing:
        click.echo(f"Cannot regenerate: {missing}.", err=True)
        sys.exit(EXIT_PROBLEMS)
    added, removed = _guard_changes(table, guard)
    click.echo(
        f"{len(guard.words)} everyday word(s) to guard; {len(added)} to add, "
        f"{len(removed)} to remove."
    )
    for word in added:
        click.echo(f"  + {word}")
    for word in removed:
        click.echo(f"  - {word}")
    if write and (added or removed):
        everyday.write_block(path, guard.words)
        click.echo(f"Wrote {everyday.GENERATED_LIST} in {path}.")


@rules.command("explain")
@click.argument("text")
@click.option("--rules", "rules_file", type=PathArgument, help="Rule table (default RULES_PATH).")
@click.option(
    "--item",
    "item_id",
    help="The free-text item the text is an answer to (default: the one the rules read).",
)
def explain_command(text: str, rules_file: Path | None, item_id: str | None) -> None:
    """Show how a medicine text reads: each word, what it was read as, and the rules it raises.

    Use it to check a new term or a misspelling before relying on it, e.g.
    flask --app questionnaire rules explain "Restorill 30mg, clonidine".
    """
    table = _table_or_exit(rules_file)
    fields = sorted(table.text_fields)
    if item_id is None and len(fields) == 1:
        item_id = fields[0]
    if item_id not in fields:
        click.echo(f"Name the item with --item, one of: {', '.join(fields) or '(none)'}.", err=True)
        sys.exit(EXIT_INVALID_ANSWERS)
    reading = table.read(text)
    if not reading.words:
        click.echo("The text has no words or numbers to read.")
    width = max((len(word.written) for word in reading.words), default=0)
    for word in reading.words:
        click.echo(f"  {word.written:<{width}}  {word.how:<12}  {word.detail()}")
    for match in reading.matches:
        click.echo(f"{match.written}: {match.describe()}")
    findings = table.raised_by_text(item_id, text)
    if findings:
        raised = ", ".join(f"{finding.rule} ({finding.level})" for finding in findings)
        click.echo(f"Rules this text raises: {raised}")
    else:
        click.echo("Rules this text raises: none")


@rules.command("test")
@click.argument("path", required=False, type=PathArgument)
def test_command(path: Path | None) -> None:
    """Run every case in a rule table and report each one whose flags differ from its expect.

    PATH defaults to RULES_PATH, then to the rules.yaml shipped with the app.
    """
    path = _rules_path(path)
    try:
        report = run_table_cases(path)
    except RuleTableError as error:
        click.echo("The rules cannot be compiled, so no case ran.", err=True)
        _print_problems(error.problems)
        sys.exit(EXIT_PROBLEMS)
    failed = 0
    for result in report.results:
        where = f"{path}:{result.line}" if result.line else str(path)
        if result.passed:
            click.echo(f"ok    {result.name}")
            continue
        failed += 1
        if result.errors:
            invalid = "; ".join(f"{item}: {msgs[0]}" for item, msgs in result.errors.items())
            click.echo(f"FAIL  {result.name} ({where}): invalid answers ({invalid})")
        else:
            click.echo(f"FAIL  {result.name} ({where}): {describe_mismatch(result)}")
    for problem in report.problems:
        click.echo(f"FAIL  {problem}")
    total = len(report.results)
    click.echo(f"{total - failed} of {total} cases pass; {len(report.problems)} other problem(s).")
    if failed or report.problems:
        sys.exit(EXIT_PROBLEMS)


@rules.command("evaluate")
@click.argument("answers_file", type=click.File("r", encoding="utf-8"))
@click.option("--rules", "rules_file", type=PathArgument, help="Rule table (default RULES_PATH).")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The submission date used for age (default today).",
)
def evaluate_command(answers_file: Any, rules_file: Path | None, as_of: Any) -> None:
    """Print the flags one set of answers would raise, as JSON.

    ANSWERS_FILE holds one JSON object of raw answers keyed by item id, as a
    browser posts them ("-" reads standard input). Invalid answers exit 2 and
    list each problem by item id.
    """
    try:
        raw = json.load(answers_file)
    except json.JSONDecodeError as error:
        click.echo(f"The answers file is not JSON ({error.msg} at line {error.lineno}).", err=True)
        sys.exit(EXIT_INVALID_ANSWERS)
    if not isinstance(raw, dict):
        click.echo("The answers file must hold one JSON object keyed by item id.", err=True)
        sys.exit(EXIT_INVALID_ANSWERS)
    table = _table_or_exit(rules_file)
    today = as_of.date() if as_of else clinic_today()
    validated = validate_answers(raw, today)
    if not validated.ok:
        click.echo("These answers are not valid:", err=True)
        for item_id, messages in validated.errors.items():
            for message in messages:
                click.echo(f"  {item_id}: {message}", err=True)
        sys.exit(EXIT_INVALID_ANSWERS)
    findings = evaluate(table, validated.answers, validated.facts)
    report = {
        "rules_version": table.version,
        "rules_sha256": table.sha256,
        "flags": [_filled(finding.to_dict()) for finding in findings],
    }
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))


def _filled(flag: dict[str, Any]) -> dict[str, Any]:
    """Return a flag with the crisis numbers filled in, as a submission stores its message."""
    numbers = from_environment(os.environ, "")
    return {**flag, "message": fill_numbers(flag["message"], numbers)}


@rules.command("impact")
@click.argument("new_yaml", metavar="NEW.yaml", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def impact_command(new_yaml: Path) -> None:
    """Show which stored submissions would gain or lose which flags under NEW.yaml.

    Re-evaluates every stored submission's answers under the candidate table and
    compares with its stored flags; then counts, per rule, the stored flags whose
    level, message or source differs from NEW.yaml's, old -> new. Changes nothing. A candidate that fails its
    checks or its cases lists its problems and exits 1.
    """
    candidate = _table_or_exit(new_yaml, heading=f"{new_yaml} cannot be used: ")
    try:
        report = rules_impact(db.session, candidate, current_app.config)
    finally:
        db.session.rollback()
    for line in format_report(report):
        click.echo(line)
