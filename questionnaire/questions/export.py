"""Write a catalogue as a definition file (forms/intake.yaml): the inverse of definition.py.

Used once to turn the Python declarations into data, and again whenever those
declarations change before they are retired (`flask questions export-yaml`). Every
text is written in each language given, looked up in that language's catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import yaml

from questionnaire.questions import cssrs, instruments
from questionnaire.questions.model import AskedWhen, Item, Kind, Section
from questionnaire.questions.parsers import parse_blood_pressure, parse_weight

#: A language's lookup: English text -> the text in that language.
Lookup = Callable[[str], str]

PARSER_NAMES: dict[Callable[[str], Any], str] = {
    parse_weight: "weight",
    parse_blood_pressure: "blood_pressure",
}

HEADER = """\
# The intake questionnaire, as data (docs/clinical-leads-questions.md says how to change it).
# Checked at start-up: a problem stops the app with its file, line and what to change.
# Standard instruments (instrument: phq9 ...) and C-SSRS items (cssrs: ...) are named,
# never written out: their published wording is kept in the package and cannot be edited.
"""


def definition_yaml(
    name: str,
    sections: Iterable[Section],
    facts: Iterable[str],
    crisis_triggers: Mapping[str, frozenset[str]],
    languages: Mapping[str, Lookup],
) -> str:
    """Return the YAML text of a definition that builds exactly these sections."""
    writer = _Writer(languages, crisis_triggers)
    data = {
        "questionnaire": name,
        "facts": list(facts),
        "sections": [writer.section(section) for section in sections],
    }
    return HEADER + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


class _Writer:
    def __init__(self, languages: Mapping[str, Lookup], triggers: Mapping[str, frozenset[str]]):
        self.languages = languages
        self.triggers = triggers

    def text(self, english: str) -> dict[str, str]:
        return {"en": english, **{tag: say(english) for tag, say in self.languages.items()}}

    def section(self, section: Section) -> dict[str, Any]:
        out: dict[str, Any] = {"id": section.id, "title": self.text(section.title)}
        if section.instrument is not None:
            out["instrument"] = section.instrument
            condition = section.items[0].asked_when if section.items else None
            if condition is not None:
                out["asked_when"] = self.asked_when(condition, section.items)
            return out
        if section.intro:
            out["intro"] = self.text(section.intro)
        if section.placement != "page":
            out["placement"] = section.placement
        out["items"] = []
        included: set[str] = set()
        for item in section.items:
            if item.instrument is not None:
                if item.instrument not in included:
                    included.add(item.instrument)
                    out["items"].append({"instrument": item.instrument})
                continue
            out["items"].append(self.item(item, section.items))
        return out

    def item(self, item: Item, siblings: Iterable[Item]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": item.id, "kind": item.kind.value}
        if item.role is not None:
            out["role"] = item.role.value
        published = item.id in cssrs.ITEMS and item.french_exempt == instruments.NO_OFFICIAL_FRENCH
        if published:
            out["cssrs"] = item.id
        else:
            out["label"] = self.text(item.label)
            if item.hint:
                out["hint"] = self.text(item.hint)
        if item.short_label:
            out["short_label"] = self.text(item.short_label)
        if item.error:
            out["error"] = self.text(item.error)
        if item.choices:
            out["choices"] = [
                {"code": choice.code, "label": self.text(choice.label)} for choice in item.choices
            ]
        if not item.required:
            out["required"] = False
        for name in ("max_length", "required_with", "unit_of", "autocomplete"):
            value = getattr(item, name)
            if value is not None:
                out[name] = value
        if item.min_choices:
            out["min_choices"] = item.min_choices
        if item.parser is not None:
            out["parser"] = PARSER_NAMES[item.parser]
        if item.asked_when is not None:
            out["asked_when"] = self.asked_when(item.asked_when, siblings)
        if item.id in self.triggers:
            out["shows_crisis_help"] = [c for c in item.codes if c in self.triggers[item.id]]
        if item.screener is False:
            out["screener"] = False
        if item.screener_label:
            (wording,) = (
                key for key, one in cssrs.ITEMS.items() if one.text == item.screener_label
            )
            out["screener_wording"] = wording
        if item.screener_asked_when is not None:
            out["screener_asked_when"] = self.asked_when(item.screener_asked_when, siblings)
        if item.screener_required is not None:
            out["screener_required"] = item.screener_required
        return out

    def asked_when(self, condition: AskedWhen, siblings: Iterable[Item]) -> dict[str, Any]:
        del siblings  # on_page is derived from where the item it depends on is asked
        kind = _kind_of(condition.item)
        operator = "includes_any" if kind is Kind.MULTI else "one_of"
        order = _codes_of(condition.item)
        leaf: dict[str, Any] = {
            "item": condition.item,
            operator: sorted(condition.one_of, key=lambda c: order.index(c) if c in order else 99),
        }
        when: dict[str, Any] = leaf
        if condition.unanswered:
            when = {"any": [leaf, {"item": condition.item, "answered": False}]}
        out: dict[str, Any] = {"when": when}
        if condition.hint:
            out["hint"] = self.text(condition.hint)
        return out


def _declared() -> dict[str, Item]:
    from questionnaire.questions import catalogue  # the declarations being exported

    return {item.id: item for section in catalogue.DECLARED_SECTIONS for item in section.items}


def _kind_of(item_id: str) -> Kind:
    return _declared()[item_id].kind


def _codes_of(item_id: str) -> list[str]:
    return list(_declared()[item_id].codes)
