"""The check-in's rule table: the shipped one loads with every case passing; a bad one stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from questionnaire.rules import RuleTableError
from questionnaire.visits.rules import load_checkin_table
from tests.harness.app import PROJECT_ROOT, make_app

SHIPPED = PROJECT_ROOT / "checkin_rules.yaml"
#: ITEMS.md section 15 (and 12's escalations): every rule id and its levels, exactly.
EXPECTED_LEVELS = {
    "visit_suicidal_thoughts_now": ("urgent",),
    "phq9_item9_positive": ("review", "urgent"),
    "phq9_item9_unanswered": ("review",),
    "visit_health_change": ("review", "urgent"),
    "visit_heart_symptoms": ("urgent",),
    "visit_medicines_changed": ("review",),
    "visit_alcohol_24h": ("urgent",),
    "visit_drugs_24h": ("review",),
    "visit_recent_food": ("review",),
    "visit_bp_raised": ("review", "urgent"),
    "visit_pregnancy_possible": ("urgent",),
    "visit_no_escort_home": ("review",),
    "visit_plans_to_drive": ("review",),
    "phq9_worsening": ("review",),
    "phq9_remission": ("info",),
    "phq9_response": ("info",),
    "phq9_no_response_after_induction": ("info",),
    "gad7_worsening": ("info",),
    # ITEMS.md 14's medicine rules, read in visit_medications with rules.yaml's lists.
    "benzodiazepine": ("review",),
    "sedative_or_opioid": ("review",),
    "stimulant": ("review",),
    "maoi": ("review",),
    "opioid_blocker": ("review",),
    "xanthine": ("review",),
    "drug_use": ("review",),
    "ketamine_nonmedical_use": ("review",),
    "lamotrigine": ("info",),
    "medicine_mentioned_in_context": ("info",),
}


def edited_copy(tmp_path: Path, old: str, new: str) -> Path:
    """Write the shipped table with one edit, its shared term lists still found."""
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new).replace(
        "lexicons_from: rules.yaml", f"lexicons_from: {PROJECT_ROOT / 'rules.yaml'}"
    )
    edited = tmp_path / "checkin_rules.yaml"
    edited.write_text(text, encoding="utf-8")
    return edited


def test_the_shipped_table_has_itemss_rules_and_levels_and_every_case_passes() -> None:
    table = load_checkin_table(SHIPPED)  # runs every case; raises on any mismatch
    assert {rule.id: rule.levels for rule in table.rules} == EXPECTED_LEVELS
    for rule in table.rules:
        assert rule.source, rule.id
    raised = {rule for case in table.cases for rule in case.expect}
    assert raised == set(EXPECTED_LEVELS)


def test_a_case_that_no_longer_matches_stops_the_app(tmp_path: Path) -> None:
    # The clinic moves the blood-pressure hold to 160/100 but forgets the cases.
    edited = edited_copy(
        tmp_path,
        "{fact: visit_bp_systolic, at_least: 180}",
        "{fact: visit_bp_systolic, at_least: 160}",
    )
    with pytest.raises(RuleTableError, match="blood pressure 179/119"):
        load_checkin_table(edited)
    with pytest.raises(RuleTableError):
        make_app(tmp_path, CHECKIN_RULES_PATH=str(edited))


def test_a_rule_naming_an_unknown_item_stops_the_table(tmp_path: Path) -> None:
    edited = edited_copy(tmp_path, "{item: visit_drugs_24h,", "{item: visit_drug_24h,")
    with pytest.raises(RuleTableError, match="visit_drug_24h"):
        load_checkin_table(edited)


def test_the_medicines_answer_is_read_with_the_intakes_term_lists() -> None:
    table = load_checkin_table(SHIPPED)
    assert (
        table.lexicons["benzodiazepines"] == load_checkin_table(SHIPPED).lexicons["benzodiazepines"]
    )
    started = {f.rule for f in table.evaluate({"visit_medications": "started Xanax"})}
    stopped = {f.rule for f in table.evaluate({"visit_medications": "stopped Xanax"})}
    assert started == {"benzodiazepine"}
    assert stopped == {"medicine_mentioned_in_context"}


def test_a_missing_shared_table_is_named(tmp_path: Path) -> None:
    edited = tmp_path / "checkin_rules.yaml"
    edited.write_text(
        SHIPPED.read_text(encoding="utf-8"), encoding="utf-8"
    )  # no rules.yaml beside it
    with pytest.raises(RuleTableError, match=r"lexicons_from names rules\.yaml"):
        load_checkin_table(edited)


def test_the_cli_checks_the_check_in_table(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    result = app.test_cli_runner().invoke(args=["visits", "check-rules"])
    assert result.exit_code == 0, result.output
    assert "cases pass" in result.output
