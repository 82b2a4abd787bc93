"""The clinician's language: English by default, French by choice, kept apart from the patient's."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from questionnaire import language
from questionnaire.questions.catalogue import PAGES, Item
from tests.fixtures import AddSubmission
from tests.harness.clinician import TestClinician, sign_in
from tests.harness.forms import html_lang, visible_text

FRENCH_BROWSER = "fr-CA,fr;q=0.9,en;q=0.5"


@pytest.fixture
def french() -> Callable[[str], str]:
    """Return the fr-CA catalogue's lookup, so tests expect what the translator wrote."""
    return language.catalogue("fr_CA")


def switch(client: FlaskClient, tag: str, next_url: str) -> str:
    """Press the header's language link; return the path it goes back to."""
    response = client.get(f"/clinic/language/{tag}", query_string={"next": next_url})
    assert response.status_code == 303
    return urlsplit(response.headers["Location"]).path


def a_choice_item() -> Item:
    """Return a question answered with a choice, whose words differ in French."""
    french = language.catalogue("fr_CA")
    return next(
        item
        for section in PAGES
        for item in section.items
        if item.kind.traits.value == "code"
        and item.choices
        and french(item.choices[0].label) != item.choices[0].label
    )


def test_clinician_pages_are_english_even_for_a_french_browser(
    app: Flask, client: FlaskClient, reviewer: TestClinician
) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = FRENCH_BROWSER
    page = client.get("/clinic/sign-in")
    assert html_lang(page) == "en"
    assert "Sign in with your email address" in visible_text(page)
    assert "Français" in visible_text(page)  # the switch is offered
    sign_in(client, app, reviewer)
    queue = client.get("/clinic/")
    assert html_lang(queue) == "en"
    assert "Queue" in visible_text(queue)


def test_the_switch_works_signed_out_and_lasts_through_sign_in(
    app: Flask, client: FlaskClient, reviewer: TestClinician, french: Callable[[str], str]
) -> None:
    assert switch(client, "fr-CA", "/clinic/sign-in") == "/clinic/sign-in"
    page = client.get("/clinic/sign-in")
    assert html_lang(page) == "fr-CA"
    text = visible_text(page)
    assert french("Sign in") in text and "Se connecter" in text
    assert french("Password") in text
    assert "Sign in with your email address" not in text
    sign_in(client, app, reviewer)
    queue = client.get("/clinic/")
    assert html_lang(queue) == "fr-CA"
    assert french("Queue") in visible_text(queue)
    assert "Dr Reviewer" in visible_text(queue)  # "Connecté(e) en tant que Dr Reviewer"


def test_a_submission_in_french_keeps_the_rule_text_and_the_typed_words(
    app: Flask,
    as_reviewer: FlaskClient,
    add_submission: AddSubmission,
    french: Callable[[str], str],
) -> None:
    item = a_choice_item()
    choice = item.choices[0]
    reference = add_submission(
        flags=[("x_rule", "urgent")],
        answers={"full_name": "Sam Example", item.id: choice.code},
    )
    switch(as_reviewer, "fr-CA", f"/clinic/submissions/{reference}")
    page = as_reviewer.get(f"/clinic/submissions/{reference}")
    assert page.status_code == 200
    assert html_lang(page) == "fr-CA"
    text = visible_text(page)
    assert french(item.label) in text and french(item.label) != item.label
    assert french(choice.label) in text
    assert "Reports x_rule." in text  # the rule's message, as written in the rule table
    assert re.search(r"source\s:\stest", text)  # the rule's source, as written
    assert "Sam Example" in text  # typed by the patient, never translated
    assert "Prendre connaissance" in text and "Acknowledge" not in text
    assert "rempli en" in text and "anglais" in text  # the patient's language, named in French


def test_an_export_page_in_french(
    app: Flask, as_reviewer: FlaskClient, french: Callable[[str], str]
) -> None:
    result = app.test_cli_runner().invoke(
        args=["clinician", "grant-export", "reviewer@clinic.example"]
    )
    assert result.exit_code == 0, result.output
    switch(as_reviewer, "fr-CA", "/clinic/exports")
    page = as_reviewer.get("/clinic/exports")
    assert page.status_code == 200
    assert html_lang(page) == "fr-CA"
    assert french("Your exports") in visible_text(page)
    assert "Your exports" not in visible_text(page)


@pytest.mark.parametrize(
    "next_page",
    [
        "//evil.example/",
        "https://evil.example/clinic/",
        "/\\evil.example",
        "/%2F%2Fevil.example",
        "/privacy",  # a patient page: not the clinician's switch's to return to
        "/clinic/no-such-page",
        "/clinic/language/en",
        "",
        "relative",
    ],
)
def test_the_switch_goes_back_only_to_a_clinic_page(
    app: Flask, client: FlaskClient, reviewer: TestClinician, next_page: str
) -> None:
    assert switch(client, "fr-CA", next_page) == "/clinic/sign-in"
    sign_in(client, app, reviewer)
    assert switch(client, "en", next_page) == "/clinic/"


def test_the_switch_keeps_a_clinic_page_and_its_query(as_reviewer: FlaskClient) -> None:
    response = as_reviewer.get(
        "/clinic/language/fr-CA", query_string={"next": "/clinic/?status=new"}
    )
    assert response.headers["Location"].endswith("/clinic/?status=new")


def test_switching_back_to_english(as_reviewer: FlaskClient) -> None:
    switch(as_reviewer, "fr-CA", "/clinic/")
    assert html_lang(as_reviewer.get("/clinic/")) == "fr-CA"
    switch(as_reviewer, "en", "/clinic/")
    page = as_reviewer.get("/clinic/")
    assert html_lang(page) == "en"
    assert "Queue" in visible_text(page)


def test_an_unknown_language_is_not_found(client: FlaskClient) -> None:
    assert client.get("/clinic/language/de-DE?next=/clinic/").status_code == 404


def test_the_clinic_choice_is_not_the_patient_s(client: FlaskClient) -> None:
    switch(client, "fr-CA", "/clinic/sign-in")
    assert html_lang(client.get("/")) == "en"  # the patient's pages: their own choice
    with client.session_transaction() as session:
        assert session[language.CLINIC_SESSION_KEY] == "fr-CA"
        assert language.SESSION_KEY not in session
