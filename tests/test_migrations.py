"""Alembic migrations: head builds the models' schema, on SQLite and PostgreSQL, down and up."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from questionnaire.extensions import db
from tests.harness.app import make_app

TABLES = {
    "submissions",
    "flags",
    "drafts",
    "notes",
    "clinicians",
    "login_attempts",
    "audit_events",
    "notifications",
    "unsent_intakes",
    "sweep_runs",
    "queue_counts",
    "export_jobs",
    "enrolment_links",
    "name_tokens",
    "corrections",
    "ended_sessions",
    "questionnaire_versions",
    "patients",
    "visits",
    "questionnaire_definitions",
}


def differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_head_matches_the_models_and_every_revision_goes_down_and_up(
    database_url: str, tmp_path: Path
) -> None:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        upgrade()
        assert tables() == TABLES
        assert differences() == []
        downgrade(revision="base")
        assert tables() == set()
        upgrade()
        assert differences() == []
        db.engine.dispose()


def test_upgrading_keeps_stored_submissions_and_ranks_them_for_the_queue(
    database_url: str, tmp_path: Path
) -> None:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        upgrade(revision="0001_initial")
        with db.engine.begin() as connection:
            for number, level in enumerate(["urgent", "info", None], start=1):
                connection.execute(
                    sa.text(
                        "INSERT INTO submissions (draft_key, reference, submitted_at, language,"
                        " answers, facts, rules_version, rules_sha256, status, highest_level)"
                        " VALUES (:key, :ref, CURRENT_TIMESTAMP, 'en', '{}', '{}', 'v', 'h',"
                        " 'new', :level)"
                    ),
                    {"key": f"k{number}", "ref": f"REF{number}", "level": level},
                )
        upgrade()
        with db.engine.connect() as connection:
            ranks = connection.execute(
                sa.text("SELECT reference, level_rank FROM submissions ORDER BY reference")
            ).all()
        assert [tuple(row) for row in ranks] == [("REF1", 0), ("REF2", 2), ("REF3", 3)]
        # The queue's counts start from what is stored, and the triggers keep them from here.
        assert counts_by_rank() == {0: 1, 2: 1, 3: 1}
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE submissions SET status = 'reviewed'"))
            connection.execute(sa.text("DELETE FROM submissions WHERE reference = 'REF2'"))
        assert counts_by_rank() == {0: 1, 3: 1}
        assert counts_by_rank("reviewed") == {0: 1, 3: 1}
        db.engine.dispose()


def counts_by_rank(status: str | None = None) -> dict[int, int]:
    """Return the queue_counts table summed by level rank (non-zero only)."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT level_rank, sum(n) FROM queue_counts"
                " WHERE CAST(:status AS VARCHAR) IS NULL OR status = :status GROUP BY level_rank"
            ),
            {"status": status},
        ).all()
    return {int(rank): int(number) for rank, number in rows if number}


def test_the_questionnaire_version_column_leaves_old_rows_null_and_keeps_the_triggers(
    database_url: str, tmp_path: Path
) -> None:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=database_url)
    insert = sa.text(
        "INSERT INTO submissions (draft_key, reference, submitted_at, language, answers, facts,"
        " rules_version, rules_sha256, status, highest_level, level_rank)"
        " VALUES (:key, :ref, CURRENT_TIMESTAMP, 'en', '{}', '{}', 'v', 'h', 'new', NULL, 3)"
    )
    with app.app_context():
        upgrade(revision="0007_export_jobs")
        with db.engine.begin() as connection:
            connection.execute(insert, {"key": "k1", "ref": "OLD1"})
        upgrade(revision="0008_questionnaire_version")
        with db.engine.connect() as connection:
            stored = connection.execute(
                sa.text("SELECT reference, questionnaire_version FROM submissions")
            ).all()
        assert [tuple(row) for row in stored] == [("OLD1", None)]
        # A plain add_column: the queue's triggers on submissions are still there.
        with db.engine.begin() as connection:
            connection.execute(insert, {"key": "k2", "ref": "NEW1"})
        assert counts_by_rank() == {3: 2}
        downgrade(revision="0007_export_jobs")
        columns = {column["name"] for column in sa.inspect(db.engine).get_columns("submissions")}
        assert "questionnaire_version" not in columns
        with db.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM submissions WHERE reference = 'OLD1'"))
        assert counts_by_rank() == {3: 1}
        db.engine.dispose()
