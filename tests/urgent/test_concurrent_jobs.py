"""Cron jobs run from several hosts at once: each run happens once (issue 23, point 13).

A clinic network runs the alerts sweep, the purge and the export expiry from every app
host. Each job holds its own lock for the whole run (a PostgreSQL session advisory lock;
a lock file beside a SQLite database), so a second run at the same moment does nothing:
exactly one alert per urgent intake, one escalation, one purge pass, one expiry pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from questionnaire.exports import jobs as export_jobs
from questionnaire.extensions import db
from questionnaire.ops.purge import purge
from questionnaire.records import locks
from questionnaire.records.models import AuditEvent
from questionnaire.urgent import sweep as alerts
from tests.fixtures import AddSubmission
from tests.harness.app import Clock, app_with_pool
from tests.intake.test_races import all_at_once
from tests.ops.test_alerts import Inbox, inbox

__all__ = ["inbox"]

HOSTS = 4
ESCALATE = "lead@clinic.example"


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    """The app, with a pool that serves every "host" at once (add_submission uses it)."""
    with app_with_pool(database_url, tmp_path, clock, HOSTS * 2 + 2) as pooled:
        yield pooled


def _on_every_host(app: Flask, job: object) -> list[object]:
    def run() -> object:
        with app.app_context():
            try:
                return job()  # type: ignore[operator]
            finally:
                db.session.remove()

    return all_at_once([run] * HOSTS)


def _audited(app: Flask, action: str) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == action)
            )
            or 0
        )


def test_sweeps_at_once_send_one_escalation_per_address(
    app: Flask, add_submission: AddSubmission, clock: Clock, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    app.config.update(
        ON_CALL_EMAILS="oncall@clinic.example",
        ESCALATION_EMAILS=f"{ESCALATE}, second@clinic.example",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
    )
    for _ in range(3):
        add_submission(flags=[("suicidal_thoughts_now", "urgent")], at=clock())
    clock.advance(minutes=61)
    table, now = app.extensions["rule_table"], clock()
    results = _on_every_host(app, lambda: alerts.sweep(db.session, table, app.config, now))
    recipients = sorted(rcpt for rcpts, _ in handler.messages for rcpt in rcpts)
    # Three urgent submissions, two escalation addresses: six emails, never more.
    assert recipients == sorted([ESCALATE, "second@clinic.example"] * 3)
    assert sum(result.escalated for result in results) == 3  # type: ignore[attr-defined]


def test_purges_at_once_make_one_pass(
    app: Flask, add_submission: AddSubmission, clock: Clock
) -> None:
    for _ in range(3):
        add_submission(at=clock() - timedelta(days=400))
    now = clock()
    results = _on_every_host(app, lambda: purge(db.session, 365, now))
    ran = [result for result in results if not result.skipped]  # type: ignore[attr-defined]
    # However the runs fell, the rows went once and every pass that ran is on the record.
    assert sum(result.submissions for result in ran) == 3  # type: ignore[attr-defined]
    assert _audited(app, "purge") == len(ran) >= 1


def test_while_one_host_runs_a_job_every_other_host_does_nothing(
    app: Flask, add_submission: AddSubmission, clock: Clock
) -> None:
    add_submission(at=clock() - timedelta(days=400))
    add_submission(flags=[("suicidal_thoughts_now", "urgent")], at=clock())
    app.config.update(ESCALATION_EMAILS=ESCALATE, SMTP_PORT=9)
    clock.advance(minutes=61)
    table, now = app.extensions["rule_table"], clock()
    with app.app_context():
        with (
            locks.one_run(db.session, "purge") as purging,
            locks.one_run(db.session, "alerts") as sweeping,
        ):
            assert purging and sweeping  # this "host" is mid-run
            purged = _on_every_host(app, lambda: purge(db.session, 365, now))
            swept = _on_every_host(app, lambda: alerts.sweep(db.session, table, app.config, now))
            assert all(result.skipped for result in [*purged, *swept])  # type: ignore[attr-defined]
            assert _audited(app, "purge") == 0
        db.session.remove()
    with app.app_context():
        assert purge(db.session, 365, now).submissions == 1
        assert alerts.sweep(db.session, table, app.config, now).escalated == 1
        db.session.remove()
    assert _audited(app, "purge") == 1


def test_export_expiry_at_once_makes_one_pass(app: Flask, clock: Clock) -> None:
    from questionnaire.records.models import Clinician, ExportJob

    with app.app_context():
        clinician = Clinician(
            email="ana@clinic.example", name="Ana", password_hash="x", totp_secret="x" * 32
        )
        db.session.add(clinician)
        db.session.flush()
        for _ in range(3):
            db.session.add(
                ExportJob(
                    requester_id=clinician.id,
                    kind="submissions",
                    state="done",
                    created_at=clock(),
                    expires_at=clock() - timedelta(hours=1),
                )
            )
        db.session.commit()
    now = clock()
    results = _on_every_host(app, lambda: export_jobs.expire_jobs(db.session, app.config, now))
    assert sum(results) == 3  # type: ignore[arg-type]
    assert _audited(app, "export_expired") == 1
