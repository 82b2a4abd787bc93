"""Error pages, registered in one place; a 500 rolls the database session back."""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from questionnaire.extensions import db


def _layout() -> str:
    # Clinicians see their own layout; patients keep the crisis line in the footer.
    return "clinic_base.html" if request.path.startswith("/clinic") else "base.html"


def register(app: Flask) -> None:
    """Attach the error handlers to the app."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        page = render_template(
            "errors/error.html",
            code=code,
            name=error.name,
            layout=_layout(),
            # Only messages written for people (security.InputRefused), never werkzeug's own.
            message=getattr(error, "plain_message", None),
        )
        return page, code

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int]:
        # Log only the class: the message of an exception may hold patient answers.
        app.logger.error("Unhandled %s", type(getattr(error, "original_exception", error)).__name__)
        db.session.rollback()
        page = render_template(
            "errors/error.html", code=500, name="Something went wrong", layout=_layout()
        )
        return page, 500
