"""The shipped rules.yaml: every flag of ITEMS.md at its level, sourced, with passing cases."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from questionnaire.flagging.table import load_rule_table, prepare, run_table_cases
from questionnaire.rules import CaseResult, Lexicon, tokenize
from tests.harness.app import PROJECT_ROOT

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
    "medicine_mentioned_in_context": "info",
    "no_escort_home": "info",
    "plans_to_drive": "info",
    # 8b. Standard instruments (ITEMS.md): item 9 above "not at all" is review, escalated to
    # urgent when "nearly every day" (ESCALATIONS below).
    "phq9_item9_positive": "review",
    "phq9_item9_unanswered": "review",
    "phq9_severe_band": "info",
    "gad7_severe_band": "info",
    "pcl5_at_cut_point": "info",
    # 11. C-SSRS screener and the clinic's plain plan item.
    "wish_to_be_dead": "review",
    "suicidal_thoughts_with_method": "review",
    "suicidal_intent": "urgent",
    "suicide_plan": "urgent",
    "suicidal_behaviour": "review",
    # 13. AUDIT-C.
    "alcohol_risk": "review",
}

#: ITEMS.md section 12: each escalating rule, the level it escalates to, and the item or
#: fact of its step's condition.
ESCALATIONS = {
    "phq9_item9_positive": ("urgent", "phq9_item9"),
    "suicidal_behaviour": ("urgent", "suicidal_behaviour_past_3_months"),
    "suicide_attempt_history": ("urgent", "suicide_attempt_past_3_months"),
}


def test_every_escalating_rule_of_items_md_escalates_as_written() -> None:
    escalating = {rule.id: rule for rule in TABLE.rules if rule.steps}
    assert set(escalating) == set(ESCALATIONS)
    for rule_id, (level, name) in ESCALATIONS.items():
        (step,) = escalating[rule_id].steps
        assert step.level == level
        assert step.when is not None and name in step.when.model_dump_json()


def test_the_duplicate_item_9_rule_is_retired_not_raised() -> None:
    assert "phq9_item9_nearly_every_day" in TABLE.retired
    assert TABLE.rule("phq9_item9_nearly_every_day") is None
    values, errors = prepare({**TABLE.baseline.answers, "phq9_9": "3"}, TABLE.baseline.as_of)
    assert not errors
    findings = TABLE.evaluate(values)
    item9 = [finding for finding in findings if finding.rule.startswith("phq9_item9")]
    assert [(finding.rule, finding.level) for finding in item9] == [
        ("phq9_item9_positive", "urgent")
    ]
    assert {"fact": "phq9_item9", "value": 3, "escalated": "urgent"} in item9[0].evidence


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
            "Names",  # a medicine named in the free text: never "Takes" (ITEMS.md 14.2)
            "Is",
            "Weight",
            "Self-reported",
            "Plans",
            "Answered",  # an instrument's item, in its own words
            "PHQ-9",  # an instrument's total score
            "GAD-7",
            "PCL-5",
            "AUDIT-C",
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


# --- tolerance over the shipped lists ----------------------------------------------------

FLAGGED_TERMS = [term for lexicon in TABLE.reader.flagged for term in lexicon.entries]
KNOWN_TERMS = [term for lexicon in TABLE.reader.known for term in lexicon.entries]
KNOWN_TOKENS = {term.tokens: term for term in KNOWN_TERMS}
RESOLVED = {
    frozenset({collision.first.written, collision.second.written})
    for collision in TABLE.collisions
    if collision.resolved_by
}
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def test_the_known_lists_are_the_shipped_known_medicines_and_everyday_words() -> None:
    assert {lexicon.name for lexicon in TABLE.reader.known} == {
        "known_medicines",
        "everyday_words",
        "dictionary_words",
    }
    assert len(TABLE.lexicons["known_medicines"].entries) >= 300


@st.composite
def typo(draw: st.DrawFn) -> tuple[Any, str]:
    """Draw a tolerant flagged term and one single-letter typo of one of its long words."""
    term = draw(st.sampled_from([t for t in FLAGGED_TERMS if not t.exact]))
    long_words = [i for i, word in enumerate(term.tokens) if len(word) >= 5 and word.isalpha()]
    assume(long_words)
    index = draw(st.sampled_from(long_words))
    word = term.tokens[index]
    kind = draw(st.sampled_from(["substitute", "delete", "insert", "swap"]))
    at = draw(st.integers(0, len(word) - (2 if kind == "swap" else 1)))
    letter = draw(st.sampled_from(LETTERS))
    if kind == "substitute":
        changed = word[:at] + letter + word[at + 1 :]
    elif kind == "delete":
        # A deletion from a 5-letter name leaves 4 letters, which never match ("Xana").
        assume(len(word) >= 6)
        changed = word[:at] + word[at + 1 :]
    elif kind == "insert":
        changed = word[:at] + letter + word[at:]
    else:
        changed = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    assume(changed != word)
    words = list(term.tokens)
    words[index] = changed
    return term, " ".join(words)


@settings(max_examples=600, deadline=None)
@given(typo())
def test_every_single_letter_typo_of_a_flagged_term_is_still_flagged(
    drawn: tuple[Any, str],
) -> None:
    term, text = drawn
    reading = TABLE.read(f"{text} 10 mg")
    if term.lexicon in reading.lexicons:
        return
    # The only way out: the typo is exactly a known word, a pair the loader lists as resolved.
    known = KNOWN_TOKENS.get(tokenize(text))
    if known is None and len(term.tokens) > 1:
        # A typo in one word of a multi-word term ("fiorina c" for Fiorinal C) that makes it
        # an everyday word: resolved as the single-word term's pair ("Fiorinal", "fiorina").
        changed = [(ours, typed) for ours, typed in zip(term.tokens, tokenize(text), strict=False)
                   if ours != typed]  # fmt: skip
        assert len(changed) == 1, (term.written, text, reading.words)
        ours, typed = changed[0]
        known = KNOWN_TOKENS.get((typed,))
        assert known is not None, (term.written, text, reading.words)
        singles = [t.written for t in FLAGGED_TERMS if t.tokens == (ours,)]
        assert any(frozenset({s, known.written}) in RESOLVED for s in singles), (text, singles)
        return
    assert known is not None, (term.written, text, reading.words)
    assert frozenset({term.written, known.written}) in RESOLVED, (term.written, known.written)


def test_no_known_word_is_ever_read_as_a_flagged_one() -> None:
    for term in KNOWN_TERMS:
        for text in (term.written, f"{term.written} 20 mg daily", f"apo-{term.written}"):
            assert TABLE.read(text).matches == (), text


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(KNOWN_TERMS), min_size=1, max_size=6),
    st.sampled_from([", ", " and ", "; "]),
)
def test_lists_of_known_medicines_raise_nothing(terms: list[Any], joiner: str) -> None:
    text = joiner.join(f"{term.written} 50 mg" for term in terms)
    assert TABLE.read(text).matches == ()
