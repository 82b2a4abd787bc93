"""The instrument pages: skippable, PCL-5 only after PTSD, crisis help on PHQ-9 item 9."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.questions.catalogue import PAGES
from questionnaire.records.models import Submission, UnsentIntake
from tests.answers import with_changes
from tests.harness.forms import csrf_token, visible_text
from tests.harness.patient import Patient

CRISIS = "You do not have to wait to talk to someone"
INDEX = {section.id: index for index, section in enumerate(PAGES)}
PTSD = with_changes({"reasons": ["depression", "ptsd"]})


def started(client: FlaskClient, consent: bool = False) -> Patient:
    data = {"privacy_consent": "y", "csrf_token": csrf_token(client.get("/"))}
    if consent:
        data["contact_consent"] = "y"
    assert client.post("/start", data=data).status_code == 303
    return Patient(client)


def up_to(patient: Patient, page: str, answers: dict) -> None:
    for section in PAGES[: INDEX[page]]:
        assert patient.answer(section, answers).status_code == 303, section.id


def marked_english(html: str) -> int:
    """Return how many elements are marked English, the language switch left out."""
    # The link form holds lang="en" twice (its hreflang too).
    switch = html.count('formnovalidate lang="en"') + 2 * html.count('lang="en" hreflang="en"')
    return html.count('lang="en"') - switch


def test_the_pcl5_page_follows_gad7_only_with_ptsd_among_the_reasons(
    client: FlaskClient, app: Flask
) -> None:
    patient = started(client)
    up_to(patient, "gad7", PTSD)
    page = visible_text(client.get("/questions/gad7"))
    assert "Step 5 of 12" in page
    response = patient.answer(PAGES[INDEX["gad7"]], PTSD)
    assert response.headers["Location"].endswith("/questions/pcl5")
    pcl5 = client.get("/questions/pcl5")
    assert pcl5.status_code == 200
    text = visible_text(pcl5)
    assert "Step 6 of 12" in text
    assert "In the past month, how much were you bothered by:" in text
    assert "Repeated, disturbing dreams of the stressful experience?" in text
    assert "data-asked-when" not in pcl5.get_data(as_text=True)  # never hidden by the script
    assert "Extremely" in text


def test_without_ptsd_the_pcl5_page_is_never_asked(client: FlaskClient) -> None:
    answers = with_changes({"reasons": ["depression", "anxiety"]})
    patient = started(client)
    up_to(patient, "gad7", answers)
    assert "Step 5 of 11" in visible_text(client.get("/questions/gad7"))
    response = patient.answer(PAGES[INDEX["gad7"]], answers)
    assert response.headers["Location"].endswith("/questions/mental_health")
    # Opened directly, it sends the patient on and saves nothing.
    skipped = client.get("/questions/pcl5")
    assert skipped.status_code == 303
    assert skipped.headers["Location"].endswith("/questions/mental_health")
    back = client.get("/questions/mental_health").get_data(as_text=True)
    assert 'href="/questions/gad7"' in back  # Back skips it too
    assert "Step 6 of 11" in visible_text(client.get("/questions/mental_health"))


def test_every_instrument_item_may_be_skipped_and_the_page_says_why_to_answer(
    client: FlaskClient,
) -> None:
    patient = started(client)
    up_to(patient, "phq9", PTSD)
    for page in ("phq9", "gad7", "pcl5"):
        text = visible_text(client.get(f"/questions/{page}"))
        assert "answering all of them gives the clinician the most complete picture" in text
        assert "(optional)" not in text
        # Nothing ticked (the reasons are the earlier page's: only this page's items are sent).
        response = patient.answer(PAGES[INDEX[page]], {"reasons": ["ptsd"]})
        assert response.status_code == 303, page
    check = visible_text(client.get("/check"))
    assert "Little interest or pleasure in doing things Not provided" in check


def test_phq9_item_9_above_not_at_all_shows_crisis_help_at_once(client: FlaskClient) -> None:
    patient = started(client)
    up_to(patient, "phq9", with_changes({}))
    before = client.get("/questions/phq9").get_data(as_text=True)
    # Beside item 9, hidden until the script sees an answer above "Not at all".
    assert 'data-crisis-for="phq9_9" data-crisis-values="1 2 3"' in before
    assert 'data-stage="form" hidden' in before
    response = patient.answer(PAGES[INDEX["phq9"]], {"phq9_9": "1"})
    assert response.headers["Location"].endswith("/questions/gad7")
    assert CRISIS in visible_text(client.get("/questions/gad7"))
    again = client.get("/questions/phq9").get_data(as_text=True)
    assert 'data-stage="form" hidden' not in again  # shown beside item 9 now


def test_phq9_item_9_not_at_all_shows_no_crisis_help(client: FlaskClient) -> None:
    patient = started(client)
    up_to(patient, "phq9", with_changes({}))
    patient.answer(PAGES[INDEX["phq9"]], {"phq9_9": "0"})
    assert CRISIS not in visible_text(client.get("/questions/gad7"))


def test_item_9_nearly_every_day_left_unsent_is_an_unsent_urgent_intake(
    app: Flask, client: FlaskClient
) -> None:
    patient = started(client, consent=True)
    up_to(patient, "phq9", with_changes({}))
    response = patient.answer(PAGES[INDEX["phq9"]], {"phq9_9": "3"}, action="later")
    assert response.headers["Location"].endswith("/saved")
    response.close()
    assert CRISIS in visible_text(client.get("/saved"))
    with app.app_context():
        [intake] = db.session.scalars(sa.select(UnsentIntake)).all()
        rules = {(finding["rule"], finding["level"]) for finding in intake.findings}
    # One answer, one flag: phq9_item9_positive escalated to urgent.
    assert rules == {("phq9_item9_positive", "urgent")}


def test_the_scores_are_stored_with_the_answers(app: Flask, client: FlaskClient) -> None:
    answers = with_changes(
        {
            **{f"phq9_{n}": "2" for n in range(1, 10)},
            **{f"gad7_{n}": "1" for n in range(1, 7)},
        }
    )
    patient = started(client)
    for section in PAGES:
        assert patient.answer(section, answers).status_code == 303
    assert patient.send().status_code == 303
    with app.app_context():
        submission = db.session.scalars(sa.select(Submission)).one()
        facts = dict(submission.facts)
        rules = {flag.rule for flag in submission.flags}
    assert (facts["phq9_total"], facts["phq9_item9"], facts["gad7_total"]) == (18, 2, None)
    assert facts["pcl5_total"] is None
    assert rules == {"phq9_item9_positive"}


def test_in_french_phq9_reads_in_its_official_french_and_gad7_pcl5_are_left_out_saying_so(
    client: FlaskClient, app: Flask
) -> None:
    """Issue 25: never English among French. The GAD-7 and PCL-5 have no official French
    here, so a French patient is not asked them; the PHQ-9 page says so, naming each."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA"
    patient = started(client)
    patient.language = "fr-CA"
    up_to(patient, "phq9", PTSD)
    phq9 = client.get("/questions/phq9").get_data(as_text=True)
    text = visible_text(phq9)
    assert "à quelle fréquence avez-vous été dérangé(e) par les problèmes suivants?" in text
    assert "Peu d\u2019intérêt ou de plaisir à faire des choses" in text
    assert "Plus de sept jours" in text
    assert "Little interest" not in text and marked_english(phq9) == 0
    assert "« Inquiétude et nervosité » (GAD-7), ne sont pas posées" in text
    assert "(PCL-5), ne sont pas posées en français ici" in text
    assert "Étape 4 sur 10" in text  # GAD-7 and PCL-5 are not counted as steps
    response = patient.answer(PAGES[INDEX["phq9"]], PTSD)
    assert response.headers["Location"] == "/questions/mental_health"
    for page in ("gad7", "pcl5"):
        assert client.get(f"/questions/{page}").headers["Location"] == "/questions/mental_health"
    back = visible_text(client.get("/questions/mental_health"))
    assert "Feeling nervous" not in back
    for section in PAGES[INDEX["mental_health"] :]:
        patient.answer(section, PTSD)
    check = client.get("/check").get_data(as_text=True)
    # Not one English question among the French, the AUDIT-C's included (left out too).
    assert marked_english(check) == 0 and "Feeling nervous" not in check
    assert "How often do you have a drink" not in check
    assert patient.send().status_code == 303
    with app.app_context():
        submission = db.session.scalars(sa.select(Submission)).one()
    assert not any(key.startswith(("gad7_", "pcl5_")) for key in submission.answers)


def test_in_french_the_auditc_is_left_out_of_the_alcohol_page_saying_so(
    client: FlaskClient, app: Flask
) -> None:
    """Issue 22/25: no official French AUDIT-C could be cited, so its three questions are not
    asked in French (never English among French); the page says so in one sentence, the
    clinic's own alcohol questions stay, and a forged AUDIT-C answer is not stored."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA"
    patient = started(client)
    patient.language = "fr-CA"
    up_to(patient, "alcohol_drugs", PTSD)
    html = client.get("/questions/alcohol_drugs").get_data(as_text=True)
    text = visible_text(html)
    assert marked_english(html) == 0
    assert "How often do you have a drink" not in text and 'name="auditc_1"' not in html
    assert (
        "Certaines questions d\u2019un questionnaire standard (AUDIT-C) ne sont pas posées" in text
    )
    # Asked of every French patient: its condition (AUDIT-C item 1) is never answered here,
    # so it is asked as a plain question, without the script's condition or its hint.
    assert 'name="alcohol_can_pause"' in html
    assert 'data-asked-when="auditc_1"' not in html
    assert "Répondez à cette question si vous buvez de l\u2019alcool." not in text
    forged = {**PTSD, "auditc_1": "4", "auditc_2": "4", "auditc_3": "4"}
    for section in PAGES[INDEX["alcohol_drugs"] :]:
        assert patient.answer(section, forged).status_code == 303, section.id
    assert patient.send().status_code == 303
    with app.app_context():
        submission = db.session.scalars(sa.select(Submission)).one()
        rules = {flag.rule for flag in submission.flags}
        facts = dict(submission.facts)
    assert not any(key.startswith("auditc_") for key in submission.answers)
    assert facts["auditc_total"] is None and "alcohol_risk" not in rules


def test_in_english_the_auditc_is_asked_with_the_standard_drink(client: FlaskClient) -> None:
    patient = started(client)
    up_to(patient, "alcohol_drugs", PTSD)
    html = client.get("/questions/alcohol_drugs").get_data(as_text=True)
    text = visible_text(html)
    assert "How often do you have a drink containing alcohol?" in text
    assert "A drink is 341 ml (12 oz) of beer, cider or cooler at 5%" in text
    assert "ne sont pas posées" not in text and "standard questionnaire (AUDIT-C)" not in text
    assert 'data-asked-when="auditc_1"' in html
