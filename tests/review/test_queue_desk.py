"""Issue 14's queue: who the patient is, why, how long, who has it; take, hand over, release."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent, Clinician, Submission
from questionnaire.records.queue import BadFilter, QueueFilter
from questionnaire.review import assignment
from questionnaire.review.actions import ActionRefused
from questionnaire.review.rows import waited
from tests.fixtures import AddSubmission
from tests.harness.app import CASE_DAY, minutes
from tests.harness.clinician import TestClinician, make_clinician
from tests.harness.forms import csrf_token
from tests.harness.statements import counting

ROW = re.compile(r'href="/clinic/submissions/([A-Z0-9]{8})"')
NAME = "Rosa Tremblay-Quist"


def patient(name: str = NAME, born: str = "1980-06-02") -> dict[str, str]:
    return {"full_name": name, "date_of_birth": born}


def page(client: FlaskClient, url: str = "/clinic/") -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def row_of(html: str, reference: str) -> str:
    """Return the HTML of the queue row that links to `reference`."""
    start = html.index(f'href="/clinic/submissions/{reference}"')
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


def press(
    client: FlaskClient, reference: str, action: str, token: str | None = None, **form: str
) -> TestResponse:
    """Press take, hand-over or release on the queue (with this token, else a fresh one)."""
    token = token or csrf_token(client.get("/clinic/"))
    return client.post(
        f"/clinic/submissions/{reference}/{action}",
        data={"csrf_token": token, "back": "queue", **form},
    )


def post(client: FlaskClient, reference: str, action: str, **form: str) -> str:
    """Post a take, hand-over or release from the queue; return the page it leads to."""
    response = press(client, reference, action, **form)
    assert response.status_code == 303, response.status_code
    assert response.headers["Location"] == "/clinic/"
    return page(client, response.headers["Location"])


def holder_of(app: Flask, reference: str) -> int | None:
    with app.app_context():
        return db.session.scalar(
            sa.select(Submission.assigned_to_id).where(Submission.reference == reference)
        )


def status_of(app: Flask, reference: str) -> str | None:
    with app.app_context():
        return db.session.scalar(
            sa.select(Submission.status).where(Submission.reference == reference)
        )


def audit_of(app: Flask, action: str) -> list[tuple[int | None, str | None, dict]]:
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return [(event.actor_id, event.reference, event.detail) for event in events]


def test_a_row_shows_name_age_short_flag_names_waited_and_who_has_it(
    as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    urgent = add_submission(
        [
            ("blood_pressure_very_high", "review"),
            ("suicidal_thoughts_now", "urgent"),
            ("benzodiazepine", "review"),
        ],
        at=CASE_DAY - timedelta(hours=2, minutes=10),
        answers=patient(),
    )
    older = add_submission(
        [("rule_no_longer_in_the_table", "info")],
        at=CASE_DAY - timedelta(days=3, hours=5),
        answers=patient("Éloïse Côté", "1960-05-31"),
    )
    html = page(as_reviewer)
    row = row_of(html, urgent)
    # Born 2 June 1980: 45 on 1 June 2026, the day before the birthday.
    assert f'{NAME}</span>, <span class="queue__age">45 years</span>' in row
    # Most urgent first, then as stored (the rule table's order when the rules judged it).
    assert "suicidal thoughts now · BP ≥ 180/120 · benzodiazepine" in row
    assert ">2 h</time>" in row
    assert "Not taken" in row and "Take it" in row
    other = row_of(html, older)
    assert 'Éloïse Côté</span>, <span class="queue__age">66 years</span>' in other
    assert "rule no longer in the table" in other
    assert ">3 days</time>" in other
    assert ROW.findall(html) == [urgent, older]


def test_waited_reads_minutes_then_hours_then_days() -> None:
    assert waited(CASE_DAY, CASE_DAY + timedelta(minutes=59)) == waited(CASE_DAY, minutes(59))
    assert waited(CASE_DAY, minutes(59)).unit == "min"
    assert (
        waited(CASE_DAY, minutes(60 * 47 + 59)).count,
        waited(CASE_DAY, minutes(60 * 47)).unit,
    ) == (47, "h")
    assert (waited(CASE_DAY, minutes(60 * 48)).count, waited(CASE_DAY, minutes(60 * 48)).unit) == (
        2,
        "days",
    )
    assert waited(CASE_DAY, CASE_DAY - timedelta(minutes=5)).count == 0


def test_a_submission_without_a_name_or_a_date_of_birth_still_has_its_row(
    as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    reference = add_submission([], answers={"date_of_birth": "not a date"})
    row = row_of(page(as_reviewer), reference)
    assert "name not given" in row and "queue__age" not in row


def test_take_then_release_from_the_queue_each_audited(
    app: Flask, as_reviewer: FlaskClient, reviewer: TestClinician, add_submission: AddSubmission
) -> None:
    reference = add_submission([("heart_condition", "review")], answers=patient())
    me = reviewer.id
    html = post(as_reviewer, reference, "take")
    assert "Assigned to you." in html
    assert "Assigned to me" in row_of(html, reference) and "Release" in row_of(html, reference)
    assert holder_of(app, reference) == me
    assert audit_of(app, "submission_taken") == [(me, reference, {"to": me})]
    # Taking a new submission puts it in review, audited as a status change of its own.
    assert status_of(app, reference) == "in_review"
    assert 'data-label="Status">in review<' in row_of(html, reference)
    assert audit_of(app, "set_status") == [(me, reference, {"status": "in_review", "on": "take"})]
    html = post(as_reviewer, reference, "release", holder=str(me))
    assert status_of(app, reference) == "in_review"  # released, still being reviewed
    assert "Released" in html and "Take it" in row_of(html, reference)
    assert holder_of(app, reference) is None
    assert audit_of(app, "submission_released") == [(me, reference, {"from": me})]


def test_hand_over_to_a_colleague_who_then_sees_it_as_theirs(
    app: Flask,
    as_reviewer: FlaskClient,
    reviewer: TestClinician,
    colleague: TestClinician,
    as_colleague: FlaskClient,
    add_submission: AddSubmission,
) -> None:
    reference = add_submission([("heart_condition", "review")])
    me, them = reviewer.id, colleague.id
    post(as_reviewer, reference, "take")
    html = post(as_reviewer, reference, "hand-over", holder=str(me), to=str(them))
    assert "Handed over to Dr Colleague." in html
    assert "Taken by Dr Colleague" in row_of(html, reference)
    assert "Release" not in row_of(html, reference)  # only the holder (or an admin) may
    assert holder_of(app, reference) == them
    assert audit_of(app, "submission_handed_over") == [(me, reference, {"from": me, "to": them})]
    # The colleague's "mine" holds it; the reviewer's does not.
    assert ROW.findall(page(as_colleague, "/clinic/?taken=mine")) == [reference]
    assert ROW.findall(page(as_reviewer, "/clinic/?taken=mine")) == []


def test_hand_over_refuses_an_inactive_clinician_and_someone_who_does_not_hold_it(
    app: Flask,
    as_reviewer: FlaskClient,
    reviewer: TestClinician,
    colleague: TestClinician,
    as_colleague: FlaskClient,
    add_submission: AddSubmission,
) -> None:
    reference = add_submission([("heart_condition", "review")])
    gone = make_clinician(app, email="gone@clinic.example", name="Dr Gone", is_active=False)
    me, them = reviewer.id, colleague.id
    post(as_reviewer, reference, "take")
    html = post(as_reviewer, reference, "hand-over", holder=str(me), to=str(gone.id))
    assert "Choose an active clinician from the list." in html
    assert holder_of(app, reference) == me
    html = post(as_colleague, reference, "release", holder=str(me))
    assert "Only the clinician who took it, or an admin, can change this." in html
    html = post(as_colleague, reference, "hand-over", holder=str(me), to=str(them))
    assert holder_of(app, reference) == me
    assert audit_of(app, "submission_released") == []
    assert audit_of(app, "submission_handed_over") == []
    with app.app_context():
        assert [c.name for c in assignment.colleagues(db.session)] == [
            "Dr Colleague",
            "Dr Reviewer",
        ]


def test_a_second_take_sees_who_was_quicker(
    app: Flask,
    as_reviewer: FlaskClient,
    reviewer: TestClinician,
    colleague: TestClinician,
    as_colleague: FlaskClient,
    add_submission: AddSubmission,
) -> None:
    reference = add_submission([("heart_condition", "review")])
    # Both pages show it free; the colleague presses first.
    token = csrf_token(as_reviewer.get("/clinic/"))
    post(as_colleague, reference, "take")
    response = press(as_reviewer, reference, "take", token)
    assert response.status_code == 303
    html = page(as_reviewer, response.headers["Location"])
    assert "Dr Colleague has already taken it." in html
    assert "Taken by Dr Colleague" in row_of(html, reference)
    assert holder_of(app, reference) == colleague.id
    assert len(audit_of(app, "submission_taken")) == 1


def test_two_clinicians_taking_at_once_exactly_one_wins(
    app: Flask, reviewer: TestClinician, colleague: TestClinician, add_submission: AddSubmission
) -> None:
    reference = add_submission([("heart_condition", "review")])
    ids = [reviewer.id, colleague.id]
    start = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def press(who: int) -> None:
        with app.app_context():
            session = Session(db.engine)
            try:
                clinician = session.get(Clinician, who)
                found = session.scalar(
                    sa.select(Submission).where(Submission.reference == reference)
                )
                assert clinician is not None and found is not None
                assert found.assigned_to_id is None  # both saw it free
                start.wait(timeout=10)
                try:
                    assignment.take(session, clinician, found)
                    outcomes[who] = "won"
                except ActionRefused as refused:
                    outcomes[who] = str(refused.args[0])
            finally:
                session.close()

    threads = [threading.Thread(target=press, args=(who,)) for who in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winner = holder_of(app, reference)
    assert winner in ids
    loser = next(who for who in ids if who != winner)
    assert outcomes[winner] == "won"
    names = {ids[0]: "Dr Reviewer", ids[1]: "Dr Colleague"}
    assert outcomes[loser] == f"{names[winner]} has already taken it."
    assert [detail for _actor, _ref, detail in audit_of(app, "submission_taken")] == [
        {"to": winner}
    ]


def test_filters_mine_and_not_taken(
    as_reviewer: FlaskClient, as_colleague: FlaskClient, add_submission: AddSubmission
) -> None:
    mine = add_submission([("heart_condition", "review")], at=minutes(1))
    theirs = add_submission([("suicidal_thoughts_now", "urgent")], at=minutes(2))
    free = add_submission([], at=minutes(3))
    post(as_reviewer, mine, "take")
    post(as_colleague, theirs, "take")
    assert ROW.findall(page(as_reviewer, "/clinic/?taken=mine")) == [mine]
    assert ROW.findall(page(as_reviewer, "/clinic/?taken=nobody")) == [free]
    assert ROW.findall(page(as_reviewer, "/clinic/?taken=nobody&level=none")) == [free]
    assert ROW.findall(page(as_reviewer, "/clinic/?taken=mine&level=urgent")) == []
    assert ROW.findall(page(as_reviewer)) == [theirs, mine, free]
    html = page(as_reviewer, "/clinic/?taken=mine")
    assert re.search(r'taken=mine">Assigned to me 1</a>', html)
    counts = dict(re.findall(r'class="tag tag--(\w+)">[^<]*</span> (\d+)</a>', html))
    assert counts == {"urgent": "0", "review": "1", "info": "0", "none": "0"}
    assert as_reviewer.get("/clinic/?taken=someone").status_code == 400
    # Exports have no "mine": their links leave it out, and a filter from them refuses it.
    assert "export/submissions.csv?taken" not in html
    with pytest.raises(BadFilter):
        QueueFilter.parse({"taken": "mine"})
    assert QueueFilter.parse({"taken": "mine"}, me=7).as_args() == {"taken": "mine"}


@pytest.mark.parametrize("url", ["/clinic/", "/clinic/?taken=mine", "/clinic/?taken=nobody"])
def test_names_ages_and_holders_cost_no_statement_per_row(
    app: Flask,
    as_reviewer: FlaskClient,
    colleague: TestClinician,
    add_submission: AddSubmission,
    url: str,
) -> None:
    first = add_submission([("heart_condition", "review")], answers=patient())
    post(as_reviewer, first, "take")
    add_submission([("heart_condition", "review")], answers=patient())  # one row in each view

    def statements() -> list[str]:
        with app.app_context(), counting(db.engine) as seen:
            assert as_reviewer.get(url).status_code == 200
        return seen

    one_row = statements()
    for number in range(70):
        reference = add_submission(
            [("benzodiazepine", "review")], at=minutes(number), answers=patient(f"Name {number}")
        )
        if number % 3 == 0:
            post(as_reviewer, reference, "take")
    with app.app_context():
        them = db.session.scalar(sa.select(Clinician).where(Clinician.email == colleague.email))
        for found in db.session.scalars(sa.select(Submission).limit(10)):
            if found.assigned_to_id is None:
                found.assigned_to_id = them.id if them else None
        db.session.commit()
    html = page(as_reviewer, url)
    assert "Name " in html or NAME in html
    full = statements()
    assert full == one_row, (full, one_row)
    # The signed-in clinician, the rows with holders, their flags, the shown rows' answers,
    # the counts (with "mine"), the unsent intakes, the audit row.
    assert len(one_row) == 7, one_row


def test_the_name_is_never_in_a_link_a_redirect_or_a_log(
    app: Flask,
    as_reviewer: FlaskClient,
    reviewer: TestClinician,
    colleague: TestClinician,
    add_submission: AddSubmission,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sentinel = "Zyxwvut Sentinelle"
    reference = add_submission(
        [("suicidal_thoughts_now", "urgent")], answers=patient(sentinel, "1990-01-01")
    )
    me, them = reviewer.id, colleague.id
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        html = page(as_reviewer)
        assert sentinel in html  # shown to the signed-in clinician
        token = csrf_token(as_reviewer.get("/clinic/"))
        for action, form in (
            ("take", {}),
            ("hand-over", {"holder": str(me), "to": str(them)}),
        ):
            response = press(as_reviewer, reference, action, token, **form)
            seen.append(response.headers.get("Location", ""))
        for url in ("/clinic/?taken=nobody", "/clinic/?taken=mine", "/clinic/?level=urgent"):
            seen += re.findall(r'(?:href|action)="([^"]*)"', page(as_reviewer, url))
    seen += re.findall(r'(?:href|action)="([^"]*)"', html)
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    with app.app_context():
        details = " ".join(str(e.detail) for e in db.session.scalars(sa.select(AuditEvent)))
    for secret in (sentinel, "Zyxwvut", "Sentinelle", "1990-01-01"):
        assert secret not in logged
        assert not [link for link in seen if secret in link or "Zyxwvut" in link]
        assert secret not in details


def test_the_include_for_the_submission_page_offers_release_and_hand_over_to_colleagues(
    app: Flask, reviewer: TestClinician, colleague: TestClinician, add_submission: AddSubmission
) -> None:
    from flask import render_template_string

    reference = add_submission([("heart_condition", "review")])
    with app.test_request_context("/clinic/"):
        me = db.session.get(Clinician, reviewer.id)
        found = db.session.scalar(sa.select(Submission).where(Submission.reference == reference))
        assert me is not None and found is not None
        found.assigned_to_id = me.id
        db.session.commit()
        html = render_template_string(
            '{% from "review/_assignment.html" import assignment %}'
            "{{ assignment(found, me, colleagues=colleagues) }}",
            found=found,
            me=me,
            colleagues=assignment.colleagues(db.session),
        )
    assert f'action="/clinic/submissions/{reference}/release"' in html
    assert f'action="/clinic/submissions/{reference}/hand-over"' in html
    assert '<option value="' in html and "Dr Colleague" in html
    assert "Dr Reviewer</option>" not in html  # not to the holder
    assert 'name="back" value="submission"' in html and 'name="csrf_token"' in html
