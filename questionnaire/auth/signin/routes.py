"""Sign-in (password, then a code), sign-out; the checks live in service.py and guard.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from questionnaire import language as languages
from questionnaire import security
from questionnaire.auth import devices, guard
from questionnaire.auth.signin import service
from questionnaire.auth.signin.forms import CodeForm, SignInForm
from questionnaire.extensions import db, limiter, now
from questionnaire.questions.wording import N_

bp = Blueprint("auth", __name__, url_prefix="/clinic")

#: The one failure message, whatever was wrong, so it tells nobody which part was.
FAILED = N_(
    "The email, password or code is not right, or the account is locked for a while. "
    "Check them and try again."
)
TIMED_OUT = N_("This page timed out. Enter your details again.")


def _destination(next_url: str | None) -> str:
    return guard.safe_next(next_url) or url_for("review.queue")


def _page(template: str, form: Any, error: str | None = None, status: int = 200) -> Any:
    errors = [("#main", error)] if error else []
    return render_template(template, form=form, errors=errors), status


def _paused(template: str, form: Any, retry_after: int) -> Response:
    """Answer 429 with Retry-After: a sign-in limit is passed (see auth/throttle.py)."""
    minutes = max(1, -(-retry_after // 60))
    message = ngettext(
        "Sign-in is paused after too many wrong tries. Wait %(num)s minute, then try again.",
        "Sign-in is paused after too many wrong tries. Wait %(num)s minutes, then try again.",
        minutes,
    )
    body, _status = _page(template, form, message, 429)
    response = current_app.make_response((body, 429))
    response.headers["Retry-After"] = str(retry_after)
    return response


def _pending() -> dict[str, Any] | None:
    """Return the password step's record when it is recent enough, else None."""
    pending = session.get(guard.PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    at = pending.get("at")
    if not isinstance(at, int | float):
        return None
    age = now().timestamp() - at
    if not 0 <= age <= guard.PENDING_LIFETIME.total_seconds():
        return None
    return pending


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(security.configured_limit("RATELIMIT_SIGN_IN"), methods=["POST"])
def sign_in() -> Any:
    """Ask for the email and password; a right pair leads to the code page."""
    next_url = guard.safe_next(request.args.get("next"))
    if guard.current_clinician() is not None:
        return guard.see_other(_destination(next_url))
    form = SignInForm()
    if not form.validate_on_submit():
        if request.method == "POST":
            return _page("auth/sign_in.html", form, FAILED, 400)
        return _page("auth/sign_in.html", form)
    try:
        clinician = service.check_password(
            db.session, form.email.data, form.password.data, now(), devices.known()
        )
    except service.SignInThrottled as paused:
        db.session.commit()  # the audit event
        return _paused("auth/sign_in.html", form, paused.retry_after)
    except service.SignInRefused:
        db.session.commit()  # the failed attempt and its audit event
        return _page("auth/sign_in.html", form, FAILED, 400)  # the password is never shown
    db.session.commit()  # a rehashed password, if the hash parameters changed
    session[guard.PENDING_KEY] = {
        "clinician_id": clinician.id,
        "session_version": clinician.session_version,
        "at": now().timestamp(),
        "next": next_url,
    }
    return guard.see_other(url_for("auth.sign_in_code"))


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(security.configured_limit("RATELIMIT_SIGN_IN"), methods=["POST"])
def sign_in_code() -> Any:
    """Ask for the code from the authenticator app; a right one signs the clinician in."""
    pending = _pending()
    if pending is None:
        session.pop(guard.PENDING_KEY, None)
        return guard.see_other(url_for("auth.sign_in"))
    form = CodeForm()
    if not form.validate_on_submit():
        if request.method == "POST":
            return _page("auth/sign_in_code.html", form, FAILED, 400)
        return _page("auth/sign_in_code.html", form)
    try:
        clinician = service.check_code(
            db.session,
            int(pending["clinician_id"]),
            int(pending["session_version"]),
            form.code.data or "",
            now(),
            devices.known(),
        )
    except service.SignInThrottled as paused:
        db.session.commit()
        return _paused("auth/sign_in_code.html", CodeForm(formdata=None), paused.retry_after)
    except service.SignInRefused:
        db.session.commit()
        return _page("auth/sign_in_code.html", CodeForm(formdata=None), FAILED, 400)
    db.session.commit()
    guard.start_session(clinician)
    response = guard.see_other(_destination(pending.get("next")))
    devices.remember(response, clinician)
    return response


@bp.post("/sign-out")
def sign_out() -> Response:
    """Sign out this browser only ("Sign out everywhere" is accounts.sign_out_everywhere)."""
    _sign_out_here()
    return guard.see_other(url_for("auth.sign_in"))


@bp.get("/language/<tag>")
def switch_language(tag: str) -> Response:
    """Show the clinician's pages in another language from now on, signed in or not.

    The choice is this browser's (its own session key, not the patient's), and the
    switch comes back to the clinic page it was pressed on.
    """
    if tag not in languages.tags():
        abort(404)
    session[languages.CLINIC_SESSION_KEY] = tag
    return guard.see_other(_clinic_page(request.args.get("next", "")))


def _clinic_page(path: str) -> str:
    """Return a clinic page's own path (and query) to go back to, else the queue or sign-in."""
    signed_in = guard.current_clinician() is not None
    fallback = url_for("review.queue") if signed_in else url_for("auth.sign_in")
    page = security.page_endpoint(path)
    if page is None or not urlsplit(page[0]).path.startswith(guard.CLINIC_PREFIX):
        return fallback
    local, endpoint = page
    return fallback if endpoint in {"auth.switch_language", "static"} else local


def _sign_out_here() -> None:
    """End this browser's session only."""
    clinician = guard.current_clinician()
    if clinician is not None:
        session_id = session.get(guard.SESSION_ID_KEY)
        service.sign_out_here(
            db.session, clinician, session_id if isinstance(session_id, str) else None, now()
        )
        db.session.commit()
    guard.end_session()


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> Any:
    """Show the sign-in step again with a fresh form when its token has expired."""
    if request.endpoint == "auth.sign_out":
        name = N_("This page timed out")
        return render_template("errors/error.html", code=400, name=name), 400
    if request.endpoint == "auth.sign_in_code" and _pending() is not None:
        return _page("auth/sign_in_code.html", CodeForm(formdata=None), TIMED_OUT, 400)
    return _page("auth/sign_in.html", SignInForm(formdata=None), TIMED_OUT, 400)


security.never_cache(bp)
