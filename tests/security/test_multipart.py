"""No form of the app takes a file: a multipart body is refused (415) on every route, in one place.

Before, a file part where a text field was expected gave a 500 on 15 of 42 field and route
pairs (`curl -F website=@somefile .../start`).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask

from questionnaire.extensions import db
from tests.harness.app import Clock, make_app
from tests.harness.clinician import make_clinician, sign_in
from tests.security.test_route_fuzz import ENDPOINT_FIELDS, ROUTE_PART, routes


@pytest.fixture
def served_app(database_url: str, tmp_path: Path, clock: Clock) -> Flask:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=database_url, CLOCK=clock)
    with app.app_context():
        db.create_all()
    return app


def _post_routes(app: Flask) -> list[tuple[str, str]]:
    """Return (path, endpoint) of every POST route, each path part filled with "1"."""
    return [
        (ROUTE_PART.sub("1", rule), endpoint)
        for method, rule, endpoint in routes(app)
        if method == "POST"
    ]


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_file_part_is_refused_with_415_on_every_post_route(
    served_app: Flask, signed_in: bool
) -> None:
    client = served_app.test_client()
    if signed_in:
        sign_in(client, served_app, make_clinician(served_app, is_admin=True))
    posts = _post_routes(served_app)
    assert len(posts) > 15
    for path, endpoint in posts:
        for field in ENDPOINT_FIELDS.get(endpoint, ["website", "email", "text"]):
            data = {field: (io.BytesIO(b"%PDF-1.4 not text"), "somefile")}
            response = client.post(path, data=data, content_type="multipart/form-data")
            assert response.status_code == 415, (endpoint, field, response.status_code)
            assert "does not take files" in response.get_data(as_text=True)


def test_a_multipart_body_without_files_is_refused_too(served_app: Flask) -> None:
    response = served_app.test_client().post(
        "/start", data={"privacy_consent": "y"}, content_type="multipart/form-data"
    )
    assert response.status_code == 415
