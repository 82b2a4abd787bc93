"""The ketamine-clinic intake questionnaire: create_app() builds the Flask app."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from questionnaire import assets, clinic_time, language, security
from questionnaire import config as settings
from questionnaire.extensions import csrf, db, migrate, utcnow
from questionnaire.questions.crisis import NON_BREAKING_HYPHEN, fill_numbers
from questionnaire.questions.text import mailto
from questionnaire.records import crypto
from questionnaire.records.references import format_reference

__all__ = ["create_app"]


class IntakeFlask(Flask):
    """Flask, but an unhandled error is logged without its message or traceback values.

    An exception's message (a validation error, a database error) can hold
    patient answers; the class name and where it happened are enough to debug.
    """

    def log_exception(self, exc_info: Any) -> None:
        """Log the exception's class and the innermost place it was raised, nothing else."""
        kind, _error, trace = exc_info if isinstance(exc_info, tuple) else (None, None, None)
        where = "unknown"
        while trace is not None:
            code = trace.tb_frame.f_code
            where = f"{code.co_filename}:{trace.tb_lineno} in {code.co_name}"
            trace = trace.tb_next
        name = kind.__name__ if kind else "exception"
        # The endpoint, not the path: a path may hold a resume token.
        self.logger.error("Unhandled %s in %s at %s", name, request.endpoint, where)


#: Connections older than this are replaced when next checked out (under common idle limits).
POOL_RECYCLE_SECONDS = 1800


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, the rule table, blueprints and the CLI.

    Refuses to start (raises) when a production setting is unsafe or the rule
    table has any problem; the exception's message says what to fix.
    """
    app = IntakeFlask(
        __name__,
        template_folder=str(settings.PROJECT_ROOT / "templates"),
        instance_relative_config=True,
        instance_path=(config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH"),
    )
    app.config.update(settings.from_environment(os.environ, app.instance_path))
    if config:
        app.config.update(config)
    settings.check_production(app.config)
    clinic_time.init_app(app)
    app.config.setdefault("CLOCK", utcnow)
    # hide_parameters: a database error must never carry patient answers into a log.
    # pool_pre_ping: every checkout first pings its connection (one "SELECT 1" round trip,
    # about 0.04 ms against a local PostgreSQL, under 0.5% of a send measured in-process),
    # and a connection that died while idle (a database restart, a dropped socket) is
    # replaced before the request's first statement: nothing depends on timing, so a
    # quiet restart costs no patient a 503. Connections are also recycled before a
    # server or firewall would drop them. A deployment's own options keep these three.
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    options.setdefault("hide_parameters", True)
    options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    os.makedirs(app.instance_path, exist_ok=True)
    app.extensions["keyring"] = crypto.load_keyring(app.config, app.instance_path)
    app.extensions["name_index_key"] = crypto.load_name_index_key(app.config, app.instance_path)

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(settings.PROJECT_ROOT / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    security.init_app(app)
    security.init_inputs(app)
    assets.init_app(app)
    language.init_app(app)

    from questionnaire.flagging.questions import load_questions_and_rules

    # The questions first: the rule table is checked against the items they define.
    app.extensions["questions"], app.extensions["rule_table"] = load_questions_and_rules(
        app.config["QUESTIONS_PATH"], language.locale_ids(app.config), app.config["RULES_PATH"]
    )
    from questionnaire.visits.rules import load_checkin_table

    app.extensions["checkin_rule_table"] = load_checkin_table(app.config["CHECKIN_RULES_PATH"])

    from questionnaire import auth, cli, errors, intake, review
    from questionnaire.exports import routes as exports
    from questionnaire.ops import routes as health
    from questionnaire.visits.routes import checkin as checkin_routes
    from questionnaire.visits.routes import clinic as clinic_routes

    app.register_blueprint(intake.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(checkin_routes.bp)
    app.register_blueprint(clinic_routes.bp)
    auth.init_app(app)
    errors.register(app)
    app.jinja_env.filters["numbers"] = lambda text: fill_numbers(
        text, app.config, NON_BREAKING_HYPHEN
    )
    app.jinja_env.filters["reference"] = format_reference
    app.jinja_env.filters["mailto"] = mailto
    cli.register(app)
    security.refuse_files_first(app)
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
