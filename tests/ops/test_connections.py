"""Pooled connections: one that died while idle is replaced before a request uses it.

The app's engine pings every connection at checkout (pool_pre_ping), so this holds
however short the wait: no test here sleeps, and nothing depends on a timing window.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from questionnaire.extensions import db
from tests.answers import with_changes
from tests.harness.app import Clock, make_app
from tests.harness.patient import Patient
from tests.harness.served import postgres_url

pytestmark = pytest.mark.postgres


def terminate_all(schema_url: str) -> int:
    """End every other server process of this schema's database user (a quiet restart)."""
    admin = sa.create_engine(postgres_url())
    try:
        with admin.begin() as connection:
            return int(
                connection.execute(
                    sa.text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE pid <> pg_backend_pid() AND datname = current_database() "
                        "AND application_name = :name"
                    ),
                    {"name": "questionnaire-test-pool"},
                ).scalar_one()
            )
    finally:
        admin.dispose()


@pytest.fixture
def pooled_app(postgres_schema: str, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    app = make_app(
        tmp_path,
        SQLALCHEMY_DATABASE_URI=postgres_schema,
        CLOCK=clock,
        # Only the tag: the app adds pool_pre_ping, pool_recycle and hide_parameters itself.
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_size": 2,
            "connect_args": {"application_name": "questionnaire-test-pool"},
        },
    )
    with app.app_context():
        db.create_all()
    yield app
    # Closed here, not left to the garbage collector: psycopg warns when it finds an open
    # connection in __del__, and that warning would fail whichever test runs then.
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_app_pings_at_checkout_whatever_options_a_deployment_sets(pooled_app: Flask) -> None:
    options = pooled_app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True and options["hide_parameters"] is True


def test_a_send_right_after_every_connection_died_answers_without_a_503(
    pooled_app: Flask,
) -> None:
    patient = Patient(pooled_app.test_client())
    patient.walk_to_check(with_changes({}))
    form = patient.send_form()
    # The pool holds live connections; the server drops them all, and the very next
    # request (no wait of any length) must still be served.
    assert terminate_all(str(pooled_app.config["SQLALCHEMY_DATABASE_URI"])) >= 1
    response = patient.send(form)
    assert response.status_code == 303, response.status_code
    with pooled_app.app_context():
        db.session.remove()
        db.engine.dispose()
