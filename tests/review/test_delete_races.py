""" "Delete it" at the moment a clinician opens the same submission: exactly one wins.

Before, 6 of 48 tries let the delete through while the page was being opened (2 pages
showed the answers, 4 gave a 500). Now the open and the delete take the submission's
lock in turn: either the page opens (and the delete is refused, the submission having
had clinical use), or the delete goes through (and the page is a 404). Never both,
never a 5xx. Concurrently, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import Submission
from tests.fixtures import AddSubmission
from tests.harness.app import Clock, app_with_pool
from tests.harness.clinician import make_clinician, sign_in
from tests.harness.forms import csrf_token
from tests.intake.test_races import all_at_once

ROUNDS = 8
NAME = "Wilhelmina Quartermaine"


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    """The app, with a pool that serves both threads at once (add_submission uses it)."""
    with app_with_pool(database_url, tmp_path, clock, 6) as pooled:
        yield pooled


def _signed_in(app: Flask, email: str, *, admin: bool) -> FlaskClient:
    client = app.test_client()
    sign_in(client, app, make_clinician(app, email, email.split("@")[0], is_admin=admin))
    return client


def test_delete_and_open_at_once_exactly_one_wins(
    app: Flask, add_submission: AddSubmission
) -> None:
    pooled_app, add = app, add_submission
    admin = _signed_in(pooled_app, "admin@clinic.example", admin=True)
    reader = _signed_in(pooled_app, "reader@clinic.example", admin=False)
    token = csrf_token(admin.get("/clinic/"))
    outcomes = []
    for _ in range(ROUNDS):
        reference = add(answers={"full_name": NAME, "date_of_birth": "1980-05-17"})

        def delete(reference: str = reference) -> int:
            data = {"reason": "sent_by_mistake", "confirmed": "yes", "csrf_token": token}
            return admin.post(f"/clinic/requests/{reference}/delete", data=data).status_code

        def open_page(reference: str = reference) -> tuple[int, bool]:
            response = reader.get(f"/clinic/submissions/{reference}")
            return response.status_code, NAME in response.get_data(as_text=True)

        deleted, (opened, shown) = all_at_once([delete, open_page])  # type: ignore[misc]
        with pooled_app.app_context():
            still_there = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Submission)
                .where(Submission.reference == reference)
            )
        outcomes.append((deleted, opened))
        assert deleted < 500 and opened < 500, (deleted, opened)
        if still_there:  # the clinician won: the page showed it, the delete was refused
            assert (deleted, opened, shown) == (400, 200, True)
        else:  # the delete won: the page is a 404 and shows nothing
            assert (deleted, opened, shown) == (303, 404, False)
    assert len(outcomes) == ROUNDS
