"""The YAML reader: YAML 1.2 booleans, safe construction, and a line for every value."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from questionnaire.rules.yamlload import parse


def test_only_true_and_false_are_booleans() -> None:
    data = parse("a: yes\nb: no\nc: on\nd: off\ne: true\nf: False\ng: [yes, no, Y, n]\n").data
    assert data == {
        "a": "yes",
        "b": "no",
        "c": "on",
        "d": "off",
        "e": True,
        "f": False,
        "g": ["yes", "no", "Y", "n"],
    }


def test_plain_safe_load_is_not_changed() -> None:
    assert yaml.safe_load("a: yes") == {"a": True}


def test_dates_numbers_and_nulls_still_resolve() -> None:
    assert parse("d: 2026-06-01\nn: 70\nf: 1.5\nz: null\n").data == {
        "d": date(2026, 6, 1),
        "n": 70,
        "f": 1.5,
        "z": None,
    }


def test_unsafe_tags_are_refused() -> None:
    with pytest.raises(yaml.YAMLError):
        parse("x: !!python/object/apply:os.system [echo hi]\n")


def test_every_key_and_list_item_has_its_line() -> None:
    document = parse("rules:\n  - id: a\n    when:\n      any:\n        - {item: x}\n")
    assert document.lines[("rules",)] == 1
    assert document.lines[("rules", 0)] == 2
    assert document.lines[("rules", 0, "when")] == 3
    assert document.lines[("rules", 0, "when", "any", 0)] == 5
    assert document.lines[("rules", 0, "when", "any", 0, "item")] == 5
    assert document.line_of(("rules", 0, "when", "any", 0, "nope", 3)) == 5
    assert document.line_of(("elsewhere",)) == 1


def test_duplicate_keys_are_recorded() -> None:
    document = parse("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert document.duplicates == [(("b", "c"), 3, 4)]


def test_cyclic_aliases_do_not_hang() -> None:
    document = parse("a: &x [1, *x]\n")
    assert document.lines[("a",)] == 1


def test_an_empty_document() -> None:
    assert parse("").data is None
