"""The patient's language: chosen by Accept-Language, switched on any page, kept everywhere."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire import language
from questionnaire.extensions import db
from questionnaire.questions.catalogue import PAGES, SECTION_OF
from questionnaire.records.models import Draft, Submission
from tests.answers import baseline
from tests.harness.clinician import make_clinician, sign_in
from tests.harness.forms import html_lang, page_html, visible_text
from tests.harness.patient import Patient, page_answers

ABOUT_YOU = PAGES[0]
SAFETY = SECTION_OF["suicidal_thoughts_past_month"]


@pytest.fixture
def french() -> Callable[[str], str]:
    """Return the fr-CA catalogue's lookup, so tests expect what a translator wrote."""
    return language.catalogue("fr_CA")


def in_french(client: FlaskClient, accept: str = "fr-CA,fr;q=0.9,en;q=0.5") -> FlaskClient:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    return client


def stored(app: Flask, model: type[Draft] | type[Submission]) -> list[str]:
    with app.app_context():
        return [row.language for row in db.session.scalars(sa.select(model))]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("fr-CA,fr;q=0.9", "fr-CA"),
        ("fr", "fr-CA"),  # French from France or anywhere: the French we have
        ("fr-FR,en;q=0.5", "fr-CA"),
        ("en-CA,fr-CA;q=0.8", "en"),
        ("de-DE", "en"),  # nothing offered: the first language of LANGUAGES
        ("", "en"),
    ],
)
def test_accept_language_picks_the_first_page(plain_app: Flask, accept: str, expected: str) -> None:
    response = in_french(plain_app.test_client(), accept).get("/")
    assert response.status_code == 200
    assert html_lang(response) == expected


def test_a_french_start_page_is_french(plain_app: Flask, french: Callable[[str], str]) -> None:
    page = visible_text(in_french(plain_app.test_client()).get("/"))
    heading = french("Before your first appointment")
    assert heading != "Before your first appointment"
    assert heading in page
    assert "Before your first appointment" not in page
    # The switch names the other language in its own words.
    assert "English" in page
    assert "Français" not in page


def test_a_french_journey_records_french_on_the_draft_and_the_submission(
    app: Flask, client: FlaskClient, french: Callable[[str], str]
) -> None:
    patient = Patient(in_french(client), language="fr-CA")
    patient.walk_to_check(baseline())
    assert stored(app, Draft) == ["fr-CA"]
    check = client.get("/check")
    assert html_lang(check) == "fr-CA"
    assert french("Check your answers before sending them") in visible_text(check)
    reference = patient.send_for_reference()
    assert stored(app, Submission) == ["fr-CA"]
    # The confirmation stays in French, even if the browser's preference changes.
    done = in_french(client, "en").get("/done")
    assert html_lang(done) == "fr-CA"
    assert french("Your answers have been sent") in visible_text(done)
    assert reference


def test_the_switch_on_a_question_page_keeps_what_was_typed_and_the_page(
    app: Flask, client: FlaskClient, french: Callable[[str], str]
) -> None:
    patient = Patient(client)
    patient.start()
    answers = baseline()
    patient.answer(ABOUT_YOU, answers)
    # Half of the next page typed, then the switch (the form's own button).
    looking_for = PAGES[1]
    typed = {"reasons": ["depression", "anxiety"], "antidepressants_tried": "2"}
    response = patient.answer(looking_for, typed, language="fr-CA")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/questions/{looking_for.id}")
    again = client.get(f"/questions/{looking_for.id}")
    assert html_lang(again) == "fr-CA"
    html = page_html(again)
    for code in ("depression", "anxiety"):
        assert re.search(rf'value="{code}"\s+checked', html), code
    assert re.search(r'value="2"\s+checked', html)
    assert french(looking_for.title) in visible_text(again)
    # The switch is no Continue: the page is not counted as done, nothing was refused.
    assert "There is a problem" not in visible_text(response)
    assert stored(app, Draft) == ["fr-CA"]
    # The first page's answers are all still there.
    first = page_html(client.get(f"/questions/{ABOUT_YOU.id}"))
    assert 'value="sam@example.com"' in first


def test_the_switch_link_returns_to_the_same_page(
    app: Flask, client: FlaskClient, french: Callable[[str], str]
) -> None:
    Patient(client).start()
    response = client.get("/language/fr-CA?next=/privacy")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/privacy")
    page = client.get("/privacy")
    assert html_lang(page) == "fr-CA"
    assert french("Privacy notice") in visible_text(page)
    assert stored(app, Draft) == ["fr-CA"]
    # And back to English.
    client.get("/language/en?next=/privacy")
    assert html_lang(client.get("/privacy")) == "en"
    assert stored(app, Draft) == ["en"]


@pytest.mark.parametrize(
    "next_page",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/clinic/queue",
        "/no/such/page",
        "",
        "relative",
    ],
)
def test_the_switch_goes_back_only_to_a_patient_page_here(plain_app: Flask, next_page: str) -> None:
    response = plain_app.test_client().get("/language/fr-CA", query_string={"next": next_page})
    assert response.status_code == 303
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_an_unknown_language_is_not_found(plain_app: Flask) -> None:
    client = plain_app.test_client()
    assert client.get("/language/de-DE?next=/").status_code == 404
    assert html_lang(client.get("/")) == "en"


def test_a_language_left_out_of_languages_is_not_offered(tmp_path: object) -> None:
    from tests.harness.app import make_app

    only_english = make_app(tmp_path, LANGUAGES="en")  # type: ignore[arg-type]
    client = in_french(only_english.test_client())
    page = client.get("/")
    assert html_lang(page) == "en"
    assert "Français" not in visible_text(page)
    assert client.get("/language/fr-CA?next=/").status_code == 404


def test_a_reopened_draft_comes_back_in_its_language(
    app: Flask, client: FlaskClient, french: Callable[[str], str]
) -> None:
    patient = Patient(in_french(client), language="fr-CA")
    patient.start()
    patient.answer(ABOUT_YOU, baseline(), action="later")
    link = re.search(r'class="resume-link"><a href="([^"]+)"', page_html(client.get("/saved")))
    assert link
    path = link.group(1).removeprefix("http://localhost")
    # Another browser, which prefers English.
    other = Patient(app.test_client())
    in_french(other.client, "en")  # type: ignore[arg-type]
    born = baseline()["date_of_birth"].split("-")
    token = other.token(path)
    data = {
        "date_of_birth-year": born[0],
        "date_of_birth-month": born[1],
        "date_of_birth-day": born[2],
        "csrf_token": token,
    }
    response = other.post(path, data)
    assert response.status_code == 303
    resumed = other.get(response.headers["Location"])
    assert html_lang(resumed) == "fr-CA"


def test_errors_are_in_the_patient_s_language(
    app: Flask, client: FlaskClient, french: Callable[[str], str]
) -> None:
    patient = Patient(in_french(client), language="fr-CA")
    patient.start()
    response = patient.answer(ABOUT_YOU, {})
    assert response.status_code == 400
    page = visible_text(response)
    assert french("There is a problem") in page
    assert "There is a problem" not in page
    assert "Enter your" not in page


def test_the_clinician_side_stays_in_english_and_names_the_patient_s_language(
    app: Flask, client: FlaskClient
) -> None:
    patient = Patient(in_french(client), language="fr-CA")
    reference = patient.journey(baseline())
    desk = in_french(app.test_client())
    sign_in(desk, app, make_clinician(app))
    page = desk.get(f"/clinic/submissions/{reference}")
    assert page.status_code == 200
    assert html_lang(page) == "en"
    assert "answered in French (Canada)" in visible_text(page)


def test_page_answers_of_a_page_are_what_a_browser_posts() -> None:
    # The harness posts the language switch beside the answers, as the button does.
    assert "language" not in page_answers(ABOUT_YOU, baseline())


def test_screen_reader_labels_keep_abbreviations_in_capitals() -> None:
    """Issue 25: "Change phq-9 item 1", « mav », « avc » read as words; capitals stay."""
    from questionnaire.language import lower_first

    assert lower_first("PHQ-9 item 1") == "PHQ-9 item 1"
    assert lower_first("Aneurysm or AVM") == "aneurysm or AVM"
    assert lower_first("AVC ou saignement dans le cerveau") == "AVC ou saignement dans le cerveau"
    assert lower_first("Anévrisme ou MAV") == "anévrisme ou MAV"
    assert lower_first("Weight") == "weight"


def test_the_check_page_writes_the_date_of_birth_in_words(client: FlaskClient) -> None:
    """Issue 25: 1980-05-17 reads « 17 mai 1980 » in French and 17 May 1980 in English."""
    cases = (
        ("en", "Date of birth 17 May 1980", "> PHQ-9 item 1</span>"),
        ("fr-CA", "17 mai 1980", "> PHQ-9, question 1</span>"),
    )
    for accept, words, label in cases:
        browser = client.application.test_client()
        browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
        patient = Patient(browser, language=accept)
        patient.start()
        patient.answer_all(baseline())
        page = browser.get("/check").get_data(as_text=True)
        assert words in visible_text(page) and "1980-05-17" not in page
        assert label in page  # the screen reader's "Change …" keeps PHQ-9 in capitals
