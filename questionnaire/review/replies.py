"""How the clinic's pages answer besides a page of their own: a notice, a download, a 404
for a reference that names no submission, the page for a filter the queue does not offer.

Shared by the review blueprint's modules (views, exports, request_pages), so none of them
reaches into another's private helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, abort, flash, render_template

from questionnaire import language as languages
from questionnaire.extensions import DbSession, db
from questionnaire.questions.wording import N_, Phrase
from questionnaire.records.filters import BadQuery
from questionnaire.records.models import Submission
from questionnaire.records.references import parse_reference
from questionnaire.review import actions

T = TypeVar("T")

#: Query parameters that hold a position in a list, not a filter a person chose.
PAGING = frozenset({"after", "before"})


def flash_done(message: str) -> None:
    """Show a notice of what was done on the next page, in the reader's language."""
    # Translated now: a flashed message waits in the session as plain text.
    flash(languages.translate(message), "success")


def download(body: Any, mimetype: str, filename: str) -> Response:
    """Return a response the browser saves as `filename` (never a patient's name or answer)."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def found_or_404(reference: str, find: Callable[[DbSession, str], T | None]) -> T:
    """Return what `find` finds for a reference (as typed or linked); abort with 404 if none."""
    code = parse_reference(reference)
    found = find(db.session, code) if code else None
    if found is None:
        abort(404)
    return found


def submission_or_404(reference: str) -> Submission:
    """Return the submission a reference names; abort with 404 if none."""
    return found_or_404(reference, actions.find_submission)


def bad_filter(error: BadQuery) -> tuple[str, int]:
    """Return the 400 page for a filter or page link the queue does not offer."""
    message = Phrase(
        N_("The filter '%(name)s' is not one the queue offers. Choose from the lists."),
        name=str(error),
    )
    if str(error) in PAGING:
        message = Phrase(
            N_("That page link is not valid. Go back to the first page and use its links.")
        )
    return render_template("review/bad_filter.html", message=message), 400
