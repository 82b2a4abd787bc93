"""A submission reads, for clinicians, in the words its patient was asked.

Q2 and Q5 of the C-SSRS screener share their ids with the clinic's plain questions
(ITEMS.md, section 11). Which words a patient read is the submission's own: its stored
questionnaire version (or, for an older one, its answers), never today's setting.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.questions import catalogue, cssrs
from questionnaire.questions.version import VERSIONS, screener_of
from questionnaire.records.models import Submission
from tests.answers import with_changes
from tests.exports import submit
from tests.harness.forms import visible_text

PLAN = {
    "suicidal_thoughts_past_month": "yes",
    "suicide_plan": "yes",
    "suicidal_thoughts_now": "no",
}
SCREEN = {
    "wish_dead_past_month": "no",
    "suicidal_behaviour_ever": "no",
    "suicidal_thoughts_method": "no",
    "suicidal_intent": "no",
}
Q2_SCREENER = cssrs.ITEMS[cssrs.Q2].text
Q5_SCREENER = cssrs.ITEMS[cssrs.Q5].text
Q2_PLAIN = catalogue.ITEMS[cssrs.Q2].label
Q5_PLAIN = catalogue.ITEMS[cssrs.Q5].label


def sent(app: Flask, screener: bool) -> str:
    """Send a plan through the form with the screener on or off; then flip today's setting."""
    app.config["CSSRS_SCREENER_ENABLED"] = screener
    reference = submit(app, with_changes({**PLAN, **(SCREEN if screener else {})}))
    app.config["CSSRS_SCREENER_ENABLED"] = not screener
    return reference


def pages(client: FlaskClient, reference: str) -> tuple[str, str]:
    page = client.get(f"/clinic/submissions/{reference}")
    printed = client.get(f"/clinic/submissions/{reference}/print")
    assert page.status_code == printed.status_code == 200
    return visible_text(page), visible_text(printed)


@pytest.mark.parametrize("screener", [True, False])
def test_the_page_and_the_print_show_the_words_the_patient_was_asked(
    app: Flask, as_reviewer: FlaskClient, screener: bool
) -> None:
    reference = sent(app, screener)
    asked, other = (
        ((Q2_SCREENER, Q5_SCREENER), (Q2_PLAIN, Q5_PLAIN))
        if screener
        else ((Q2_PLAIN, Q5_PLAIN), (Q2_SCREENER, Q5_SCREENER))
    )
    for text in pages(as_reviewer, reference):
        for words in asked:
            assert words in text
        for words in other:
            assert words not in text


def test_the_flag_s_evidence_quotes_the_question_as_asked(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    reference = sent(app, screener=True)
    html = as_reviewer.get(f"/clinic/submissions/{reference}").get_data(as_text=True)
    # The flags come first, each with its evidence; the answers follow.
    flags = visible_text(html[: html.index('id="answers-title"')])
    assert Q5_SCREENER in flags
    assert Q5_PLAIN not in flags


def test_an_older_version_is_read_from_its_answers_never_from_today(app: Flask) -> None:
    with app.app_context():
        on = {"wish_dead_past_month": "no", "suicidal_behaviour_ever": "no"}
        # Versions of today's catalogue decide; an older (or missing) one, the answers.
        assert screener_of(VERSIONS[True], {}) is True
        assert screener_of(VERSIONS[False], on) is False
        assert screener_of("0123456789ab", on) is True
        assert screener_of(None, {"suicidal_thoughts_past_month": "no"}) is False


def test_the_patient_s_copy_shows_the_words_they_read(app: Flask, as_admin: FlaskClient) -> None:
    reference = sent(app, screener=True)
    with app.app_context():
        found = db.session.query(Submission).filter_by(reference=reference).one()
        assert found.questionnaire_version == VERSIONS[True]
    copy = visible_text(as_admin.get(f"/clinic/requests/{reference}/copy"))
    assert Q5_SCREENER in copy and Q5_PLAIN not in copy
