"""The queue: urgent first, oldest first within a level, filters, counts, stable pages."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.models import AuditEvent
from tests.review.conftest import AddSubmission, minutes

ROW = re.compile(r'href="/clinic/submissions/([A-Z0-9]{8})"')


def references(client: FlaskClient, url: str = "/clinic/") -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return ROW.findall(response.get_data(as_text=True))


def test_urgent_first_then_review_info_unflagged_oldest_first_within_each(
    as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    unflagged_old = add_submission([], at=minutes(0))
    info = add_submission([("age_65_plus", "info")], at=minutes(1))
    review_new = add_submission([("heart_condition", "review")], at=minutes(9))
    review_old = add_submission(
        [("seizure_history", "review"), ("age_65_plus", "info")], at=minutes(2)
    )
    urgent_new = add_submission([("suicidal_thoughts_now", "urgent")], at=minutes(8))
    urgent_old = add_submission(
        [("suicidal_thoughts_now", "urgent"), ("heart_condition", "review")], at=minutes(3)
    )
    assert references(as_reviewer) == [
        urgent_old,
        urgent_new,
        review_old,
        review_new,
        info,
        unflagged_old,
    ]


def test_counts_per_level_at_the_top(
    as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    add_submission([("suicidal_thoughts_now", "urgent")])
    add_submission([("heart_condition", "review")])
    add_submission([("heart_condition", "review")])
    add_submission([])
    html = as_reviewer.get("/clinic/").get_data(as_text=True)
    counts = dict(re.findall(r'class="tag tag--(\w+)">[^<]*</span> (\d+)</a>', html))
    assert counts == {"urgent": "1", "review": "2", "info": "0", "none": "1"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=reviewed", ["reviewed"]),
        ("level=urgent", ["urgent"]),
        ("level=none", ["plain"]),
        ("rule=heart_condition", ["urgent", "review"]),
        ("status=new&level=review", ["review"]),
    ],
)
def test_filters(
    as_reviewer: FlaskClient, add_submission: AddSubmission, query: str, expected: list[str]
) -> None:
    made = {
        "urgent": add_submission(
            [("suicidal_thoughts_now", "urgent"), ("heart_condition", "review")], at=minutes(1)
        ),
        "review": add_submission([("heart_condition", "review")], at=minutes(2)),
        "reviewed": add_submission(
            [("seizure_history", "review")], at=minutes(3), status="reviewed"
        ),
        "plain": add_submission([], at=minutes(4)),
    }
    assert references(as_reviewer, f"/clinic/?{query}") == [made[name] for name in expected]


def test_search_by_reference_in_any_spelling(
    as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    wanted = add_submission([("heart_condition", "review")])
    add_submission([("heart_condition", "review")])
    typed = f"{wanted[:4].lower()}-{wanted[4:].lower()}"
    assert references(as_reviewer, f"/clinic/?q={typed}") == [wanted]


@pytest.mark.parametrize(
    "query",
    [
        "status=deleted",
        "level=critical",
        "rule=DROP%20TABLE",
        "q=not-a-reference",
        "after=%%%",
        "after=MXwyfDM",
    ],
)
def test_a_forged_filter_gets_a_message_not_an_error(as_reviewer: FlaskClient, query: str) -> None:
    response = as_reviewer.get(f"/clinic/?{query}")
    assert response.status_code == 400
    expected = "That page link is not valid" if query.startswith("after=") else "is not one"
    assert expected in response.get_data(as_text=True)


def test_fifty_a_page_and_pages_stay_stable_while_new_submissions_arrive(
    as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    made = [add_submission([("heart_condition", "review")], at=minutes(n)) for n in range(60)]
    html = as_reviewer.get("/clinic/").get_data(as_text=True)
    first = ROW.findall(html)
    assert first == made[:50]
    next_link = re.search(r'href="(/clinic/\?after=[^"]+)"', html)
    assert next_link
    # Newer and more urgent submissions arrive before the clinician turns the page.
    add_submission([("suicidal_thoughts_now", "urgent")], at=minutes(100))
    add_submission([("heart_condition", "review")], at=minutes(200))
    second = references(as_reviewer, next_link.group(1).replace("&amp;", "&"))
    assert second == [*made[50:], second[-1]]
    assert not set(first) & set(second)


def test_viewing_the_queue_is_audited_with_its_filter(app: Flask, as_reviewer: FlaskClient) -> None:
    as_reviewer.get("/clinic/?level=urgent")
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "view_queue"))
        assert event is not None and event.detail == {"level": "urgent"}
        assert event.actor.email == "reviewer@clinic.example"
