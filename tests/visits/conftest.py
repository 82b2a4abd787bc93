"""Fixtures for treatment visits: a reviewed intake, a clinician, booking on the test clock."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import Submission
from questionnaire.records.references import new_reference
from tests.harness.app import CASE_DAY
from tests.harness.clinician import TestClinician, make_clinician, sign_in

_keys = itertools.count()

AddIntake = Callable[..., str]


@pytest.fixture
def add_intake(app: Flask) -> AddIntake:
    """Return a factory that stores an intake (reviewed unless told) and returns its reference."""

    def factory(
        status: str = "reviewed",
        language: str = "en",
        facts: dict[str, Any] | None = None,
        hidden: bool = False,
    ) -> str:
        with app.app_context():
            submission = Submission(
                draft_key=f"visit-key-{next(_keys)}",
                reference=new_reference(),
                submitted_at=CASE_DAY,
                language=language,
                answers={"full_name": "Sam Example", "email": "sam@example.org"},
                facts={"age_years": 46, **(facts or {})},
                rules_version="2026.11.1",
                rules_sha256="0" * 64,
                status=status,
                highest_level=None,
                level_rank=3,
                hidden_at=CASE_DAY if hidden else None,
                hidden_reason="consent_withdrawn" if hidden else None,
            )
            db.session.add(submission)
            db.session.commit()
            return submission.reference

    return factory


@pytest.fixture
def reviewer(app: Flask) -> TestClinician:
    return make_clinician(app, email="reviewer@clinic.example", name="Dr Reviewer")


@pytest.fixture
def as_reviewer(app: Flask, client: FlaskClient, reviewer: TestClinician) -> FlaskClient:
    sign_in(client, app, reviewer)
    return client


def book(app: Flask, reference: str, at: str) -> str:
    """Book a visit through the CLI and return its check-in link's path."""
    result = app.test_cli_runner().invoke(args=["visits", "schedule", reference, "--at", at])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1].split(": ", 1)[1]
    return link.split("localhost", 1)[1]
