"""Command-line tools: thin Click wrappers over tested functions.

The `rules` group needs no app and no database, so a clinical lead can check a
broken table even when the app refuses to start because of it. It is
registered as a Flask plugin command (pyproject.toml) and on the app.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import Flask

from questionnaire.config import DEFAULT_RULES_PATH
from questionnaire.forms import validate_answers
from questionnaire.rules import Problem, RuleTableError
from questionnaire.rules.cases import describe_mismatch
from questionnaire.ruleset import evaluate, load_rule_table, rule_fields, run_table_cases

EXIT_PROBLEMS = 1
EXIT_INVALID_ANSWERS = 2

PathArgument = click.Path(dir_okay=False, path_type=Path)


def _rules_path(path: Path | None) -> Path:
    return path or Path(os.environ.get("RULES_PATH") or DEFAULT_RULES_PATH)


def _print_problems(problems: list[Problem]) -> None:
    noun = "problem" if len(problems) == 1 else "problems"
    click.echo(f"{len(problems)} {noun}:", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)


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
    try:
        table = load_rule_table(path)
    except RuleTableError as error:
        _print_problems(error.problems)
        sys.exit(EXIT_PROBLEMS)
    click.echo(
        f"{path}: sound. Version {table.version}, {len(table.rules)} rules, "
        f"{len(table.lexicons)} term lists, {len(table.cases)} cases, sha256 {table.sha256}."
    )


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
    try:
        table = load_rule_table(_rules_path(rules_file))
    except RuleTableError as error:
        _print_problems(error.problems)
        sys.exit(EXIT_PROBLEMS)
    today = as_of.date() if as_of else date.today()
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
        "flags": [finding.to_dict() for finding in findings],
    }
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))


def register(app: Flask) -> None:
    """Add every command group to the app's `flask` command."""
    from questionnaire.alerts import alerts_cli
    from questionnaire.keys import keys_cli
    from questionnaire.notify import notifications_cli
    from questionnaire.purge import purge_command
    from questionnaire.review.trail import audit_cli

    for command in (rules, notifications_cli, alerts_cli, audit_cli, keys_cli, purge_command):
        app.cli.add_command(command)
    # rule_fields() is cached; warming it here keeps the first command quick.
    rule_fields()


from questionnaire.impact import impact_command  # noqa: E402

rules.add_command(impact_command)
