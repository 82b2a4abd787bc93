"""Public FHIR endpoint: the Questionnaire, derived from items.py (no patient data)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app

from questionnaire import language, security
from questionnaire.exports import fhir

bp = Blueprint("fhir", __name__, url_prefix="/fhir")


@bp.get("/Questionnaire")
@bp.get("/Questionnaire/intake")
def questionnaire() -> Response:
    """Return the intake Questionnaire as FHIR R4 JSON."""
    resource = fhir.questionnaire_resource(
        security.base_url(), current_app.config["CLINIC_NAME"], language.catalogues()
    )
    return Response(json.dumps(resource, indent=2), mimetype="application/fhir+json")
