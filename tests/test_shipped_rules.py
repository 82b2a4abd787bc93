"""The shipped rules.yaml: every flag of ITEMS.md at its level, sourced, with passing cases."""

from __future__ import annotations

import pytest

from questionnaire.rules import CaseResult, Lexicon, tokenize
from questionnaire.ruleset import load_rule_table, prepare, run_table_cases
from tests.conftest import PROJECT_ROOT

TABLE = load_rule_table(PROJECT_ROOT / "rules.yaml")

#: Every flag of ITEMS.md and its level.
FLAGS = {
    "age_under_18": "review",
    "age_65_plus": "info",
    "weight_missing": "info",
    "few_prior_treatments": "info",
    "no_mh_provider": "info",
    "prior_ketamine_treatment": "info",
    "suicidal_thoughts_recent": "review",
    "suicidal_thoughts_now": "urgent",
    "suicide_attempt_history": "review",
    "psychosis_history": "review",
    "psychosis_current": "review",
    "mania_history": "review",
    "mania_current": "review",
    "blood_pressure_history": "review",
    "blood_pressure_very_high": "review",
    "blood_pressure_raised": "review",
    "heart_condition": "review",
    "heart_event_recent": "review",
    "aneurysm_or_avm": "review",
    "stroke_or_brain_bleed": "review",
    "raised_intracranial_pressure": "review",
    "seizure_history": "review",
    "eye_pressure": "review",
    "overactive_thyroid": "review",
    "liver_disease": "review",
    "breathing_condition": "review",
    "bladder_symptoms": "review",
    "pregnancy_possible": "review",
    "breastfeeding": "review",
    "ketamine_reaction_history": "review",
    "alcohol_use": "review",
    "alcohol_pause_unsure": "review",
    "cannabis_daily": "review",
    "drug_use": "review",
    "ketamine_nonmedical_use": "review",
    "substance_treatment_history": "review",
    "benzodiazepine": "review",
    "sedative_or_opioid": "review",
    "stimulant": "review",
    "maoi": "review",
    "opioid_blocker": "review",
    "xanthine": "review",
    "lamotrigine": "info",
    "no_escort_home": "info",
    "plans_to_drive": "info",
}

#: The term lists of ITEMS.md (each must be matched by the table's lexicon of that flag).
TERMS = {
    "benzodiazepines": "alprazolam Xanax clonazepam Klonopin Rivotril Clonapam lorazepam Ativan "
    "diazepam Valium Diastat Valtoco bromazepam Lectopam clobazam Frisium Onfi Sympazan "
    "chlordiazepoxide Librium Librax clorazepate Tranxene oxazepam Serax temazepam Restoril "
    "triazolam Halcion flurazepam Dalmane nitrazepam Mogadon midazolam",
    "sedatives_and_opioids": "zolpidem Ambien Sublinox zopiclone Imovane eszopiclone Lunesta "
    "zaleplon Sonata Starnoc gabapentin Neurontin pregabalin Lyrica oxycodone OxyContin Percocet "
    "hydromorphone Dilaudid codeine tramadol Ultram Tridural methadone Metadol buprenorphine "
    "Suboxone morphine fentanyl",
    "stimulants": "amphetamine Adderall lisdexamfetamine Vyvanse dextroamphetamine Dexedrine "
    "methylphenidate Ritalin Concerta Biphentin Foquest dexmethylphenidate Focalin modafinil "
    "Provigil Alertec armodafinil Nuvigil",
    "maois": "phenelzine Nardil tranylcypromine Parnate isocarboxazid Marplan selegiline Emsam "
    "Eldepryl rasagiline Azilect moclobemide Manerix",
    "opioid_blockers": "naltrexone Revia Vivitrol Contrave",
    "xanthines": "theophylline Uniphyl aminophylline",
    "lamotrigine": "lamotrigine Lamictal Subvenite",
}


def test_every_flag_of_items_md_has_a_rule_at_its_level() -> None:
    assert {rule.id: rule.level for rule in TABLE.rules} == FLAGS


def test_every_rule_cites_a_source_and_observes() -> None:
    for rule in TABLE.rules:
        assert rule.source.strip(), rule.id
        assert rule.message.split()[0] in {
            "Reports",
            "Takes",
            "Lists",
            "Is",
            "Weight",
            "Self-reported",
            "Plans",
        }, rule.id


@pytest.mark.parametrize("lexicon", sorted(TERMS))
def test_each_term_list_holds_every_name_of_items_md(lexicon: str) -> None:
    compiled: Lexicon = TABLE.lexicons[lexicon]
    for term in TERMS[lexicon].split():
        assert compiled.find(tokenize(f"{term} 10 mg")), (lexicon, term)
    assert compiled.find(tokenize("Tylenol #3")) or lexicon != "sedatives_and_opioids"


def test_antidepressants_are_not_flagged() -> None:
    text = "sertraline escitalopram venlafaxine duloxetine amitriptyline bupropion"
    assert TABLE.read(text).matches == ()


def test_every_rule_is_raised_by_some_case() -> None:
    raised = {rule for case in TABLE.cases for rule in case.expect}
    assert raised == set(FLAGS)


def test_there_is_a_case_with_no_flags_and_one_with_look_alikes() -> None:
    names = {case.name: case for case in TABLE.cases}
    assert names["no flags (the baseline)"].expect == frozenset()
    look_alikes = names["look-alikes are not flagged (clonidine, Lamisil, Valtrex, valproate)"]
    assert look_alikes.expect == frozenset()


REPORT = run_table_cases(PROJECT_ROOT / "rules.yaml")


@pytest.mark.parametrize("result", REPORT.results, ids=lambda result: result.name)
def test_every_case_raises_exactly_its_flags(result: CaseResult) -> None:
    assert not result.errors, result.errors
    assert result.actual == result.expected


def test_the_table_has_no_other_problem() -> None:
    assert REPORT.problems == []


def test_prepare_validates_as_the_web_does() -> None:
    from datetime import date

    _values, errors = prepare({"bp_reading": "high"}, date(2026, 6, 1))
    assert "bp_reading" in errors and "full_name" in errors
