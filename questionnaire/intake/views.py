"""Patient pages: parse the request, call a service, render."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("intake", __name__)


@bp.get("/")
def start() -> str:
    """Show what this questionnaire is, how long it takes, and where to get help now."""
    return render_template("intake/start.html")
