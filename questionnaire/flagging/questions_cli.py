"""`flask questions …`: check a questionnaire definition, and write one; thin Click wrappers.

Like `flask rules`, the group needs no app and no database (but for `impact`), so a
clinical lead can check a broken definition even when the app refuses to start
because of it. It is registered as a Flask plugin command (pyproject.toml) and on the app.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import yaml
from flask import current_app
from flask.cli import with_appcontext

from questionnaire.config import DEFAULT_QUESTIONS_PATH, DEFAULT_RULES_PATH
from questionnaire.extensions import db
from questionnaire.flagging.questions import check_questions
from questionnaire.flagging.questions_impact import (
    compare,
    count_stored,
    format_impact,
    touched_rules,
)
from questionnaire.flagging.table import check_rule_table
from questionnaire.questions import catalogue
from questionnaire.questions.definition import Definition, load_definition
from questionnaire.questions.export import definition_yaml
from questionnaire.questions.fhir_import import import_questionnaire
from questionnaire.rules import Problem
from questionnaire.rules.yamlload import parse

EXIT_PROBLEMS = 1

PathArgument = click.Path(dir_okay=False, path_type=Path)


def questions_path(path: Path | None) -> Path:
    """Return the definition to work on: the argument, else QUESTIONS_PATH, else the shipped one."""
    return path or Path(os.environ.get("QUESTIONS_PATH") or DEFAULT_QUESTIONS_PATH)


def languages() -> list[str]:
    """Return the configured languages (LANGUAGES), as Babel locale ids."""
    return [one.strip() for one in os.environ.get("LANGUAGES", "en,fr_CA").split(",") if one]


@contextmanager
def asked(definition: Definition) -> Iterator[None]:
    """Ask a definition for the length of a check, then go back to the one served before."""
    before = catalogue.DEFINITION
    catalogue.install(definition)
    try:
        yield
    finally:
        catalogue.install(before)


def _print_problems(problems: list[Problem]) -> None:
    noun = "problem" if len(problems) == 1 else "problems"
    click.echo(f"{len(problems)} {noun}:", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)


@click.group("questions")
def questions() -> None:
    """Check and write the questionnaire definition (forms/intake.yaml)."""


@questions.command("check")
@click.argument("path", required=False, type=PathArgument)
@click.option("--rules", "rules_file", type=PathArgument, help="Rule table (default RULES_PATH).")
def check_command(path: Path | None, rules_file: Path | None) -> None:
    """Check that a questionnaire definition is sound, and that the rule table fits it.

    PATH defaults to QUESTIONS_PATH, then to the forms/intake.yaml shipped with the app.
    Every text must be in every language of LANGUAGES. Exits 1 with every problem.
    """
    path = questions_path(path)
    problems = check_questions(path, languages())
    if problems:
        _print_problems(problems)
        sys.exit(EXIT_PROBLEMS)
    definition = load_definition(path, languages(), all_facts=catalogue.ALL_FACTS)
    rules_path = rules_file or Path(os.environ.get("RULES_PATH") or DEFAULT_RULES_PATH)
    with asked(definition):
        rule_problems = check_rule_table(rules_path)
    if rule_problems:
        click.echo(f"{path} is sound, but the rule table {rules_path} does not fit it:", err=True)
        _print_problems(rule_problems)
        sys.exit(EXIT_PROBLEMS)
    items = sum(len(section.items) for section in definition.sections)
    click.echo(
        f"{path}: sound. {len(definition.sections)} sections, {items} items, "
        f"{len(definition.facts)} facts, languages {', '.join(sorted(definition.languages))}; "
        f"the rule table {rules_path} fits it. sha256 {definition.sha256}."
    )


@questions.command("export-yaml")
@click.option("--output", "-o", type=PathArgument, help="Write here (default: standard output).")
def export_yaml_command(output: Path | None) -> None:
    """Write the questions declared in questions/catalogue.py as a definition file.

    Regenerates forms/intake.yaml after the declarations change (until they are retired),
    with every text in each language of LANGUAGES from the message catalogues.
    """
    # The message catalogues alone, not the served definition's words.
    from questionnaire.language import compiled_catalogue

    text = definition_yaml(
        "intake",
        catalogue.DECLARED_SECTIONS,
        list(catalogue.ALL_FACTS),
        catalogue.DECLARED_CRISIS_TRIGGERS,
        {locale: compiled_catalogue(locale) for locale in languages() if locale != "en"},
    )
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}.")


@questions.command("impact")
@click.argument("new_yaml", metavar="NEW.yaml", type=PathArgument)
@click.option("--rules", "rules_file", type=PathArgument, help="Rule table (default RULES_PATH).")
@with_appcontext
def impact_command(new_yaml: Path, rules_file: Path | None) -> None:
    """Show what NEW.yaml would change before it is deployed. Changes nothing.

    Items added, removed, reworded (any text, any language) or re-coded; the rules and
    cases that name a changed item; the CSV columns that appear or go; and how many
    stored submissions each change concerns. A candidate with problems lists them and
    exits 1; so does one the rule table no longer fits.
    """
    problems = check_questions(new_yaml, languages())
    if problems:
        click.echo(f"{new_yaml} cannot be used: ", err=True, nl=False)
        _print_problems(problems)
        sys.exit(EXIT_PROBLEMS)
    candidate = load_definition(new_yaml, languages(), all_facts=catalogue.ALL_FACTS)
    rules_path = rules_file or Path(current_app.config["RULES_PATH"])
    impact = compare(catalogue.DEFINITION, candidate)
    touched_rules(impact, parse(rules_path.read_text(encoding="utf-8")).data or {})
    try:
        count_stored(impact, db.session)
    finally:
        db.session.rollback()
    for line in format_impact(impact):
        click.echo(line)
    with asked(candidate):
        rule_problems = check_rule_table(rules_path)
    if rule_problems:
        click.echo(f"The rule table {rules_path} would stop start-up with NEW.yaml:", err=True)
        _print_problems(rule_problems)
        sys.exit(EXIT_PROBLEMS)


@questions.command("import-fhir")
@click.argument("source", metavar="FILE.json", type=PathArgument)
@click.option("--output", "-o", type=PathArgument, help="Write here (default: standard output).")
@click.option(
    "--merge-into",
    type=PathArgument,
    help="Add the imported pages to this definition (before its last step), keeping its roles.",
)
def import_fhir_command(source: Path, output: Path | None, merge_into: Path | None) -> None:
    """Turn a FHIR R4 Questionnaire into a definition, and say what did not carry over.

    Groups become pages, questions items, answer codings choices, enableWhen on one
    earlier question asked_when, translations the other languages' texts; a standard
    instrument is included by name. With -o, the result is checked and what is left
    to finish (French texts, roles, error messages) is listed.
    """
    try:
        resource = json.loads(source.read_text(encoding="utf-8"))
        if not isinstance(resource, dict):
            raise ValueError("the file holds no JSON object")
        imported = import_questionnaire(resource, _fhir_languages())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        click.echo(f"{source} cannot be imported: {error}", err=True)
        sys.exit(EXIT_PROBLEMS)
    data = imported.data
    if merge_into is not None:
        data = _merged(merge_into, data, imported.notes)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}.", err=True)
    click.echo(f"{len(imported.notes)} thing(s) not carried over or to check:", err=True)
    for note in imported.notes:
        click.echo(f"  - {note}", err=True)
    if output is not None:
        problems = check_questions(output, languages())
        if problems:
            click.echo("To finish before the file can be used:", err=True)
            for problem in problems:
                click.echo(f"  {problem}", err=True)
        else:
            click.echo(f"{output} is sound: check it with flask questions impact.", err=True)


def _fhir_languages() -> dict[str, str]:
    """Return the FHIR language tags (fr-CA, fr) of each configured language but English."""
    found: dict[str, str] = {}
    for locale in languages():
        if locale == "en":
            continue
        found[locale.replace("_", "-")] = locale
        found.setdefault(locale.split("_")[0], locale)
    return found


def _merged(target: Path, imported: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    data = parse(target.read_text(encoding="utf-8")).data
    sections = data["sections"]
    taken = {section["id"] for section in sections} | {
        item.get("id") for section in sections for item in section.get("items", [])
    }
    edges = next(
        (i for i, section in enumerate(sections) if section.get("placement") == "edges"),
        len(sections),
    )
    added = []
    for section in imported["sections"]:
        if section["id"] in taken:
            notes.append(f"page '{section['id']}' is already in {target.name}: not added")
            continue
        kept = [item for item in section.get("items", []) if item.get("id") not in taken]
        if len(kept) < len(section.get("items", [])):
            notes.append(f"page '{section['id']}': items already in {target.name} were left out")
        if "items" in section:
            if not kept:
                continue
            section = {**section, "items": kept}
        added.append(section)
    sections[edges:edges] = added
    return data
