"""Races on one draft: guesses at the resume date sent at once, and pages saved at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import Draft
from tests.answers import baseline
from tests.harness.app import Clock, app_with_pool
from tests.harness.forms import csrf_token
from tests.harness.patient import Patient, asked_pages, page_answers
from tests.intake.test_drafts import save_for_later

THREADS = 8


@pytest.fixture
def pooled_app(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    """Yield an app whose connection pool serves several threads at once."""
    with app_with_pool(database_url, tmp_path, clock, THREADS + 2) as pooled:
        yield pooled


def all_at_once(jobs: list[Callable[[], object]]) -> list[object]:
    """Run every job in its own thread, released together; return results, raise any error."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=20)
            results[index] = job()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def browser(app: Flask, cookie: str | None = None) -> FlaskClient:
    """Return a new test client, holding the given session cookie if any."""
    client = app.test_client()
    if cookie is not None:
        client.set_cookie("session", cookie)
    return client


def test_guesses_sent_at_once_check_at_most_five_dates(pooled_app: Flask) -> None:
    link = save_for_later(pooled_app.test_client())
    guessers = [browser(pooled_app) for _ in range(THREADS)]
    tokens = [csrf_token(guesser.get(link)) for guesser in guessers]

    def guess(index: int) -> Callable[[], int]:
        def send() -> int:
            data = {"date_of_birth": f"1970-01-{index + 1:02d}", "csrf_token": tokens[index]}
            return guessers[index].post(link, data=data).status_code

        return send

    statuses = all_at_once([guess(index) for index in range(THREADS)])
    # A guess beyond the fifth is never compared: the link is already locked for it.
    assert statuses.count(400) <= Draft.MAX_RESUME_FAILURES
    assert set(statuses) <= {400, 404}
    with pooled_app.app_context():
        [draft] = db.session.scalars(sa.select(Draft))
        assert draft.resume_failures == Draft.MAX_RESUME_FAILURES
    late = Patient(browser(pooled_app))
    assert late.client.get(link).status_code == 404
    response = late.client.post(link, data={"date_of_birth": "1980-05-17"})
    assert response.status_code == 404


def test_pages_saved_at_once_all_land_in_the_draft(pooled_app: Flask) -> None:
    starter = pooled_app.test_client()
    Patient(starter).start()
    cookie = cookie_of(starter)
    answers = baseline()
    pages = asked_pages(answers)
    clients = [browser(pooled_app, cookie) for _ in pages]
    tokens = [
        csrf_token(client.get(f"/questions/{section.id}"))
        for client, section in zip(clients, pages, strict=True)
    ]

    def save(index: int) -> Callable[[], int]:
        section = pages[index]

        def send() -> int:
            data = {**page_answers(section, answers), "csrf_token": tokens[index]}
            return clients[index].post(f"/questions/{section.id}", data=data).status_code

        return send

    statuses = all_at_once([save(index) for index in range(len(pages))])
    assert statuses == [303] * len(pages)
    with pooled_app.app_context():
        [draft] = db.session.scalars(sa.select(Draft))
        missing = [
            item.id
            for section in pages
            for item in section.items
            if answers.get(item.id) not in (None, "", []) and item.id not in draft.answers
        ]
    assert missing == []
