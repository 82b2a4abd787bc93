"""Clinician pages: parse the request, call a service, render."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("review", __name__, url_prefix="/clinic")


@bp.get("/")
def queue() -> str:
    """Show submissions, most urgent first."""
    return render_template("review/queue.html")
