"""What the patient sees: question pages, errors, the conditional question, crisis help."""

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
from questionnaire.records.models import Draft
from tests.answers import baseline, cases, with_changes
from tests.harness.forms import visible_text
from tests.harness.patient import Patient, asked_pages

SECTION = {section.id: section for section in PAGES}
CRISIS = "You do not have to wait to talk to someone"


def draft_answers(app: Flask) -> dict[str, Any]:
    with app.app_context():
        draft = db.session.scalar(sa.select(Draft))
        assert draft is not None
        return dict(draft.answers)


def started(client: FlaskClient) -> Patient:
    patient = Patient(client)
    assert patient.start().status_code == 303
    return patient


def test_a_question_page_is_built_from_items(client: FlaskClient) -> None:
    started(client)
    response = client.get("/questions/heart_brain")
    html = response.get_data(as_text=True)
    text = visible_text(response)
    assert "<h1>Heart, blood pressure and brain</h1>" in html
    assert "Step 7 of 11" in text
    assert 'href="/questions/mental_health"' in html  # the Back link
    assert "If you know your latest blood pressure reading, type it here (optional)" in text
    assert "*" not in text
    # Radios in a fieldset with a legend, every input with its label.
    assert html.count("<fieldset") == 7 and html.count("<legend") == 7
    for input_id in re.findall(r'<input[^>]+id="([^"]+)"', html):
        if input_id != "csrf_token":
            assert f'for="{input_id}"' in html, input_id


def test_the_first_page_goes_back_to_the_start(client: FlaskClient) -> None:
    started(client)
    html = client.get("/questions/about_you").get_data(as_text=True)
    assert 'class="back-link" href="/"' in html
    assert "Step 1 of 11" in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"weight_value": "seventy"}, "weight_value", "Enter your weight as a number"),
        ({"email": "not-an-email"}, "email", "Enter an email address like name@example.com."),
        ({"full_name": ""}, "full_name", "Enter your full name"),
        ({"full_name": "x" * 201}, "full_name", "Use 200 characters or fewer"),
        ({"region": "XX"}, "region", "Choose one of the answers shown."),
    ],
)
def test_a_bad_answer_gets_a_message_beside_it_and_nothing_typed_is_lost(
    app: Flask, client: FlaskClient, changes: dict[str, Any], field: str, message: str
) -> None:
    patient = started(client)
    answers = with_changes(changes)
    response = patient.answer(SECTION["about_you"], answers)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    text = visible_text(response)
    assert text.count("There is a problem") == 1
    assert f'<a href="#{field}">' in html
    assert f'id="{field}-error"' in html and message in text
    assert f'id="{field}"' in html and "aria-describedby" in html
    assert 'value="sam@example.com"' in html or field == "email"
    assert 'value="70"' in html or field == "weight_value"
    assert "Error: About you" in html  # the page title says so too
    assert "full_name" not in draft_answers(app)  # nothing saved from an invalid page


def test_two_questions_left_blank_get_two_messages_each_naming_its_question(
    client: FlaskClient,
) -> None:
    patient = started(client)
    blank = with_changes({"heart_condition": None, "seizures": None})
    response = patient.answer(SECTION["heart_brain"], blank)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    heart = "Select yes if you have, or have had, a heart problem"
    seizures = "Select yes if you have ever had a seizure or been told you have epilepsy"
    # Each in the summary, linking to its own question, and beside that question.
    assert f'<a href="#heart_condition">{heart}</a>' in html
    assert f'<a href="#seizures">{seizures}</a>' in html
    assert re.search(rf'id="heart_condition-error">[^\n]*?{re.escape(heart)}', html)
    assert re.search(rf'id="seizures-error">[^\n]*?{re.escape(seizures)}', html)
    assert "Choose an answer" not in html


def test_a_blood_pressure_that_cannot_be_read_says_how_to_write_it(client: FlaskClient) -> None:
    patient = started(client)
    response = patient.answer(SECTION["heart_brain"], with_changes({"bp_reading": "high"}))
    assert response.status_code == 400
    assert "Write your blood pressure like 128/82 or 128 over 82" in visible_text(response)
    assert 'value="high"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("section", "data"),
    [
        ("safety", {"suicidal_thoughts_past_month": "sometimes"}),
        ("looking_for", {"reasons": ["depression", "<script>alert(1)</script>"]}),
        ("medicines", {"takes_benzodiazepine": "no", "medications": "x" * 5000}),
        ("about_you", {"date_of_birth": "0000-00-00", "weight_value": "1e309"}),
        ("heart_brain", {"bp_reading": "999999999999999999/1"}),
        ("getting_home", {"escort_home": ["yes", "no"], "travel_home": ""}),
    ],
)
def test_a_crafted_post_never_causes_a_500(
    app: Flask, client: FlaskClient, section: str, data: dict[str, Any]
) -> None:
    patient = started(client)
    response = patient.post_form(f"/questions/{section}", data)
    assert response.status_code == 400
    assert "There is a problem" in visible_text(response)
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_answers_are_saved_on_continue_and_shown_again(app: Flask, client: FlaskClient) -> None:
    patient = started(client)
    patient.answer(SECTION["about_you"], baseline())
    saved = draft_answers(app)
    assert saved["full_name"] == "Sam Example" and saved["weight_value"] == "70"
    html = client.get("/questions/about_you").get_data(as_text=True)
    assert 'value="Sam Example"' in html
    assert '<option value="CA-ON" selected>' in html
    # A new tab with the same cookie: the answers are still there.
    assert 'value="Sam Example"' in client.get("/questions/about_you").get_data(as_text=True)


def test_the_conditional_question_is_shown_without_javascript_with_a_hint(
    client: FlaskClient,
) -> None:
    started(client)
    html = client.get("/questions/safety").get_data(as_text=True)
    assert "Are you having thoughts of ending your life right now?" in html
    assert "Answer this if you answered Yes or I&#39;d rather not say" in html
    assert 'data-asked-when="suicidal_thoughts_past_month"' in html
    assert 'data-asked-values="prefer_not yes"' in html


@pytest.mark.parametrize("past_month", ["yes", "prefer_not"])
def test_the_conditional_question_is_required_when_its_condition_holds(
    client: FlaskClient, past_month: str
) -> None:
    patient = started(client)
    response = patient.answer(
        SECTION["safety"], with_changes({"suicidal_thoughts_past_month": past_month})
    )
    assert response.status_code == 400
    link = '<a href="#suicidal_thoughts_now">Select yes if you are having thoughts of ending your life right now</a>'
    assert link in response.get_data(as_text=True)


def test_an_answer_to_the_conditional_question_is_kept_when_not_asked(
    app: Flask, client: FlaskClient
) -> None:
    patient = started(client)
    answers = with_changes({"suicidal_thoughts_past_month": "no", "suicidal_thoughts_now": "yes"})
    assert patient.answer(SECTION["safety"], answers).status_code == 303
    assert draft_answers(app)["suicidal_thoughts_now"] == "yes"


@pytest.mark.parametrize("now", ["yes", "prefer_not"])
def test_crisis_help_shows_at_once_and_on_the_confirmation(client: FlaskClient, now: str) -> None:
    patient = started(client)
    answers = with_changes({"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": now})
    for section in PAGES[:2]:
        patient.answer(section, answers)
    # Before an answer, the panel waits hidden beside the question for the script to show it.
    before = client.get("/questions/safety").get_data(as_text=True)
    assert 'data-stage="form" hidden' in before
    response = patient.answer(SECTION["safety"], answers)
    assert response.headers["Location"].endswith("/questions/phq9")
    next_page = client.get("/questions/phq9")
    text = visible_text(next_page)
    assert CRISIS in text
    assert "Call or text 9\u20118\u20118" in text and "call 911" in text
    assert "416 555 0100" in text  # the clinic's phone
    assert 'href="tel:988"' in next_page.get_data(as_text=True)
    # At the top, once: the PHQ-9's own place for it beside item 9 is left out.
    assert next_page.get_data(as_text=True).count('class="crisis-panel"') == 1
    assert "You can carry on with this form when you are ready" in text
    for section in PAGES[3:]:
        assert patient.answer(section, answers).status_code == 303
    assert patient.send().status_code == 303
    assert CRISIS in visible_text(client.get("/done"))


def test_no_crisis_panel_when_not_in_danger_now(client: FlaskClient) -> None:
    patient = started(client)
    answers = with_changes({"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "no"})
    for section in PAGES[:3]:
        patient.answer(section, answers)
    assert CRISIS not in visible_text(client.get("/questions/mental_health"))


def test_the_crisis_line_is_in_every_patient_pages_footer(client: FlaskClient) -> None:
    for url in ["/", "/privacy", "/no-such-page"]:
        assert "Need help now? Call or text 9\u20118\u20118" in visible_text(client.get(url)), url
    started(client)
    for section in asked_pages({}):  # every page a patient who named no PTSD is asked
        text = visible_text(client.get(f"/questions/{section.id}"))
        assert "Need help now? Call or text 9\u20118\u20118" in text, section.id


def test_crisis_lines_and_clinic_contact_are_configuration(app: Flask, client: FlaskClient) -> None:
    app.config.update(
        CRISIS_LINE_NUMBER="1-800-784-2433",
        CRISIS_LINE_NOTE="our region",
        EMERGENCY_NUMBER="112",
        CLINIC_NAME="Harbour Clinic",
    )
    text = visible_text(client.get("/"))
    assert "Call or text 1\u2011800\u2011784\u20112433 (our region)" in text
    assert "call 112" in text and "Harbour Clinic" in text


def test_the_landing_page_says_what_this_is(client: FlaskClient) -> None:
    text = visible_text(client.get("/"))
    for words in [
        "10 to 15 minutes",
        "A clinician reads every answer",
        "This form is not for emergencies",
        "privacy notice",
        "I agree that the clinic may store and use my answers",
    ]:
        assert words in text


VERDICT = re.compile(
    r"\b(ineligible|contraindicat\w*|diagnos\w*|not a candidate|rejected|denied|flag\w*|urgent"
    # The instruments' scores and bands are for clinicians only (English and French words).
    r"|score\w*|band|minimal|mild|moderate|severe|cut-point|"
    r"minimale?|légère|modérée|sévère|seuil)\b",
    re.IGNORECASE,
)
VIGNETTES = [case for case in cases() if case["expect"]]
#: The cases that answer an instrument, walked in French too.
INSTRUMENT_CASES = [
    case
    for case in cases()
    if any(key.startswith(("phq9_", "gad7_", "pcl5_")) for key in case.get("answers", {}))
]


def test_the_verdict_check_finds_band_words() -> None:
    for word in ("moderately severe", "Severe", "mild", "sévère", "modérée", "total score"):
        assert VERDICT.search(word), word
    # The PCL-5's own answer "Moderately" is not a band word.
    assert not VERDICT.search("Moderately")


@pytest.mark.parametrize("case", INSTRUMENT_CASES, ids=lambda case: case["name"])
def test_no_french_patient_page_shows_a_score_or_a_band(
    app: Flask, client: FlaskClient, case: dict[str, Any]
) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA"
    walk_without_a_verdict(app, client, case, "fr-CA")


@pytest.mark.parametrize("case", VIGNETTES, ids=lambda case: case["name"])
def test_no_patient_page_shows_a_flag_a_rule_message_or_a_verdict(
    app: Flask, client: FlaskClient, case: dict[str, Any]
) -> None:
    walk_without_a_verdict(app, client, case, "en")


def walk_without_a_verdict(
    app: Flask, client: FlaskClient, case: dict[str, Any], language: str
) -> None:
    """Walk every page a patient reading `language` is asked; no page shows a verdict."""
    answers = with_changes(case.get("answers") or {})
    table = app.extensions["rule_table"]
    messages = [rule.message for rule in table.rules]
    flag_ids = [rule.id for rule in table.rules if "_" in rule.id]
    patient = Patient(client, language=language)
    pages = [client.get("/"), patient.start()]
    for section in asked_pages(answers, language):
        pages.append(patient.answer(section, answers))
        pages.append(client.get(f"/questions/{section.id}"))
    pages += [client.get("/check"), patient.send(), client.get("/done")]
    for response in pages:
        text = visible_text(response)
        assert not VERDICT.search(text), VERDICT.search(text)
        for message in messages:
            assert message not in text
        for flag_id in flag_ids:
            assert flag_id not in text
        for level in ("review", "info"):
            assert f"level {level}" not in text.lower()
    assert "/done" in pages[-2].headers["Location"]


def test_pages_that_show_or_collect_answers_are_never_cached(client: FlaskClient) -> None:
    started(client)
    for url in ["/", "/questions/about_you", "/check"]:
        assert client.get(url).headers["Cache-Control"] == "no-store", url


def test_the_check_page_says_none_for_no_box_ticked_and_not_provided_for_a_skipped_question(
    app: Flask,
) -> None:
    patient = Patient(app.test_client())
    patient.walk_to_check(with_changes({"other_drugs_past_year": [], "phone": None}))
    page = visible_text(patient.get("/check"))
    drugs = catalogue.ITEMS["other_drugs_past_year"]
    phone = catalogue.ITEMS["phone"]
    assert f"{drugs.short_label} None" in page or f"{drugs.label} None" in page
    assert f"{phone.short_label} Not provided" in page or f"{phone.label} Not provided" in page
    assert (
        f"{drugs.label} Not provided" not in page
        and f"{drugs.short_label} Not provided" not in page
    )
