"""Fixtures for the review pages: stored submissions and signed-in clinicians."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import Flag, Submission
from questionnaire.records.references import new_reference
from questionnaire.rules import LEVEL_RANK
from tests.answers import BASELINE_DATE
from tests.auth.helpers import TestClinician, make_clinician, sign_in, signed_in_client
from tests.conftest import CASE_DAY

_keys = itertools.count()

AddSubmission = Callable[..., str]


@pytest.fixture
def add_submission(app: Flask) -> AddSubmission:
    """Return a factory that stores a submission with flags of given levels; returns its reference."""

    def factory(
        flags: list[tuple[str, str]] | None = None,
        at: datetime | None = None,
        status: str = "new",
        answers: dict | None = None,
    ) -> str:
        flags = flags or []
        levels = [level for _, level in flags]
        highest = next((level for level in ("urgent", "review", "info") if level in levels), None)
        with app.app_context():
            submission = Submission(
                draft_key=f"key-{next(_keys)}",
                reference=new_reference(),
                submitted_at=at or CASE_DAY,
                language="en",
                answers=answers or {"full_name": "Sam Example", "date_of_birth": "1980-05-17"},
                facts={"age_years": 46},
                rules_version="2026.11.1",
                rules_sha256="0" * 64,
                status=status,
                highest_level=highest,
                level_rank=LEVEL_RANK[highest],
                flags=[
                    Flag(
                        rule=rule,
                        level=level,
                        message=f"Reports {rule}.",
                        source="test",
                        evidence=[],
                    )
                    for rule, level in flags
                ],
            )
            db.session.add(submission)
            db.session.commit()
            return submission.reference

    return factory


@pytest.fixture
def reviewer(app: Flask) -> TestClinician:
    return make_clinician(app, email="reviewer@clinic.example", name="Dr Reviewer")


@pytest.fixture
def admin(app: Flask) -> TestClinician:
    return make_clinician(app, email="admin@clinic.example", name="Ada Admin", is_admin=True)


@pytest.fixture
def as_reviewer(app: Flask, client: FlaskClient, reviewer: TestClinician) -> FlaskClient:
    sign_in(client, app, reviewer)
    return client


@pytest.fixture
def colleague(app: Flask) -> TestClinician:
    return make_clinician(app, email="colleague@clinic.example", name="Dr Colleague")


@pytest.fixture
def as_colleague(app: Flask, colleague: TestClinician) -> FlaskClient:
    """Return a second browser, signed in as `colleague`."""
    return signed_in_client(app, colleague)


@pytest.fixture
def as_admin(app: Flask, client: FlaskClient, admin: TestClinician) -> FlaskClient:
    sign_in(client, app, admin)
    return client


def minutes(n: int) -> datetime:
    """Return a time n minutes after the test day's noon."""
    return CASE_DAY + timedelta(minutes=n)


__all__ = ["BASELINE_DATE", "minutes"]
