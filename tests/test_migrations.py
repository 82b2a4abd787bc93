"""Alembic migrations: head builds the models' schema, on SQLite and PostgreSQL, down and up."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from questionnaire.extensions import db
from tests.conftest import make_app

TABLES = {"submissions", "flags", "drafts"}


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
