"""Whatever a clinic changes, a definition that loads still asks the crisis question.

A property test over generated definitions (the shipped one, changed at random):
whenever one loads, some page asks the crisis question, in both settings of the C-SSRS
screener, and choosing "yes" on it shows crisis help at once.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from questionnaire.questions import catalogue
from questionnaire.questions.definition import DefinitionError, load_definition
from questionnaire.rules.yamlload import StrictLoader

SHIPPED = Path(__file__).resolve().parents[2] / "forms" / "intake.yaml"
DATA = yaml.load(SHIPPED.read_text(encoding="utf-8"), Loader=StrictLoader)  # noqa: S506
CRISIS = "suicidal_thoughts_now"
OWN_ITEMS = [
    one["id"] for section in DATA["sections"] for one in section.get("items", []) if "id" in one
]
SECTIONS = [section["id"] for section in DATA["sections"]]
CHOICE_ITEMS = {
    one["id"]: [choice["code"] for choice in one["choices"]]
    for section in DATA["sections"]
    for one in section.get("items", [])
    if one.get("kind") == "choice"
}
ROLES = ["crisis", "date_of_birth", "privacy_consent", "understands_review", "contact"]

#: Half the edits touch the crisis question itself; the rest any item.
item_ids = st.one_of(st.just(CRISIS), st.sampled_from(OWN_ITEMS))
#: Conditions lean on the safety page's items (screener-only ones among them), else any.
SAFETY = [one["id"] for one in next(s for s in DATA["sections"] if s["id"] == "safety")["items"]]
depends_on = st.one_of(
    st.sampled_from([one for one in SAFETY if one in CHOICE_ITEMS]),
    st.sampled_from(sorted(CHOICE_ITEMS)),
)
mutation = st.one_of(
    st.tuples(st.just("drop"), item_ids),
    st.tuples(st.just("role"), item_ids, st.sampled_from([*ROLES, None])),
    st.tuples(
        st.just("crisis_help"),
        item_ids,
        st.lists(st.sampled_from(["yes", "no", "prefer_not", "unsure"]), max_size=3, unique=True),
    ),
    st.tuples(st.just("move"), item_ids, st.sampled_from(SECTIONS)),
    st.tuples(
        st.just("when"),
        item_ids,
        depends_on,
        st.lists(st.sampled_from(["yes", "no", "prefer_not", "0", "1"]), min_size=1, max_size=2),
    ),
    st.tuples(st.just("unwhen"), item_ids),
    st.tuples(st.just("screener"), item_ids, st.sampled_from([True, False])),
    st.tuples(st.just("placement"), st.sampled_from(SECTIONS), st.sampled_from(["page", "edges"])),
    st.tuples(st.just("swap"), st.sampled_from(SECTIONS), st.sampled_from(SECTIONS)),
)


def _find(data: dict[str, Any], item_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    for section in data["sections"]:
        for one in section.get("items", []):
            if one.get("id") == item_id:
                return section, one
    return None


def _section(data: dict[str, Any], section_id: str) -> dict[str, Any]:
    return next(section for section in data["sections"] if section["id"] == section_id)


def apply(data: dict[str, Any], change: tuple[Any, ...]) -> None:
    """Apply one clinic's edit to the definition's data (an edit that no longer fits is skipped)."""
    kind, target, *rest = change
    if kind == "placement":
        _section(data, target)["placement"] = rest[0]
        return
    if kind == "swap":
        sections = data["sections"]
        i, j = SECTIONS.index(target), SECTIONS.index(rest[0])
        if i < len(sections) and j < len(sections):
            sections[i], sections[j] = sections[j], sections[i]
        return
    found = _find(data, target)
    if found is None:
        return
    section, one = found
    if kind == "drop":
        section["items"].remove(one)
    elif kind == "role":
        if rest[0] is None:
            one.pop("role", None)
        else:
            one["role"] = rest[0]
    elif kind == "crisis_help":
        one["shows_crisis_help"] = rest[0]
    elif kind == "move":
        destination = _section(data, rest[0])
        if "items" in destination:
            section["items"].remove(one)
            destination["items"].append(one)
    elif kind == "when":
        one["asked_when"] = {
            "when": {"item": rest[0], "one_of": rest[1]},
            "hint": {"en": "Answer this if so.", "fr_CA": "Répondez-y si oui."},
        }
    elif kind == "unwhen":
        one.pop("asked_when", None)
    elif kind == "screener":
        one["screener"] = rest[0]


def reaching(item: catalogue.Item) -> dict[str, Any] | None:
    """Return answers under which an item is asked: each condition on its way met by an
    item every patient is asked (any language, either screener setting); None if none."""
    answers: dict[str, Any] = {}
    current: catalogue.Item | None = item
    while current is not None and current.asked_when is not None:
        condition = current.asked_when
        before = catalogue.ITEMS[condition.item]
        if before.french_exempt or before.screener is not None:
            return None
        code = next(c for c in before.codes if c in condition.one_of)
        answers[before.id] = [code] if before.kind is catalogue.Kind.MULTI else code
        current = before
    return answers


def asks_crisis_question(screener: bool) -> bool:
    """Return whether some page asks the crisis question, and "yes" on it shows crisis help."""
    crisis = catalogue.CRISIS_QUESTION
    answers = reaching(crisis)
    if answers is None:
        return False
    for page in catalogue.PAGES:
        asked = catalogue.asked_section(page, screener)
        if crisis.id not in {one.id for one in asked.items}:
            continue
        if not catalogue.section_is_asked(page, answers, "en"):
            continue
        if not catalogue.section_is_asked(page, answers, "fr-CA"):
            continue
        if not catalogue.is_asked(crisis, answers):
            continue
        return catalogue.needs_crisis_help({**answers, crisis.id: "yes"})
    return False


def test_a_definition_that_loads_always_asks_the_crisis_question(tmp_path: Path) -> None:
    outcomes = {"loaded": 0, "refused": 0}
    path = tmp_path / "intake.yaml"

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(mutation, min_size=1, max_size=4))
    # Known ways to hide the question, always tried: behind a screener-only or an
    # English-only item, on the last step, asked with one screener setting only.
    @example([("when", CRISIS, "wish_dead_past_month", ["yes"])])
    @example([("when", CRISIS, "auditc_1", ["1"])])
    @example([("move", CRISIS, "consent"), ("unwhen", CRISIS)])
    @example([("screener", CRISIS, False)])
    @example([("drop", CRISIS)])
    def loads_only_with_crisis_help(changes: list[tuple[Any, ...]]) -> None:
        data = copy.deepcopy(DATA)
        for change in changes:
            apply(data, change)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        try:
            definition = load_definition(path, ["en", "fr_CA"], all_facts=catalogue.ALL_FACTS)
        except DefinitionError:
            outcomes["refused"] += 1
            return
        outcomes["loaded"] += 1
        catalogue.install(definition)
        assert asks_crisis_question(screener=False), changes
        assert asks_crisis_question(screener=True), changes

    loads_only_with_crisis_help()
    # Both branches ran: the property was tested on definitions that loaded.
    assert outcomes["loaded"] > 0
    assert outcomes["refused"] > 0


def test_the_shipped_definition_asks_the_crisis_question() -> None:
    assert asks_crisis_question(screener=False)
    assert asks_crisis_question(screener=True)
