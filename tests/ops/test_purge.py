"""Retention: purge() deletes what is older than the cut-off, keeps the rest and the trail."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from questionnaire.extensions import db
from questionnaire.intake import service
from questionnaire.ops.purge import Purged, purge
from questionnaire.records.models import AuditEvent, Draft, Flag, Submission
from tests.fixtures import AddSubmission
from tests.harness.app import CASE_DAY


def test_purge_deletes_only_what_is_older_than_the_cut_off(
    app: Flask, add_submission: AddSubmission
) -> None:
    old = add_submission([("benzodiazepine", "review")], at=CASE_DAY - timedelta(days=31))
    kept = add_submission([("heart_condition", "review")], at=CASE_DAY - timedelta(days=29))
    with app.app_context():
        done = purge(db.session, 30, CASE_DAY)
        assert done == Purged(submissions=1, flags=1, notes=0, notifications=0, drafts=0)
        assert list(db.session.scalars(sa.select(Submission.reference))) == [kept]
        assert [flag.rule for flag in db.session.scalars(sa.select(Flag))] == ["heart_condition"]
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "purge"))
        assert event is not None and event.detail["older_than_days"] == 30
        assert event.detail["submissions"] == 1
        assert old not in str(event.detail)  # the trail says how many, never which


def test_purge_removes_expired_drafts_and_keeps_live_ones(app: Flask) -> None:
    with app.app_context():
        expired, _ = service.start_draft(db.session, language="en", now=CASE_DAY)
        live, _ = service.start_draft(db.session, language="en", now=CASE_DAY + timedelta(days=2))
        db.session.commit()
        expired_id, live_id = expired.id, live.id
        done = purge(db.session, 30, CASE_DAY + timedelta(days=3, hours=1))
        assert done.drafts == 1
        assert list(db.session.scalars(sa.select(Draft.id))) == [live_id]
        assert expired_id != live_id


def test_flask_purge_keeps_about_ten_years_by_default(
    app: Flask, add_submission: AddSubmission
) -> None:
    # RETENTION_DAYS defaults to 3650: records law keeps a reviewed intake for years.
    add_submission([("benzodiazepine", "review")], at=CASE_DAY - timedelta(days=3651))
    kept = add_submission([("heart_condition", "review")], at=CASE_DAY - timedelta(days=731))
    result = app.test_cli_runner().invoke(args=["purge"])
    assert "Deleted 1 submissions older than 3650 days" in result.output
    with app.app_context():
        assert list(db.session.scalars(sa.select(Submission.reference))) == [kept]
