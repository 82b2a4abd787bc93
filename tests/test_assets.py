"""Static files: versioned URLs on every page, immutable caching by version, the favicon."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.assets import IMMUTABLE, file_version
from questionnaire.extensions import db
from questionnaire.questions.catalogue import PAGES
from questionnaire.records.models import Submission
from tests.answers import baseline
from tests.harness.app import make_app
from tests.harness.clinician import make_clinician, sign_in
from tests.harness.patient import Patient, asked_pages

STATIC = Path(__file__).resolve().parent.parent / "questionnaire" / "static"
#: Every reference to a static file in a page: the path and whatever query follows it.
STATIC_URL = re.compile(r"""/static/([^"'?\s>]+)(\?[^"'\s>]*)?""")
FAVICON_LINK = re.compile(
    r'<link rel="icon" href="/static/favicon\.svg\?v=[0-9a-f]{12}" type="image/svg\+xml">'
)


def patient_pages(client: FlaskClient) -> dict[str, str]:
    """Walk the questionnaire from the start page to the confirmation; return path -> HTML."""
    patient = Patient(client)
    pages = {"/": client.get("/").get_data(as_text=True)}
    pages["/privacy"] = client.get("/privacy").get_data(as_text=True)
    assert patient.start().status_code == 303
    for section in asked_pages(baseline()):
        path = f"/questions/{section.id}"
        pages[path] = client.get(path).get_data(as_text=True)
        assert patient.answer(section, baseline(), action="continue").status_code == 303
    pages["/check"] = client.get("/check").get_data(as_text=True)
    assert patient.send().status_code == 303
    pages["/done"] = client.get("/done").get_data(as_text=True)
    pages["/no-such-page"] = client.get("/no-such-page").get_data(as_text=True)
    return pages


def clinician_pages(app: Flask, client: FlaskClient) -> dict[str, str]:
    """Sign an admin in and return path -> HTML of the sign-in page and the review pages."""
    with app.app_context():
        reference = db.session.scalar(sa.select(Submission.reference))
    pages = {"/clinic/sign-in": client.get("/clinic/sign-in").get_data(as_text=True)}
    sign_in(client, app, make_clinician(app, "admin@clinic.example", "Ada Admin", is_admin=True))
    for path in ["/clinic/", f"/clinic/submissions/{reference}", "/clinic/audit"]:
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.get_data(as_text=True)
    return pages


def every_page(app: Flask) -> dict[str, str]:
    return {
        **patient_pages(app.test_client()),
        **clinician_pages(app, app.test_client()),
    }


def test_every_static_url_on_every_page_carries_the_files_version(app: Flask) -> None:
    for path, html in every_page(app).items():
        found = STATIC_URL.findall(html)
        assert found, f"{path} links no static file"
        for filename, query in found:
            assert query == f"?v={file_version(STATIC / filename)}", (path, filename, query)


def test_every_page_links_the_favicon(app: Flask) -> None:
    for path, html in every_page(app).items():
        assert FAVICON_LINK.search(html), path


def test_pages_stay_no_store(app: Flask) -> None:
    client = app.test_client()
    patient = Patient(client)
    assert patient.start().status_code == 303
    for path in ["/", "/privacy", f"/questions/{PAGES[0].id}", "/check"]:
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    assert client.get("/clinic/sign-in").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("filename", sorted(path.name for path in STATIC.iterdir()))
def test_a_versioned_static_file_is_cached_for_a_year_as_immutable(
    plain_app: Flask, filename: str
) -> None:
    client = plain_app.test_client()
    response = client.get(f"/static/{filename}?v={file_version(STATIC / filename)}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    # The same for everyone: no cookie set, no Vary: Cookie to defeat the cache.
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    response.close()


@pytest.mark.parametrize("query", ["", "?v=", "?v=000000000000", "?v=ABC&x=1"])
def test_an_unversioned_or_stale_request_is_revalidated_not_immutable(
    plain_app: Flask, query: str
) -> None:
    response = plain_app.test_client().get(f"/static/style.css{query}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert "immutable" not in response.headers["Cache-Control"]
    assert "ETag" in response.headers  # revalidating costs a 304, not the file
    response.close()


def test_a_missing_static_file_is_a_plain_404(plain_app: Flask) -> None:
    response = plain_app.test_client().get("/static/no-such.css?v=000000000000")
    assert response.status_code == 404
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_a_changed_file_changes_its_version(tmp_path: Path) -> None:
    folder = tmp_path / "static"
    shutil.copytree(STATIC, folder)

    def app_on(folder: Path) -> Flask:
        app = make_app(tmp_path)
        app.static_folder = str(folder)
        return app

    def linked_version(app: Flask) -> str:
        with app.test_request_context():
            from flask import url_for

            url = url_for("static", filename="style.css")
        match = re.fullmatch(r"/static/style\.css\?v=([0-9a-f]{12})", url)
        assert match, url
        return match.group(1)

    before = app_on(folder)
    old = linked_version(before)
    assert old == file_version(STATIC / "style.css")
    (folder / "style.css").write_text(".changed { color: #000; }\n")
    # A process keeps the version it read (a deploy restarts the workers) ...
    assert linked_version(before) == old
    # ... and a new one links the new version; the old URL is no longer immutable there.
    after = app_on(folder)
    new = linked_version(after)
    assert new != old and new == file_version(folder / "style.css")
    client = after.test_client()
    with client.get(f"/static/style.css?v={new}") as current:
        assert current.headers["Cache-Control"] == IMMUTABLE
    with client.get(f"/static/style.css?v={old}") as stale:
        assert stale.headers["Cache-Control"] == "no-cache"
        assert stale.get_data(as_text=True) == ".changed { color: #000; }\n"


def test_favicon_ico_leads_to_the_versioned_svg(plain_app: Flask) -> None:
    client = plain_app.test_client()
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    version = file_version(STATIC / "favicon.svg")
    assert response.headers["Location"] == f"/static/favicon.svg?v={version}"
    # Cached for a week, not for good: the redirect names the current version.
    assert response.headers["Cache-Control"] == "public, max-age=604800"
    assert "Set-Cookie" not in response.headers
    icon = client.get(response.headers["Location"])
    assert icon.status_code == 200
    assert icon.mimetype == "image/svg+xml"
    assert icon.headers["Cache-Control"] == IMMUTABLE
    assert b"<script" not in icon.data
    icon.close()
