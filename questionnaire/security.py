"""Protections that apply to every response: headers, methods, body size, proxies, rate limits.

Also the pages for the failures they cause (413, 429) and for a database that
is down (503), each of which keeps the patient's answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Flask, Request, abort, current_app, render_template, request, url_for
from flask.sansio.app import App
from flask_limiter import RateLimitExceeded
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from questionnaire.extensions import db, limiter
from questionnaire.questions.text import has_control, nfc, shown
from questionnaire.questions.wording import N_

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
ALLOWED_METHODS = frozenset({"GET", "POST", "HEAD"})
RETRY_AFTER_SECONDS = 30


def init_app(app: Flask) -> None:
    """Attach headers, the method allow-list, proxy handling, limits and failure pages."""
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops:
        # Trust exactly as many X-Forwarded-* hops as there are proxies we run, no more:
        # otherwise a client could choose its own address and dodge the rate limits.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    # Flask-Limiter keeps the first app's key prefix for good; each app (tests build many,
    # sharing one Redis) must count under its own RATELIMIT_KEY_PREFIX.
    limiter._key_prefix = ""
    limiter.init_app(app)
    app.before_request(_only_allowed_methods)
    app.after_request(_headers)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(DBAPIError, _database_down)
    # Registered after Flask-SQLAlchemy's, so it runs first (teardowns run in reverse).
    app.teardown_appcontext(_forget_broken_session)


def _forget_broken_session(error: BaseException | None) -> None:
    """End the request's session even when the database vanished under it (never a 500)."""
    try:
        db.session.remove()
    except DBAPIError:
        db.session.registry.clear()


def _only_allowed_methods() -> None:
    if request.method not in ALLOWED_METHODS:
        abort(405)


def _headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if current_app.config.get("APP_ENV") == "production":
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if response.status_code == 405:
        headers["Allow"] = ", ".join(sorted(ALLOWED_METHODS))
    headers.pop("Server", None)
    return response


def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    return render_template("errors/too_large.html"), 413


def configured_limit(setting: str) -> Callable[[], str]:
    """Return a limit for limiter.limit that reads this setting (RATELIMIT_...) at each request."""
    return lambda: str(current_app.config[setting])


def _too_many(error: RateLimitExceeded) -> Response:
    # The answers live in the server-side draft: nothing typed before this step is lost.
    body = render_template("errors/too_many.html", retry_minutes=_retry_minutes(error))
    response = current_app.make_response((body, 429))
    response.headers["Retry-After"] = str(_retry_minutes(error) * 60)
    return response


def _retry_minutes(error: RateLimitExceeded) -> int:
    item = getattr(error.limit, "limit", None)
    seconds = item.get_expiry() if item is not None else 300
    return max(1, int(seconds) // 60)


def never_cache(blueprint: Blueprint) -> None:
    """Mark every response of a blueprint no-store: its pages show or collect answers."""
    blueprint.after_request(_no_store)


def _no_store(response: Response) -> Response:
    # Pages that show or collect answers must not stay in a (shared) browser's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _database_down(error: Exception) -> Response:
    """Answer 503 with Retry-After; a question page comes back with every typed answer."""
    current_app.logger.error("Database unavailable (%s)", type(error).__name__)
    # The connection is gone: undo what can be undone, and carry on to the page.
    with contextlib.suppress(Exception):
        db.session.rollback()
    body = _page_with_answers() or render_template("errors/unavailable.html")
    response = current_app.make_response((body, 503))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


#: app.extensions key: endpoint -> renders its page again from the request alone.
OUTAGE_PAGES = "outage_pages"


def register_outage_page(app: App, endpoint: str, render: Callable[..., str | None]) -> None:
    """Let a blueprint show its own page, with what was typed, when the database is down."""
    app.extensions.setdefault(OUTAGE_PAGES, {})[endpoint] = render


def _page_with_answers() -> str | None:
    """Render the page that was being sent, from the request alone (no database)."""
    if request.method != "POST":
        return None
    render = current_app.extensions.get(OUTAGE_PAGES, {}).get(request.endpoint)
    return render(**(request.view_args or {})) if render is not None else None


# --- the input filter: every form field, query parameter and URL part passes here ------
#
# Text arrives in Unicode NFC (so "é" typed two ways is one answer), and a control
# character (NUL, escape, C1 codes) never reaches a form, a rule or the database: on a
# question page it is a field error, anywhere else a 400. Tabs and line breaks are
# allowed only where a field has several lines (questions/forms.py checks that per field).

#: Endpoints whose forms report a control character as a field error themselves.
FIELD_ERROR_ENDPOINTS = frozenset({"intake.page", "intake.resume"})
NOT_VALID = N_(
    "This request has a hidden control character in it, so it was not used. "
    "Go back, retype the text, and try again."
)


class InputRefused(BadRequest):
    """A 400 whose message is written for people (shown on the error page as it is)."""

    def __init__(self, plain_message: str) -> None:
        super().__init__(description=plain_message)
        self.plain_message = plain_message


FILES_REFUSED = N_(
    "This form does not take files. Go back, type your answer in the box, and try again."
)


class FilesRefused(UnsupportedMediaType):
    """A 415 for a multipart body: no form of the app takes a file (message for people)."""

    def __init__(self) -> None:
        super().__init__(description=FILES_REFUSED)
        self.plain_message = FILES_REFUSED


class NormalisedMultiDict(ImmutableMultiDict[str, Any]):
    """Werkzeug's immutable form and query storage, with every text value in NFC."""

    def __init__(self, mapping: Any = None) -> None:
        super().__init__(_normalised_pairs(mapping))


def _normalised_pairs(mapping: Any) -> Iterable[tuple[str, Any]]:
    if mapping is None:
        return []
    if isinstance(mapping, MultiDict):
        pairs: Iterable[tuple[Any, Any]] = mapping.items(multi=True)
    elif isinstance(mapping, Mapping):
        pairs = mapping.items()
    else:
        pairs = mapping
    flat: list[tuple[str, Any]] = []
    for key, value in pairs:
        values = value if isinstance(value, list | tuple) else [value]
        for one in values:
            flat.append((nfc(key) if isinstance(key, str) else key, _nfc_any(one)))
    return flat


def _nfc_any(value: Any) -> Any:
    return nfc(value) if isinstance(value, str) else value


class FilteredRequest(Request):
    """A request whose query string and form values arrive in NFC, and never a multipart body.

    No form of the app takes a file, so a multipart/form-data body (with file parts or
    not) is refused before anything reads it: _refuse_multipart answers 415 before every
    other hook, and reading .form or .files of such a request raises the same 415.
    """

    parameter_storage_class = NormalisedMultiDict

    def _load_form_data(self) -> None:
        if self.mimetype == "multipart/form-data":
            raise FilesRefused()
        super()._load_form_data()


def _refuse_multipart() -> None:
    """Answer 415 to a multipart body on any route (the one place files are refused)."""
    if request.mimetype == "multipart/form-data":
        raise FilesRefused()


def refuse_files_first(app: Flask) -> None:
    """Make _refuse_multipart the first before_request hook (ahead of the guard and CSRF).

    Called once every other hook is registered (create_app's last step).
    """
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_multipart)


def _refuse_control_characters() -> None:
    """Answer 400 when a query, URL part or form value holds a control character."""
    parts: list[str] = [*request.args.keys(), *request.args.values()]
    parts += [str(value) for value in (request.view_args or {}).values()]
    if any(has_control(part) for part in parts):
        raise InputRefused(NOT_VALID)
    if request.endpoint in FIELD_ERROR_ENDPOINTS:
        return  # the page shows the error next to its field, and keeps every other answer
    if request.method == "POST" and any(
        has_control(key) or has_control(value, multiline=True)
        for key, value in request.form.items(multi=True)
    ):
        raise InputRefused(NOT_VALID)


def init_inputs(app: Flask) -> None:
    """Make every request filtered: NFC text, and no control characters."""
    app.request_class = FilteredRequest
    app.before_request(_refuse_control_characters)
    # Every {{ value }} in every template passes here before escaping.
    app.jinja_env.finalize = shown


# --- absolute links: built from PUBLIC_BASE_URL, never from the Host header -----------
# Production refuses to start without PUBLIC_BASE_URL (config.check_production); in
# development the request's own address stands in, for a laptop or a test.


def base_url() -> str:
    """Return the app's public address, without a trailing slash."""
    configured = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if configured or current_app.config.get("APP_ENV") == "production":
        return configured
    return request.host_url.rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """Return an absolute link to an endpoint of this app, on its public address."""
    return base_url() + url_for(endpoint, **values)


# --- where a link may send the reader back to ----------------------------------------

NEXT_MAX_LENGTH = 2000


def safe_next(value: str | None) -> str | None:
    """Return value when it is a path on this site, else None.

    Refused: anything not starting with one "/", a backslash, a control
    character, a scheme or host, and the same once the path is percent-decoded
    (so "/%2F%2Fevil.example" cannot become "//evil.example" on the way).
    """
    if not value or len(value) > NEXT_MAX_LENGTH:
        return None
    for candidate in (value, unquote(urlsplit(value).path)):
        if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
            return None
        if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in candidate):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    return value


def page_endpoint(value: str | None) -> tuple[str, str] | None:
    """Return (path, endpoint) when value is a page on this site that a link opens, else None.

    For "come back here" links (the language switches): a path of this site
    (safe_next) that routes, with GET, to a view rather than a redirect.
    """
    local = safe_next(value)
    if local is None:
        return None
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(
            urlsplit(local).path, method="GET"
        )
    except HTTPException:  # not a page here, not one a link opens, or a redirect
        return None
    return local, str(endpoint)
