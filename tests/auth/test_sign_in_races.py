"""Sign-in failures counted at once: a real account and an unknown email pause alike.

Twenty wrong passwords sent together, from twenty browsers (each a new device): exactly
ACCOUNT_FAILURES are checked and the rest answered 429, for a real account and for an
email nobody has, so racing cannot tell them apart. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.auth import passwords, throttle
from questionnaire.auth.accounts import service as account_service
from tests.harness.app import Clock, app_with_pool
from tests.harness.clinician import make_clinician
from tests.harness.forms import csrf_token
from tests.intake.test_races import all_at_once

RACERS = 20


@pytest.fixture
def racing_app(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    with app_with_pool(database_url, tmp_path, clock, RACERS + 2) as pooled:
        yield pooled


def _racers(app: Flask, email: str) -> list[Callable[[], int]]:
    jobs = []
    for number in range(RACERS):
        client: FlaskClient = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{number + 1}"
        token = csrf_token(client.get("/clinic/sign-in"))
        data = {"email": email, "password": f"wrong guess {number}", "csrf_token": token}

        def send(client: FlaskClient = client, data: dict[str, str] = data) -> int:
            return client.post("/clinic/sign-in", data=data).status_code

        jobs.append(send)
    return jobs


@pytest.mark.parametrize("known", [True, False], ids=["real account", "unknown email"])
def test_wrong_passwords_sent_at_once_check_exactly_the_limit(
    racing_app: Flask, known: bool
) -> None:
    email = "ana@clinic.example"
    if known:
        make_clinician(racing_app, email)
    statuses = all_at_once(_racers(racing_app, email))
    assert sorted(set(statuses)) == [400, 429]
    assert statuses.count(400) == throttle.ACCOUNT_FAILURES


def test_a_stored_hash_that_is_not_argon2_is_still_checked_against_an_argon2_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[str] = []
    real = passwords.hasher

    class Spy:
        def verify(self, hash: str, password: str) -> bool:
            checked.append(hash)
            return real.verify(hash, password)

    monkeypatch.setattr(passwords, "hasher", Spy())
    for stored in (account_service.UNUSABLE_HASH, "", "plain text", "$2b$12$bcrypt-looking"):
        started = time.perf_counter()
        assert passwords.verify(stored, "any password at all") is False
        assert checked[-1].startswith("$argon2id$"), stored
        assert time.perf_counter() - started > 0.005  # a real hash was computed
