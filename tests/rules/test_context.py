"""Free text read in context (ITEMS.md 14.1): the shipped table's triggers, scopes and terminators."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaire.flagging.table import load_rule_table
from questionnaire.rules.context import ContextRules, Phrase, phrase_tokens
from questionnaire.rules.lexicon import split_words
from tests.harness.app import PROJECT_ROOT

TABLE = load_rule_table(PROJECT_ROOT / "rules.yaml")
CONTEXT = TABLE.reader.context
assert CONTEXT is not None

#: The rule each flagged list raises when it is named as taken.
TAKING = {
    "benzodiazepines": "benzodiazepine",
    "sedatives_and_opioids": "sedative_or_opioid",
    "stimulants": "stimulant",
    "maois": "maoi",
    "opioid_blockers": "opioid_blocker",
    "xanthines": "xanthine",
    "lamotrigine": "lamotrigine",
    "street_drugs": "drug_use",
    "ketamine_street_names": "ketamine_nonmedical_use",
    "ketamine_names": "prior_ketamine_treatment",
}
MENTION = "medicine_mentioned_in_context"


def contexts(text: str) -> list[tuple[str, str, str | None]]:
    """Return (words as written, context, trigger) for each medicine the text names."""
    return [(m.written, m.context, m.trigger) for m in TABLE.read(text).matches]


def flags(text: str) -> set[str]:
    return {finding.rule for finding in TABLE.raised_by_text("medications", text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ITEMS.md 14.1's test material, and the issue's examples.
        ("no Xanax", [("Xanax", "negated", "no")]),
        ("my mother takes Xanax", [("Xanax", "other_person", "my mother")]),
        ("allergic to codeine", [("codeine", "allergy", "allergic to")]),
        (
            "Allergies: codeine, morphine",
            [("codeine", "allergy", "Allergies"), ("morphine", "allergy", "Allergies")],
        ),
        ("arrêté le Rivotril en 2019", [("Rivotril", "historical", "arrêté")]),
        ("Nothing for me. My husband takes Xanax.", [("Xanax", "other_person", "My husband")]),
        ("Nothing myself, my wife takes Ativan", [("Ativan", "other_person", "my wife")]),
        ("I quit lorazepam years ago", [("lorazepam", "historical", "quit")]),
        ("allergic to morphine (rash)", [("morphine", "allergy", "allergic to")]),
        ("Pas de benzodiazépines", [("benzodiazépines", "negated", "Pas de")]),
        ("ma fille prend du Ritalin", [("Ritalin", "other_person", "ma fille")]),
        ("Xanax: none", [("Xanax", "negated", "none")]),
        ("Ativan 2015-2018", [("Ativan", "historical", "2015-2018")]),
        ("Percocet made me sick", [("Percocet", "allergy", "made me sick")]),
        ("Xanax (my mom's)", [("Xanax", "other_person", "my mom's")]),
    ],
)
def test_a_mention_takes_the_context_of_its_trigger(
    text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert contexts(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ativan 1 mg as needed",
        "Ativan avant l'avion",  # "avant" inside a clause: as needed, before a flight
        "on Xanax since 2015",  # "since" is not a trigger: taking it now
        "never stopped my Ativan",  # a negation before a past-use trigger cancels both
        "n'ai pas arrêté l'Ativan",
        "no side effects from Ativan",  # a pseudo-trigger
        "Xanax sans ordonnance",  # non-prescribed use is use
        "je prends plus de Xanax",  # "more" or "no longer": ambiguous, so plain
        "took Ativan last night",  # the past tense alone is recent use
        "she takes Ativan",  # a parent may fill in the form about the patient
        "Tylenol No. 3",  # "No." before a number is a number sign
        "not no benzos",  # a double negation reads as plain: err towards flagging
    ],
)
def test_these_read_as_plain(text: str) -> None:
    assert [context for _written, context, _trigger in contexts(text)] == ["plain"] * len(
        contexts(text)
    )
    assert contexts(text)


@pytest.mark.parametrize(
    ("text", "taking", "also"),
    [
        ("stopped Ativan, now clonazepam 0.5", "clonazepam", ("Ativan", "historical")),
        (
            "J'ai arrêté le clonazépam en 2020, maintenant je prends du lorazépam",
            "lorazépam",
            ("clonazépam", "historical"),
        ),
        ("pas de Xanax, mais Ativan au coucher", "Ativan", ("Xanax", "negated")),
        ("my wife takes Xanax and I take Ativan", "Ativan", ("Xanax", "other_person")),
        ("ma mère prend du Xanax et je prends de l'Ativan", "Ativan", ("Xanax", "other_person")),
    ],
)
def test_a_terminator_ends_the_scope_and_the_plain_mention_flags(
    text: str, taking: str, also: tuple[str, str]
) -> None:
    found = contexts(text)
    assert (taking, "plain", None) in found
    assert any((written, context) == also for written, context, _t in found)
    raised = TABLE.raised_by_text("medications", text)
    benzo = next(finding for finding in raised if finding.rule == "benzodiazepine")
    (entry,) = benzo.evidence
    # The flag's evidence keeps the mention in context: nothing the patient wrote vanishes.
    assert [named["written"] for named in entry["also_named"]] == [also[0]]
    assert entry["also_named"][0]["context"] == also[1]
    assert MENTION not in {finding.rule for finding in raised}


def test_or_keeps_a_scope_open_and_a_comma_ends_it() -> None:
    assert [c for _w, c, _t in contexts("no Xanax or Ativan")] == ["negated", "negated"]
    # Narrow scopes err towards flagging.
    assert [c for _w, c, _t in contexts("never tried Xanax, Ativan or Valium")] == [
        "negated",
        "plain",
        "plain",
    ]


def test_a_decimal_comma_ends_nothing() -> None:
    assert contexts("no Rivotril 0,5 mg ou Ativan") == [
        ("Rivotril", "negated", "no"),
        ("Ativan", "negated", "no"),
    ]


def test_precedence_other_person_over_allergy_over_negated() -> None:
    assert contexts("my son is allergic to codeine") == [("codeine", "other_person", "my son")]


def test_the_mention_flag_carries_the_medicine_the_context_and_the_sentence() -> None:
    raised = TABLE.raised_by_text("medications", "Nothing myself, my wife takes Ativan")
    assert {finding.rule for finding in raised} == {MENTION}
    (finding,) = raised
    assert finding.level == "info"
    (entry,) = finding.evidence
    (read,) = entry["read"]
    assert read == {
        "written": "Ativan",
        "term": "Ativan",
        "how": "exact",
        "edits": 0,
        "list": "benzodiazepines",
        "context": "other_person",
        "trigger": "my wife",
        "clause": "my wife takes Ativan",
    }


def test_allergy_to_ketamine_raises_the_reaction_flag_too() -> None:
    assert flags("allergic to ketamine") == {"ketamine_reaction_history", MENTION}
    assert flags("Ketalar in 2023 for depression") == {MENTION}
    assert flags("Spravato twice a week") == {"prior_ketamine_treatment"}


def _triggers() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for phrase in CONTEXT.phrases:
        if phrase.role != "pre" or phrase.header or phrase.clause_start:
            continue
        if any(token.startswith("\0") for token in phrase.tokens):
            continue  # placeholders: written below with a year
        pairs.append((phrase.written, next(iter(phrase.contexts))))
    return pairs


def _flagged_terms() -> list[tuple[str, str]]:
    return [
        (term.written, lexicon.name)
        for lexicon in TABLE.reader.flagged
        for term in lexicon.entries
        if lexicon.name in TAKING
    ]


TRIGGERS = _triggers()
TERMS = _flagged_terms()


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(TRIGGERS), st.sampled_from(TERMS))
def test_trigger_then_term_never_raises_the_taking_flag(
    trigger: tuple[str, str], term: tuple[str, str]
) -> None:
    """ITEMS.md 14.1: for every pre-trigger and every flagged term, "TRIGGER TERM" is a mention."""
    phrase, context = trigger
    written, lexicon = term
    text = f"{phrase} {written}"
    reading = TABLE.read(text)
    assert lexicon in reading.named, text
    assert lexicon not in reading.lexicons, (text, contexts(text))
    raised = flags(text)
    assert TAKING[lexicon] not in raised or TAKING[lexicon] == "ketamine_reaction_history"
    assert MENTION in raised, text
    assert any(m.context == context for m in reading.matches if m.term.lexicon == lexicon)


@pytest.mark.parametrize("year_phrase", ["in 2019", "until 2018", "2015 2018", "en 2019"])
def test_year_triggers_read_as_past_use(year_phrase: str) -> None:
    assert [c for _w, c, _t in contexts(f"{year_phrase} Ativan")] == ["historical"]


@pytest.mark.parametrize(
    "text",
    [
        "no " * 1000 + "Xanax",  # 2,000 characters of one repeated trigger
        "not " * 500,  # a trigger with no medicine
        "stopped stopped stopped Ativan",
        "no Xanax 😀 but Ativan 🙂 maintenant",  # emoji
        "pas de Xanax but I take Ativan",  # two languages in one sentence
        "Allergies:",
        ":",
        "",
        "\n\n,;.",
    ],
)
def test_odd_text_reads_without_error(text: str) -> None:
    reading = TABLE.read(text)
    TABLE.evaluate({"medications": text})
    assert len(CONTEXT.read(text)) == len(split_words(text))
    if "Xanax" in text:
        assert "benzodiazepines" in reading.named


def test_a_long_run_of_one_trigger_still_negates_and_a_later_plain_mention_flags() -> None:
    assert flags("no " * 1000 + "Xanax") == {MENTION}
    assert flags("no " * 1000 + "Xanax. Ativan") == {"benzodiazepine"}


def test_placeholders_and_marks_compile() -> None:
    assert phrase_tokens("^avant") == (("avant",), True, False)
    assert phrase_tokens("Allergies:") == (("allergies",), False, True)
    assert phrase_tokens("il y a <number> ans")[0] == ("il", "y", "a", "\0number", "ans")


def test_an_empty_rule_set_reads_everything_as_plain() -> None:
    rules = ContextRules.compile([])
    assert rules.read("no Xanax") == [None, None]
    only = ContextRules.compile([Phrase("no", ("no",), "pre", frozenset({"negated"}))])
    scopes = only.read("no Xanax")
    assert scopes[0] is None and scopes[1] is not None and scopes[1].context == "negated"
