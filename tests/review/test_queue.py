"""The queue: urgent first, oldest first within a level, filters, counts, stable pages."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent
from questionnaire.records.queue import BadFilter, Cursor, QueueFilter, all_in_queue, queue_page
from tests.fixtures import AddSubmission
from tests.harness.app import CASE_DAY, minutes

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


# --- the queue's service, without pages ----------------------------------------------


def test_a_queue_filter_reads_what_the_queue_offers_and_refuses_the_rest() -> None:
    wanted = QueueFilter.parse({"status": "new", "level": "none", "rule": "maoi", "q": "abcd 2345"})
    assert wanted == QueueFilter(status="new", level="none", rule="maoi", reference="ABCD2345")
    assert wanted.as_args() == {"status": "new", "level": "none", "rule": "maoi", "q": "ABCD2345"}
    for args in ({"status": "lost"}, {"level": "severe"}, {"rule": "DROP"}, {"q": "x"}):
        with pytest.raises(BadFilter):
            QueueFilter.parse(args)


def test_a_cursor_survives_its_link_and_a_forged_one_is_refused() -> None:
    cursor = Cursor(rank=1, submitted_at=CASE_DAY, id=42)
    assert Cursor.decode(cursor.encode()) == cursor
    naive = Cursor(rank=1, submitted_at=CASE_DAY.replace(tzinfo=None), id=42).encode()
    for token in ("", "!!!", "bm9wZQ", naive, Cursor(9, CASE_DAY, 1).encode()):
        with pytest.raises(BadFilter):
            Cursor.decode(token)


def test_queue_pages_keep_the_order_and_count_every_level(
    app: Flask, add_submission: AddSubmission
) -> None:
    info = add_submission([("age_65_plus", "info")], at=minutes(1))
    urgent = add_submission([("suicidal_thoughts_now", "urgent")], at=minutes(3))
    calm = add_submission(at=minutes(0))
    review = add_submission([("maoi", "review"), ("age_65_plus", "info")], at=minutes(2))
    with app.app_context():
        first = queue_page(db.session, QueueFilter(), size=3)
        assert [row.reference for row in first.rows] == [urgent, review, info]
        assert first.counts == {"urgent": 1, "review": 1, "info": 1, "none": 1}
        assert first.next_cursor is not None
        rest = queue_page(db.session, QueueFilter(), Cursor.decode(first.next_cursor), size=3)
        assert [row.reference for row in rest.rows] == [calm] and rest.next_cursor is None
        by_rule = queue_page(db.session, QueueFilter(rule="age_65_plus"))
        assert [row.reference for row in by_rule.rows] == [review, info]
        assert [s.reference for s in all_in_queue(db.session, QueueFilter(), batch=2)] == [
            urgent,
            review,
            info,
            calm,
        ]
