"""Pooled connections: pinged only after sitting idle, so a quiet restart costs no request."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

import questionnaire
from tests.conftest import postgres_url

pytestmark = pytest.mark.postgres


def backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def terminate(pid: int) -> None:
    admin = sa.create_engine(postgres_url())
    try:
        with admin.begin() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


def test_a_connection_that_died_while_idle_is_replaced_before_the_request_uses_it(
    postgres_schema: str,
) -> None:
    engine = sa.create_engine(postgres_schema, pool_size=1, max_overflow=0)
    try:
        first = backend_pid(engine)
        terminate(first)
        time.sleep(questionnaire.IDLE_PING_SECONDS + 0.1)
        # No error: the checkout pinged the idle connection, found it dead, took a new one.
        assert backend_pid(engine) != first
    finally:
        engine.dispose()


def test_a_connection_used_again_at_once_is_not_pinged(
    postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(questionnaire, "IDLE_PING_SECONDS", 3600.0)
    engine = sa.create_engine(postgres_schema, pool_size=1, max_overflow=0)
    try:
        first = backend_pid(engine)
        terminate(first)
        # Not idle long enough to be pinged: this one request meets the dead connection
        # (the app answers it with the outage page) and the pool is refreshed at once.
        with pytest.raises(sa.exc.OperationalError):
            backend_pid(engine)
        assert backend_pid(engine) != first
    finally:
        engine.dispose()
