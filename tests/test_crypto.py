"""Patient data at rest: sealed with AES-GCM, found in neither the database file nor a dump."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.config import ConfigError
from questionnaire.extensions import db
from questionnaire.questions.catalogue import PAGES
from questionnaire.records.crypto import AnswersKeyError, CiphertextError, Keyring, key_id, new_key
from questionnaire.records.models import Draft, Flag, Submission
from tests.answers import with_changes
from tests.harness.app import TEST_KEY, make_app
from tests.harness.patient import Patient

SENTINEL = "Zyxquorble"
SECRET_ANSWERS = with_changes(
    {
        "full_name": f"{SENTINEL} Patient",
        "email": f"{SENTINEL.lower()}@example.com",
        "medications": f"Restoril 1mg, {SENTINEL}ol 5mg",
        "prior_ketamine_treatment": "yes",
        "prior_ketamine_details": f"At {SENTINEL} clinic",
    }
)


def send_and_leave_a_draft(app: Flask) -> None:
    """Store one sent submission and one draft in progress, both holding the sentinel."""
    assert Patient(app.test_client()).complete(SECRET_ANSWERS).status_code == 303
    patient = Patient(app.test_client())
    patient.start()
    patient.answer(PAGES[0], SECRET_ANSWERS)


def test_answers_are_read_back_as_written(app: Flask) -> None:
    send_and_leave_a_draft(app)
    with app.app_context():
        submission = db.session.scalar(sa.select(Submission))
        assert submission is not None
        assert submission.answers["full_name"] == f"{SENTINEL} Patient"
        benzo = next(flag for flag in submission.flags if flag.rule == "benzodiazepine")
        assert benzo.evidence == [
            {
                "item": "medications",
                "matched": ["Restoril"],
                "read": [{"written": "Restoril", "term": "Restoril", "how": "exact", "edits": 0}],
            }
        ]


def test_the_sentinel_is_not_in_the_sqlite_file(tmp_path: Path, clock) -> None:
    database = tmp_path / "sealed.db"
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", CLOCK=clock)
    with app.app_context():
        db.create_all()
    send_and_leave_a_draft(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("sealed.db*") if path.is_file())
    assert len(raw) > 10_000
    for needle in (SENTINEL, SENTINEL.lower()):
        assert needle.encode() not in raw
    # A medication is an answer too (one the public questionnaire, kept in
    # questionnaire_versions, does not name).
    assert b"Restoril" not in raw


@pytest.mark.postgres
def test_the_sentinel_is_not_in_a_pg_dump(postgres_schema: str, tmp_path: Path, clock) -> None:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=postgres_schema, CLOCK=clock)
    with app.app_context():
        db.create_all()
    send_and_leave_a_draft(app)
    url = sa.make_url(postgres_schema)
    schema = url.query["options"].split("=", 1)[1]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            "-n",
            schema,
            url.database or "test",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    assert b"COPY" in dump
    assert SENTINEL.encode() not in dump and SENTINEL.lower().encode() not in dump


def test_a_flipped_byte_fails_its_integrity_check_and_the_log_holds_no_data(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    send_and_leave_a_draft(app)
    with app.app_context():
        stored = db.session.execute(sa.text("SELECT id, answers FROM submissions")).one()
        body = stored.answers
        tampered = body[:-5] + ("A" if body[-5] != "A" else "B") + body[-4:]
        db.session.execute(
            sa.text("UPDATE submissions SET answers = :value WHERE id = :id"),
            {"value": tampered, "id": stored.id},
        )
        db.session.commit()
        db.session.expire_all()
        with caplog.at_level(logging.DEBUG), pytest.raises(CiphertextError):
            db.session.scalar(sa.select(Submission))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Integrity check failed for a value in submissions.answers" in logged
    assert SENTINEL not in logged and tampered not in logged


def test_a_value_moved_to_another_column_does_not_open(app: Flask) -> None:
    ring = Keyring(new_key())
    sealed = ring.seal(b'{"full_name": "x"}', "submissions.answers")
    assert ring.open(sealed, "submissions.answers") == b'{"full_name": "x"}'
    with pytest.raises(CiphertextError):
        ring.open(sealed, "drafts.answers")


def test_every_patient_column_is_sealed(app: Flask) -> None:
    from questionnaire.ops.keys import sealed_columns

    with app.app_context():
        sealed = {context for _, _, context in sealed_columns()}
    assert sealed == {
        "submissions.answers",
        "submissions.facts",
        "flags.evidence",
        "flags.acknowledgement_note",
        "drafts.answers",
        "notes.text",
        "corrections.text",
        "clinicians.totp_secret",
        "enrolment_links.pending_totp_secret",
        "unsent_intakes.contact",
        "unsent_intakes.findings",
        "unsent_intakes.outcome_note",
        "visits.answers",
        "visits.facts",
        "visits.flags",
    }


def test_development_makes_a_key_file_readable_by_its_owner_only(tmp_path: Path) -> None:
    app = make_app(tmp_path, ANSWERS_KEY="")
    key_file = Path(app.instance_path) / "answers.key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = make_app(tmp_path, ANSWERS_KEY="")
    assert again.extensions["keyring"].current == app.extensions["keyring"].current


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path, ANSWERS_KEY="")
    key_file = Path(app.instance_path) / "answers.key"
    os.chmod(key_file, 0o644)
    with pytest.raises(AnswersKeyError, match="chmod 600"):
        make_app(tmp_path, ANSWERS_KEY="")


def test_production_refuses_to_start_without_an_answers_key(tmp_path: Path) -> None:
    with pytest.raises((AnswersKeyError, ConfigError), match="ANSWERS_KEY"):
        make_app(
            tmp_path,
            APP_ENV="production",
            PUBLIC_BASE_URL="https://intake.clinic.example",
            SECRET_KEY="Zk3vQ2xL7pW4mZ8rB3nH6yJ1cF5sD0gA-_eUq9Tn4Rw",
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
            ANSWERS_KEY="",
        )


def test_a_malformed_key_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(AnswersKeyError, match="urlsafe_b64encode"):
        make_app(tmp_path, ANSWERS_KEY="too-short")


def test_rotating_the_key_reseals_everything(tmp_path: Path, clock) -> None:
    app = make_app(tmp_path, ANSWERS_KEY="", CLOCK=clock)
    with app.app_context():
        db.create_all()
    send_and_leave_a_draft(app)
    old_id = key_id(app.extensions["keyring"].current)
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    instance = Path(app.instance_path)
    assert (instance / "answers.key.previous").exists()
    assert not (instance / "answers.key.next").exists()
    fresh = make_app(tmp_path, ANSWERS_KEY="", CLOCK=clock)
    new_id = key_id(fresh.extensions["keyring"].current)
    assert new_id != old_id and new_id in result.output
    (instance / "answers.key.previous").unlink()  # only the new key from here on
    reopened = make_app(tmp_path, ANSWERS_KEY="", CLOCK=clock)
    with reopened.app_context():
        stored = db.session.execute(sa.text("SELECT answers FROM submissions")).scalar_one()
        assert stored.split(":")[1] == new_id
        submission = db.session.scalar(sa.select(Submission))
        assert submission is not None and submission.answers["full_name"] == f"{SENTINEL} Patient"
        assert db.session.scalar(sa.select(Draft)) is not None
        assert all(flag.evidence is not None for flag in db.session.scalars(sa.select(Flag)))


def test_rotating_a_key_from_the_environment_needs_a_file_for_the_new_key(
    app: Flask, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["keys", "rotate"])
    assert refused.exit_code == 2 and "--new-key-file" in refused.output
    target = tmp_path / "new.key"
    done = runner.invoke(args=["keys", "rotate", "--new-key-file", str(target)])
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text().strip() != TEST_KEY
    assert "ANSWERS_OLD_KEYS" in done.output


def test_a_client_can_still_use_the_app(client: FlaskClient) -> None:
    assert client.get("/").status_code == 200
