"""audit.record(): one event per action, with who, what, which submission, when; never more."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from questionnaire import audit
from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent, Submission
from tests.fixtures import AddSubmission
from tests.harness.app import CASE_DAY, Clock


def test_an_event_names_the_submission_the_clinic_clock_and_no_address_outside_a_request(
    app: Flask, add_submission: AddSubmission, clock: Clock
) -> None:
    reference = add_submission()
    clock.advance(minutes=5)
    with app.app_context():
        submission = db.session.scalar(sa.select(Submission))
        assert submission is not None
        audit.record(db.session, "view_submission", submission=submission, detail={"a": "b"})
        db.session.commit()
        event = db.session.scalar(sa.select(AuditEvent))
        assert event is not None
        assert (event.action, event.reference, event.submission_id) == (
            "view_submission",
            reference,
            submission.id,
        )
        assert event.at == CASE_DAY.replace(minute=5)
        assert event.client_address is None and event.actor_id is None
        assert event.detail == {"a": "b"}


def test_a_reference_alone_may_name_what_was_done_to(app: Flask) -> None:
    with app.app_context():
        event = audit.record(db.session, "export_fhir", reference="ABCD2345")
        assert (event.reference, event.submission_id, event.detail) == ("ABCD2345", None, {})


def test_an_unknown_action_is_refused_with_what_to_do(app: Flask) -> None:
    with app.app_context(), pytest.raises(ValueError, match=r"add it to audit\.ACTIONS"):
        audit.record(db.session, "looked_around")
