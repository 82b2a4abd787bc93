"""Turn a FHIR R4 Questionnaire into a definition (forms/*.yaml), saying what did not carry over.

Pure: a parsed JSON resource in, the definition's data and a list of notes out. Groups
become pages, questions become items, answerOption codings become choices,
enableWhen on one earlier question becomes asked_when, and translation extensions
become the other languages' texts. A group or a run of items that is a standard
instrument the package holds (by its LOINC panel code, or its item ids) is included by
name, its wording taken from the package, never from the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from questionnaire.questions import cssrs, instruments

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
#: FHIR item types and the kind each becomes.
KINDS = {
    "string": "text",
    "text": "long_text",
    "integer": "number",
    "decimal": "number",
    "date": "date",
    "choice": "choice",
    "open-choice": "choice",
    "boolean": "choice",
}
_NOT_ID = re.compile(r"[^a-z0-9_]+")


def _local_code(question: str, answer: dict[str, Any]) -> str:
    """Return the answer code a condition names, in the instrument's own codes where it can.

    An instrument's answers are exported with LOINC's answer codes only (LA codes), so a
    condition on one (the AUDIT-C's first answer, say) comes back as its local score code.
    """
    code = str(answer["code"])
    instrument = instruments.INSTRUMENT_OF.get(question)
    if instrument is None or answer.get("system") != instruments.LOINC:
        return code
    by_loinc = {instrument.loinc_answer(local, question): local for local in instrument.codes}
    return by_loinc.get(code, code)


@dataclass
class Imported:
    """A definition's data, and a note for everything the Questionnaire held that it does not."""

    data: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def identifier(link_id: str) -> str:
    """Return an item id for a FHIR linkId: lower case, digits and _, starting with a letter."""
    text = _NOT_ID.sub("_", link_id.strip().lower()).strip("_") or "item"
    return text if text[0].isalpha() else f"q_{text}"


def import_questionnaire(resource: dict[str, Any], languages: dict[str, str]) -> Imported:
    """Return the definition of a Questionnaire; `languages` maps FHIR tags to locale ids."""
    if resource.get("resourceType") != "Questionnaire":
        raise ValueError(
            "the file is not a FHIR Questionnaire (resourceType must be Questionnaire)"
        )
    importer = _Importer(languages)
    name = identifier(str(resource.get("name") or resource.get("id") or "imported"))
    items = resource.get("item") or []
    panel = _instrument_by_code(resource.get("code"))
    sections: list[dict[str, Any] | None]
    if panel is not None:
        sections = [importer.instrument_page(panel, resource)]
    else:
        loose = [entry for entry in items if entry.get("type") != "group"]
        sections = [importer.group(group) for group in items if group.get("type") == "group"]
        if loose:
            title = resource.get("title") or resource.get("name") or "Questions"
            sections.insert(0, importer.group({"linkId": name, "text": title, "item": loose}))
    importer.notes.append(
        "roles are not part of FHIR: mark the date of birth, crisis question, consent boxes "
        "and contact items with role:, or merge into a definition that has them "
        "(--merge-into forms/intake.yaml)"
    )
    for key in ("extension", "modifierExtension", "contained"):
        if resource.get(key):
            importer.notes.append(f"the Questionnaire's {key} was not carried over")
    data = {"questionnaire": name, "facts": [], "sections": [s for s in sections if s]}
    return Imported(data, importer.notes)


def _instrument_by_code(codes: Iterable[dict[str, Any]] | None) -> instruments.Instrument | None:
    for coding in codes or []:
        for instrument in instruments.INSTRUMENTS:
            if coding.get("system") == instruments.LOINC and coding.get("code") in (
                instrument.loinc_panel,
            ):
                return instrument
    return None


class _Importer:
    def __init__(self, languages: dict[str, str]) -> None:
        self.languages = languages
        self.notes: list[str] = []
        self.seen: set[str] = set()
        #: The kind of each item carried over, for the conditions that name it.
        self.kinds: dict[str, str] = {}

    def texts(self, text: str, element: dict[str, Any] | None) -> dict[str, str]:
        out = {"en": text}
        for extension in (element or {}).get("extension", []):
            if extension.get("url") != TRANSLATION:
                continue
            parts = {part.get("url"): part for part in extension.get("extension", [])}
            tag = (parts.get("lang") or {}).get("valueCode")
            words = (parts.get("content") or {}).get("valueString")
            locale = self.languages.get(str(tag))
            if locale and words:
                out[locale] = words
        return out

    def instrument_page(
        self, instrument: instruments.Instrument, group: dict[str, Any]
    ) -> dict[str, Any]:
        self.notes.append(
            f"'{group.get('linkId') or group.get('id')}' is {instrument.name} (LOINC "
            f"{instrument.loinc_panel}): included by name (instrument: {instrument.id}); its "
            "wording is the package's, not the file's"
        )
        title = group.get("text") or group.get("title") or instrument.name
        if instrument.item_scales:
            return {
                "id": identifier(str(group.get("linkId") or instrument.id)),
                "title": self.texts(title, group.get("_text") or group.get("_title")),
                "items": [{"instrument": instrument.id}],
            }
        return {
            "id": instrument.id,
            "title": self.texts(title, group.get("_text") or group.get("_title")),
            "instrument": instrument.id,
        }

    def group(self, group: dict[str, Any]) -> dict[str, Any] | None:
        panel = _instrument_by_code(group.get("code"))
        if panel is not None:
            return self.instrument_page(panel, group)
        section_id = identifier(str(group.get("linkId")))
        items: list[dict[str, Any]] = []
        entries = list(group.get("item") or [])
        for instrument in instruments.INSTRUMENTS:
            ids = [identifier(str(entry.get("linkId"))) for entry in entries]
            if all(item_id in ids for item_id in instrument.item_ids):
                first = ids.index(instrument.item_ids[0])
                entries = [
                    entry
                    for entry in entries
                    if identifier(str(entry.get("linkId"))) not in instrument.item_ids
                ]
                entries.insert(first, {"_instrument": instrument.id})
                self.notes.append(
                    f"items {instrument.item_ids[0]} to {instrument.item_ids[-1]} are "
                    f"{instrument.name}: included by name (instrument: {instrument.id})"
                )
        for entry in entries:
            if "_instrument" in entry:
                items.append({"instrument": entry["_instrument"]})
                continue
            if entry.get("type") == "group":
                self.notes.append(
                    f"group '{entry.get('linkId')}' inside '{section_id}' was flattened into its page"
                )
                items.extend(filter(None, (self.item(child) for child in entry.get("item") or [])))
                continue
            built = self.item(entry)
            if built is not None:
                items.append(built)
        if not items:
            self.notes.append(f"group '{section_id}' held no question that could be carried over")
            return None
        return {
            "id": section_id,
            "title": self.texts(str(group.get("text") or section_id), group.get("_text")),
            "items": items,
        }

    def item(self, entry: dict[str, Any]) -> dict[str, Any] | None:
        link = str(entry.get("linkId"))
        item_id = identifier(link)
        kind = entry.get("type")
        if kind == "display":
            self.notes.append(f"'{link}' is display text, not a question: not carried over")
            return None
        if entry.get("readOnly"):
            self.notes.append(
                f"'{link}' is calculated, not asked (readOnly): not carried over; a total is "
                "a derived fact (facts:) here"
            )
            return None
        if item_id in self.seen:
            self.notes.append(f"'{link}' repeats an id already used: not carried over")
            return None
        self.seen.add(item_id)
        if item_id != link:
            self.notes.append(f"linkId '{link}' became id '{item_id}'")
        if item_id in cssrs.ITEMS:
            out: dict[str, Any] = {"id": item_id, "kind": "choice", "cssrs": item_id}
            self.notes.append(
                f"'{item_id}' is a C-SSRS screener item: its published words are the package's"
            )
            out["choices"] = self.choices(entry, item_id)
            return out
        if kind not in KINDS:
            self.notes.append(
                f"'{link}' is of FHIR type {kind}, which has no kind here: made a text item"
            )
        out = {
            "id": item_id,
            "kind": KINDS.get(str(kind), "text"),
            "label": self.texts(str(entry.get("text") or link), entry.get("_text")),
        }
        if kind == "boolean":
            out["choices"] = [
                {"code": "yes", "label": {"en": "Yes"}},
                {"code": "no", "label": {"en": "No"}},
            ]
            self.notes.append(
                f"'{item_id}' was a yes/no (boolean) question: made a choice of yes and no"
            )
        elif kind in ("choice", "open-choice"):
            if entry.get("repeats"):
                out["kind"] = "multi"
            out["choices"] = self.choices(entry, item_id)
            if kind == "open-choice":
                self.notes.append(
                    f"'{item_id}' allowed a typed answer besides its choices: only the choices were kept"
                )
            if entry.get("answerValueSet"):
                self.notes.append(
                    f"'{item_id}' takes its answers from the value set {entry['answerValueSet']}: "
                    "write its choices out"
                )
        if not entry.get("required"):
            out["required"] = False
        elif out["kind"] in ("choice", "multi"):
            out["error"] = {"en": f"Select an answer to: {out['label']['en']}"}
            self.notes.append(f"'{item_id}' needs an error message: one was drafted, reword it")
        else:
            out["error"] = {"en": f"Answer: {out['label']['en']}"}
            self.notes.append(f"'{item_id}' needs an error message: one was drafted, reword it")
        self.kinds[item_id] = out["kind"]
        if entry.get("maxLength"):
            out["max_length"] = int(entry["maxLength"])
        condition = self.enable_when(entry, item_id)
        if condition is not None:
            out["asked_when"] = condition
        for key in ("initial", "calculatedExpression", "extension", "code", "readOnly"):
            if entry.get(key):
                self.notes.append(f"'{item_id}': its {key} was not carried over")
        if entry.get("item"):
            self.notes.append(f"'{item_id}': the questions nested under it were not carried over")
        return out

    def choices(self, entry: dict[str, Any], item_id: str) -> list[dict[str, Any]]:
        choices = []
        for option in entry.get("answerOption") or []:
            coding = option.get("valueCoding")
            if coding is not None:
                code = str(coding.get("code") or "")
                label = self.texts(str(coding.get("display") or code), coding.get("_display"))
            elif "valueString" in option:
                code, label = identifier(option["valueString"]), {"en": option["valueString"]}
            elif "valueInteger" in option:
                code, label = str(option["valueInteger"]), {"en": str(option["valueInteger"])}
            else:
                self.notes.append(f"'{item_id}': an answer of another type was not carried over")
                continue
            if not code:
                self.notes.append(f"'{item_id}': an answer with no code was not carried over")
                continue
            choices.append({"code": code, "label": label})
        return choices

    def enable_when(self, entry: dict[str, Any], item_id: str) -> dict[str, Any] | None:
        conditions = entry.get("enableWhen") or []
        if not conditions:
            return None
        questions = {identifier(str(c.get("question"))) for c in conditions}
        codes = []
        for condition in conditions:
            answer = condition.get("answerCoding") or {}
            if condition.get("operator") == "=" and answer.get("code"):
                codes.append(_local_code(identifier(str(condition.get("question"))), answer))
            elif condition.get("operator") == "=" and "answerBoolean" in condition:
                codes.append("yes" if condition["answerBoolean"] else "no")
            else:
                codes = []
                break
        behaviour = entry.get("enableBehavior", "any" if len(conditions) > 1 else "all")
        if len(questions) != 1 or not codes or (len(conditions) > 1 and behaviour != "any"):
            self.notes.append(
                f"'{item_id}': its enableWhen could not be carried over (only answers to one "
                "earlier question can ask it here); it is asked always"
            )
            return None
        (question,) = questions
        operator = "includes_any" if self.kinds.get(question) == "multi" else "one_of"
        return {"when": {"item": question, operator: list(dict.fromkeys(codes))}}
