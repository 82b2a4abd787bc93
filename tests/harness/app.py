"""The app as tests make it: test settings and keys, a clock tests move, a pooled app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

from questionnaire import create_app
from questionnaire.extensions import db

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: A fixed answers key for tests (never a real one).
TEST_KEY = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC0="
#: The name-index key of tests: apart from the answers key, as in production.
TEST_NAME_INDEX_KEY = "bmFtZS1pbmRleC10ZXN0LWtleS0zMi1ieXRlcyEhISE="

#: The day the rules.yaml cases are dated (their ages are computed on it).
CASE_DAY = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock tests can set and move; the app reads the time from it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_app(tmp_path: Path, **config: object) -> Flask:
    """Return an app configured for tests (its instance folder under tmp_path)."""
    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'plain.db'}",
        "RULES_PATH": str(PROJECT_ROOT / "rules.yaml"),
        "QUESTIONS_PATH": str(PROJECT_ROOT / "forms" / "intake.yaml"),
        "CLINIC_NAME": "Test Clinic",
        "CLINIC_PHONE": "416 555 0100",
        "ANSWERS_KEY": TEST_KEY,
        "NAME_INDEX_KEY": TEST_NAME_INDEX_KEY,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        # Many journeys come from one address: tests that need limits switch them on.
        "RATELIMIT_ENABLED": False,
        # Counts of its own when limits are on in a shared Redis (other tests, workers, runs).
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }
    settings.update(config)
    return create_app(settings)


@contextmanager
def app_with_pool(
    database_url: str, tmp_path: Path, clock: object, pool_size: int
) -> Iterator[Flask]:
    """Yield an app (tables made) whose PostgreSQL pool serves `pool_size` threads at once."""
    options: dict[str, object] = {"hide_parameters": True}
    if database_url.startswith("postgresql"):
        options |= {"pool_size": pool_size}
    app = make_app(
        tmp_path,
        SQLALCHEMY_DATABASE_URI=database_url,
        CLOCK=clock,
        SQLALCHEMY_ENGINE_OPTIONS=options,
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def minutes(n: int) -> datetime:
    """Return a time n minutes after the test day's noon."""
    return CASE_DAY + timedelta(minutes=n)
