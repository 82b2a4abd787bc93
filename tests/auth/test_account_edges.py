"""Account edges: a disabled account's links, the last admin, a disabled requester's exports.

- Disabling ends every open enrolment link of the account, and an open link of a
  disabled account is refused (issue 23, point 5).
- Removing an admin role (or disabling an admin) is one statement conditional on another
  active admin remaining; two admins removing each other at once leave exactly one
  (point 6, tested concurrently on SQLite and PostgreSQL); `flask clinician set-admin`
  restores the role from the shell, audited.
- Disabling a clinician cancels their queued and running exports and deletes their
  files, audited (point 12).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.auth.accounts import service as account_service
from questionnaire.exports import jobs
from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent, Clinician, EnrolmentLink, ExportJob
from questionnaire.records.queue import QueueFilter
from tests.auth.test_accounts import choose_password, invite, switch
from tests.harness.app import Clock, app_with_pool
from tests.harness.clinician import TestClinician, make_clinician, signed_in_client
from tests.harness.forms import csrf_token
from tests.intake.test_races import all_at_once


@pytest.fixture
def admin(app: Flask) -> TestClinician:
    return make_clinician(app, "lead@clinic.example", "Lead Admin", is_admin=True)


@pytest.fixture
def admin_client(app: Flask, admin: TestClinician) -> FlaskClient:
    return signed_in_client(app, admin)


def _id_of(app: Flask, email: str) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(Clinician.id).where(Clinician.email == email))
        assert found is not None
        return int(found)


def _actions(app: Flask, *wanted: str) -> list[tuple[str, dict[str, object]]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.action.in_(wanted))
            .order_by(AuditEvent.id)
        ).all()
    return [(action, dict(detail or {})) for action, detail in rows]


# --- point 5: a disabled account's links ------------------------------------------------


def test_disabling_ends_the_open_enrolment_link(app: Flask, admin_client: FlaskClient) -> None:
    path = invite(admin_client)
    bea = _id_of(app, "bea@clinic.example")
    assert switch(admin_client, bea, "active", "off").status_code == 303
    newcomer = app.test_client()
    assert newcomer.get(path).status_code == 404
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(EnrolmentLink)
                .where(EnrolmentLink.clinician_id == bea, EnrolmentLink.used_at.is_(None))
            )
            == 0
        )
    # Enabled again: the old link stays dead (a new one is made with "reset second factor").
    assert switch(admin_client, bea, "active", "on").status_code == 303
    assert newcomer.get(path).status_code == 404


def test_an_open_link_of_a_disabled_account_is_refused(
    app: Flask, admin_client: FlaskClient
) -> None:
    path = invite(admin_client)
    newcomer = app.test_client()
    page = choose_password(newcomer, path)  # half-way: password chosen, QR code shown
    assert page.status_code == 200
    with app.app_context():  # disabled behind the app's back (another host, the shell)
        db.session.execute(
            sa.update(Clinician)
            .where(Clinician.email == "bea@clinic.example")
            .values(is_active=False)
        )
        db.session.commit()
    assert newcomer.get(path).status_code == 404
    action = "/clinic/enrol/code"
    data = {"token": path.rsplit("/", 1)[-1], "code": "123456", "csrf_token": csrf_token(page)}
    assert newcomer.post(action, data=data).status_code == 404


# --- point 6: the last admin ------------------------------------------------------------


@pytest.fixture
def pooled_app(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    with app_with_pool(database_url, tmp_path, clock, 6) as pooled:
        yield pooled


def _admins(app: Flask) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Clinician.email).where(
                    Clinician.is_admin.is_(True), Clinician.is_active.is_(True)
                )
            )
        )


@pytest.mark.parametrize("change", ["admin", "active"])
def test_two_admins_removing_each_other_at_once_leave_exactly_one(
    pooled_app: Flask, change: str
) -> None:
    one = make_clinician(pooled_app, "one@clinic.example", "Admin One", is_admin=True)
    two = make_clinician(pooled_app, "two@clinic.example", "Admin Two", is_admin=True)
    clients = [signed_in_client(pooled_app, one), signed_in_client(pooled_app, two)]
    tokens = [csrf_token(client.get("/clinic/accounts/")) for client in clients]
    targets = [two.id, one.id]

    def remover(index: int) -> object:
        def press() -> str:
            response = clients[index].post(
                f"/clinic/accounts/{targets[index]}/{change}",
                data={"value": "off", "csrf_token": tokens[index]},
            )
            # The loser is refused by the page (303 with the reason) or, when the winner's
            # commit came first, by the guard: it is no longer an admin (403).
            assert response.status_code in {303, 403}
            return response.status_code

        return press

    all_at_once([remover(0), remover(1)])
    assert len(_admins(pooled_app)) == 1
    removed = "admin_removed" if change == "admin" else "clinician_disabled"
    assert len(_actions(pooled_app, removed)) == 1


def test_an_admin_whose_role_was_just_removed_cannot_remove_the_last_one(
    app: Flask, admin: TestClinician
) -> None:
    other = make_clinician(app, "two@clinic.example", "Admin Two", is_admin=True)
    with app.app_context():
        lead = db.session.get(Clinician, admin.id)
        two = db.session.get(Clinician, other.id)
        assert lead is not None and two is not None
        # Two's role is removed by the lead (committed); Two's page, loaded before, still
        # offers the lead's switch: pressing it must leave the lead an admin.
        account_service.set_switch(db.session, two, "admin", False, by=lead)
        db.session.commit()
        with pytest.raises(account_service.LastAdminRefused):
            account_service.set_switch(db.session, lead, "admin", False, by=two)
        db.session.rollback()
    assert _admins(app) == ["lead@clinic.example"]


def test_set_admin_from_the_shell_restores_the_role_audited(app: Flask) -> None:
    ana = make_clinician(app, "ana@clinic.example")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["clinician", "set-admin", "ANA@clinic.example"])
    assert result.exit_code == 0, result.output
    assert "ana@clinic.example is now an admin" in result.output
    assert _admins(app) == ["ana@clinic.example"]
    assert _actions(app, "admin_granted") == [
        ("admin_granted", {"clinician_id": ana.id, "via": "cli"})
    ]
    unknown = runner.invoke(args=["clinician", "set-admin", "nobody@clinic.example"])
    assert unknown.exit_code != 0 and "No clinician" in unknown.output


# --- point 12: a disabled requester's exports -------------------------------------------


def test_disabling_cancels_the_clinicians_exports_and_deletes_their_files(
    app: Flask, admin_client: FlaskClient, clock: Clock
) -> None:
    ana = make_clinician(app, "ana@clinic.example")
    with app.app_context():
        db.session.execute(sa.update(Clinician).values(can_export=True))
        db.session.commit()
        requester = db.session.get(Clinician, ana.id)
        assert requester is not None
        queued = jobs.create_job(
            db.session, requester, "submissions", QueueFilter(), app.config, clock()
        ).id
        done = jobs.create_job(
            db.session, requester, "flags", QueueFilter(), app.config, clock()
        ).id
    app.test_cli_runner().invoke(args=["exports", "worker", "--once"])
    with app.app_context():
        states = dict(db.session.execute(sa.select(ExportJob.id, ExportJob.state)).all())
    assert "done" in states.values()
    folder = Path(app.config["EXPORT_DIR"])
    assert list(folder.glob("*"))
    assert switch(admin_client, ana.id, "active", "off").status_code == 303
    with app.app_context():
        states = dict(db.session.execute(sa.select(ExportJob.id, ExportJob.state)).all())
    assert states == {queued: "expired", done: "expired"}
    assert list(folder.glob("*")) == []
    cancelled = _actions(app, "exports_cancelled")
    assert cancelled == [("exports_cancelled", {"clinician_id": ana.id, "jobs": 2})]
    # Enabled again, nothing of those exports can be downloaded.
    assert switch(admin_client, ana.id, "active", "on").status_code == 303
    client = signed_in_client(app, ana)
    for job_id in (queued, done):
        response = client.get(f"/clinic/exports/{job_id}/download")
        assert response.status_code != 200
        assert "attachment" not in response.headers.get("Content-Disposition", "")
