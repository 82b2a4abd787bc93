"""Error pages, registered in one place; a 500 rolls the database session back."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from questionnaire.extensions import db


def register(app: Flask) -> None:
    """Attach the error handlers to the app."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        return render_template("errors/error.html", code=code, name=error.name), code

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int]:
        # Log only the class: the message of an exception may hold patient answers.
        app.logger.error("Unhandled %s", type(getattr(error, "original_exception", error)).__name__)
        db.session.rollback()
        return render_template("errors/error.html", code=500, name="Something went wrong"), 500
