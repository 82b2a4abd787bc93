"""A gunicorn worker SIGKILLed in the middle of sending: no partial rows, the retry is deduplicated.

The worker is caught at an exact point, not by luck: the test holds a PostgreSQL lock
that the send must wait for, sees the worker's backend waiting on it, and kills the
worker there. Before the commit (the submission inserted, its flags waiting) and after
it (committed, queueing the urgent alert).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
import sqlalchemy as sa

from questionnaire.extensions import db
from questionnaire.flagging.table import rule_values
from questionnaire.intake import service as services
from questionnaire.records.models import Submission
from questionnaire.rules import highest_level
from tests.answers import with_changes
from tests.fault.conftest import GUNICORN_OPTIONS, PostgresCluster, fault_environment
from tests.harness.app import make_app
from tests.harness.patient import Patient
from tests.harness.served import Gunicorn, migrate, running_gunicorn

pytestmark = pytest.mark.fault

DATABASE = "killed"
WAIT = 15.0  # the longest any single step below may take (seconds)
FLAGGED = {"bp_reading": "152/94", "medications": "Ativan 1mg at night as needed"}
URGENT = {"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "yes"}


@dataclass
class Setup:
    cluster: PostgresCluster
    server: Gunicorn
    url: str
    folder: Path


@pytest.fixture(scope="module")
def setup(pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """One sync worker (so the one that takes the send is known), urgent alerts on."""
    folder = tmp_path_factory.mktemp("killed")
    pg_cluster.create_database(DATABASE)
    url = pg_cluster.url(DATABASE)
    environment = fault_environment(
        url, folder / "instance", ON_CALL_EMAILS="on-call@clinic.example"
    )
    migrate(environment)
    with running_gunicorn(environment, folder, workers=1, options=GUNICORN_OPTIONS) as server:
        yield Setup(pg_cluster, server, url, folder)


def draft_key(setup: Setup, patient: Patient) -> str:
    """Return the key of the patient's draft: the digest of the token in their session cookie."""
    app = make_app(setup.folder, SECRET_KEY=setup.server.environment["SECRET_KEY"])
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    session = serializer.loads(patient.http.cookies["session"])
    return services.digest(session["draft"])


def count(connection: psycopg.Connection, query: str, *params: Any) -> int:
    row = connection.execute(query, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row[0])


def wait_for_lock_wait(connection: psycopg.Connection) -> int:
    """Wait until a backend of the test database waits for a lock; return its pid."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        row = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()",
            (DATABASE,),
        ).fetchone()
        if row:
            return int(row[0])
        time.sleep(0.05)
    raise AssertionError("the send never reached the lock")


def relations_locked(connection: psycopg.Connection, pid: int, granted: bool) -> set[str]:
    rows = connection.execute(
        "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE l.pid = %s AND l.granted = %s",
        (pid, granted),
    ).fetchall()
    return {str(row[0]) for row in rows}


def wait_gone(connection: psycopg.Connection, pid: int) -> None:
    """Wait until a backend has ended (its transaction is then over, one way or the other)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if not count(connection, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", pid):
            return
        time.sleep(0.05)
    raise AssertionError(f"backend {pid} of the killed worker is still there")


def kill_the_worker(setup: Setup) -> int:
    (worker,) = setup.server.worker_pids()
    os.kill(worker, signal.SIGKILL)
    return worker


class Send(threading.Thread):
    """The patient pressing Send, in the background (the worker will die under it)."""

    def __init__(self, patient: Patient, form: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.patient, self.form = patient, form
        self.response: requests.Response | None = None

    def run(self) -> None:
        self.response = self.patient.request("POST", "/check", self.form)


def ready_to_send(setup: Setup, answers: dict[str, Any]) -> tuple[Patient, dict[str, str]]:
    """Return a patient who answered every page, and the send form as the button posts it."""
    patient = Patient(setup.server.base_url)
    deadline = time.monotonic() + WAIT
    patient.walk_to_check(answers, deadline)
    return patient, patient.send_form(deadline)


def stored_submissions(setup: Setup, key: str) -> list[Submission]:
    """Return the submissions of one draft, decrypted, with their flags checked against the rules."""
    app = make_app(setup.folder, SQLALCHEMY_DATABASE_URI=setup.url)
    with app.app_context():
        try:
            table = app.extensions["rule_table"]
            found = list(
                db.session.scalars(sa.select(Submission).where(Submission.draft_key == key))
            )
            for submission in found:
                findings = table.evaluate(rule_values(submission.answers, submission.facts))
                assert sorted(flag.rule for flag in submission.flags) == sorted(
                    finding.rule for finding in findings
                ), "partial flags"
                assert submission.highest_level == highest_level(findings)
                db.session.expunge(submission)
            return found
        finally:
            db.session.remove()
            db.engine.dispose()


def assert_no_orphans(connection: psycopg.Connection) -> None:
    assert not count(
        connection,
        "SELECT count(*) FROM flags f LEFT JOIN submissions s ON s.id = f.submission_id "
        "WHERE s.id IS NULL",
    ), "flags without their submission"
    assert not count(
        connection,
        "SELECT count(*) FROM drafts d JOIN submissions s ON s.draft_key = d.token_hash",
    ), "a sent draft still there"


def test_worker_killed_before_commit_leaves_nothing_and_the_retry_sends_once(
    setup: Setup,
) -> None:
    answers = {**with_changes(FLAGGED), "full_name": "Killed Before Commit"}
    patient, form = ready_to_send(setup, answers)
    try:
        key = draft_key(setup, patient)
        with (
            setup.cluster.connect(DATABASE) as watcher,
            setup.cluster.connect(DATABASE, autocommit=False) as locker,
        ):
            # Writing flags waits for this lock: the send has inserted its submission (and
            # deleted the draft) and waits here to insert the flags, in its one transaction.
            locker.execute("LOCK TABLE flags IN SHARE MODE")
            send = Send(patient, form)
            send.start()
            backend = wait_for_lock_wait(watcher)
            assert "flags" in relations_locked(watcher, backend, granted=False)
            held = relations_locked(watcher, backend, granted=True)
            assert "submissions" in held, f"not mid-transaction yet: {held}"
            worker = kill_the_worker(setup)
            send.join(WAIT)
            assert not send.is_alive()
            locker.rollback()
            wait_gone(watcher, backend)

            assert send.response is None, "the patient got an answer from a killed worker"
            assert count(watcher, "SELECT count(*) FROM submissions WHERE draft_key = %s", key) == 0
            assert count(watcher, "SELECT count(*) FROM drafts WHERE token_hash = %s", key) == 1
            assert_no_orphans(watcher)

            setup.server.wait_ready()
            assert worker not in setup.server.worker_pids()
            # The patient presses Send again: same cookies, same form.
            reference = patient.send_for_reference(form, time.monotonic() + WAIT)
            # And once more, as an impatient patient would: still the one submission.
            assert patient.send_for_reference(form, time.monotonic() + WAIT) == reference
            assert_no_orphans(watcher)
        (submission,) = stored_submissions(setup, key)
        assert submission.reference == reference
        assert submission.answers["full_name"] == answers["full_name"]
        assert submission.flags, "the flagged answers lost their flags"
    finally:
        patient.close()


def kill_during_alert_delivery(setup: Setup, name: str) -> tuple[str, str, int]:
    """Kill the worker after the send committed, while it delivers the on-call alert.

    The alert rows are written in the send's own transaction; delivery runs after the
    response. An older pending alert, locked here, holds delivery still so the worker
    can be killed at that moment. Returns the draft key, the reference and the id.
    """
    answers = {**with_changes(URGENT), "full_name": name}
    patient, form = ready_to_send(setup, answers)
    try:
        key = draft_key(setup, patient)
        with (
            setup.cluster.connect(DATABASE) as watcher,
            setup.cluster.connect(DATABASE, autocommit=False) as locker,
        ):
            older = watcher.execute(
                "INSERT INTO notifications (reference, address, state, attempts, created_at)"
                " VALUES ('OLDALERT', 'on-call@clinic.example', 'pending', 0, now())"
                " RETURNING id"
            ).fetchone()[0]
            locker.execute("SELECT id FROM notifications WHERE id = %s FOR UPDATE", (older,))
            send = Send(patient, form)
            send.start()
            backend = wait_for_lock_wait(watcher)  # delivery waits on the older alert's row
            committed = watcher.execute(
                "SELECT id, reference FROM submissions WHERE draft_key = %s", (key,)
            ).fetchall()
            assert len(committed) == 1, "the send had not committed before delivery"
            kill_the_worker(setup)
            send.join(WAIT)
            assert not send.is_alive()
            locker.rollback()
            wait_gone(watcher, backend)
            watcher.execute("DELETE FROM notifications WHERE id = %s", (older,))

            setup.server.wait_ready()
            # The patient (who may or may not have seen the page) sends again: the same one.
            reference = patient.send_for_reference(form, time.monotonic() + WAIT)
            assert_no_orphans(watcher)
        (submission,) = stored_submissions(setup, key)
        assert submission.reference == reference == committed[0][1]
        assert submission.highest_level == "urgent"
        return key, reference, int(committed[0][0])
    finally:
        patient.close()


def test_worker_killed_after_commit_the_retry_shows_the_same_submission(setup: Setup) -> None:
    kill_during_alert_delivery(setup, "Killed After Commit")


def test_worker_killed_after_commit_still_alerts_on_call(setup: Setup) -> None:
    """The alert was queued with the submission, so a killed worker cannot lose it."""
    _key, _reference, submission_id = kill_during_alert_delivery(setup, "Killed Before Alert")
    with setup.cluster.connect(DATABASE) as connection:
        alerts = count(
            connection,
            "SELECT count(*) FROM notifications WHERE submission_id = %s AND state <> 'sent'",
            submission_id,
        )
    assert alerts == 1, f"urgent submission {submission_id} has {alerts} unsent alerts, not 1"
