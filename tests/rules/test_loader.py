"""Loading fails closed: every problem is found, placed on its line, and says what to change."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from questionnaire.rules import Problem, check_table, load_table
from tests.rules.test_engine import FIELDS, VALID, load, problems_of, toy_prepare, write


def only(problems: list[Problem]) -> Problem:
    """Return the single problem, failing the test with all of them otherwise."""
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def test_the_valid_table_has_no_problems(tmp_path: Path) -> None:
    assert problems_of(tmp_path, VALID) == []


def test_a_missing_file_says_to_set_rules_path(tmp_path: Path) -> None:
    problem = only(check_table(tmp_path / "absent.yaml", FIELDS, toy_prepare))
    assert problem.line is None
    assert "RULES_PATH" in problem.message
    assert "create the file" in problem.message
    assert problem.file.endswith("absent.yaml")


def test_a_yaml_syntax_error_is_one_problem_with_its_line(tmp_path: Path) -> None:
    text = VALID.replace("    level: urgent\n", "    level: [urgent\n")
    problem = only(problems_of(tmp_path, text))
    assert problem.line is not None and 11 <= problem.line <= 13
    assert "YAML" in problem.message


def test_the_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, "- just\n- a list\n"))
    assert "mapping" in problem.message


def test_yes_and_no_stay_strings_everywhere(tmp_path: Path) -> None:
    # VALID writes `equals: yes`, `suicidal_now: no` and `{suicidal_now: yes}` unquoted.
    table = load(tmp_path)
    assert table.baseline.answers["suicidal_now"] == "no"
    assert table.cases[1].answers["suicidal_now"] == "yes"
    assert next(f.rule for f in table.evaluate({"suicidal_now": "yes"})) == "now"


def test_an_unexpected_key_is_named_with_its_line_and_rule(tmp_path: Path) -> None:
    text = VALID.replace("    level: urgent\n", "    level: urgent\n    colour: red\n")
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (12, "rule 'now'")
    assert "unexpected key 'colour'" in problem.message


def test_a_misspelt_operator_gets_a_suggestion(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, VALID.replace("equals: yes", "equal: yes")))
    assert (problem.line, problem.subject) == (12, "rule 'now'")
    assert "unexpected key 'equal'" in problem.message
    assert "did you mean 'equals'" in problem.message


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    text = VALID.replace("    source: test source\n  - id: now", "  - id: now")
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (5, "rule 'heart'")
    assert problem.message == "'source' is missing; add it"


def test_a_shapeless_condition_says_what_a_condition_is(tmp_path: Path) -> None:
    text = VALID.replace("{item: suicidal_now, equals: yes}", "{thing: suicidal_now}")
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (12, "rule 'now'")
    assert "item: or fact: with one operator, or all:/any:/not:" in problem.message


def test_two_operators_in_one_condition(tmp_path: Path) -> None:
    text = VALID.replace(
        "{item: suicidal_now, equals: yes}", "{item: suicidal_now, equals: yes, answered: true}"
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.line == 12
    assert "2 operators (equals, answered)" in problem.message


def test_a_deep_error_points_at_its_own_line(tmp_path: Path) -> None:
    text = VALID.replace(
        "      not: {all: [{fact: weight_kg, at_least: 35}, {fact: weight_kg, at_most: 250}]}\n",
        "      not:\n        all:\n          - {fact: weight_kg, at_least: 35}\n"
        "          - {fact: weight_kg, at_most: heavy}\n",
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (26, "rule 'weight'")
    assert "'at_most' must be a number" in problem.message


def test_a_bad_level_lists_the_levels(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, VALID.replace("level: urgent", "level: high")))
    assert (problem.line, problem.subject) == (11, "rule 'now'")
    assert "'urgent', 'review' or 'info'" in problem.message


def test_an_unquoted_number_version_must_be_quoted(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, VALID.replace('version: "t1"', "version: 2026.11")))
    assert problem.line == 1
    assert "quotes" in problem.message


def test_an_unknown_item_suggests_a_close_name(tmp_path: Path) -> None:
    text = VALID.replace("heart_condition, one_of", "heart_conditon, one_of")
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (7, "rule 'heart'")
    assert "there is no item 'heart_conditon'; did you mean 'heart_condition'?" in problem.message


def test_an_item_that_is_a_fact(tmp_path: Path) -> None:
    text = VALID.replace("{fact: weight_kg, at_least: 35}", "{item: weight_kg, at_least: 35}")
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (23, "rule 'weight'")
    assert "write fact: weight_kg" in problem.message


def test_a_fact_that_is_an_item(tmp_path: Path) -> None:
    text = VALID.replace("{item: heart_condition,", "{fact: heart_condition,")
    problem = only(problems_of(tmp_path, text))
    assert "write item: heart_condition" in problem.message


def test_an_answer_code_the_item_does_not_offer(tmp_path: Path) -> None:
    problem = only(
        problems_of(tmp_path, VALID.replace('one_of: ["yes", unsure]', "one_of: [maybe]"))
    )
    assert (problem.line, problem.subject) == (7, "rule 'heart'")
    assert problem.message == (
        "item 'heart_condition' has no answer code 'maybe'; use one of: no, unsure, yes"
    )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("{item: heart_condition, mentions: benzos}", "'mentions' does not apply"),
        ("{item: heart_condition, includes_any: [yes]}", "use one_of"),
        ("{item: drugs, equals: cocaine}", "use includes_any"),
        ("{item: drugs, includes_any: [heroin]}", "no answer code 'heroin'"),
        ("{item: medications, at_least: 3}", "use one of: mentions, answered"),
        ("{item: date_of_birth, equals: '1980-01-01'}", "use one of: answered"),
        ("{item: consent, equals: 'yes'}", "equals: true or equals: false"),
        ("{fact: weight_kg, equals: true}", "compare it with numbers"),
        ("{fact: weight_kg, one_of: [70, heavy]}", "compare it with numbers"),
        ("{fact: weight_kg, includes_any: [a]}", "'includes_any' does not apply"),
        ("{item: heart_condition, equals: 1}", 'write 1 in quotes, as "1"'),
        ("{item: medications, mentions: benzo}", "no lexicon 'benzo'; did you mean 'benzos'?"),
    ],
)
def test_operators_must_suit_the_field(tmp_path: Path, condition: str, expected: str) -> None:
    text = VALID.replace("{item: suicidal_now, equals: yes}", condition)
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (12, "rule 'now'")
    assert expected in problem.message


def test_an_empty_lexicon(tmp_path: Path) -> None:
    text = VALID.replace("lexicons:\n", "lexicons:\n  nothing: []\n")
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (3, "lexicon 'nothing'")
    assert "no terms" in problem.message


@pytest.mark.parametrize(("term", "reason"), [('"#!"', "no letters or digits"), ("300", "")])
def test_unusable_terms(tmp_path: Path, term: str, reason: str) -> None:
    text = VALID.replace('"Tylenol #3"]', f'"Tylenol #3", {term}]')
    problems = problems_of(tmp_path, text)
    problem = only(problems)
    assert (problem.line, problem.subject) == (3, "lexicon 'benzos'")
    assert reason in problem.message


def test_a_number_term_must_be_text(tmp_path: Path) -> None:
    # An unquoted 300 is a YAML number; a quoted "300" is text but only digits.
    text = VALID.replace('"Tylenol #3"]', '"Tylenol #3", "300"]')
    assert "only a number" in only(problems_of(tmp_path, text)).message


def test_a_duplicate_rule_id_names_the_first_line(tmp_path: Path) -> None:
    text = VALID.replace("- id: benzo", "- id: heart").replace("[benzo]", "[heart]")
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (15, "rule 'heart'")
    assert "already used (first on line 5)" in problem.message


def test_the_reserved_id(tmp_path: Path) -> None:
    text = VALID.replace("- id: benzo", "- id: rules_error").replace(
        "expect: [benzo]", "expect: [rules_error]"
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (15, "rule 'rules_error'")
    assert "reserved" in problem.message


def test_an_id_with_capitals(tmp_path: Path) -> None:
    text = VALID.replace("- id: benzo", "- id: Benzo").replace("[benzo]", "[Benzo]")
    problem = only(problems_of(tmp_path, text))
    assert problem.line == 15
    assert "lower-case" in problem.message


@pytest.mark.parametrize(
    "message",
    [
        "Patient is ineligible.",
        "Contraindicated with ketamine.",
        "A CONTRAINDICATION to treatment.",
        "Diagnosis of psychosis.",
        "Diagnose mania.",
        "Not a   candidate for ketamine.",
        "Referral rejected.",
        "Treatment denied.",
    ],
)
def test_verdict_words_in_messages(tmp_path: Path, message: str) -> None:
    text = VALID.replace("Takes a benzodiazepine.", message)
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (18, "rule 'benzo'")
    assert "Reports" in problem.message


@pytest.mark.parametrize(
    "message",
    ["Reports being undiagnosed.", "Reports a diagnosed heart condition.", "Denies nothing."],
)
def test_verdict_words_match_whole_words_only(tmp_path: Path, message: str) -> None:
    assert problems_of(tmp_path, VALID.replace("Takes a benzodiazepine.", message)) == []


def test_a_duplicate_case_name(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, VALID.replace("- name: now", "- name: heart")))
    assert (problem.line, problem.subject) == (33, "case 'heart'")
    assert "already used (first on line 30)" in problem.message


def test_a_case_expecting_an_unknown_rule(tmp_path: Path) -> None:
    text = VALID.replace("expect: [now]", "expect: [now, hart]")
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (35, "case 'now'")
    assert "no rule 'hart'; did you mean 'heart'?" in problem.message


def test_case_answers_that_prepare_rejects(tmp_path: Path) -> None:
    text = VALID.replace(
        "answers: {heart_condition: unsure}",
        "answers:\n      heart_condition: unsure\n      medications: bad",
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (33, "case 'heart'")
    assert "'medications' is rejected: Enter a real answer." in problem.message


def test_case_answers_must_name_items(tmp_path: Path) -> None:
    text = VALID.replace(
        "{heart_condition: unsure}", "{heart_condition: unsure, heart_conditio: no}"
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (31, "case 'heart'")
    assert "no item 'heart_conditio'; did you mean 'heart_condition'?" in problem.message


def test_a_case_whose_flags_differ_says_which(tmp_path: Path) -> None:
    text = VALID.replace(
        "{suicidal_now: yes}", "{suicidal_now: yes, heart_condition: yes}"
    ).replace("expect: [now]", "expect: [now, benzo]")
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (35, "case 'now'")
    assert "expected but not raised: benzo" in problem.message
    assert "raised but not expected: heart" in problem.message


def test_a_rule_no_case_raises(tmp_path: Path) -> None:
    text = VALID.replace(
        '  - name: benzo\n    answers: {medications: "Ativan 1mg"}\n    expect: [benzo]\n', ""
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (15, "rule 'benzo'")
    assert "add a case that raises it" in problem.message


def test_the_baseline_must_raise_no_flag(tmp_path: Path) -> None:
    text = VALID.replace('{heart_condition: "no",', '{heart_condition: "yes",')
    problems = problems_of(tmp_path, text)
    baseline = [p for p in problems if p.subject == "baseline"]
    assert len(baseline) == 1
    assert baseline[0].line == 28
    assert "the baseline raises heart" in baseline[0].message


def test_cases_are_not_run_when_the_rules_are_broken(tmp_path: Path) -> None:
    # The unknown item is the only problem: the "now" case's mismatch would be noise.
    text = VALID.replace("{item: suicidal_now, equals: yes}", "{item: suicidal, equals: yes}")
    problem = only(problems_of(tmp_path, text))
    assert "there is no item 'suicidal'" in problem.message


def test_every_problem_is_collected_in_file_order(tmp_path: Path) -> None:
    text = (
        VALID.replace("level: urgent", "level: high")
        .replace("heart_condition, one_of", "heart_conditon, one_of")
        .replace("Takes a benzodiazepine.", "Ineligible.")
        .replace("expect: [weight]", "expect: [weight, nope]")
    )
    problems = problems_of(tmp_path, text)
    assert [p.line for p in problems] == [7, 11, 18, 41]


def test_a_duplicate_yaml_key(tmp_path: Path) -> None:
    text = VALID.replace(
        "    message: Takes a benzodiazepine.\n",
        "    message: Takes a benzodiazepine.\n    message: Takes something.\n",
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.line, problem.subject) == (19, "rule 'benzo'")
    assert "appears twice (first on line 18)" in problem.message


def test_case_as_of_overrides_the_baseline_date(tmp_path: Path) -> None:
    text = (
        VALID.replace(
            "  - id: benzo\n",
            "  - id: older\n    level: info\n    when: {fact: age_years, at_least: 65}\n"
            "    message: Reports an age of 65 or more.\n    source: test source\n"
            "  - id: benzo\n",
        )
        + "  - name: twenty years on\n    as_of: 2046-06-01\n    answers: {}\n"
        "    expect: [older]\n"
    )
    table = load(tmp_path, text)
    assert table.cases[-1].as_of == date(2046, 6, 1)
    assert table.cases[0].as_of == date(2026, 6, 1)


def test_prepare_raising_is_reported_not_raised(tmp_path: Path) -> None:
    def broken(raw: Any, today: date) -> tuple[dict[str, Any], dict[str, list[str]]]:
        raise RuntimeError("form code bug")

    problems = check_table(write(tmp_path, VALID), FIELDS, broken)
    assert problems[0].subject == "baseline"
    assert "prepare() failed" in problems[0].message
    with pytest.raises(Exception, match="prepare"):
        load_table(write(tmp_path, VALID), FIELDS, broken)


# --- term lists: duplicates, exact terms, known lists, collisions ----------------------

TWO_LISTS = (
    VALID.replace(
        '  benzos: [lorazepam, Ativan, "Tylenol #3"]\n',
        '  benzos: [lorazepam, Ativan, "Tylenol #3"]\n  opioids: [morphine, OPIOID_TERM]\n',
    ).replace(
        "baseline:\n",
        "  - id: opioid\n    level: review\n    when: {item: medications, mentions: opioids}\n"
        "    message: Lists an opioid.\n    source: test source\nbaseline:\n",
    )
    + "  - name: opioid\n    answers: {medications: morphine}\n    expect: [opioid]\n"
)


def with_opioid(term: str, extra: str = "") -> str:
    """Return the two-list table with one more opioid term, and extra top-level YAML."""
    return TWO_LISTS.replace("OPIOID_TERM", term) + extra


@pytest.mark.parametrize(
    ("terms", "says"),
    [
        ('[lorazepam, Ativan, "Tylenol #3", Ativan]', "term 'Ativan' is 'Ativan' (line 3)"),
        (
            '[lorazepam, Ativan, "Tylenol #3", "Tylenol No. 3"]',
            "term 'Tylenol No. 3' reads the same as 'Tylenol #3' (line 3)",
        ),
    ],
)
def test_a_repeated_term_is_named_with_the_first(tmp_path: Path, terms: str, says: str) -> None:
    text = VALID.replace('[lorazepam, Ativan, "Tylenol #3"]', terms)
    problem = only(problems_of(tmp_path, text))
    assert problem.subject == "lexicon 'benzos'"
    assert says in problem.message and "keep one" in problem.message


def test_an_entry_that_is_neither_text_nor_exact_says_both_forms(tmp_path: Path) -> None:
    text = VALID.replace('"Tylenol #3"]', '"Tylenol #3", {exact: [Ativan]}]')
    problem = only(problems_of(tmp_path, text))
    assert "must be text" in problem.message and "{exact: text}" in problem.message


def test_terms_of_lists_with_different_rules_too_close_do_not_load(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, with_opioid("Ativam")))
    assert problem.subject == "lexicon 'opioids'"
    assert "'Ativam' is 1 letter(s) from 'Ativan' (benzos)" in problem.message
    assert "{exact: Ativam}" in problem.message


def test_a_term_in_two_lists_with_different_rules_does_not_load(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, with_opioid("Ativan")))
    assert "'Ativan' appears in both lists" in problem.message


def test_an_exact_term_resolves_a_collision_and_is_never_near(tmp_path: Path) -> None:
    table = load(tmp_path, with_opioid("{exact: Ativam}"))
    (collision,) = table.collisions
    assert {collision.first.written, collision.second.written} == {"Ativan", "Ativam"}
    assert collision.edits == 1 and collision.resolved_by == "'Ativam' is marked exact:"
    assert [f.rule for f in table.evaluate({"medications": "Ativam"})] == ["weight", "opioid"]
    # A near miss of both reads as the tolerant term only.
    assert [f.rule for f in table.evaluate({"medications": "Ativaz"})] == ["benzo", "weight"]


def test_a_known_list_resolves_a_collision(tmp_path: Path) -> None:
    extra = "known: [known]\n"
    text = with_opioid("codeine").replace("  opioids:", "  known: [clonidine, Ativam]\n  opioids:")
    table = load(tmp_path, text + extra)
    (collision,) = table.collisions
    assert collision.resolved_by is not None and "known list known" in collision.resolved_by
    assert [f.rule for f in table.evaluate({"medications": "Ativam 1 mg"})] == ["weight"]


def test_a_rule_cannot_mention_a_known_list(tmp_path: Path) -> None:
    text = VALID.replace("mentions: benzos", "mentions: known").replace(
        '  benzos: [lorazepam, Ativan, "Tylenol #3"]\n',
        '  benzos: [lorazepam, Ativan, "Tylenol #3"]\n  known: [sertraline]\n',
    )
    problems = problems_of(tmp_path, text + "known: [known]\n")
    assert any(
        p.subject == "rule 'benzo'" and "listed under known:" in p.message for p in problems
    ), problems


def test_known_must_name_a_lexicon(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, VALID + "known: [benzoz]\n"))
    assert "there is no lexicon 'benzoz'; did you mean 'benzos'?" in problem.message


def test_a_known_term_must_not_contain_a_flagged_one(tmp_path: Path) -> None:
    text = VALID.replace(
        '  benzos: [lorazepam, Ativan, "Tylenol #3"]\n',
        '  benzos: [lorazepam, Ativan, "Tylenol #3"]\n  known: [Ativan Plus]\n',
    )
    problem = only(problems_of(tmp_path, text + "known: [known]\n"))
    assert problem.subject == "lexicon 'known'"
    assert "contains the flagged term 'Ativan' (benzos)" in problem.message


def test_a_short_name_is_kept_and_a_missing_one_falls_back_to_the_id(tmp_path: Path) -> None:
    text = VALID.replace(
        "    level: urgent\n", '    level: urgent\n    short: "suicidal thoughts now"\n'
    )
    table = load(tmp_path, text)
    short = {rule.id: rule.short_name for rule in table.rules}
    assert short["now"] == "suicidal thoughts now"
    assert short["heart"] == "heart"


def test_a_short_name_must_be_short_and_not_blank(tmp_path: Path) -> None:
    long = VALID.replace("    level: urgent\n", f'    level: urgent\n    short: "{"x" * 41}"\n')
    problem = only(problems_of(tmp_path, long))
    assert problem.subject == "rule 'now'" and "40" in problem.message
    blank = VALID.replace("    level: urgent\n", '    level: urgent\n    short: " "\n')
    assert "must not be empty" in only(problems_of(tmp_path, blank)).message


def test_every_rule_of_the_clinic_table_has_a_short_name() -> None:
    from questionnaire.flagging.table import prepare, rule_fields

    table = load_table(Path(__file__).parents[2] / "rules.yaml", rule_fields(), prepare)
    assert all(rule.short and len(rule.short) <= 40 for rule in table.rules)
