"""Crisis help at once, without JavaScript, in words that fit; every number from the settings."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from questionnaire.extensions import db
from questionnaire.questions.catalogue import PAGES
from questionnaire.records.models import Flag, Submission
from tests.answers import with_changes
from tests.harness.clinician import make_clinician, sign_in
from tests.harness.forms import visible_text
from tests.harness.patient import Patient, asked_pages

CRISIS = "You do not have to wait to talk to someone"
CARRY_ON = "You can carry on with this form when you are ready."
SAVED = "Your answers are saved. Please reach out now."
SAFETY = next(index for index, section in enumerate(PAGES) if section.id == "safety")
HIDDEN_PANEL = re.compile(r"<aside[^>]*\shidden[^>]*>.*?</aside>", re.DOTALL)
#: The North American numbers, in any of the ways they are written.
DEFAULT_NUMBERS = re.compile(r"9[-\u2011]8[-\u2011]8|(?<!\d)988(?!\d)|(?<!\d)911(?!\d)")
HREF = re.compile(r'href="([^"]*)"')


def urgent(now: str = "yes") -> dict[str, Any]:
    return with_changes({"suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": now})


def shown(response: TestResponse) -> str:
    """Return the text a sighted person reads: without a panel the page keeps hidden."""
    return visible_text(HIDDEN_PANEL.sub("", response.get_data(as_text=True)))


def to_safety(client: FlaskClient, answers: dict[str, Any]) -> Patient:
    patient = Patient(client)
    assert patient.start().status_code == 303
    for section in PAGES[:SAFETY]:
        assert patient.answer(section, answers).status_code == 303
    return patient


@pytest.mark.parametrize("now", ["yes", "prefer_not"])
def test_the_safety_page_shown_again_with_an_error_shows_the_panel_beside_the_question(
    client: FlaskClient, now: str
) -> None:
    patient = to_safety(client, urgent(now))
    before = client.get(f"/questions/{PAGES[SAFETY].id}")
    assert CRISIS not in shown(before)  # hidden until an answer calls for it
    incomplete = with_changes({**urgent(now), "suicide_attempt_ever": None})
    response = patient.answer(PAGES[SAFETY], incomplete)
    assert response.status_code == 400
    text = shown(response)
    assert "There is a problem" in text and CRISIS in text and CARRY_ON in text
    question = text.index("Are you having thoughts of ending your life right now?")
    assert question < text.index(CRISIS) < text.index("Have you ever tried to end your life?")
    # The answer was not saved (the page had an error); what was posted still counts.
    html = response.get_data(as_text=True)
    assert 'aria-live="polite"' in html


def test_save_and_come_back_later_shows_the_panel_with_saved_wording(client: FlaskClient) -> None:
    patient = to_safety(client, urgent())
    response = patient.answer(PAGES[SAFETY], urgent(), action="later")
    assert response.headers["Location"].endswith("/saved")
    text = shown(client.get("/saved"))
    assert CRISIS in text and SAVED in text
    assert "carry on" not in text and "keep going" not in text


def test_every_page_after_the_answer_shows_the_panel(client: FlaskClient) -> None:
    patient = to_safety(client, urgent())
    assert patient.answer(PAGES[SAFETY], urgent()).status_code == 303
    for section in asked_pages(urgent())[SAFETY + 1 :]:
        assert CRISIS in shown(client.get(f"/questions/{section.id}")), section.id
        assert patient.answer(section, urgent()).status_code == 303
    assert CRISIS in shown(client.get("/check"))


def test_the_confirmation_says_when_the_clinic_will_call_and_never_to_keep_going(
    app: Flask, client: FlaskClient
) -> None:
    app.config["CLINIC_HOURS"] = "Monday to Friday, 9 am to 5 pm"
    assert Patient(client).complete(urgent("prefer_not")).status_code == 303
    text = shown(client.get("/done"))
    assert CRISIS in text
    assert "Please reach out now if you need to." in text
    assert "carry on" not in text and "keep going" not in text.lower()
    assert "during opening hours: Monday to Friday, 9 am to 5 pm" in text
    assert "Outside those hours" in text and "Call or text 9\u20118\u20118" in text
    # One promise (issue 25): the same day, never "within 2 working days" after it; and the
    # reference is quoted to a number that exists.
    assert "same day" in text and "working days" not in text
    assert "call Test Clinic at 416 555 0100 and quote your reference" in text


def test_the_confirmation_without_an_urgent_answer_promises_the_reply_days(
    client: FlaskClient,
) -> None:
    assert Patient(client).complete(urgent("no")).status_code == 303
    text = shown(client.get("/done"))
    assert "within 2 working days" in text and "same day" not in text
    assert "call Test Clinic at 416 555 0100 and quote your reference" in text


def test_no_panel_and_no_hours_when_not_in_danger_now(client: FlaskClient) -> None:
    assert Patient(client).complete(urgent("no")).status_code == 303
    text = shown(client.get("/done"))
    assert CRISIS not in text and "When we will contact you" not in text


def numbers_in(response: TestResponse) -> list[str]:
    """Return every default crisis number a page shows or links to."""
    hrefs = " ".join(HREF.findall(response.get_data(as_text=True)))
    return DEFAULT_NUMBERS.findall(visible_text(response) + " " + hrefs)


def test_every_page_and_flag_uses_the_configured_numbers(app: Flask, client: FlaskClient) -> None:
    assert "911" in numbers_in(client.get("/"))  # the check bites on the default numbers
    app.config.update(CRISIS_LINE_NUMBER="116 123", EMERGENCY_NUMBER="999")
    seen: dict[str, TestResponse] = {}
    for url in ["/", "/privacy", "/no-such-page"]:
        seen[url] = client.get(url)
    patient = Patient(client)
    patient.start()
    answers = urgent()
    for section in asked_pages(answers):
        url = f"/questions/{section.id}"
        seen[url] = client.get(url)
        seen[f"{url} (error)"] = patient.post_form(url, {})
        assert patient.answer(section, answers).status_code == 303
    seen["/check"] = client.get("/check")
    assert patient.send().status_code == 303
    seen["/done"] = client.get("/done")
    later = Patient(app.test_client())
    later.start()
    for section in PAGES[:SAFETY]:
        later.answer(section, answers)
    later.answer(PAGES[SAFETY], answers, action="later")
    seen["/saved"] = later.client.get("/saved")
    link = re.search(r'href="http://localhost(/resume/[^"]+)"', seen["/saved"].get_data(True))
    assert link
    seen["/resume"] = app.test_client().get(link.group(1))
    for url, response in seen.items():
        assert numbers_in(response) == [], url
    assert "call or text 116 123, or call 999" in visible_text(
        seen[f"/questions/{PAGES[SAFETY].id}"]
    )
    assert 'href="tel:116123"' in seen["/done"].get_data(as_text=True)
    assert "Call or text 116 123" in shown(seen["/saved"])
    # The clinician's side: the flag's stored message has the numbers filled in.
    with app.app_context():
        message = db.session.scalar(
            sa.select(Flag.message).where(Flag.rule == "suicidal_thoughts_now")
        )
        reference = db.session.scalar(sa.select(Submission.reference))
    assert message is not None and "(116 123, 999)" in message
    clinician = app.test_client()
    sign_in(clinician, app, make_clinician(app, email="reviewer@clinic.example"))
    for url in ["/clinic/", f"/clinic/submissions/{reference}"]:
        page = clinician.get(url)
        assert page.status_code == 200 and numbers_in(page) == [], url
    # History never changes with the settings.
    app.config.update(CRISIS_LINE_NUMBER="0800 111", EMERGENCY_NUMBER="112")
    assert "(116 123, 999)" in visible_text(clinician.get(f"/clinic/submissions/{reference}"))
