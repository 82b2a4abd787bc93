"""Unsent urgent intakes: a saved urgent answer reaches the clinic, once, only with consent."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.ops.purge import purge
from questionnaire.questions.catalogue import PAGES
from questionnaire.records.models import AuditEvent, Draft, Notification, UnsentIntake
from questionnaire.records.references import REFERENCE_ALPHABET
from questionnaire.urgent import sweep as alerts
from tests.answers import with_changes
from tests.fixtures import AddSubmission
from tests.harness.app import Clock
from tests.harness.clinician import TestClinician, sign_in
from tests.harness.forms import csrf_token, visible_text
from tests.harness.patient import Patient
from tests.ops.test_alerts import Inbox, configure, inbox

__all__ = ["inbox"]  # the SMTP fixture, used by name below

URGENT = with_changes({"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "yes"})
SAFETY = next(index for index, section in enumerate(PAGES) if section.id == "safety")
ADDRESSES = ["backup@clinic.example", "oncall@clinic.example"]


def begin(client: FlaskClient, consent: bool = True) -> Patient:
    """Start a questionnaire, with or without the separate contact consent."""
    patient = Patient(client)
    data = {"privacy_consent": "y", "csrf_token": csrf_token(client.get("/"))}
    if consent:
        data["contact_consent"] = "y"
    assert client.post("/start", data=data).status_code == 303
    return patient


def reach_safety(patient: Patient, answers: dict[str, Any] = URGENT, **extra: Any) -> Any:
    """Continue the pages before the safety page, then post the safety page."""
    for section in PAGES[:SAFETY]:
        assert patient.answer(section, answers).status_code == 303
    return patient.answer(PAGES[SAFETY], answers, **extra)


def save_and_leave(patient: Patient, answers: dict[str, Any] = URGENT) -> str:
    """Save and leave on the safety page, then come back through the link and the date of
    birth (leaving locks this browser); return the text of the "saved" page."""
    response = reach_safety(patient, answers, action="later")
    assert response.status_code == 303 and response.headers["Location"].endswith("/saved")
    response.close()  # alerts go out once the patient has their page
    saved = patient.client.get("/saved")
    link = re.search(r'href="https?://[^/"]+(/resume/[A-Za-z0-9_-]+)"', saved.get_data(True))
    assert link is not None
    back = patient.post_form(link.group(1), {"date_of_birth": answers["date_of_birth"]})
    assert back.status_code == 303
    return visible_text(saved)


def intakes(app: Flask) -> list[UnsentIntake]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(UnsentIntake).order_by(UnsentIntake.id)))
        for row in rows:  # read the sealed columns while the session is open
            _ = (row.contact, row.findings, row.outcome_note)
        db.session.expunge_all()
        return rows


def alert_rows(app: Flask) -> list[tuple[str, int | None, int | None, str]]:
    with app.app_context():
        return [
            (row.kind, row.submission_id, row.unsent_intake_id, row.address)
            for row in db.session.scalars(sa.select(Notification).order_by(Notification.address))
        ]


def sweep(app: Flask) -> alerts.Swept:
    with app.app_context():
        result = alerts.sweep(
            db.session, app.extensions["rule_table"], app.config, app.config["CLOCK"]()
        )
        db.session.remove()
        return result


def test_saving_and_leaving_with_an_urgent_answer_raises_one_entry_and_one_alert_each(
    app: Flask, client: FlaskClient, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    configure(app, port)
    patient = begin(client)
    saved = save_and_leave(patient)
    [intake] = intakes(app)
    assert len(intake.reference) == 8 and set(intake.reference) <= set(REFERENCE_ALPHABET)
    assert intake.contact == {
        "full_name": "Sam Example",
        "email": "sam@example.com",
        "phone": "416 555 0123",
        "language": "en",  # the language to speak when reaching out
    }
    assert [finding["rule"] for finding in intake.findings] == ["suicidal_thoughts_now"]
    assert "9-8-8, 911" in intake.findings[0]["message"]  # the numbers filled in
    assert [(kind, sub, address) for kind, sub, _, address in alert_rows(app)] == [
        ("urgent", None, "backup@clinic.example"),
        ("urgent", None, "oncall@clinic.example"),
    ]
    shown = f"{intake.reference[:4]}-{intake.reference[4:]}"
    assert sorted(rcpt for rcpts, _ in handler.messages for rcpt in rcpts) == ADDRESSES
    for _, message in handler.messages:
        body = message.get_payload(decode=True).decode()
        assert shown in message["Subject"] and f"reference {shown}" in body
        assert "not sent by the patient" in body
        for private in ("Sam", "Example", "416", "suicid", "ending", "Reports"):
            assert private not in body and private not in message["Subject"]
    assert "Your answers are saved. Please reach out now." in saved
    assert "will try to contact you" in saved
    # Saving and leaving again, and any sweep, raise nothing more.
    save_and_leave(patient)
    sweep(app)
    assert len(intakes(app)) == 1 and len(alert_rows(app)) == 2
    assert len(handler.messages) == 2


def test_without_the_separate_consent_the_draft_stays_private(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    app.config["ON_CALL_EMAILS"] = "oncall@clinic.example"
    patient = begin(client, consent=False)
    for section in PAGES[:SAFETY]:
        patient.answer(section, URGENT)
    notice = visible_text(client.get(f"/questions/{PAGES[SAFETY].id}"))
    assert "Your answers stay private until you send this form" in notice
    assert notice.index("stay private") < notice.index("thoughts of ending your life")
    saved = save_and_leave(patient)
    clock.advance(hours=2)
    sweep(app)
    assert intakes(app) == [] and alert_rows(app) == []
    assert "Please reach out now" in saved and "will try to contact you" not in saved


def test_with_consent_the_safety_page_says_so_before_the_question(
    app: Flask, client: FlaskClient
) -> None:
    patient = begin(client)
    for section in PAGES[:SAFETY]:
        patient.answer(section, URGENT)
    text = visible_text(client.get(f"/questions/{PAGES[SAFETY].id}"))
    assert "a clinician will see that answer and your contact details" in text
    assert text.index("contact details") < text.index("thoughts of ending your life")


def test_the_sweep_raises_a_draft_left_untouched_for_the_set_minutes_once(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    app.config["ON_CALL_EMAILS"] = "oncall@clinic.example"
    app.config["SMTP_PORT"] = 9  # nobody listens: delivery fails and is retried later
    patient = begin(client)
    assert reach_safety(patient).status_code == 303  # Continue, not "save and leave"
    assert intakes(app) == []
    clock.advance(minutes=29)
    assert sweep(app).raised == 0
    clock.advance(minutes=2)
    assert sweep(app).raised == 1
    assert sweep(app).raised == 0
    assert len(intakes(app)) == 1
    assert [row[0] for row in alert_rows(app)] == ["urgent"]


def test_two_sweeps_at_once_make_one_entry_and_one_email_each(
    app: Flask, client: FlaskClient, clock: Clock, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    configure(app, port)
    patient = begin(client)
    reach_safety(patient)
    clock.advance(minutes=31)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            sweep(app)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(intakes(app)) == 1 and len(alert_rows(app)) == 2
    assert sorted(rcpt for rcpts, _ in handler.messages for rcpt in rcpts) == ADDRESSES


def test_an_answer_changed_before_any_alert_raises_nothing(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    patient = begin(client)
    reach_safety(patient)
    clock.advance(minutes=10)
    changed = {**URGENT, "suicidal_thoughts_now": "no"}
    assert patient.answer(PAGES[SAFETY], changed).status_code == 303
    clock.advance(minutes=31)
    sweep(app)
    assert intakes(app) == []


def test_an_answer_changed_after_the_alert_keeps_the_entry_marked(
    app: Flask, client: FlaskClient, as_reviewer_client: FlaskClient
) -> None:
    patient = begin(client)
    save_and_leave(patient)
    changed = {**URGENT, "suicidal_thoughts_now": "no"}
    assert patient.answer(PAGES[SAFETY], changed).status_code == 303
    [intake] = intakes(app)
    assert intake.answer_changed_at is not None
    assert intake.findings[0]["evidence"] == [{"item": "suicidal_thoughts_now", "value": "yes"}]
    queue = visible_text(as_reviewer_client.get("/clinic/"))
    assert "The patient later changed this answer" in queue
    page = visible_text(as_reviewer_client.get(f"/clinic/unsent/{intake.reference}"))
    assert "The patient later changed this answer" in page


@pytest.fixture
def as_reviewer_client(app: Flask, reviewer: TestClinician) -> FlaskClient:
    """A clinician's browser, apart from the patient's."""
    clinician = app.test_client()
    sign_in(clinician, app, reviewer)
    return clinician


def test_the_entry_shows_above_every_submission_with_only_what_is_needed(
    app: Flask,
    client: FlaskClient,
    as_reviewer_client: FlaskClient,
    add_submission: AddSubmission,
) -> None:
    urgent = add_submission(flags=[("suicidal_thoughts_now", "urgent")])
    patient = begin(client)
    save_and_leave(patient)
    [intake] = intakes(app)
    queue = as_reviewer_client.get("/clinic/").get_data(as_text=True)
    shown = f"{intake.reference[:4]}-{intake.reference[4:]}"
    assert queue.index(shown) < queue.index(f"{urgent[:4]}-{urgent[4:]}")
    assert "not sent by the patient" in queue
    # The unsent entry names no one (its page does, audited); sent rows name their patient.
    unsent_section = queue[queue.index('<section class="unsent"') : queue.index("</section>")]
    assert shown in unsent_section and "Sam Example" not in unsent_section
    page = visible_text(as_reviewer_client.get(f"/clinic/unsent/{intake.reference}"))
    for needed in ("Not sent by the patient", "Sam Example", "416 555 0123", "sam@example.com"):
        assert needed in page
    assert "Are you having thoughts of ending your life right now?" in page
    assert "Saved 2026-06-01 08:00 EDT" in page  # noon UTC, in the clinic's zone
    # Nothing beyond what is needed to reach out: not the answers of other pages.
    assert "Depression" not in page and "What would you like help with?" not in page


def test_sending_the_form_replaces_the_entry_and_links_to_it(
    app: Flask, client: FlaskClient, as_reviewer_client: FlaskClient
) -> None:
    patient = begin(client)
    save_and_leave(patient)
    for section in PAGES[SAFETY:]:
        assert patient.answer(section, URGENT).status_code == 303
    assert patient.send().status_code == 303
    [intake] = intakes(app)
    assert intake.submission_id is not None
    queue = as_reviewer_client.get("/clinic/").get_data(as_text=True)
    assert "Urgent, not sent by the patient" not in queue
    with app.app_context():
        draft_count = db.session.scalar(sa.select(sa.func.count()).select_from(Draft))
    assert draft_count == 0
    page = as_reviewer_client.get(f"/clinic/unsent/{intake.reference}").get_data(as_text=True)
    assert "The patient has since sent the form" in page
    submission_link = page.split('href="/clinic/submissions/')[1].split('"')[0]
    submission = as_reviewer_client.get(f"/clinic/submissions/{submission_link}")
    assert f"/clinic/unsent/{intake.reference}" in submission.get_data(as_text=True)


def test_the_entry_outlives_its_draft_until_a_clinician_marks_it(
    app: Flask, client: FlaskClient, clock: Clock, reviewer: TestClinician
) -> None:
    patient = begin(client)
    save_and_leave(patient)
    clock.advance(days=5)  # the draft expired long ago
    with app.app_context():
        result = purge(db.session, 1, clock())
        assert result.drafts == 1 and result.unsent_intakes == 0
    as_reviewer_client = app.test_client()
    sign_in(as_reviewer_client, app, reviewer)
    [intake] = intakes(app)
    assert intake.draft_id is None and intake.contact["full_name"] == "Sam Example"
    page = as_reviewer_client.get(f"/clinic/unsent/{intake.reference}")
    form = {"csrf_token": csrf_token(page), "outcome": "contacted"}
    refused = as_reviewer_client.post(f"/clinic/unsent/{intake.reference}/close", data=form)
    assert refused.status_code == 400 and "Write a note" in visible_text(refused)
    form["note"] = "Spoke with the patient; safety plan in place."
    marked = as_reviewer_client.post(f"/clinic/unsent/{intake.reference}/close", data=form)
    assert marked.status_code == 303
    assert "Urgent, not sent by the patient" not in visible_text(as_reviewer_client.get("/clinic/"))
    # From now on it follows the submissions' retention.
    with app.app_context():
        assert purge(db.session, 730, clock()).unsent_intakes == 0
        assert purge(db.session, 1, clock()).unsent_intakes == 1
    assert intakes(app) == []


def test_every_view_and_mark_is_audited_without_patient_data(
    app: Flask, client: FlaskClient, as_reviewer_client: FlaskClient, reviewer: TestClinician
) -> None:
    patient = begin(client)
    save_and_leave(patient)
    [intake] = intakes(app)
    page = as_reviewer_client.get(f"/clinic/unsent/{intake.reference}")
    as_reviewer_client.post(
        f"/clinic/unsent/{intake.reference}/close",
        data={"csrf_token": csrf_token(page), "outcome": "could_not_reach", "note": "No answer."},
    )
    with app.app_context():
        events = list(
            db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.reference == intake.reference)
            )
        )
        rows = [(event.action, event.actor_id, event.detail) for event in events]
        opened = db.session.get(UnsentIntake, intake.id)
        assert opened is not None and opened.first_opened_at is not None
    assert rows == [
        ("view_unsent_intake", reviewer.id, {}),
        ("close_unsent_intake", reviewer.id, {"outcome": "could_not_reach"}),
    ]


def test_switched_off_nothing_is_offered_said_or_raised(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    app.config.update(ALERT_UNSENT_URGENT=False, ON_CALL_EMAILS="oncall@clinic.example")
    start_page = client.get("/").get_data(as_text=True)
    assert 'name="contact_consent"' not in start_page
    assert "If your answers say you may be in danger" not in visible_text(client.get("/privacy"))
    patient = begin(client, consent=True)  # a forged tick counts for nothing
    for section in PAGES[:SAFETY]:
        patient.answer(section, URGENT)
    safety = visible_text(client.get(f"/questions/{PAGES[SAFETY].id}"))
    assert "stay private" not in safety and "contact details, even if" not in safety
    save_and_leave(patient)
    clock.advance(hours=1)
    sweep(app)
    assert intakes(app) == [] and alert_rows(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(Draft.contact_consent)) is False


def test_a_draft_judged_calm_is_judged_again_once_it_changes(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    patient = begin(client)
    calm = {**URGENT, "suicidal_thoughts_now": "no"}
    reach_safety(patient, calm)
    clock.advance(minutes=31)
    sweep(app)
    with app.app_context():
        judged = db.session.scalar(sa.select(Draft.judged_at))
    assert judged == clock()
    assert intakes(app) == []
    assert patient.answer(PAGES[SAFETY], URGENT).status_code == 303
    clock.advance(minutes=31)
    assert sweep(app).raised == 1


def test_the_sweep_command_reports_what_it_did(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    reach_safety(begin(client))
    clock.advance(minutes=31)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["alerts", "sweep"])
    assert result.exit_code == 0, result.output
    assert (
        "1 unsent urgent intakes raised, 0 escalated, 0 alerts sent, 0 failed, 0 export jobs expired."
        in result.output
    )
    again = runner.invoke(args=["alerts", "sweep"])
    assert "0 unsent urgent intakes raised" in again.output


def test_the_entry_is_sealed_at_rest_and_never_logged(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    sentinel = "Zebulon Quixote-Sentinel"
    answers = {**URGENT, "full_name": sentinel}
    with caplog.at_level(logging.DEBUG):
        save_and_leave(begin(client), answers)
        sweep(app)
    [intake] = intakes(app)
    assert intake.contact["full_name"] == sentinel
    with app.app_context():
        raw = db.session.execute(sa.text("SELECT contact, findings FROM unsent_intakes")).one()
    assert sentinel not in raw.contact and "suicidal" not in raw.findings
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert sentinel not in logged


def test_an_entry_whose_answer_changed_stays_after_sending_until_closed(
    app: Flask, client: FlaskClient, as_reviewer_client: FlaskClient
) -> None:
    patient = begin(client)
    save_and_leave(patient)
    calm = {**URGENT, "suicidal_thoughts_now": "no"}
    for section in PAGES[SAFETY:]:
        assert patient.answer(section, calm).status_code == 303
    assert patient.send().status_code == 303
    [intake] = intakes(app)
    assert intake.submission_id is not None and intake.answer_changed_at is not None
    queue = visible_text(as_reviewer_client.get("/clinic/"))
    assert "Urgent, not sent by the patient (1)" in queue
    assert "The patient later changed this answer · sent since · not opened yet" in queue
    # The list stands apart from the submissions' filters and paging.
    assert "Urgent, not sent by the patient (1)" in visible_text(
        as_reviewer_client.get("/clinic/?level=info")
    )


def test_the_call_back_agreed_to_asks_for_a_phone_number_naming_why(
    app: Flask, client: FlaskClient
) -> None:
    """Issue 25: "the clinic may contact me" with no phone would promise a call to nobody."""
    patient = begin(client, consent=True)
    no_phone = dict(URGENT, phone="")
    refused = patient.answer(PAGES[0], no_phone)
    assert refused.status_code == 400
    text = visible_text(refused)
    assert "Enter a phone number. At the start you agreed that the clinic may contact you" in text
    assert patient.answer(PAGES[0], URGENT).status_code == 303


def test_without_the_call_back_the_phone_stays_optional(client: FlaskClient) -> None:
    patient = begin(client, consent=False)
    assert patient.answer(PAGES[0], dict(URGENT, phone="")).status_code == 303


def test_the_unsent_intake_page_names_the_patient_s_language(
    app: Flask, client: FlaskClient, as_reviewer_client: FlaskClient
) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA"
    patient = begin(client)
    patient.language = "fr-CA"
    save_and_leave(patient)
    [intake] = intakes(app)
    assert intake.contact["language"] == "fr-CA"
    page = visible_text(as_reviewer_client.get(f"/clinic/unsent/{intake.reference}"))
    assert "Language French (Canada)" in page
    queue = as_reviewer_client.get("/clinic/").get_data(as_text=True)
    unsent_list = queue[queue.index('id="unsent-title"') : queue.index("</table>")]
    assert "French (Canada)" in unsent_list


def test_the_consent_covers_any_answer_that_says_the_patient_may_be_in_danger(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    """ITEMS.md, section 11: the consent covers past-month intent and plans, not only the
    "right now" question; its wording says so in English and French, its field id stays."""
    start_page = client.get("/").get_data(as_text=True)
    assert 'name="contact_consent"' in start_page
    assert (
        "If my answers say I may be in danger, the clinic may contact me even if I do not "
        "finish this form." in visible_text(start_page)
    )
    french = app.test_client()
    french.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA"
    assert (
        "Si mes réponses indiquent que je pourrais être en danger, la clinique peut "
        "communiquer avec moi même si je ne termine pas ce formulaire."
        in visible_text(french.get("/"))
    )
    assert "If your answers say you may be in danger" in visible_text(client.get("/privacy"))
    # A plan in the past month, not in danger "right now": the agreed call-back still comes.
    plan = with_changes(
        {
            "suicidal_thoughts_past_month": "yes",
            "suicide_plan": "yes",
            "suicidal_thoughts_now": "no",
        }
    )
    patient = begin(client)
    save_and_leave(patient, plan)
    [intake] = intakes(app)
    assert [finding["rule"] for finding in intake.findings] == ["suicide_plan"]
