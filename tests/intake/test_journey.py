"""The patient's way through, end to end on the test client, for the rules.yaml cases."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.questions import catalogue
from questionnaire.questions.catalogue import PAGES
from questionnaire.questions.version import VERSIONS
from questionnaire.records.models import Draft, Flag, Submission
from questionnaire.records.references import REFERENCE_ALPHABET
from tests.answers import baseline, cases, with_changes
from tests.harness.forms import csrf_token, visible_text
from tests.harness.patient import Patient, page_answers


def stored(app: Flask) -> list[Submission]:
    with app.app_context():
        submissions = list(db.session.scalars(sa.select(Submission)))
        for submission in submissions:
            _ = submission.flags  # load before the session closes
        return submissions


def case_answers(case: dict[str, Any]) -> dict[str, Any]:
    return with_changes(case.get("answers") or {})


JOURNEY_CASES = [case for case in cases() if "as_of" not in case]


def expected_levels(case: dict[str, Any], app: Flask) -> set[tuple[str, str]]:
    """Return a case's (rule, level) pairs: a bare id at its rule's base level."""
    base = app.extensions["rule_table"].base_levels()
    found = set()
    for entry in case["expect"]:
        pairs = entry.items() if isinstance(entry, dict) else [(entry, base[entry])]
        found.update(pairs)
    return found


#: The screener's own items: a case that answers any is walked with the screener on.
SCREENER_ITEMS = {item.id for item in catalogue.ITEMS.values() if item.screener is True}


@pytest.mark.parametrize("case", JOURNEY_CASES, ids=lambda case: case["name"])
def test_every_case_through_the_web_stores_exactly_its_flags(
    app: Flask, client: FlaskClient, case: dict[str, Any]
) -> None:
    answers = case_answers(case)
    app.config["CSSRS_SCREENER_ENABLED"] = bool(SCREENER_ITEMS & set(answers))
    response = Patient(client).complete(answers)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/done")
    [submission] = stored(app)
    assert {(flag.rule, flag.level) for flag in submission.flags} == expected_levels(case, app)
    assert submission.status == "new"
    assert submission.questionnaire_version == VERSIONS[app.config["CSSRS_SCREENER_ENABLED"]]


def test_a_submission_keeps_everything_the_clinic_needs(app: Flask, client: FlaskClient) -> None:
    answers = with_changes({"bp_reading": "185/100", "medications": "Ativan 1mg"})
    Patient(client).complete(answers)
    [submission] = stored(app)
    table = app.extensions["rule_table"]
    assert re.fullmatch(f"[{REFERENCE_ALPHABET}]{{8}}", submission.reference)
    assert submission.rules_version == table.version
    assert submission.rules_sha256 == table.sha256
    assert submission.language == "en"
    assert submission.answers["full_name"] == "Sam Example"
    assert submission.answers["weight_value"] == 70.0
    assert submission.facts == {
        "age_years": 46,
        "weight_kg": 70.0,
        "bp_systolic": 185,
        "bp_diastolic": 100,
        # The baseline skips the instruments: no score, never a partial sum.
        "phq9_total": None,
        "gad7_total": None,
        "pcl5_total": None,
        "phq9_item9": None,
        "auditc_total": None,
        "cssrs_risk": None,
    }
    assert submission.highest_level == "review"
    benzo = next(flag for flag in submission.flags if flag.rule == "benzodiazepine")
    rule = table.rule("benzodiazepine")
    assert (benzo.level, benzo.message, benzo.source) == (rule.level, rule.message, rule.source)
    assert benzo.evidence == [
        {
            "item": "medications",
            "matched": ["Ativan"],
            "read": [{"written": "Ativan", "term": "Ativan", "how": "exact", "edits": 0}],
        }
    ]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0


def test_an_urgent_answer_makes_the_submission_urgent(app: Flask, client: FlaskClient) -> None:
    answers = with_changes(
        {"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "prefer_not"}
    )
    Patient(client).complete(answers)
    [submission] = stored(app)
    assert submission.highest_level == "urgent"


def test_the_confirmation_shows_the_reference_and_what_happens_next(
    app: Flask, client: FlaskClient
) -> None:
    Patient(client).complete(baseline())
    [submission] = stored(app)
    page = visible_text(client.get("/done"))
    reference = f"{submission.reference[:4]}-{submission.reference[4:]}"
    assert reference in page
    assert "What happens next" in page
    assert "416 555 0100" in page  # the clinic's phone, from configuration
    assert "You do not have to wait to talk to someone" not in page


def test_sending_twice_stores_one_submission_and_shows_the_same_confirmation(
    app: Flask, client: FlaskClient
) -> None:
    patient = Patient(client)
    assert patient.start().status_code == 303
    for response in patient.answer_all(baseline()):
        assert response.status_code == 303
    form = {"understands_review": "y", "csrf_token": csrf_token(client.get("/check"))}
    # A double click: the same POST twice, the second with the cookie of the first.
    with client.session_transaction() as browser_session:
        cookie_before = dict(browser_session)
    first = client.post("/check", data=form)
    with client.session_transaction() as browser_session:
        browser_session.clear()
        browser_session.update(cookie_before)
    second = client.post("/check", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    # And a refresh of the POST after the redirect, with the new cookie.
    third = client.post("/check", data=form)
    assert third.status_code == 303 and third.headers["Location"].endswith("/done")
    assert len(stored(app)) == 1
    assert client.get("/done").status_code == 200


def test_answers_with_a_gap_are_not_sent(app: Flask, client: FlaskClient) -> None:
    patient = Patient(client)
    patient.start()
    for section in PAGES:
        if section.id != "heart_brain":
            patient.answer(section, baseline())
    response = patient.send()
    assert response.status_code == 400
    page = visible_text(response)
    assert "There is a problem" in page
    assert "Select yes if you have, or have had, a heart problem" in page
    assert 'href="/questions/heart_brain?return=check#heart_condition"' in response.get_data(
        as_text=True
    )
    assert stored(app) == []


def test_sending_needs_the_review_box_ticked(app: Flask, client: FlaskClient) -> None:
    patient = Patient(client)
    patient.start()
    patient.answer_all(baseline())
    response = patient.post_form("/check", {})
    assert response.status_code == 400
    assert (
        "Select to confirm that you understand a clinician will read your answers"
        in visible_text(response)
    )
    assert stored(app) == []


def test_check_your_answers_shows_every_answer_in_words(app: Flask, client: FlaskClient) -> None:
    patient = Patient(client)
    patient.start()
    patient.answer_all(with_changes({"phone": None, "weight_unit": "lb", "weight_value": "154"}))
    page = visible_text(client.get("/check"))
    assert "Check your answers before sending them" in page
    assert "Phone number (optional)" not in page  # the question, not the form label
    assert "Phone number Not provided" in page
    assert "Your weight 154 lb" in page
    assert "Where do you live? Ontario" in page
    assert "What would you like help with? Depression" in page
    assert "Are you having thoughts of ending your life right now?" not in page  # not asked


def test_a_change_link_returns_to_check_your_answers(app: Flask, client: FlaskClient) -> None:
    patient = Patient(client)
    patient.start()
    patient.answer_all(baseline())
    check = client.get("/check").get_data(as_text=True)
    link = "/questions/other_health?return=check#eye_pressure"
    assert f'href="{link}"' in check
    changed = with_changes({"eye_pressure": "yes"})
    other_health = next(section for section in PAGES if section.id == "other_health")
    response = patient.post_form(
        "/questions/other_health?return=check", page_answers(other_health, changed)
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/check")
    assert "eye injury or eye surgery? Yes" in visible_text(client.get("/check"))
    patient.send()
    [submission] = stored(app)
    assert {flag.rule for flag in submission.flags} == {"eye_pressure"}


def test_pages_need_a_started_questionnaire(client: FlaskClient) -> None:
    response = client.get("/questions/about_you")
    assert response.status_code == 303
    assert "/?expired=1" in response.headers["Location"]
    assert client.get("/questions/not_a_section").status_code == 404


def test_nothing_is_stored_before_consent(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client.get("/"))
    response = client.post("/start", data={"csrf_token": token})
    assert response.status_code == 400
    assert "Select to confirm that you agree to the privacy notice" in visible_text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0


def test_a_post_without_a_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    response = client.post("/start", data={"privacy_consent": "y"})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0
    patient = Patient(client)
    patient.start()
    patient.answer_all(baseline())
    refused = client.post("/check", data={"understands_review": "y"})
    assert refused.status_code == 400
    assert stored(app) == []


def test_a_page_without_a_csrf_token_keeps_the_answers_and_saves_nothing(
    app: Flask, client: FlaskClient
) -> None:
    patient = Patient(client)
    patient.start()
    response = client.post(
        "/questions/about_you", data={"full_name": "Sam Example", "email": "sam@example.com"}
    )
    assert response.status_code == 400
    assert "This page timed out" in visible_text(response)
    assert 'value="Sam Example"' in response.get_data(as_text=True)
    with app.app_context():
        draft = db.session.scalar(sa.select(Draft))
        assert draft is not None and "full_name" not in draft.answers


def test_flags_are_stored_once_per_rule(app: Flask, client: FlaskClient) -> None:
    Patient(client).complete(with_changes({"takes_benzodiazepine": "yes", "medications": "Xanax"}))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) == 1
