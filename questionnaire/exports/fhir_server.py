"""The public read-only FHIR R4 surface: what /fhir serves, as JSON-ready dicts.

Pure functions, like fhir.py: the caller passes the deployment's base URL, the
clinic's name, the rule table and the versions the app has served. Only public
resources live here: the Questionnaire (every version served), the CodeSystems and
ValueSets our answers and flags name, and the CapabilityStatement that says so.
Nothing of any patient's: submissions export only behind sign-in (review/).

Every refusal is an OperationOutcome with its HTTP status (`FhirError`), never an
HTML page. docs/fhir.md describes the surface for clinic IT.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from questionnaire.exports import fhir
from questionnaire.questions import catalogue
from questionnaire.questions.catalogue import Item
from questionnaire.questions.crisis import fill_numbers
from questionnaire.rules.engine import RuleTable

FHIR_VERSION = "4.0.1"
#: The `_format` values the surface answers (JSON only).
JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})
#: The search parameters of each resource type (and `_format`, accepted everywhere).
SEARCH_PARAMS: dict[str, dict[str, str]] = {
    "Questionnaire": {"url": "uri", "version": "token", "_id": "token"},
    "CodeSystem": {"url": "uri", "_id": "token"},
    "ValueSet": {"url": "uri", "_id": "token"},
}
RULES_ID = "rules"


class FhirError(Exception):
    """A request the surface refuses: an HTTP status and an OperationOutcome issue."""

    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> dict[str, Any]:
    """Return an OperationOutcome with one issue (code from FHIR's issue-type value set)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


#: The issue type of an HTTP error status, for OperationOutcomes of errors outside the views.
ISSUE_OF_STATUS = {
    400: "invalid",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    413: "too-costly",
    429: "throttled",
    500: "exception",
    503: "transient",
}


def check_params(
    args: Mapping[str, str] | Iterable[str], resource_type: str | None, search: bool
) -> None:
    """Refuse an unknown parameter or a `_format` other than JSON (400 OperationOutcome).

    A read takes `_format` only; a search also its type's search parameters.
    """
    allowed = {"_format"}
    if search and resource_type is not None:
        allowed |= set(SEARCH_PARAMS[resource_type])
    for name in args:
        if name not in allowed:
            raise FhirError(
                400,
                "not-supported",
                f"Unknown parameter '{name}'. Supported here: {', '.join(sorted(allowed))} "
                "(see /fhir/metadata).",
            )
    if isinstance(args, Mapping):
        wanted = args.get("_format")
        if wanted is not None and wanted not in JSON_FORMATS:
            raise FhirError(
                400,
                "not-supported",
                f"_format '{wanted}' is not served: this server speaks JSON only "
                "(_format=json or application/fhir+json).",
            )


# --- the CapabilityStatement -------------------------------------------------------------


def capability_statement(base_url: str, clinic_name: str, date: datetime) -> dict[str, Any]:
    """Return the CapabilityStatement: exactly what the surface supports, no more."""
    base = base_url.rstrip("/")

    def resource(kind: str, interactions: Sequence[str], documentation: str) -> dict[str, Any]:
        return {
            "type": kind,
            "documentation": documentation,
            "interaction": [{"code": code} for code in interactions],
            "versioning": "versioned" if kind == "Questionnaire" else "no-version",
            "readHistory": False,
            "updateCreate": False,
            "searchParam": [
                {"name": name, "type": kind_of} for name, kind_of in SEARCH_PARAMS[kind].items()
            ],
        }

    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date.isoformat(),
        "publisher": clinic_name,
        "kind": "instance",
        "software": {"name": "Ketamine clinic intake questionnaire"},
        "implementation": {
            "description": f"{clinic_name}: the intake questionnaire's public FHIR resources",
            "url": f"{base}/fhir",
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read-only. Public resources only: the intake Questionnaire (every version "
                    "served) and the CodeSystems and ValueSets its answers and flags name. "
                    "Patients' responses are never served here: clinicians export them "
                    "after signing in."
                ),
                "security": {
                    "cors": False,
                    "description": "No authentication: nothing served here concerns a patient.",
                },
                "resource": [
                    resource(
                        "Questionnaire",
                        ("read", "vread", "search-type"),
                        "Read the current version (Questionnaire/intake), read an earlier "
                        "version served (Questionnaire/intake/_history/VERSION), or search by "
                        "url, url|version, version or _id (a searchset Bundle).",
                    ),
                    resource(
                        "CodeSystem",
                        ("read", "search-type"),
                        "The answer codes of each question (CodeSystem/ITEM_ID) and the rule "
                        "ids of flags (CodeSystem/rules).",
                    ),
                    resource(
                        "ValueSet",
                        ("read", "search-type"),
                        "All the codes of each question's CodeSystem (ValueSet/ITEM_ID).",
                    ),
                ],
            }
        ],
    }


# --- searchset Bundles --------------------------------------------------------------------


def searchset(self_url: str, resources: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Return a searchset Bundle of (fullUrl, resource) pairs, each a match."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {"fullUrl": full_url, "resource": resource, "search": {"mode": "match"}}
            for full_url, resource in resources
        ],
    }


# --- Questionnaire versions -----------------------------------------------------------------

#: How a stored Questionnaire writes the deployment's base URL (replaced when served).
BASE_PLACEHOLDER = "urn:x-intake-base"


@dataclass(frozen=True, slots=True)
class Versions:
    """The Questionnaire's current version and those the app served before, by version."""

    current: dict[str, Any]
    #: Stored JSON texts, their base URL as BASE_PLACEHOLDER (fhir_versions.py).
    earlier: Mapping[str, str]

    def find(self, version: str, base_url: str) -> dict[str, Any] | None:
        """Return one version as served, on this deployment's base URL, or None."""
        if version == self.current["version"]:
            return self.current
        text = self.earlier.get(version)
        if text is None:
            return None
        return with_version_id(json.loads(text.replace(BASE_PLACEHOLDER, base_url.rstrip("/"))))


def with_version_id(resource: dict[str, Any]) -> dict[str, Any]:
    """Return a Questionnaire whose meta.versionId is its business version (for vread)."""
    return {**resource, "meta": {"versionId": resource["version"]}}


def search_questionnaires(
    versions: Versions, base_url: str, args: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Return the Questionnaires a search names, or raise a 404 FhirError when none.

    `url` alone (or no parameter, or `_id=intake`) finds the current version; `url|version`
    or `version` finds that version among every version served.
    """
    current = versions.current
    url = args.get("url")
    version = args.get("version")
    if url is not None and "|" in url:
        url, _, piped = url.partition("|")
        if version is not None and version != piped:
            raise FhirError(400, "invalid", "url|version and version name different versions.")
        version = piped
    if url is not None and url != current["url"]:
        raise FhirError(404, "not-found", f"No questionnaire has the url '{url}'.")
    if args.get("_id") is not None and args["_id"] != current["id"]:
        raise FhirError(404, "not-found", f"No questionnaire has the id '{args['_id']}'.")
    if version is None:
        return [current]
    found = versions.find(version, base_url)
    if found is None:
        raise FhirError(
            404, "not-found", f"Version '{version}' of this questionnaire was never served."
        )
    return [found]


# --- CodeSystems and ValueSets ----------------------------------------------------------------


def _name(item_id: str, suffix: str) -> str:
    """Return a computable FHIR name: PascalCase words of the id, then the suffix."""
    return "".join(part.capitalize() for part in item_id.split("_")) + suffix


def answer_code_system(
    item: Item,
    base_url: str,
    translations: Mapping[str, Callable[[str], str]],
    earlier_codes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the CodeSystem of one question's answer codes.

    Every code the question has today, then any code an earlier version served that it
    has no more (`earlier_codes`: code -> display), so an old response's code still resolves.
    Each display carries its other languages as designations.
    """
    concepts = []
    for choice in item.choices:
        concept: dict[str, Any] = {"code": choice.code, "display": choice.label}
        designations = [
            {"language": tag, "value": words}
            for tag, gettext in translations.items()
            if not item.french_exempt and (words := gettext(choice.label)) != choice.label
        ]
        if designations:
            concept["designation"] = designations
        concepts.append(concept)
    for code, display in (earlier_codes or {}).items():
        if code not in item.codes:
            concepts.append({"code": code, "display": display})
    return {
        "resourceType": "CodeSystem",
        "id": resource_id(item.id),
        "url": fhir.answer_system(base_url, item.id),
        "name": _name(item.id, "Answers"),
        "title": f"Answers to: {item.label}",
        "status": "active",
        "caseSensitive": True,
        "content": "complete",
        "valueSet": value_set_url(base_url, item.id),
        "count": len(concepts),
        "concept": concepts,
    }


def rules_code_system(
    table: RuleTable, base_url: str, settings: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the CodeSystem of rule ids: each rule's short label and its message."""
    return {
        "resourceType": "CodeSystem",
        "id": RULES_ID,
        "url": fhir.rules_system(base_url),
        "version": table.version,
        "name": "IntakeRules",
        "title": "Intake rule table: the rules that raise flags (DetectedIssue.code)",
        "status": "active",
        "caseSensitive": True,
        "content": "complete",
        "count": len(table.rules),
        "concept": [
            {
                "code": rule.id,
                "display": rule.short_name,
                "definition": fill_numbers(rule.message, settings),
            }
            for rule in table.rules
        ],
    }


def value_set_url(base_url: str, item_id: str) -> str:
    """Return the canonical URL of one question's ValueSet."""
    return f"{base_url.rstrip('/')}/fhir/ValueSet/{item_id}"


def answer_value_set(item: Item, base_url: str) -> dict[str, Any]:
    """Return the ValueSet of every code of one question's CodeSystem."""
    return {
        "resourceType": "ValueSet",
        "id": resource_id(item.id),
        "url": value_set_url(base_url, item.id),
        "name": _name(item.id, "AnswerSet"),
        "title": f"Answers to: {item.label}",
        "status": "active",
        "compose": {"include": [{"system": fhir.answer_system(base_url, item.id)}]},
    }


def resource_id(item_id: str) -> str:
    """Return a question's resource id: its item id with hyphens (a FHIR id has no "_")."""
    return item_id.replace("_", "-")


def item_of(ident: str) -> Item | None:
    """Return the coded question a path names, by item id (the URL) or resource id."""
    items = coded_items()
    return items.get(ident) or next(
        (item for item_id, item in items.items() if resource_id(item_id) == ident), None
    )


def coded_items() -> dict[str, Item]:
    """Return the questions whose answers are codes, by id (each has a CodeSystem)."""
    return {item.id: item for item in catalogue.ITEMS.values() if item.choices}
