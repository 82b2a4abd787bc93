"""A submission stored by the previous catalogue and rule table still reads exactly as judged.

Before issue 22, PHQ-9 item 9 at "Nearly every day" raised two flags (phq9_item9_positive at
review and phq9_item9_nearly_every_day at urgent), the safety page had three questions, and
no AUDIT-C or C-SSRS fact existed. Such a submission keeps its flags, its questionnaire
version and its answers: nothing is re-judged or re-labelled by the new table.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.questions.version import VERSIONS
from questionnaire.records.models import Flag, Submission
from questionnaire.records.references import new_reference
from questionnaire.rules import LEVEL_RANK
from tests.answers import with_changes
from tests.harness.app import CASE_DAY
from tests.harness.forms import visible_text

#: The questionnaire version the previous catalogue (commit 8f75d3e) fingerprinted.
PREVIOUS_VERSION = "3fc05498c899"
OLD_URGENT = (
    'Answered "Nearly every day" to PHQ-9 item 9 (thoughts of being better off dead or of '
    "self-harm, past 2 weeks). The patient was shown crisis resources (9-8-8, 911). Read the "
    "safety answers and contact the patient today."
)
OLD_REVIEW = (
    "Answered PHQ-9 item 9 (thoughts of being better off dead or of self-harm, past 2 weeks) "
    'above "Not at all". The patient was shown crisis resources. Read the safety answers '
    "(thoughts of ending life, past month and now; past attempts) before booking."
)
SOURCE = "Kroenke 2001 (PHQ-9); Simon 2013 (item 9 and later suicide attempts)"


def store_previous(app: Flask) -> str:
    """Store a submission exactly as the previous release stored it; return its reference."""
    answers = with_changes({"phq9_9": "3", "suicidal_thoughts_past_month": "no"})
    with app.app_context():
        submission = Submission(
            draft_key="previous-catalogue",
            reference=new_reference(),
            submitted_at=CASE_DAY,
            language="en",
            answers=answers,
            facts={"age_years": 46, "phq9_item9": 3, "phq9_total": None},
            rules_version="2026.12.1",
            rules_sha256="1" * 64,
            questionnaire_version=PREVIOUS_VERSION,
            status="new",
            highest_level="urgent",
            level_rank=LEVEL_RANK["urgent"],
            flags=[
                Flag(
                    rule="phq9_item9_positive",
                    level="review",
                    message=OLD_REVIEW,
                    source=SOURCE,
                    evidence=[{"fact": "phq9_item9", "value": 3}],
                ),
                Flag(
                    rule="phq9_item9_nearly_every_day",
                    level="urgent",
                    message=OLD_URGENT,
                    source=SOURCE,
                    evidence=[{"fact": "phq9_item9", "value": 3}],
                ),
            ],
        )
        db.session.add(submission)
        db.session.commit()
        return submission.reference


def test_a_previous_submission_keeps_its_flags_version_and_answers(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    assert PREVIOUS_VERSION not in VERSIONS.values()  # the catalogue did change
    reference = store_previous(app)
    html = as_reviewer.get(f"/clinic/submissions/{reference}").get_data(as_text=True)
    text = visible_text(html)
    # Both flags as judged, each with its stored level and words; nothing escalated anew.
    assert OLD_URGENT in text and OLD_REVIEW in text
    assert "phq9_item9_nearly_every_day" in text and "escalated" not in text
    assert f"questionnaire {PREVIOUS_VERSION}" in text and "rule table 2026.12.1" in text
    # Its answers, and no row for a question it was never asked.
    answers = visible_text(html[html.index('<section class="answers"') :])
    assert "Have you ever tried to end your life?" in answers
    new_questions = ("worked out", "Worked out a plan", "Was that in the past 3 months", "AUDIT-C")
    for new_question in new_questions:
        assert new_question not in answers
    assert "C-SSRS" not in text  # no screener answered: no triage line
    with app.app_context():
        stored = db.session.scalars(sa.select(Flag).order_by(Flag.rule)).all()
        assert [(flag.rule, flag.level) for flag in stored] == [
            ("phq9_item9_nearly_every_day", "urgent"),
            ("phq9_item9_positive", "review"),
        ]


def test_the_queue_rule_filter_still_offers_the_retired_id(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    reference = store_previous(app)
    queue = as_reviewer.get("/clinic/").get_data(as_text=True)
    assert 'value="phq9_item9_nearly_every_day"' in queue
    filtered = as_reviewer.get("/clinic/?rule=phq9_item9_nearly_every_day")
    assert filtered.status_code == 200
    assert reference[:4] in visible_text(filtered.get_data(as_text=True))
