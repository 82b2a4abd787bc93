"""Errors never leak patient data: not into logs, not onto the page."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

SENTINEL = "Zebulon-Quixote-7731"


def test_an_unhandled_error_is_logged_without_its_message(
    plain_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @plain_app.get("/boom")
    def boom() -> str:
        raise ValueError(f"answer was {SENTINEL}")

    plain_app.config["TESTING"] = False  # let the error handler run, as in production
    plain_app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.DEBUG):
        response = plain_app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert SENTINEL not in page and "Traceback" not in page
    assert "Something went wrong" in page
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "ValueError" in logged and "boom" in logged
    assert SENTINEL not in logged
    assert all(record.exc_info is None for record in caplog.records)


def test_database_errors_hide_their_parameters(plain_app: Flask) -> None:
    assert plain_app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
