"""Flask extensions, created unbound and bound to an app in create_app()."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app, has_app_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

#: A plain session, or Flask-SQLAlchemy's scoped one: every service function takes either.
DbSession = Session | scoped_session[Any]


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def now() -> datetime:
    """Return the app clock's time (the CLOCK setting; tests move it), or the real time."""
    if has_app_context():
        clock = current_app.config.get("CLOCK", utcnow)
        return clock()
    return utcnow()


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable migration names)."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
#: Per client address (after TRUSTED_PROXY_HOPS); storage from RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address)
