"""Search by name through the blind index (issue 25): exact tokens, never the name in a URL."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.questions.blind_index import blind, name_tokens
from questionnaire.records.crypto import decode_key
from questionnaire.records.models import AuditEvent, NameToken
from questionnaire.records.references import format_reference
from tests.answers import with_changes
from tests.exports import submit
from tests.harness.app import TEST_KEY, TEST_NAME_INDEX_KEY
from tests.harness.forms import csrf_token, visible_text


def search(client: FlaskClient, typed: str) -> str:
    page = client.get("/clinic/search")
    assert page.status_code == 200
    response = client.post("/clinic/search", data={"name": typed, "csrf_token": csrf_token(page)})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_names_fold_accents_and_case_and_split_at_hyphens() -> None:
    assert name_tokens("Éloïse CÔTÉ-Lavoie") == ["eloise", "cote", "lavoie"]
    assert name_tokens("  o'Brien  J. ") == ["brien"]  # one-letter tokens are not indexed
    key = decode_key(TEST_NAME_INDEX_KEY)
    assert blind("cote", key) == blind("cote", key) != blind("cote", decode_key(TEST_KEY))
    assert len(blind("cote", key)) == 64


def test_a_name_is_found_by_whole_words_only_and_the_search_is_audited(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    marie = submit(app, with_changes({"full_name": "Marie Côté-Lavoie"}))
    other = submit(app, with_changes({"full_name": "Jean Tremblay"}))
    with app.app_context():
        stored = set(db.session.scalars(sa.select(NameToken.digest)))
    assert not any(token in stored for token in ("marie", "cote", "lavoie"))  # only HMACs
    found = search(as_reviewer, "cote")
    assert format_reference(marie) in found and format_reference(other) not in found
    assert "Marie Côté-Lavoie" in visible_text(found)
    assert format_reference(marie) in search(as_reviewer, "LAVOIE marie")
    assert format_reference(marie) not in search(as_reviewer, "Cot")  # no partial word
    assert format_reference(marie) not in search(as_reviewer, "Marie Tremblay")  # every word
    with app.app_context():
        details = list(
            db.session.scalars(
                sa.select(AuditEvent.detail)
                .where(AuditEvent.action == "name_search")
                .order_by(AuditEvent.id)
            )
        )
    assert details == [
        {"tokens": 1, "results": 1},
        {"tokens": 2, "results": 1},
        {"tokens": 1, "results": 0},
        {"tokens": 2, "results": 0},
    ]
    assert not any("cote" in str(detail).lower() for detail in details)


def test_the_name_never_goes_in_a_url(app: Flask, as_reviewer: FlaskClient) -> None:
    submit(app, with_changes({"full_name": "Marie Côté-Lavoie"}))
    page = as_reviewer.get("/clinic/search").get_data(as_text=True)
    assert 'method="post"' in page
    # The queue's GET filter takes a reference only; a name there is refused, not searched.
    assert as_reviewer.get("/clinic/?q=Marie").status_code == 400
    assert "Search by name" in as_reviewer.get("/clinic/").get_data(as_text=True)


def test_rotating_the_name_index_key_rebuilds_the_index(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    marie = submit(app, with_changes({"full_name": "Marie Côté-Lavoie"}))
    with app.app_context():
        before = set(db.session.scalars(sa.select(NameToken.digest)))
    result = app.test_cli_runner().invoke(
        args=["keys", "rotate-name-index", "--new-key-file", f"{app.instance_path}/new.key"]
    )
    assert result.exit_code == 0, result.output
    assert "Rebuilt the name index of 1 submissions" in result.output
    assert "set NAME_INDEX_KEY" in result.output
    with app.app_context():
        after = set(db.session.scalars(sa.select(NameToken.digest)))
        rotated = db.session.scalar(
            sa.select(AuditEvent.detail).where(AuditEvent.action == "name_index_rotated")
        )
    assert after and not (after & before)  # every token re-hashed under the new key
    assert rotated is not None and rotated["submissions"] == 1
    assert format_reference(marie) in search(as_reviewer, "Côté")  # this worker switched
    # Without --new-key-file, a key from NAME_INDEX_KEY cannot be rotated: nowhere to put it.
    refused = app.test_cli_runner().invoke(args=["keys", "rotate-name-index"])
    assert refused.exit_code == 2 and "--new-key-file" in refused.output


def test_reindex_names_indexes_submissions_stored_before_the_index(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    marie = submit(app, with_changes({"full_name": "Marie Côté-Lavoie"}))
    with app.app_context():
        db.session.execute(sa.delete(NameToken))
        db.session.commit()
    assert format_reference(marie) not in search(as_reviewer, "marie")
    result = app.test_cli_runner().invoke(args=["keys", "reindex-names"])
    assert result.exit_code == 0 and "Indexed the names of 1 submissions" in result.output
    assert format_reference(marie) in search(as_reviewer, "marie")
