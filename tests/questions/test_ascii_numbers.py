"""One rule for every number field: ASCII digits only (issue 23, point 11).

Full-width (U+FF10-FF19), Arabic-Indic, Devanagari and superscript digits are refused
by every number a patient or a clinician types, as the date of birth and the codes
already refused them.
"""

from __future__ import annotations

import pytest

from questionnaire.questions import catalogue
from questionnaire.questions.text import ascii_number

OTHER_DIGITS = [
    "\uff17\uff10",
    "\u0667\u0660",
    "\u096d\u0966",
    "⁷⁰",
    "7\uff10",
    "\U0001d7d5\U0001d7ce",
]


def _number_items() -> list[catalogue.Item]:
    return [
        item
        for item in catalogue.ITEMS.values()
        if item.kind is catalogue.Kind.NUMBER or item.parser is not None
    ]


@pytest.mark.parametrize("digits", OTHER_DIGITS)
def test_every_number_field_refuses_digits_other_than_ascii(digits: str) -> None:
    items = _number_items()
    assert any(item.id == "weight_value" for item in items)
    for item in items:
        parse = catalogue.parser_of(item)
        for text in (digits, f"{digits}.5", f"1{digits}", f"{digits}/80", f"120/{digits}"):
            with pytest.raises(ValueError):
                parse(text)


def test_the_same_values_in_ascii_are_read() -> None:
    assert catalogue.parser_of(catalogue.ITEMS["weight_value"])("70,5") == 70.5


@pytest.mark.parametrize("digits", OTHER_DIGITS)
def test_ascii_number_is_the_one_rule(digits: str) -> None:
    assert ascii_number(digits, 12) is None
    assert ascii_number("70", 12) == 70
    assert ascii_number("1234", 3) is None
    assert ascii_number(" 7", 3) is None and ascii_number("1_0", 3) is None
