"""The ketamine-clinic intake questionnaire: create_app() builds the Flask app."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from questionnaire import config as settings
from questionnaire.extensions import csrf, db, migrate
from questionnaire.models import utcnow

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, the rule table, blueprints and the CLI.

    Refuses to start (raises) when a production setting is unsafe or the rule
    table has any problem; the exception's message says what to fix.
    """
    app = Flask(
        __name__,
        template_folder=str(settings.PROJECT_ROOT / "templates"),
        instance_relative_config=True,
    )
    app.config.update(settings.from_environment(os.environ, app.instance_path))
    if config:
        app.config.update(config)
    settings.check_production(app.config)
    app.config.setdefault("CLOCK", utcnow)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(settings.PROJECT_ROOT / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)

    from questionnaire.ruleset import load_rule_table

    app.extensions["rule_table"] = load_rule_table(app.config["RULES_PATH"])

    from questionnaire import cli, errors, intake

    app.register_blueprint(intake.bp)
    errors.register(app)
    cli.register(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Make SQLite safe for several workers: WAL, a busy timeout and foreign keys."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
