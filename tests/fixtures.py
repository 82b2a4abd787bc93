"""Every shared fixture, in one pytest plugin (registered once, by tests/conftest.py).

- The database: a SQLite file, and a PostgreSQL schema of its own per test in a database
  of its own per pytest process (each pytest-xdist worker, each run), made at the start
  of the session and dropped at its end.
- The app on that database and the test clock; its client and CLI runner.
- Clinicians (stored, and signed in through the real pages) and stored submissions.

Helpers that need no pytest are in tests/harness (make_app and the clock in
``tests.harness.app``, clinicians and the one ``sign_in`` in ``tests.harness.clinician``).
The browser's and the fault-injection fixtures stay beside their tests
(tests/browser/conftest.py, tests/fault/conftest.py): nothing else uses them.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from questionnaire.extensions import db
from questionnaire.questions import catalogue
from questionnaire.records.models import Flag, Submission
from questionnaire.records.references import new_reference
from questionnaire.rules import LEVEL_RANK
from tests.auth.helpers import add_test_page
from tests.harness.app import CASE_DAY, Clock, make_app
from tests.harness.clinician import TestClinician, make_clinician, sign_in
from tests.harness.served import fresh_database, postgres_url, worker_name

NO_POSTGRES = (
    "PostgreSQL tests need TEST_DATABASE_URL, for example "
    "TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test make test"
)

# --- A PostgreSQL database per pytest process ---------------------------------------------
#
# Schemas keep tests apart, but not what PostgreSQL shares across a whole database: the
# advisory locks (questionnaire/records/locks.py: the job locks, the sign-in counters) and
# pg_stat_activity. Two workers, or two runs in two checkouts, on one database would take
# each other's job locks; each pytest process gets a database of its own instead.

#: The URL TEST_DATABASE_URL named before this process swapped in its own database.
_GIVEN_URL = "_GIVEN_TEST_DATABASE_URL"


def _runs_tests(config: pytest.Config) -> bool:
    """Say whether this process runs tests (an xdist worker, or pytest without workers)."""
    return hasattr(config, "workerinput") or not config.getoption("numprocesses", default=None)


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Make this process's own database and point TEST_DATABASE_URL at it."""
    given = os.environ.get("TEST_DATABASE_URL")
    if not given or not _runs_tests(session.config) or _GIVEN_URL in os.environ:
        return
    url = sa.make_url(given)
    name = f"{url.database}_{worker_name()}_{uuid.uuid4().hex[:8]}".lower()
    admin = _admin(given)
    try:
        for attempt in itertools.count(1):
            try:
                with admin.connect() as connection:
                    connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
                break
            except sa.exc.OperationalError:
                # Two CREATE DATABASE from template1 at the same instant may refuse: again.
                if attempt == 5:
                    raise
                time.sleep(0.2 * attempt)
    finally:
        admin.dispose()
    os.environ[_GIVEN_URL] = given
    os.environ["TEST_DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop this process's database (and whatever connection is still open on it)."""
    given = os.environ.pop(_GIVEN_URL, None)
    if given is None:
        return
    name = sa.make_url(os.environ["TEST_DATABASE_URL"]).database
    os.environ["TEST_DATABASE_URL"] = given
    admin = _admin(given)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# --- The database and the app ---------------------------------------------------------------


#: The questionnaire shipped with the app, as this process first loaded it.
SHIPPED_QUESTIONS = catalogue.DEFINITION


@pytest.fixture(autouse=True)
def shipped_questions() -> Iterator[None]:
    """Put the shipped questionnaire back after a test that served another definition."""
    yield
    if catalogue.DEFINITION is not SHIPPED_QUESTIONS:
        catalogue.install(SHIPPED_QUESTIONS)


@pytest.fixture
def postgres_schema(tmp_path: Path) -> Iterator[str]:
    """Yield a PostgreSQL URL whose search_path is a new, empty schema; drop it afterwards."""
    admin_url = postgres_url(default="")
    if not admin_url:
        pytest.skip(NO_POSTGRES)
    with fresh_database("postgres", tmp_path, admin_url, prefix="test_") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return a URL for an empty database: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("postgres_schema"))


@pytest.fixture
def clock() -> Clock:
    return Clock(CASE_DAY)


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


# --- Clinicians -----------------------------------------------------------------------------


@pytest.fixture
def clinician(app: Flask) -> TestClinician:
    return make_clinician(app)


@pytest.fixture
def make_clinician_for(app: Flask) -> Callable[..., TestClinician]:
    """Return a factory: make_clinician_for(email=..., is_admin=...) stores a clinician."""

    def factory(**options: object) -> TestClinician:
        return make_clinician(app, **options)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def reviewer(app: Flask) -> TestClinician:
    return make_clinician(app, email="reviewer@clinic.example", name="Dr Reviewer")


@pytest.fixture
def admin(app: Flask) -> TestClinician:
    return make_clinician(app, email="admin@clinic.example", name="Ada Admin", is_admin=True)


@pytest.fixture
def colleague(app: Flask) -> TestClinician:
    return make_clinician(app, email="colleague@clinic.example", name="Dr Colleague")


@pytest.fixture
def test_page(app: Flask) -> str:
    """Add a clinic page that includes auth/_account.html; return its URL."""
    add_test_page(app)
    return "/clinic/test-page/ABCD2345"


@pytest.fixture
def signed_in(
    app: Flask, client: FlaskClient, clinician: TestClinician, test_page: str
) -> FlaskClient:
    """Return the test client, signed in as `clinician` (the test page added)."""
    sign_in(client, app, clinician)
    return client


@pytest.fixture
def as_reviewer(app: Flask, client: FlaskClient, reviewer: TestClinician) -> FlaskClient:
    """Return the test client, signed in as `reviewer`."""
    sign_in(client, app, reviewer)
    return client


@pytest.fixture
def as_admin(app: Flask, client: FlaskClient, admin: TestClinician) -> FlaskClient:
    """Return the test client, signed in as `admin`."""
    sign_in(client, app, admin)
    return client


@pytest.fixture
def as_colleague(app: Flask, colleague: TestClinician) -> FlaskClient:
    """Return a second browser, signed in as `colleague`."""
    browser = app.test_client()
    sign_in(browser, app, colleague)
    return browser


# --- Stored submissions ---------------------------------------------------------------------

_keys = itertools.count()

#: add_submission(flags=[(rule, level)], at=..., status=..., answers=...) -> reference
AddSubmission = Callable[..., str]


@pytest.fixture
def add_submission(app: Flask) -> AddSubmission:
    """Return a factory that stores a submission with flags of given levels; returns its reference."""

    def factory(
        flags: list[tuple[str, str]] | None = None,
        at: datetime | None = None,
        status: str = "new",
        answers: dict | None = None,
    ) -> str:
        flags = flags or []
        levels = [level for _, level in flags]
        highest = next((level for level in ("urgent", "review", "info") if level in levels), None)
        with app.app_context():
            submission = Submission(
                draft_key=f"key-{next(_keys)}",
                reference=new_reference(),
                submitted_at=at or CASE_DAY,
                language="en",
                answers=answers or {"full_name": "Sam Example", "date_of_birth": "1980-05-17"},
                facts={"age_years": 46},
                rules_version="2026.11.1",
                rules_sha256="0" * 64,
                status=status,
                highest_level=highest,
                level_rank=LEVEL_RANK[highest],
                flags=[
                    Flag(
                        rule=rule,
                        level=level,
                        message=f"Reports {rule}.",
                        source="test",
                        evidence=[],
                    )
                    for rule, level in flags
                ],
            )
            db.session.add(submission)
            db.session.commit()
            return submission.reference

    return factory
