"""A patient's requests (issue 14): a copy, a correction, withdrawal before and after clinical use.

Service tests run on SQLite and PostgreSQL (the `app` fixture); page tests check who may
do what and that the audit keeps the reference and a coded reason, never the content.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.exports import jobs
from questionnaire.extensions import db
from questionnaire.records.models import (
    AuditEvent,
    Clinician,
    Correction,
    Draft,
    ExportJob,
    Flag,
    Notification,
    QueueCount,
    Submission,
    UnsentIntake,
)
from questionnaire.records.queue import QueueFilter, all_in_queue, queue_page
from questionnaire.records.references import format_reference
from questionnaire.review import actions
from questionnaire.review import requests as patient_requests
from tests.fixtures import AddSubmission
from tests.harness.app import CASE_DAY
from tests.harness.clinician import TestClinician
from tests.harness.forms import csrf_token

NAME = "Wilhelmina Quartermaine"
ANSWERS = {
    "full_name": NAME,
    "date_of_birth": "1980-05-17",
    "email": "wq@example.org",
    "takes_benzodiazepine": "yes",
}


def _clinician(email: str) -> Clinician:
    found = db.session.scalar(sa.select(Clinician).where(Clinician.email == email))
    assert found is not None
    return found


def _submission(reference: str) -> Submission:
    found = actions.find_submission(db.session, reference)
    assert found is not None
    return found


def _queue_total() -> int:
    return int(db.session.scalar(sa.select(sa.func.sum(QueueCount.n))) or 0)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _export_job(app: Flask, started: Any) -> tuple[int, Any]:
    """Store a finished export job started at `started` with a file on disk; return both."""
    job = ExportJob(
        kind="submissions",
        state="done",
        attempts=1,
        created_at=started,
        started_at=started,
        finished_at=started,
        expires_at=started + timedelta(hours=24),
    )
    db.session.add(job)
    db.session.commit()
    path = jobs.file_path(app.config, job.id, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"sealed")
    return job.id, path


# --- withdrawal before clinical use: deleted with everything made from it ----------------------


def test_a_submission_nobody_used_is_deleted_with_everything_made_from_it(
    app: Flask, add_submission: AddSubmission, admin: TestClinician
) -> None:
    reference = add_submission([("benzodiazepine", "review")], answers=ANSWERS)
    kept = add_submission([("heart_condition", "review")], at=CASE_DAY - timedelta(days=2))
    with app.app_context():
        found = _submission(reference)
        ident = found.id
        unsent = UnsentIntake(
            reference="UNSENT22",
            submission_id=ident,
            saved_at=CASE_DAY,
            contact={"full_name": NAME},
            findings=[],
        )
        db.session.add(unsent)
        db.session.flush()
        db.session.add_all(
            [
                Notification(submission_id=ident, reference=reference, address="a@clinic.example"),
                Notification(unsent_intake_id=unsent.id, reference="UNSENT22", address="a@x.org"),
                Draft(token_hash=found.draft_key, answers=ANSWERS, expires_at=CASE_DAY),
            ]
        )
        db.session.commit()
        after_job, after_file = _export_job(app, CASE_DAY + timedelta(minutes=5))
        before_job, before_file = _export_job(app, CASE_DAY - timedelta(days=1))
        counted = _queue_total()

        done = patient_requests.delete_on_request(
            db.session, _clinician(admin.email), found, "consent_withdrawn", app.config
        )

        assert (done.flags, done.notifications, done.unsent_intakes, done.drafts) == (1, 2, 1, 1)
        assert done.export_files == 1
        assert db.session.scalars(sa.select(Submission.reference)).all() == [kept]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UnsentIntake)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0
        assert _queue_total() == counted - 1
        # The export that may hold it is gone; one made before it was sent is left alone.
        assert not after_file.exists() and before_file.exists()
        assert db.session.get(ExportJob, after_job).state == "expired"
        assert db.session.get(ExportJob, before_job).state == "done"
        (event,) = _events("submission_deleted_on_request")
        assert event.reference == reference
        assert event.detail["reason"] == "consent_withdrawn"
        assert NAME not in str(event.detail) and "wq@" not in str(event.detail)


@pytest.mark.parametrize("used_by", ["view_submission", "set_status", "take"])
def test_after_clinical_use_deletion_is_refused_and_nothing_is_lost(
    app: Flask,
    add_submission: AddSubmission,
    admin: TestClinician,
    reviewer: TestClinician,
    used_by: str,
) -> None:
    reference = add_submission([("benzodiazepine", "review")], answers=ANSWERS)
    with app.app_context():
        found, clinician = _submission(reference), _clinician(reviewer.email)
        if used_by == "view_submission":
            actions.open_submission(db.session, clinician, found)
        elif used_by == "set_status":
            actions.set_status(db.session, clinician, found, "in_review", None)
        else:
            found.assigned_to_id = clinician.id
            db.session.commit()
        assert patient_requests.standing(db.session, found).used
        with pytest.raises(patient_requests.RequestRefused, match="Hide it instead"):
            patient_requests.delete_on_request(
                db.session, _clinician(admin.email), found, "consent_withdrawn", app.config
            )
        db.session.rollback()
        assert _submission(reference).flags[0].rule == "benzodiazepine"
        assert _events("submission_deleted_on_request") == []


def test_opening_the_urgent_answers_it_replaced_counts_as_clinical_use(
    app: Flask, add_submission: AddSubmission
) -> None:
    reference = add_submission([("suicidal_thoughts_now", "urgent")], answers=ANSWERS)
    with app.app_context():
        found = _submission(reference)
        assert not patient_requests.standing(db.session, found).used
        db.session.add(
            UnsentIntake(
                reference="UNSENT33",
                submission_id=found.id,
                saved_at=CASE_DAY,
                first_opened_at=CASE_DAY,
                contact={},
                findings=[],
            )
        )
        db.session.commit()
        assert patient_requests.standing(db.session, found).uses == (
            "a clinician opened the urgent answers it replaced",
        )


def test_a_reason_must_be_one_of_the_codes(
    app: Flask, add_submission: AddSubmission, admin: TestClinician
) -> None:
    reference = add_submission(answers=ANSWERS)
    with app.app_context():
        with pytest.raises(patient_requests.RequestRefused, match="reason"):
            patient_requests.delete_on_request(
                db.session, _clinician(admin.email), _submission(reference), NAME, app.config
            )
        assert _submission(reference) is not None


# --- withdrawal after clinical use: hidden, kept ----------------------------------------------


def test_a_used_submission_is_hidden_from_the_queue_its_counts_and_exports_but_kept(
    app: Flask, add_submission: AddSubmission, admin: TestClinician, reviewer: TestClinician
) -> None:
    hidden = add_submission([("benzodiazepine", "review")], answers=ANSWERS)
    shown = add_submission([("heart_condition", "review")], at=CASE_DAY + timedelta(minutes=1))
    with app.app_context():
        found = _submission(hidden)
        actions.open_submission(db.session, _clinician(reviewer.email), found)
        before = queue_page(db.session, QueueFilter()).counts["review"]

        patient_requests.hide_on_request(db.session, _clinician(admin.email), found, "duplicate")

        page = queue_page(db.session, QueueFilter())
        assert [row.reference for row in page.rows] == [shown]
        assert page.counts["review"] == before - 1
        assert queue_page(db.session, QueueFilter(status="new")).counts["review"] == before - 1
        assert queue_page(db.session, QueueFilter(reference=hidden)).rows == []
        assert queue_page(db.session, QueueFilter(rule="benzodiazepine")).rows == []
        assert [row.reference for row in all_in_queue(db.session, QueueFilter())] == [shown]
        kept = _submission(hidden)
        assert kept.hidden_reason == "duplicate" and kept.answers["full_name"] == NAME
        (event,) = _events("submission_hidden_on_request")
        assert event.reference == hidden and event.detail == {"reason": "duplicate"}
        with pytest.raises(patient_requests.RequestRefused, match="already hidden"):
            patient_requests.hide_on_request(db.session, _clinician(admin.email), kept, "other")


def test_a_submission_hidden_by_mistake_is_shown_again_with_its_counts_and_audited(
    app: Flask, add_submission: AddSubmission, admin: TestClinician, reviewer: TestClinician
) -> None:
    reference = add_submission([("benzodiazepine", "review")], answers=ANSWERS)
    with app.app_context():
        found = _submission(reference)
        actions.open_submission(db.session, _clinician(reviewer.email), found)
        before = queue_page(db.session, QueueFilter()).counts["review"]
        patient_requests.hide_on_request(db.session, _clinician(admin.email), found, "duplicate")
        assert queue_page(db.session, QueueFilter()).counts["review"] == before - 1

        patient_requests.show_again(db.session, _clinician(admin.email), _submission(reference))

        page = queue_page(db.session, QueueFilter())
        assert [row.reference for row in page.rows] == [reference]
        assert page.counts["review"] == before
        assert [row.reference for row in all_in_queue(db.session, QueueFilter())] == [reference]
        shown = _submission(reference)
        assert (shown.hidden_at, shown.hidden_reason, shown.hidden_by_id) == (None, None, None)
        (event,) = _events("submission_shown_again")
        assert event.reference == reference and event.detail == {"hidden_for": "duplicate"}
        assert len(_events("submission_hidden_on_request")) == 1  # the hiding stays on record
        with pytest.raises(patient_requests.RequestRefused, match="not hidden"):
            patient_requests.show_again(db.session, _clinician(admin.email), shown)


def test_hiding_is_refused_before_clinical_use_deleting_meets_the_request(
    app: Flask, add_submission: AddSubmission, admin: TestClinician
) -> None:
    reference = add_submission(answers=ANSWERS)
    with app.app_context():
        with pytest.raises(patient_requests.RequestRefused, match="Delete it instead"):
            patient_requests.hide_on_request(
                db.session, _clinician(admin.email), _submission(reference), "other"
            )
        assert _submission(reference).hidden_at is None


# --- corrections -------------------------------------------------------------------------------


def test_a_correction_is_sealed_and_kept_beside_the_unchanged_answer(
    app: Flask, add_submission: AddSubmission, reviewer: TestClinician
) -> None:
    reference = add_submission(answers=ANSWERS)
    words = "Stopped lorazepam in March"
    with app.app_context():
        found = _submission(reference)
        patient_requests.add_correction(
            db.session, _clinician(reviewer.email), found, "takes_benzodiazepine", words
        )
        stored = db.session.execute(sa.text("SELECT item_id, text FROM corrections")).one()
        assert stored.item_id == "takes_benzodiazepine" and words not in stored.text
        assert _submission(reference).answers["takes_benzodiazepine"] == "yes"
        (event,) = _events("add_correction")
        assert event.detail == {"item": "takes_benzodiazepine"}
        assert patient_requests.standing(db.session, found).used


@pytest.mark.parametrize(
    ("item", "text", "says"),
    [
        ("no_such_item", "words", "Choose the question"),
        ("phq9_9", "Not at all", "scored as given"),
        ("full_name", "   ", "Write what the patient says"),
        ("full_name", "x" * (Correction.MAX_LENGTH + 1), "under 2,000 characters"),
    ],
)
def test_a_correction_needs_a_question_and_words(
    app: Flask,
    add_submission: AddSubmission,
    reviewer: TestClinician,
    item: str,
    text: str,
    says: str,
) -> None:
    reference = add_submission(answers=ANSWERS)
    with app.app_context():
        with pytest.raises(patient_requests.RequestRefused, match=says):
            patient_requests.add_correction(
                db.session, _clinician(reviewer.email), _submission(reference), item, text
            )
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Correction)) == 0


# --- the pages ---------------------------------------------------------------------------------


def _code(reference: str) -> str:
    return format_reference(reference)


def _post(client: FlaskClient, url: str, data: dict[str, str]) -> Any:
    """POST as the signed-in browser would: with the session's CSRF token (from the queue)."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client.get("/clinic/"))})


def test_only_admins_reach_the_request_pages(
    app: Flask, add_submission: AddSubmission, as_reviewer: FlaskClient
) -> None:
    reference = add_submission(answers=ANSWERS)
    for url in (
        "/clinic/requests",
        f"/clinic/requests/{reference}/copy",
        f"/clinic/requests/{reference}/copy.json",
    ):
        assert as_reviewer.get(url).status_code == 403, url
    for action in ("delete", "hide", "show"):
        response = _post(
            as_reviewer,
            f"/clinic/requests/{reference}/{action}",
            data={"reason": "other", "confirmed": "yes"},
        )
        assert response.status_code == 403
    with app.app_context():
        assert _submission(reference).hidden_at is None


def test_the_lookup_shows_the_standing_and_never_an_answer(
    app: Flask, add_submission: AddSubmission, as_admin: FlaskClient
) -> None:
    reference = add_submission([("benzodiazepine", "review")], answers=ANSWERS)
    page = as_admin.get(f"/clinic/requests?q={_code(reference).lower()}").get_data(as_text=True)
    assert _code(reference) in page
    assert "None yet" in page and "Delete it" in page and "Hide it" not in page
    assert NAME not in page and "wq@example.org" not in page
    missing = as_admin.get("/clinic/requests?q=ZZZZ-2345").get_data(as_text=True)
    assert "No submission has the reference ZZZZ-2345" in missing
    assert as_admin.get("/clinic/requests?q=<b>").status_code == 400
    with app.app_context():
        looked_up = [event.reference for event in _events("request_looked_up")]
        assert looked_up == [reference, "ZZZZ2345"]  # every lookup, found or not


def test_deleting_from_the_page_needs_the_tick_then_the_submission_is_gone(
    app: Flask, add_submission: AddSubmission, as_admin: FlaskClient
) -> None:
    reference = add_submission(answers=ANSWERS)
    url = f"/clinic/requests/{reference}/delete"
    unticked = _post(as_admin, url, data={"reason": "sent_by_mistake"})
    assert unticked.status_code == 400
    assert "Tick the box" in unticked.get_data(as_text=True)
    no_reason = _post(as_admin, url, data={"confirmed": "yes"})
    assert "Choose the reason" in no_reason.get_data(as_text=True)
    done = _post(as_admin, url, data={"reason": "sent_by_mistake", "confirmed": "yes"})
    assert done.status_code == 303
    said = as_admin.get(done.headers["Location"]).get_data(as_text=True)
    assert f"{_code(reference)} and everything made from it are deleted" in said
    assert as_admin.get(f"/clinic/submissions/{reference}").status_code == 404


def test_a_used_submission_is_hidden_from_the_page_and_shows_why_to_clinicians(
    app: Flask, add_submission: AddSubmission, as_admin: FlaskClient
) -> None:
    reference = add_submission([("benzodiazepine", "review")], answers=ANSWERS)
    as_admin.get(f"/clinic/submissions/{reference}")  # clinical use: the page was opened
    lookup = as_admin.get(f"/clinic/requests?q={reference}").get_data(as_text=True)
    assert "a clinician has opened or acted on it" in lookup and "Delete it" not in lookup
    refused = _post(
        as_admin,
        f"/clinic/requests/{reference}/delete",
        data={"reason": "other", "confirmed": "yes"},
    )
    assert refused.status_code == 400 and "Hide it instead" in refused.get_data(as_text=True)
    hidden = _post(as_admin, f"/clinic/requests/{reference}/hide", data={"reason": "duplicate"})
    assert hidden.status_code == 303
    queue = as_admin.get("/clinic/").get_data(as_text=True)
    assert _code(reference) not in queue
    page = as_admin.get(f"/clinic/submissions/{reference}").get_data(as_text=True)
    assert "Hidden from the queue and the exports at the patient's request" in page
    assert "a duplicate of another submission" in page
    lookup = as_admin.get(f"/clinic/requests?q={reference}").get_data(as_text=True)
    assert "Show it again" in lookup
    shown = _post(as_admin, f"/clinic/requests/{reference}/show", data={})
    assert shown.status_code == 303
    assert _code(reference) in as_admin.get("/clinic/").get_data(as_text=True)
    again = _post(as_admin, f"/clinic/requests/{reference}/show", data={})
    assert again.status_code == 400 and "It is not hidden" in again.get_data(as_text=True)


def test_the_copy_is_in_the_patients_language_with_corrections_and_is_audited(
    app: Flask, add_submission: AddSubmission, as_admin: FlaskClient
) -> None:
    reference = add_submission([("benzodiazepine", "review")], answers=ANSWERS)
    with app.app_context():
        _submission(reference).language = "fr_CA"
        db.session.commit()
    corrected = _post(
        as_admin,
        f"/clinic/submissions/{reference}/corrections",
        data={"item": "takes_benzodiazepine", "text": "Arrêté en mars"},
    )
    assert corrected.status_code == 303
    copy = as_admin.get(f"/clinic/requests/{reference}/copy").get_data(as_text=True)
    assert '<html lang="fr' in copy and NAME in copy
    assert "Arrêté en mars" in copy and "Reports benzodiazepine" not in copy
    fhir = as_admin.get(f"/clinic/requests/{reference}/copy.json")
    assert fhir.mimetype == "application/fhir+json"
    assert f"{_code(reference)}-copy.json" in fhir.headers["Content-Disposition"]
    with app.app_context():
        formats = [event.detail["format"] for event in _events("access_copy")]
        assert formats == ["print", "fhir"]


def test_a_correction_from_the_submission_page_shows_beside_the_original_answer(
    app: Flask, add_submission: AddSubmission, as_reviewer: FlaskClient
) -> None:
    reference = add_submission(answers=ANSWERS)
    url = f"/clinic/submissions/{reference}/corrections"
    refused = _post(as_reviewer, url, data={"item": "takes_benzodiazepine", "text": ""})
    assert refused.status_code == 400
    assert "Write what the patient says" in refused.get_data(as_text=True)
    done = _post(as_reviewer, url, data={"item": "full_name", "text": "Willa Quartermaine"})
    assert done.status_code == 303
    page = as_reviewer.get(done.headers["Location"]).get_data(as_text=True)
    assert "Correction recorded" in page and "Dr Reviewer" in page
    assert page.index(NAME) < page.rindex("Willa Quartermaine")


def test_the_patients_fhir_copy_carries_their_answers_and_never_a_flag(
    app: Flask, add_submission: AddSubmission, as_admin: FlaskClient
) -> None:
    reference = add_submission([("benzodiazepine", "review")], answers=ANSWERS)
    copy = json.loads(as_admin.get(f"/clinic/requests/{reference}/copy.json").get_data(True))
    kinds = [entry["resource"]["resourceType"] for entry in copy["entry"]]
    assert kinds == ["QuestionnaireResponse", "Patient"]
    assert "DetectedIssue" not in json.dumps(copy)
    # The clinician's bundle is unchanged: it still carries the flag.
    clinician = json.loads(as_admin.get(f"/clinic/submissions/{reference}/fhir").get_data(True))
    assert "DetectedIssue" in [e["resource"]["resourceType"] for e in clinician["entry"]]
