"""Public FHIR endpoints (read-only, no patient data): /fhir/metadata, the Questionnaire in
every version served, and the CodeSystems and ValueSets our answers and flags name.

Each refusal is a FHIR OperationOutcome with its status (400 or 404), never an HTML
page; errors.py does the same for a /fhir path no route matches. docs/fhir.md.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from questionnaire import language, security
from questionnaire.exports import fhir, fhir_versions
from questionnaire.exports.fhir_server import (
    RULES_ID,
    FhirError,
    Versions,
    answer_code_system,
    answer_value_set,
    capability_statement,
    check_params,
    coded_items,
    item_of,
    operation_outcome,
    rules_code_system,
    search_questionnaires,
    searchset,
    value_set_url,
    with_version_id,
)
from questionnaire.extensions import db
from questionnaire.flagging import versions
from questionnaire.questions.version import VERSIONS

bp = Blueprint("fhir", __name__, url_prefix="/fhir")
MIMETYPE = "application/fhir+json"
#: The blueprints whose pages serve the questionnaire.
SERVING = frozenset({"intake", "fhir"})


def fhir_json(resource: dict[str, Any], status: int = 200) -> Response:
    """Return a resource as FHIR JSON."""
    return Response(json.dumps(resource, indent=2), status=status, mimetype=MIMETYPE)


@bp.errorhandler(FhirError)
def refused(error: FhirError) -> Response:
    """Answer a refused request with its OperationOutcome."""
    return fhir_json(operation_outcome(error.code, error.diagnostics), error.status)


@bp.before_app_request
def remember_version() -> None:
    """Store the questionnaire version this process serves, once (an old response resolves)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # Served means shown to a patient (intake) or to a FHIR client: other pages skip this.
    if app.extensions.get("fhir_version_remembered") or request.blueprint not in SERVING:
        return
    try:
        fhir_versions.remember(
            db.engine,
            app.config["CLINIC_NAME"],
            language.catalogues(app),
            app.config["CLOCK"](),
            screener=_screener(),
        )
        versions.remember_definition(db.engine, app.config["CLOCK"]())
    except SQLAlchemyError as error:
        # Tried again on the next request; the page asked for is served regardless.
        app.logger.warning("Could not record the questionnaire version: %s", type(error).__name__)
        return
    app.extensions["fhir_version_remembered"] = True


def _base() -> str:
    return security.base_url()


def _screener() -> bool:
    """Return whether the clinic asks the C-SSRS screener (its Questionnaire says so)."""
    return bool(current_app.config.get("CSSRS_SCREENER_ENABLED"))


def _current() -> dict[str, Any]:
    return with_version_id(
        fhir.questionnaire_resource(
            _base(), current_app.config["CLINIC_NAME"], language.catalogues(), _screener()
        )
    )


def _earlier() -> dict[str, str]:
    """Return the stored earlier versions; a database outage is a 503 OperationOutcome."""
    try:
        return fhir_versions.earlier(db.session, VERSIONS[_screener()])
    except SQLAlchemyError as error:
        db.session.rollback()
        raise FhirError(
            503, "transient", "The versions served could not be read; try again."
        ) from error


def _versions(earlier: bool = True) -> Versions:
    """Return the current version, and the earlier ones from the database when asked for."""
    return Versions(current=_current(), earlier=_earlier() if earlier else {})


def _self_link() -> str:
    """Return this request's URL on the public address (never the Host header's)."""
    return _base() + request.full_path.rstrip("?")


@bp.get("/metadata")
def metadata() -> Response:
    """Return the CapabilityStatement."""
    check_params(request.args, None, search=False)
    clock = current_app.config["CLOCK"]
    return fhir_json(capability_statement(_base(), current_app.config["CLINIC_NAME"], clock()))


@bp.get("/Questionnaire")
def questionnaire_search() -> Response:
    """Search Questionnaires by url, url|version, version or _id: a searchset Bundle."""
    check_params(request.args, "Questionnaire", search=True)
    # Only a search naming a version reads the earlier ones.
    named = "version" in request.args or "|" in request.args.get("url", "")
    found = search_questionnaires(_versions(earlier=named), _base(), request.args)
    full_url = fhir.questionnaire_url(_base())
    return fhir_json(searchset(_self_link(), [(full_url, resource) for resource in found]))


@bp.get("/Questionnaire/<ident>")
def questionnaire(ident: str) -> Response:
    """Return the current intake Questionnaire (read)."""
    check_params(request.args, "Questionnaire", search=False)
    if ident != fhir.QUESTIONNAIRE_ID:
        raise FhirError(404, "not-found", f"No Questionnaire has the id '{ident}'.")
    return fhir_json(_current())


@bp.get("/Questionnaire/<ident>/_history/<version>")
def questionnaire_version(ident: str, version: str) -> Response:
    """Return one version of the Questionnaire the app has served (vread)."""
    check_params(request.args, "Questionnaire", search=False)
    if ident != fhir.QUESTIONNAIRE_ID:
        raise FhirError(404, "not-found", f"No Questionnaire has the id '{ident}'.")
    found = _versions().find(version, _base())
    if found is None:
        raise FhirError(404, "not-found", f"Version '{version}' was never served.")
    return fhir_json(found)


def _code_system(ident: str, earlier: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    if ident == RULES_ID:
        table = current_app.extensions["rule_table"]
        return rules_code_system(table, _base(), current_app.config)
    item = item_of(ident)
    if item is None:
        raise FhirError(404, "not-found", f"No CodeSystem has the id '{ident}'.")
    if earlier is None:
        earlier = fhir_versions.earlier_codes(_earlier())
    return answer_code_system(item, _base(), language.catalogues(), earlier.get(item.id))


def _value_set(ident: str) -> dict[str, Any]:
    item = item_of(ident)
    if item is None:
        raise FhirError(404, "not-found", f"No ValueSet has the id '{ident}'.")
    return answer_value_set(item, _base())


@bp.get("/CodeSystem/<ident>")
def code_system(ident: str) -> Response:
    """Return one CodeSystem: a question's answer codes, or the rules' ids."""
    check_params(request.args, "CodeSystem", search=False)
    return fhir_json(_code_system(ident))


@bp.get("/ValueSet/<ident>")
def value_set(ident: str) -> Response:
    """Return one question's ValueSet."""
    check_params(request.args, "ValueSet", search=False)
    return fhir_json(_value_set(ident))


def _search(kind: str, url_of: Any, read: Any, idents: list[str]) -> Response:
    check_params(request.args, kind, search=True)
    url = request.args.get("url")
    ident = request.args.get("_id")
    if url is not None:
        url = url.partition("|")[0]
        by_url = {url_of(i): i for i in idents}
        if url not in by_url:
            raise FhirError(404, "not-found", f"No {kind} has the url '{url}'.")
        idents = [by_url[url]]
    if ident is not None:
        if ident not in idents:
            raise FhirError(404, "not-found", f"No {kind} has the id '{ident}'.")
        idents = [ident]
    base = _base()
    return fhir_json(
        searchset(_self_link(), [(f"{base}/fhir/{kind}/{i}", read(i)) for i in idents])
    )


@bp.get("/CodeSystem")
def code_system_search() -> Response:
    """Search CodeSystems by url or _id (no parameter: every one)."""
    base = _base()

    def url_of(ident: str) -> str:
        return fhir.rules_system(base) if ident == RULES_ID else fhir.answer_system(base, ident)

    earlier = fhir_versions.earlier_codes(_earlier())
    return _search(
        "CodeSystem",
        url_of,
        lambda ident: _code_system(ident, earlier),
        [*coded_items(), RULES_ID],
    )


@bp.get("/ValueSet")
def value_set_search() -> Response:
    """Search ValueSets by url or _id (no parameter: every one)."""
    base = _base()
    return _search(
        "ValueSet", lambda ident: value_set_url(base, ident), _value_set, list(coded_items())
    )
