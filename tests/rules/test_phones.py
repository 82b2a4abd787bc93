"""`rules check` refuses a phone number written into a rule message: numbers come from settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from questionnaire.rules.phones import find_phone_number
from tests.rules.test_loader import VALID, only, problems_of


@pytest.mark.parametrize(
    "message",
    [
        "Shown crisis resources (9-8-8, 911).",
        "Shown the crisis line 988.",
        "Shown the crisis line 116 123.",
        "Told to call 999.",
        "Told to call 1-800-273-8255.",
        "Told to call (416) 555-0100.",
    ],
)
def test_a_phone_number_in_a_message_is_refused(tmp_path: Path, message: str) -> None:
    problem = only(problems_of(tmp_path, VALID.replace("Takes a benzodiazepine.", message)))
    assert (problem.line, problem.subject) == (18, "rule 'benzo'")
    assert "{crisis_line}" in problem.message and "{emergency_number}" in problem.message


@pytest.mark.parametrize(
    "message",
    [
        "Was shown crisis resources ({crisis_line}, {emergency_number}).",
        "Blood pressure at least 140/90 mmHg.",
        "Weight outside 35 to 250 kg.",
        "Tried one antidepressant for 4 to 6 weeks.",
        "Takes 12.5 mg or more.",
        "Is 65 years old or older.",
        "Born before 1950-01-01.",
        "Born before 1 1 1950.",
    ],
)
def test_measures_and_placeholders_are_not_phone_numbers(tmp_path: Path, message: str) -> None:
    assert find_phone_number(message) is None
    assert problems_of(tmp_path, VALID.replace("Takes a benzodiazepine.", message)) == []


def test_no_item_wording_writes_a_phone_number() -> None:
    from questionnaire.questions.catalogue import ITEMS, SECTIONS

    texts = [s.intro for s in SECTIONS] + [s.title for s in SECTIONS]
    for item in ITEMS.values():
        texts += [item.label, item.hint, *(choice.label for choice in item.choices)]
        if item.asked_when:
            texts.append(item.asked_when.hint)
    assert [text for text in texts if find_phone_number(text)] == []


def test_no_template_writes_a_phone_number() -> None:
    import re

    from tests.harness.app import PROJECT_ROOT

    found = {}
    for path in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        # Only the words people read: not Jinja expressions or attribute values.
        text = re.sub(r"\{[{%#].*?[}%#]\}|<[^>]*>", " ", path.read_text(encoding="utf-8"))
        number = find_phone_number(text)
        if number:
            found[path.name] = number
    assert found == {}
