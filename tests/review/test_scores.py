"""The instruments for clinicians: totals beside the flags in the queue, one row each on a page."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import Submission
from questionnaire.review.scores import score_rows
from tests.fixtures import AddSubmission
from tests.harness.app import minutes
from tests.harness.forms import visible_text
from tests.harness.statements import counting

#: What the page shows for a skipped item or a missing band (an en dash).
DASH = "\u2013"
PHQ9_14 = {f"phq9_{n}": score for n, score in enumerate("222222200", start=1)}
GAD7_PARTIAL = {f"gad7_{n}": "1" for n in range(1, 7)}  # item 7 skipped
PCL5_33 = {f"pcl5_{n}": score for n, score in enumerate("22222222222222221000", start=1)}


def row_text(html: str, reference: str) -> str:
    start = html.index(f'href="/clinic/submissions/{reference}"')
    return visible_text(html[html.rindex("<tr", 0, start) : html.index("</tr>", start)])


def test_the_queue_row_shows_the_totals_beside_the_flags(
    as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    scored = add_submission(
        [("phq9_item9_positive", "review")],
        answers={"full_name": "Ana", "reasons": ["ptsd"], **PHQ9_14, **GAD7_PARTIAL, **PCL5_33},
    )
    plain = add_submission([("heart_condition", "review")], answers={"full_name": "Bo"})
    html = as_reviewer.get("/clinic/").get_data(as_text=True)
    assert "PHQ-9 14 · GAD-7 incomplete · PCL-5 33" in row_text(html, scored)
    # Nothing answered: no totals at all, never a zero.
    assert "PHQ-9" not in row_text(html, plain)


def test_totals_cost_no_statement(
    app: Flask, as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    add_submission([("heart_condition", "review")], answers={"full_name": "Ana"})

    def statements() -> list[str]:
        with app.app_context(), counting(db.engine) as seen:
            assert as_reviewer.get("/clinic/").status_code == 200
        return seen

    before = statements()
    for number in range(20):
        add_submission([("phq9_item9_positive", "review")], at=minutes(number), answers={**PHQ9_14})
    assert statements() == before


def test_the_submission_page_shows_one_compact_row_per_instrument(
    as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    reference = add_submission(
        [("phq9_item9_positive", "review")],
        answers={"reasons": ["depression", "ptsd"], **PHQ9_14, **GAD7_PARTIAL, **PCL5_33},
    )
    html = as_reviewer.get(f"/clinic/submissions/{reference}").get_data(as_text=True)
    rows = re.findall(r'<tr class="scores__row">(.*?)</tr>', html, re.S)
    assert len(rows) == 4
    phq9, gad7, pcl5, auditc = (visible_text(row) for row in rows)
    assert auditc == "AUDIT-C Not answered (every item skipped)"
    assert phq9 == "PHQ-9 14 / 27 moderate 2 2 2 2 2 2 2 0 0"
    assert gad7 == f"GAD-7 incomplete (6 of 7 answered) {DASH} 1 1 1 1 1 1 {DASH}"
    assert pcl5 == (
        "PCL-5 33 / 80 within the published cut-point range (31 to 33) "
        "2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 1 0 0 0"
    )
    # The instruments' items are not listed again one by one among the answers.
    answers = html[html.index('<section class="answers"') :]
    assert "Little interest or pleasure in doing things" not in visible_text(answers)


def test_instruments_not_asked_or_skipped_say_so(
    as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    reference = add_submission([], answers={"reasons": ["depression"]})
    html = as_reviewer.get(f"/clinic/submissions/{reference}").get_data(as_text=True)
    rows = [
        visible_text(row) for row in re.findall(r'<tr class="scores__row">(.*?)</tr>', html, re.S)
    ]
    assert rows == [
        "PHQ-9 Not answered (every item skipped)",
        "GAD-7 Not answered (every item skipped)",
        "PCL-5 Not asked (PTSD was not among the reasons)",
        "AUDIT-C Not answered (every item skipped)",
    ]


def test_auditc_and_the_cssrs_triage_show_for_clinicians(
    as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    reference = add_submission(
        [("suicide_plan", "urgent"), ("alcohol_risk", "review")],
        answers={
            "full_name": "Cy",
            "auditc_1": "3",
            "auditc_2": "1",
            "auditc_3": "0",
            "wish_dead_past_month": "no",
            "suicidal_thoughts_past_month": "yes",
            "suicide_plan": "prefer_not",
            "suicidal_behaviour_ever": "no",
        },
    )
    html = as_reviewer.get(f"/clinic/submissions/{reference}").get_data(as_text=True)
    rows = [
        visible_text(row) for row in re.findall(r'<tr class="scores__row">(.*?)</tr>', html, re.S)
    ]
    assert rows[3] == (
        "AUDIT-C 4 / 12 at or above the AUDIT-C cut-offs (3 or more for women, 4 or more for "
        "men) 3 1 0"
    )
    assert rows[4] == 'C-SSRS high (Q5) · includes "rather not say"'
    queue = as_reviewer.get("/clinic/").get_data(as_text=True)
    assert "AUDIT-C 4 · C-SSRS high" in row_text(queue, reference)


def test_a_non_drinker_scores_zero_and_a_partial_auditc_is_incomplete(
    as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    never = add_submission([], answers={"full_name": "Di", "auditc_1": "0"})
    partial = add_submission([], answers={"full_name": "Ed", "auditc_1": "4", "auditc_2": "2"})
    queue = as_reviewer.get("/clinic/").get_data(as_text=True)
    assert "AUDIT-C 0" in row_text(queue, never)
    assert "AUDIT-C incomplete" in row_text(queue, partial)


def test_a_french_submission_s_auditc_reads_not_asked_in_french(
    app: Flask, as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    """The AUDIT-C's items are left out on French pages: its row says why, never "skipped"."""
    reference = add_submission([], answers={"full_name": "Flo", "alcohol_can_pause": "yes"})
    with app.app_context():
        found = db.session.query(Submission).filter_by(reference=reference).one()
        found.language = "fr-CA"
        db.session.commit()
    html = as_reviewer.get(f"/clinic/submissions/{reference}").get_data(as_text=True)
    rows = [
        visible_text(row) for row in re.findall(r'<tr class="scores__row">(.*?)</tr>', html, re.S)
    ]
    assert rows[3] == (
        "AUDIT-C Not asked: the patient answered in French, and the project has no official "
        "French version of this measure"
    )
    [auditc] = [row for row in score_rows({}, "fr-CA") if row.instrument.id == "auditc"]
    assert (auditc.asked, auditc.not_asked_because, auditc.total) == (False, "language", None)
    [english] = [row for row in score_rows({}, "en") if row.instrument.id == "auditc"]
    assert (english.asked, english.not_asked_because) == (True, "")
