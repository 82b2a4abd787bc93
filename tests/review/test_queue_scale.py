"""The queue at any size: the same statements per page, counts without a scan, nothing opened."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.ops.purge import purge
from questionnaire.records import crypto
from questionnaire.records.models import Flag, QueueCount, Submission
from questionnaire.records.queue import COUNT_CAP, Cursor, QueueFilter, queue_page
from tests.fixtures import AddSubmission
from tests.harness.app import CASE_DAY, minutes
from tests.harness.forms import csrf_token
from tests.harness.statements import counting

ROW = re.compile(r'href="/clinic/submissions/([A-Z0-9]{8})"')
NEXT = re.compile(r'href="/clinic/\?after=([^"&]+)')


def statements_for(app: Flask, client: FlaskClient, url: str) -> list[str]:
    """Return the statements one page runs (their verbs), checking it answered 200."""
    with app.app_context(), counting(db.engine) as seen:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return seen


def fill(add_submission: AddSubmission, count: int) -> None:
    """Store `count` submissions across every level, each with a common rule."""
    levels = ("urgent", "review", "info")
    for number in range(count):
        level = levels[number % 3]
        add_submission([("age_65_plus", "info"), (f"rule_{level}", level)], at=minutes(number))


@pytest.mark.parametrize(
    "url",
    ["/clinic/", "/clinic/?level=info", "/clinic/?status=new", "/clinic/?rule=age_65_plus"],
)
def test_a_page_runs_the_same_statements_with_one_row_and_with_fifty(
    app: Flask, as_reviewer: FlaskClient, add_submission: AddSubmission, url: str
) -> None:
    add_submission([("age_65_plus", "info")])
    one_row = statements_for(app, as_reviewer, url)
    fill(add_submission, 160)
    full_page = statements_for(app, as_reviewer, url)
    assert len(ROW.findall(as_reviewer.get(url).get_data(as_text=True))) == 50
    assert full_page == one_row
    # And a page deep in the table costs what the first one does.
    cursor = NEXT.search(as_reviewer.get(url).get_data(as_text=True))
    assert cursor is not None
    sep = "&" if "?" in url else "?"
    deeper = statements_for(app, as_reviewer, f"{url}{sep}after={cursor.group(1)}")
    assert deeper == one_row


def test_the_queue_never_reloads_its_rows_after_the_audit_commit(
    app: Flask, as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    fill(add_submission, 60)
    seen = statements_for(app, as_reviewer, "/clinic/")
    # The guard's clinician, the rows, their flags, the counts, the unsent intakes, the
    # audit row: each once. (Before, each of 51 rows and its flags was loaded again.)
    assert len(seen) <= 8, seen
    assert Counter(seen)["INSERT"] == 1


def test_the_queue_opens_the_answers_of_the_rows_shown_and_no_fact_or_evidence(
    app: Flask,
    as_reviewer: FlaskClient,
    add_submission: AddSubmission,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fill(add_submission, 60)
    opened: list[str] = []
    real_open = crypto.Keyring.open

    def recording_open(self: crypto.Keyring, stored: str, context: str) -> bytes:
        opened.append(context)
        return real_open(self, stored, context)

    monkeypatch.setattr(crypto.Keyring, "open", recording_open)
    # 60 stored, 50 shown (and a 51st read to know a next page exists): 50 opened, once each,
    # for the name and age; never a fact or a flag's evidence.
    # A well-formed reference no row has shows nothing; a malformed one is a bad filter (400).
    for url, status, shown in (
        ("/clinic/", 200, 50),
        ("/clinic/?rule=rule_review", 200, 20),
        ("/clinic/?q=ABCD-2345", 200, 0),
        ("/clinic/?q=X", 400, 0),
    ):
        opened.clear()
        response = as_reviewer.get(url)
        assert response.status_code == status, url
        assert len(ROW.findall(response.get_data(as_text=True))) == shown, url
        patients = Counter(c for c in opened if c.startswith(("submissions.", "flags.")))
        assert patients == (Counter({"submissions.answers": shown}) if shown else Counter())


def actual_counts(status: str | None = None) -> dict[int, int]:
    query = sa.select(Submission.level_rank, sa.func.count()).group_by(Submission.level_rank)
    if status:
        query = query.where(Submission.status == status)
    return {int(rank): int(number) for rank, number in db.session.execute(query)}


def kept_counts(status: str | None = None) -> dict[int, int]:
    query = sa.select(QueueCount.level_rank, sa.func.sum(QueueCount.n)).group_by(
        QueueCount.level_rank
    )
    if status:
        query = query.where(QueueCount.status == status)
    return {int(rank): int(number) for rank, number in db.session.execute(query) if number}


def assert_counts_true() -> None:
    for status in (None, "new", "in_review", "reviewed"):
        assert kept_counts(status) == actual_counts(status), status


def test_counts_stay_exact_through_send_status_change_purge_and_delete(
    app: Flask, as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    old = [add_submission([("suicidal_thoughts_now", "urgent")], at=minutes(-60 * 24 * 900))]
    fill(add_submission, 30)
    with app.app_context():
        assert_counts_true()
        some = db.session.scalars(sa.select(Submission).limit(7)).all()
        for number, submission in enumerate(some):
            submission.status = ("in_review", "reviewed")[number % 2]
        db.session.commit()
        assert_counts_true()
        purged = purge(db.session, 730, CASE_DAY)
        assert purged.submissions == len(old)
        assert_counts_true()
        db.session.execute(sa.delete(Flag))
        db.session.execute(sa.delete(Submission).where(Submission.status == "new"))
        db.session.commit()
        assert_counts_true()
        assert kept_counts("new") == {}


def test_status_changes_through_the_page_move_the_counts(
    app: Flask, as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    reference = add_submission([("heart_condition", "review")])
    token = csrf_token(as_reviewer.get(f"/clinic/submissions/{reference}"))
    response = as_reviewer.post(
        f"/clinic/submissions/{reference}/status",
        data={"csrf_token": token, "status": "in_review"},
    )
    assert response.status_code == 303
    with app.app_context():
        assert kept_counts("in_review") == {1: 1}
        assert kept_counts("new") == {}
    page = as_reviewer.get("/clinic/?status=in_review").get_data(as_text=True)
    assert re.search(r'tag--review">[^<]*</span> 1</a>', page)


def test_a_rule_filter_counts_up_to_the_cap_and_says_so(
    app: Flask, as_reviewer: FlaskClient, add_submission: AddSubmission
) -> None:
    for number in range(COUNT_CAP + 2):
        add_submission([("age_65_plus", "info")], at=minutes(number))
    add_submission([("age_65_plus", "info"), ("maoi", "review")])
    with app.app_context():
        page = queue_page(db.session, QueueFilter(rule="age_65_plus"))
        assert page.capped
        assert page.count_label("info") == f"{COUNT_CAP}+"
        assert page.count_label("review") == "1"
        assert page.count_label("urgent") == "0"
    html = as_reviewer.get("/clinic/?rule=age_65_plus").get_data(as_text=True)
    assert f"</span> {COUNT_CAP}+</a>" in html


def test_rule_pages_follow_queue_order_across_cursors(
    app: Flask, add_submission: AddSubmission
) -> None:
    fill(add_submission, 9)
    with app.app_context():
        everything = [row.reference for row in queue_page(db.session, QueueFilter()).rows]
        seen: list[str] = []
        after: Cursor | None = None
        while True:
            page = queue_page(db.session, QueueFilter(rule="age_65_plus"), after, size=2)
            seen += [row.reference for row in page.rows]
            if page.next_cursor is None:
                break
            after = Cursor.decode(page.next_cursor)
        assert seen == everything


def test_flags_hold_their_submissions_place_in_the_queue(
    app: Flask, add_submission: AddSubmission
) -> None:
    reference = add_submission([("maoi", "review"), ("age_65_plus", "info")], at=minutes(5))
    with app.app_context():
        submission: Any = db.session.scalar(
            sa.select(Submission).where(Submission.reference == reference)
        )
        assert {(flag.level_rank, flag.submitted_at) for flag in submission.flags} == {
            (submission.level_rank, submission.submitted_at)
        }
