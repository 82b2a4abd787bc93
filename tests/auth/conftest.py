"""Fixtures for clinician tests: a clinician factory and a signed-in client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.auth.helpers import TestClinician, add_test_page, make_clinician, sign_in


@pytest.fixture
def test_page(app: Flask) -> str:
    """Add a clinic page that includes auth/_account.html; return its URL."""
    add_test_page(app)
    return "/clinic/test-page/ABCD2345"


@pytest.fixture
def make_clinician_for(app: Flask) -> Callable[..., TestClinician]:
    """Return a factory: make_clinician_for(email=..., is_admin=...) stores a clinician."""

    def factory(**options: object) -> TestClinician:
        return make_clinician(app, **options)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def clinician(app: Flask) -> TestClinician:
    return make_clinician(app)


@pytest.fixture
def signed_in(
    app: Flask, client: FlaskClient, clinician: TestClinician, test_page: str
) -> FlaskClient:
    """Return the test client, signed in as `clinician`."""
    sign_in(client, app, clinician)
    return client
