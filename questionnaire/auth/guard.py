"""Deny by default: every request under /clinic needs a signed-in clinician whose session holds.

A session holds while the account is active, its session_version matches the
one stored at sign-in (raised to end sessions: disable, new second factor,
password change, "sign out everywhere"), it was not
signed out on its own (ended_sessions), the clinician was seen in the last 30 minutes,
and they signed in less than 12 hours ago. The checks read the database on
every request, so ending a session does not wait for a cookie to expire.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from flask import abort, current_app, g, has_request_context, redirect, request, session, url_for
from flask_login import (  # type: ignore[import-untyped]
    UserMixin,
    current_user,
    login_user,
    logout_user,
)
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from questionnaire import audit
from questionnaire.extensions import db, now
from questionnaire.language import CLINIC_SESSION_KEY
from questionnaire.records.models import Clinician, EndedSession
from questionnaire.security import safe_next

P = ParamSpec("P")
R = TypeVar("R")

CLINIC_PREFIX = "/clinic"
#: The only endpoints under /clinic that an anonymous visitor may reach.
PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.sign_in",
        "auth.sign_in_code",
        "auth.switch_language",
        "accounts.enrol_link",
        "accounts.enrol",
        "accounts.enrol_code",
        "static",
    }
)
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
#: How long the code page waits after a right password.
PENDING_LIFETIME = timedelta(minutes=5)

VERSION_KEY = "clinician_session_version"
SIGNED_IN_KEY = "clinician_signed_in_at"
LAST_SEEN_KEY = "clinician_last_seen"
PENDING_KEY = "clinician_pending"
#: A random id for this browser's session; "Sign out" stores its hash in ended_sessions.
SESSION_ID_KEY = "clinician_session_id"


class SignedIn(UserMixin):
    """Flask-Login's view of a clinician (the model stays free of Flask-Login)."""

    def __init__(self, clinician: Clinician) -> None:
        self.clinician = clinician

    def get_id(self) -> str:
        return str(self.clinician.id)

    @property
    def is_active(self) -> bool:
        return bool(self.clinician.is_active)

    @property
    def is_authenticated(self) -> bool:
        # True even when disabled, so the guard sees who to sign out and audits it.
        return True


def _return_path() -> str | None:
    """Return where to come back to after signing in: this page, or for a form post its page."""
    if request.method in {"GET", "HEAD"}:
        query = request.query_string.decode("utf-8", "replace")
        return safe_next(request.path + (f"?{query}" if query else ""))
    # A form posted after the session ended: go back to the nearest page above its URL
    # (for /clinic/submissions/X/notes, the submission itself).
    adapter = current_app.url_map.bind_to_environ(request.environ)
    path = request.path.rstrip("/")
    while path.startswith(CLINIC_PREFIX):
        for candidate in (path, f"{path}/"):
            try:
                endpoint, _args = adapter.match(candidate, method="GET")
            except HTTPException:
                continue
            if endpoint not in PUBLIC_ENDPOINTS:
                return safe_next(candidate)
        path = path.rsplit("/", 1)[0]
    return None


def to_sign_in() -> Response:
    """Redirect to the sign-in page, with `next` set to come back here afterwards."""
    target = _return_path()
    location = url_for("auth.sign_in", next=target) if target else url_for("auth.sign_in")
    return redirect(location, 302 if request.method in {"GET", "HEAD"} else 303)


def see_other(location: str) -> Response:
    """Redirect with 303 See Other, so the browser follows a form post with a GET."""
    return redirect(location, 303)


def start_session(clinician: Clinician) -> None:
    """Sign the clinician in on a fresh session: nothing from before sign-in survives.

    Nothing but the language chosen on the sign-in page, which is no secret.
    """
    _clear_keeping_language()
    login_user(SignedIn(clinician))
    moment = now().timestamp()
    session[VERSION_KEY] = clinician.session_version
    session[SIGNED_IN_KEY] = moment
    session[LAST_SEEN_KEY] = moment
    session_id = secrets.token_urlsafe(32)
    session[SESSION_ID_KEY] = session_id
    # Flask-Login sets this clinician without load_clinician: a new id was never signed out.
    g.setdefault("ended_sessions_checked", {})[session_id] = False


def session_digest(session_id: str) -> str:
    """Return the SHA-256 of a session id: only this is stored when the session is signed out."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def _signed_out_here() -> bool:
    """Return whether this browser's session was signed out (so a copy of its cookie is dead).

    The answer was learnt with the clinician's row (load_clinician), or the session
    began in this request (start_session); a session id learnt neither way counts as
    signed out.
    """
    session_id = session.get(SESSION_ID_KEY)
    if not isinstance(session_id, str):
        return True
    checked: dict[str, bool] = g.get("ended_sessions_checked", {})
    return checked.get(session_id, True)


def load_clinician(user_id: str) -> Clinician | None:
    """Return the clinician this session names; learn in the same statement if it was signed out.

    One round trip for every clinician page: the ended-session check rides along with
    the clinician's row (an EXISTS), and _signed_out_here reads the answer from `g`.
    """
    try:
        wanted = int(user_id)
    except ValueError:
        return None
    session_id = session.get(SESSION_ID_KEY)
    digest = session_digest(session_id) if isinstance(session_id, str) else ""
    ended = sa.exists().where(EndedSession.session_hash == digest)
    row = db.session.execute(
        sa.select(Clinician, ended.label("ended")).where(Clinician.id == wanted)
    ).first()
    if row is None:
        return None
    if isinstance(session_id, str):
        g.setdefault("ended_sessions_checked", {})[session_id] = bool(row.ended)
    return row.Clinician


def end_session() -> None:
    """Forget the signed-in clinician and everything else in this browser's session.

    The clinic's language stays: the sign-in page that follows is in the same language.
    """
    logout_user()
    _clear_keeping_language()


def _clear_keeping_language() -> None:
    # The clinic's working language is a preference of this browser, not part of a sign-in.
    chosen = session.get(CLINIC_SESSION_KEY)
    session.clear()
    if chosen is not None:
        session[CLINIC_SESSION_KEY] = chosen


def session_problem(clinician: Clinician, moment: datetime) -> str | None:
    """Return why this browser's session no longer holds ("disabled", "revoked", ...), or None."""
    if not clinician.is_active:
        return "disabled"
    if session.get(VERSION_KEY) != clinician.session_version or _signed_out_here():
        return "revoked"
    signed_in, last_seen = session.get(SIGNED_IN_KEY), session.get(LAST_SEEN_KEY)
    if not isinstance(signed_in, int | float) or not isinstance(last_seen, int | float):
        return "revoked"
    seconds = moment.timestamp()
    if seconds - signed_in >= ABSOLUTE_TIMEOUT.total_seconds():
        return "absolute_timeout"
    if seconds - last_seen > IDLE_TIMEOUT.total_seconds():
        return "idle_timeout"
    return None


def _session_clinician() -> Clinician | None:
    """Return the clinician this browser's session names, whether or not the session holds."""
    user = current_user
    if user is None or not user.is_authenticated:
        return None
    clinician: Clinician = user.clinician
    return clinician


def current_clinician() -> Clinician | None:
    """Return the signed-in clinician, or None when nobody is or their session has ended."""
    if not has_request_context():
        return None
    clinician = _session_clinician()
    if clinician is None or session_problem(clinician, now()) is not None:
        return None
    return clinician


def signed_in_clinician() -> Clinician:
    """Return the signed-in clinician for a view that acts for them; abort 401 if there is none.

    The guard (require_clinician) lets nobody else reach such a view: this makes sure
    no view ever acts for nobody.
    """
    clinician = current_clinician()
    if clinician is None:
        abort(401)
    return clinician


def require_clinician() -> Response | None:
    """Let a request under /clinic through only for a clinician whose session holds.

    An ended session is audited (session_expired) and cleared; either way the
    visitor is sent to sign in, with `next` pointing back here.
    """
    if not request.path.startswith(CLINIC_PREFIX) or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    clinician = _session_clinician()
    if clinician is None:
        if "_user_id" in session:
            # The account is gone; keep a patient's draft or a pending sign-in untouched.
            end_session()
        return to_sign_in()
    problem = session_problem(clinician, now())
    if problem is not None:
        audit.record(db.session, "session_expired", actor=clinician, detail={"reason": problem})
        db.session.commit()
        end_session()
        return to_sign_in()
    session[LAST_SEEN_KEY] = now().timestamp()
    return None


def admin_required(view: Callable[P, R]) -> Callable[P, R]:
    """Decorate a view so only an admin reaches it; another clinician gets 403."""

    @wraps(view)
    def admin_only(*args: P.args, **kwargs: P.kwargs) -> R:
        clinician = current_clinician()
        if clinician is None:
            abort(to_sign_in())
        if not clinician.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return admin_only


def export_required(view: Callable[P, R]) -> Callable[P, R]:
    """Decorate a bulk-export view: only a clinician granted the export permission reaches it."""

    @wraps(view)
    def exporter_only(*args: P.args, **kwargs: P.kwargs) -> R:
        clinician = current_clinician()
        if clinician is None:
            abort(to_sign_in())
        if not clinician.can_export:
            abort(403)
        return view(*args, **kwargs)

    return exporter_only
