"""Shared fixtures: an app per test on a fresh database, SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from questionnaire import create_app
from questionnaire.extensions import db
from questionnaire.questions import catalogue
from tests.harness.served import fresh_database

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NO_POSTGRES = (
    "PostgreSQL tests need TEST_DATABASE_URL, for example "
    "TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test make test"
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under STRICT_SKIPS (set by .ci/run) a skipped test is a failure, not a pass."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("STRICT_SKIPS") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under STRICT_SKIPS: {report.longrepr}"


#: The questionnaire shipped with the app, as this process first loaded it.
SHIPPED_QUESTIONS = catalogue.DEFINITION


@pytest.fixture(autouse=True)
def shipped_questions() -> Iterator[None]:
    """Put the shipped questionnaire back after a test that served another definition."""
    yield
    if catalogue.DEFINITION is not SHIPPED_QUESTIONS:
        catalogue.install(SHIPPED_QUESTIONS)


def postgres_url() -> str:
    """Return TEST_DATABASE_URL, or skip the test with the reason and the fix."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(NO_POSTGRES)
    return url


@pytest.fixture
def postgres_schema(tmp_path: Path) -> Iterator[str]:
    """Yield a PostgreSQL URL whose search_path is a new, empty schema; drop it afterwards."""
    with fresh_database("postgres", tmp_path, postgres_url(), prefix="test_") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return a URL for an empty database: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("postgres_schema"))


class Clock:
    """A clock tests can set and move; the app reads the time from it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


#: A fixed answers key for tests (never a real one).
TEST_KEY = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC0="
#: The name-index key of tests: apart from the answers key, as in production.
TEST_NAME_INDEX_KEY = "bmFtZS1pbmRleC10ZXN0LWtleS0zMi1ieXRlcyEhISE="

#: The day the rules.yaml cases are dated (their ages are computed on it).
CASE_DAY = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(CASE_DAY)


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
    }
    settings.update(config)
    return create_app(settings)


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    """Yield an app on a fresh database with every table created, on the test clock."""
    application = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=database_url, CLOCK=clock)
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def plain_app(tmp_path: Path) -> Flask:
    """Return an app for tests that never touch the database."""
    return make_app(tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(plain_app: Flask) -> FlaskCliRunner:
    return plain_app.test_cli_runner()


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
