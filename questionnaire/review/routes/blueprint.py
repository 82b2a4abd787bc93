"""The clinician blueprint: every page under /clinic, never cached; the `named` filter."""

from __future__ import annotations

from flask import Blueprint

from questionnaire import language as languages
from questionnaire import security
from questionnaire.review.present import named

bp = Blueprint("review", __name__, url_prefix="/clinic")

security.never_cache(bp)


@bp.app_template_filter("named")
def _named(code: str | None) -> str:
    """Return the words for a level, status, outcome or export code, in the reader's language."""
    return named(code, languages.translate)
