"""A submission: flags on top with evidence and source, every answer, actions on the record."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.questions.catalogue import ITEMS, age_on
from questionnaire.records.models import AuditEvent, Flag, Note, Submission
from questionnaire.review.present import evidence_rows, identity
from tests.answers import with_changes
from tests.exports import BENZODIAZEPINE, URGENT, submit
from tests.fixtures import AddSubmission
from tests.harness.app import CASE_DAY, Clock
from tests.harness.clinician import TestClinician, sign_in
from tests.harness.forms import csrf_token, visible_text


def page_of(reference: str) -> str:
    return f"/clinic/submissions/{reference}"


def audit_actions(app: Flask) -> list[tuple[str, str | None]]:
    with app.app_context():
        return [
            (event.action, event.reference)
            for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
        ]


def stored(app: Flask, reference: str) -> Submission:
    with app.app_context():
        submission = db.session.scalar(
            sa.select(Submission).where(Submission.reference == reference)
        )
        assert submission is not None
        _ = submission.flags, submission.notes
        return submission


def post(client: FlaskClient, reference: str, path: str, data: dict[str, str]):
    token = csrf_token(client.get(page_of(reference)))
    return client.post(page_of(reference) + path, data={**data, "csrf_token": token})


def test_flags_on_top_with_evidence_source_rule_and_table_then_every_answer(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    reference = submit(app, BENZODIAZEPINE)
    response = as_reviewer.get(page_of(reference))
    assert response.status_code == 200
    text = visible_text(response)
    assert f"Submission {reference[:4]}-{reference[4:]}" in text
    flags_at, answers_at = text.index("Flags (1)"), text.index("Answers")
    assert flags_at < answers_at
    table = app.extensions["rule_table"]
    rule = table.rule("benzodiazepine")
    flag_part = text[flags_at:answers_at]
    assert rule.message in flag_part
    assert "Yes (yes)" in flag_part  # the answer that triggered it, in words and code
    assert "names Ativan" in flag_part  # the medicine the lexicon matched
    assert f"Rule benzodiazepine · table {table.version} · source: {rule.source}" in flag_part
    answers = text[answers_at:]
    assert "Your full name Sam Example" in answers
    assert "Please list every medicine you take" in answers
    html = response.get_data(as_text=True)
    assert html.count("summary__row--flagged") == 2  # the two answers behind the flag
    assert ("view_submission", reference) in audit_actions(app)


def test_an_unknown_reference_is_a_404(as_reviewer: FlaskClient) -> None:
    assert as_reviewer.get("/clinic/submissions/ABCD2345").status_code == 404
    assert as_reviewer.get("/clinic/submissions/%3Cscript%3E").status_code == 404


def test_acknowledge_a_flag_with_a_note(app: Flask, as_reviewer: FlaskClient) -> None:
    reference = submit(app, URGENT)
    flag = next(f for f in stored(app, reference).flags if f.rule == "suicidal_thoughts_now")
    response = post(
        as_reviewer, reference, f"/flags/{flag.id}/acknowledge", {"note": "Called her at 14:05"}
    )
    assert response.status_code == 303
    again = stored(app, reference)
    done = next(f for f in again.flags if f.id == flag.id)
    assert done.acknowledged_at is not None
    assert done.acknowledgement_note == "Called her at 14:05"
    text = visible_text(as_reviewer.get(page_of(reference)))
    assert "Acknowledged by Dr Reviewer" in text and "Called her at 14:05" in text
    assert ("acknowledge_flag", reference) in audit_actions(app)
    twice = post(as_reviewer, reference, f"/flags/{flag.id}/acknowledge", {"note": ""})
    assert twice.status_code == 400 and "already acknowledged" in visible_text(twice)


def test_a_flag_of_another_submission_cannot_be_acknowledged_here(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    first, second = submit(app, URGENT), submit(app, BENZODIAZEPINE)
    other_flag = stored(app, second).flags[0]
    response = post(as_reviewer, first, f"/flags/{other_flag.id}/acknowledge", {})
    assert response.status_code == 400
    assert stored(app, second).flags[0].acknowledged_at is None


def test_add_a_note(app: Flask, as_reviewer: FlaskClient) -> None:
    reference = submit(app, BENZODIAZEPINE)
    assert (
        post(as_reviewer, reference, "/notes", {"text": "Ask about the Ativan dose."}).status_code
        == 303
    )
    [note] = stored(app, reference).notes
    assert note.text == "Ask about the Ativan dose."
    assert "Dr Reviewer" in visible_text(as_reviewer.get(page_of(reference)))
    assert ("add_note", reference) in audit_actions(app)
    empty = post(as_reviewer, reference, "/notes", {"text": "   "})
    assert empty.status_code == 400 and "Write the note" in visible_text(empty)


def test_set_status_and_outcome(app: Flask, as_reviewer: FlaskClient) -> None:
    reference = submit(app, BENZODIAZEPINE)
    assert post(as_reviewer, reference, "/status", {"status": "in_review"}).status_code == 303
    response = post(
        as_reviewer,
        reference,
        "/status",
        {"status": "reviewed", "outcome": "invite_to_consultation"},
    )
    assert response.status_code == 303
    submission = stored(app, reference)
    assert (submission.status, submission.outcome) == ("reviewed", "invite_to_consultation")
    assert submission.status_changed_at is not None and submission.status_changed_by_id is not None
    with app.app_context():
        details = list(
            db.session.scalars(
                sa.select(AuditEvent.detail).where(AuditEvent.action == "set_status")
            )
        )
    assert details == [
        {"status": "in_review"},
        {"status": "reviewed", "outcome": "invite_to_consultation"},
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "approved"}, "Choose a status from the list."),
        ({"status": "reviewed"}, "Choose an outcome"),
        ({"status": "reviewed", "outcome": "eligible"}, "Choose an outcome"),
        (
            {"status": "new", "outcome": "not_proceeding"},
            "only set when the submission is reviewed",
        ),
    ],
)
def test_a_forged_status_or_outcome_gets_a_message_and_stores_nothing(
    app: Flask, as_reviewer: FlaskClient, data: dict[str, str], message: str
) -> None:
    reference = submit(app, BENZODIAZEPINE)
    response = post(as_reviewer, reference, "/status", data)
    assert response.status_code == 400
    assert message in visible_text(response)
    submission = stored(app, reference)
    assert (submission.status, submission.outcome) == ("new", None)
    assert "set_status" not in [action for action, _ in audit_actions(app)]


def test_a_post_without_csrf_is_refused(app: Flask, as_reviewer: FlaskClient) -> None:
    reference = submit(app, BENZODIAZEPINE)
    response = as_reviewer.post(page_of(reference) + "/notes", data={"text": "no token"})
    assert response.status_code == 400
    assert stored(app, reference).notes == []


def test_the_audit_trail_never_holds_an_answer(app: Flask, as_reviewer: FlaskClient) -> None:
    reference = submit(app, BENZODIAZEPINE)
    as_reviewer.get(page_of(reference))
    post(as_reviewer, reference, "/notes", {"text": "Private clinical note"})
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent)).scalars().all()
        dump = repr([(e.action, e.detail, e.reference, e.client_address) for e in rows])
    for private in (
        "Sam Example",
        "sam@example.com",
        "Ativan",
        "1980-05-17",
        "Private clinical note",
    ):
        assert private not in dump
    assert all(
        event_address == "127.0.0.1" for event_address in re.findall(r"'(127\.0\.0\.1)'", dump)
    )


def test_every_action_records_who_and_when(app: Flask, as_reviewer: FlaskClient) -> None:
    reference = submit(app, URGENT)
    flag_id = stored(app, reference).flags[0].id
    post(as_reviewer, reference, f"/flags/{flag_id}/acknowledge", {})
    post(as_reviewer, reference, "/notes", {"text": "Seen."})
    with app.app_context():
        flag = db.session.get(Flag, flag_id)
        note = db.session.scalar(sa.select(Note))
        assert flag is not None and note is not None
        assert flag.acknowledged_by is not None and flag.acknowledged_by.name == "Dr Reviewer"
        assert note.clinician is not None and note.clinician.name == "Dr Reviewer"
        assert flag.acknowledged_at == note.created_at  # the frozen test clock


MISSPELT = with_changes({"medications": "Restorill 15 mg at night, clonidine 0.1 mg, Zpak"})


def test_a_near_match_shows_the_patients_word_and_how_each_word_was_read(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    reference = submit(app, MISSPELT)
    text = visible_text(as_reviewer.get(page_of(reference)))
    flags_at, answers_at = text.index("Flags ("), text.index("Answers")
    assert "names 'Restorill' read as Restoril (1 letter different)" in text[flags_at:answers_at]
    answers = text[answers_at:]
    assert "Restorill : near match: Restoril, 1 letter different (benzodiazepines)" in answers
    assert (
        "clonidine : known: clonidine (known medicines), not flagged; resembles Klonopin" in answers
    )
    assert "Zpak : not recognised" in answers
    # Doses and everyday words are not listed word by word.
    assert "night : " not in answers and "15 : " not in answers


IN_CONTEXT = with_changes(
    {"medications": "stopped Ativan, now clonazepam 0.5. My wife takes Ritalin."}
)


def test_a_mention_in_context_shows_its_context_and_the_patients_words(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    reference = submit(app, IN_CONTEXT)
    text = visible_text(as_reviewer.get(page_of(reference)))
    flags_at, answers_at = text.index("Flags ("), text.index("Answers")
    flags = text[flags_at:answers_at]
    # One flag for the list named as taken; its evidence keeps the mention in context.
    assert "names clonazepam; also named: Ativan (past use: 'stopped Ativan')" in flags
    # A list named only in context gives the info flag, never "takes".
    assert "Ritalin (someone else's: 'My wife takes Ritalin')" in flags
    answers = text[answers_at:]
    assert "Ativan : Ativan (benzodiazepines); past use, set by 'stopped'" in answers
    assert "Ritalin : Ritalin (stimulants); someone else's, set by 'My wife'" in answers
    with app.app_context():
        assert {flag.rule for flag in stored(app, reference).flags} >= {
            "benzodiazepine",
            "medicine_mentioned_in_context",
        }


def test_evidence_recorded_before_readings_still_reads(app: Flask) -> None:
    rows = evidence_rows([{"item": "medications", "matched": ["Ativan", "Xanax"]}])
    assert [row.answer for row in rows] == ["names Ativan, Xanax"]


def test_no_box_ticked_reads_none_for_the_clinician_too(
    as_reviewer: FlaskClient, add_submission
) -> None:
    reference = add_submission(
        answers={
            "full_name": "Sam Example",
            "date_of_birth": "1980-05-17",
            "other_drugs_past_year": [],
        }
    )
    page = visible_text(as_reviewer.get(page_of(reference)))
    from questionnaire.questions.catalogue import ITEMS

    assert f"{ITEMS['other_drugs_past_year'].label} None" in page
    assert "Phone number Not provided" in page


def identity_of(html: str) -> str:
    """Return the identity block's HTML (from its section to the end of its list)."""
    start = html.index('<section class="identity"')
    return html[start : html.index("</dl>", start)]


def test_the_identity_block_names_the_patient_and_links_email_and_phone(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    reference = submit(app, BENZODIAZEPINE)
    response = as_reviewer.get(page_of(reference))
    html = response.get_data(as_text=True)
    block = identity_of(html)
    answers = BENZODIAZEPINE
    assert answers["full_name"] in block
    assert f'href="mailto:{answers["email"]}"' in block
    assert 'href="tel:' in block
    born = date.fromisoformat(answers["date_of_birth"])
    age = age_on(born, CASE_DAY.date())
    assert f"{born.isoformat()} (age {age})" in block
    region = ITEMS["region"].choice_label(answers["region"])
    assert region in block
    text = visible_text(response)
    # Identity first, then the flags, then every answer.
    assert text.index(answers["full_name"]) < text.index("Flags (1)") < text.index("Answers")
    assert "answered in English" in text and "status new" in text


def test_the_age_is_counted_on_the_day_the_page_is_opened(
    app: Flask, as_reviewer: FlaskClient, reviewer: TestClinician, add_submission, clock: Clock
) -> None:
    reference = add_submission(answers={"full_name": "Sam Example", "date_of_birth": "1980-06-02"})
    assert "1980-06-02 (age 45)" in identity_of(as_reviewer.get(page_of(reference)).text)
    clock.advance(days=1)  # the birthday; the session has ended, so sign in again
    sign_in(as_reviewer, app, reviewer)
    assert "1980-06-02 (age 46)" in identity_of(as_reviewer.get(page_of(reference)).text)


def test_missing_contacts_read_not_provided_and_typed_bidi_marks_show_as_codes(
    app: Flask, as_reviewer: FlaskClient, add_submission
) -> None:
    reference = add_submission(answers={"full_name": "Sam \u202eelpmaxE"})
    block = identity_of(as_reviewer.get(page_of(reference)).text)
    assert "Sam [U+202E]elpmaxE" in block and "\u202e" not in block
    assert block.count("Not provided") == 4  # date of birth, email, phone, region
    assert "mailto:" not in block and "tel:" not in block


def test_the_print_only_line_names_the_signed_in_clinician_and_the_time(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    reference = submit(app, BENZODIAZEPINE)
    html = as_reviewer.get(page_of(reference)).get_data(as_text=True)
    line = re.search(r'<p class="print-only print-line">(.*?)</p>', html, re.S)
    assert line is not None
    assert (
        line.group(1)
        == (
            f"Printed from http://localhost{page_of(reference)} by Dr Reviewer on 2026-06-01 08:00 EDT"  # noon UTC, in Toronto
        )
    )


def test_the_identity_of_a_submission_is_computed_on_a_given_day() -> None:
    answers = {"full_name": " Sam ", "date_of_birth": "1980-05-17", "region": "CA-ON", "phone": ""}
    found = identity(answers, date(2026, 5, 16))
    assert (found.name, found.born, found.age) == ("Sam", date(1980, 5, 17), 45)
    assert identity(answers, date(2026, 5, 17)).age == 46
    assert found.phone is None and found.email is None
    assert found.region == ITEMS["region"].choice_label("CA-ON")
    assert identity({"date_of_birth": "17/05/1980"}, date(2026, 1, 1)).born is None


def test_every_address_in_an_href_is_url_encoded(
    app: Flask, add_submission: AddSubmission, as_reviewer: FlaskClient
) -> None:
    # Stored before the stricter check (or by another path): the link still copies nobody.
    answers = {
        "full_name": "Sam Example",
        "date_of_birth": "1980-05-17",
        "email": "victim?bcc=someone@elsewhere.example",
    }
    reference = add_submission(answers=answers)
    page = as_reviewer.get(f"/clinic/submissions/{reference}").get_data(as_text=True)
    assert 'href="mailto:victim%3Fbcc%3Dsomeone@elsewhere.example"' in page
    assert "mailto:victim?bcc" not in page


@pytest.mark.parametrize(
    "zero", [0xFF10, 0x0660, 0x0966], ids=["full-width", "arabic", "devanagari"]
)
def test_a_hand_over_target_in_other_digits_is_refused(
    app: Flask,
    add_submission: AddSubmission,
    as_reviewer: FlaskClient,
    colleague: TestClinician,
    zero: int,
) -> None:
    reference = add_submission()
    token = csrf_token(as_reviewer.get(f"/clinic/submissions/{reference}"))
    taken = as_reviewer.post(f"/clinic/submissions/{reference}/take", data={"csrf_token": token})
    assert taken.status_code == 303
    with app.app_context():
        me = db.session.scalar(sa.select(Submission.assigned_to_id))
    other_digits = "".join(chr(zero + int(digit)) for digit in str(colleague.id))
    response = as_reviewer.post(
        f"/clinic/submissions/{reference}/hand-over",
        data={"csrf_token": token, "to": other_digits, "holder": str(me)},
    )
    assert response.status_code in (303, 400)
    with app.app_context():
        assert db.session.scalar(sa.select(Submission.assigned_to_id)) == me
    # The same id in ASCII digits hands it over.
    response = as_reviewer.post(
        f"/clinic/submissions/{reference}/hand-over",
        data={"csrf_token": token, "to": str(colleague.id), "holder": str(me)},
    )
    with app.app_context():
        assert db.session.scalar(sa.select(Submission.assigned_to_id)) == colleague.id
