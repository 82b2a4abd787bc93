"""Error pages, registered in one place; a 500 rolls the database session back."""

from __future__ import annotations

import json

from flask import Flask, Response, render_template, request
from sqlalchemy.orm.exc import ObjectDeletedError
from werkzeug.exceptions import HTTPException, NotFound

from questionnaire.exports.fhir_server import ISSUE_OF_STATUS, operation_outcome
from questionnaire.extensions import db
from questionnaire.questions.wording import N_

#: Page titles in plain words (werkzeug's own names are terse, and English only).
TITLES = {
    400: N_("We could not use that request"),
    403: N_("You cannot open this page"),
    404: N_("Page not found"),
    405: N_("We could not do that"),
    415: N_("We could not use that request"),
    500: N_("Something went wrong"),
}


def _layout() -> str:
    # Clinicians see their own layout; patients keep the crisis line in the footer.
    return "clinic_base.html" if request.path.startswith("/clinic") else "base.html"


def is_fhir() -> bool:
    """Return whether the request is for the FHIR surface (answered in FHIR, never HTML)."""
    return request.path == "/fhir" or request.path.startswith("/fhir/")


def fhir_outcome(code: int, diagnostics: str) -> Response:
    """Return an error of the FHIR surface as an OperationOutcome with its status."""
    outcome = operation_outcome(ISSUE_OF_STATUS.get(code, "processing"), diagnostics)
    return Response(json.dumps(outcome), status=code, mimetype="application/fhir+json")


def register(app: Flask) -> None:
    """Attach the error handlers to the app."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response:
        code = error.code or 500
        if is_fhir():
            # werkzeug's own short description (no request data in it), e.g. "Not Found".
            return fhir_outcome(code, f"{error.name}: see /fhir/metadata for what is served.")
        page = render_template(
            "errors/error.html",
            code=code,
            name=TITLES.get(code, error.name),
            layout=_layout(),
            # Only messages written for people (security.InputRefused), never werkzeug's own.
            message=getattr(error, "plain_message", None),
        )
        return page, code

    @app.errorhandler(ObjectDeletedError)
    def vanished(error: ObjectDeletedError) -> tuple[str, int] | Response:
        # A row read by this request was deleted meanwhile (a submission deleted on the
        # patient's request while a page was being made): it is not found, not a failure.
        db.session.rollback()
        return http_error(NotFound())

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int] | Response:
        # Log only the class: the message of an exception may hold patient answers.
        app.logger.error("Unhandled %s", type(getattr(error, "original_exception", error)).__name__)
        db.session.rollback()
        if is_fhir():
            return fhir_outcome(500, "The server could not answer this request.")
        page = render_template("errors/error.html", code=500, name=TITLES[500], layout=_layout())
        return page, 500
