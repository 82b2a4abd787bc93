"""Static files: versioned URLs, long caching for a matching version, and the favicon.

Every ``url_for('static', filename=...)`` gets ``?v=`` and the first 12 hex digits of
the file's SHA-256, read once per app (one per worker process) and kept. A request that
carries the file's current version is cached for a year as immutable: a changed file
has a new URL, so nobody ever keeps a stale one. A request without it, or with an old
one (a page cached from before a deploy), is answered ``no-cache``: the browser
revalidates it every time, and never keeps old CSS for a year under a new page.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, current_app, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Response as FlaskResponse
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

#: The query argument that carries a static file's version.
VERSION_ARG = "v"
#: Hex digits of the SHA-256 kept in the URL (48 bits: a collision is not a concern).
VERSION_LENGTH = 12
#: app.extensions key: static filename -> its version (None: no such file).
VERSIONS = "static_versions"
FAVICON = "favicon.svg"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
#: The /favicon.ico redirect points at the current version, so it is never immutable.
FAVICON_REDIRECT_CACHE = "public, max-age=604800"
#: Endpoints whose responses are the same for everyone (and cached as such).
PUBLIC_ENDPOINTS = frozenset({"static", "favicon"})


def init_app(app: Flask) -> None:
    """Version static URLs, cache static responses by their version, answer /favicon.ico."""
    app.extensions[VERSIONS] = {}
    app.session_interface = CookielessStaticSessions()
    app.url_defaults(_add_version)
    app.after_request(_cache_static)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)


class CookielessStaticSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, left untouched by static files and the favicon.

    Flask-Login reads the session after every request, so Flask would add
    ``Vary: Cookie`` (and may refresh the cookie) on every response: a cache that
    honours Vary then keeps one copy per cookie and cannot reuse an "immutable" file
    once the cookie changes (each clinic page changes it). These responses never
    depend on the session, so they neither read it into Vary nor set it.
    """

    def save_session(self, app: Flask, session: SessionMixin, response: FlaskResponse) -> None:
        """Save the session as Flask does, except on responses that are the same for all."""
        if request.endpoint in PUBLIC_ENDPOINTS:
            return
        super().save_session(app, session, response)


def file_version(path: Path) -> str:
    """Return the version of a file: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:VERSION_LENGTH]


def static_version(filename: str) -> str | None:
    """Return a static file's version, computed once per app; None when there is no such file."""
    versions: dict[str, str | None] = current_app.extensions[VERSIONS]
    if filename not in versions:
        folder = current_app.static_folder
        joined = safe_join(folder, filename) if folder else None
        path = Path(joined) if joined else None
        versions[filename] = file_version(path) if path and path.is_file() else None
    return versions[filename]


def _add_version(endpoint: str, values: dict[str, Any]) -> None:
    """Add ?v=<version> to every URL of a static file (url_for, in templates and code)."""
    if endpoint != "static" or VERSION_ARG in values or "filename" not in values:
        return
    version = static_version(str(values["filename"]))
    if version is not None:
        values[VERSION_ARG] = version


def _cache_static(response: Response) -> Response:
    if request.endpoint != "static" or response.status_code >= 400:
        return response
    filename = str((request.view_args or {}).get("filename", ""))
    current = static_version(filename)
    if current is not None and request.args.get(VERSION_ARG) == current:
        response.headers["Cache-Control"] = IMMUTABLE
    else:
        # Unversioned or stale: whatever is cached must be checked (cheap: ETag, 304).
        response.headers["Cache-Control"] = REVALIDATE
        response.headers.pop("Expires", None)
    return response


def _favicon() -> Response:
    """Send browsers that ask for /favicon.ico by themselves to the versioned SVG."""
    response = redirect(url_for("static", filename=FAVICON), code=302)
    response.headers["Cache-Control"] = FAVICON_REDIRECT_CACHE
    return response
