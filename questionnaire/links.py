"""Absolute links (the resume link, FHIR URLs): built from PUBLIC_BASE_URL, never the Host header.

Production refuses to start without PUBLIC_BASE_URL (config.check_production);
in development the request's own address stands in, for a laptop or a test.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for


def base_url() -> str:
    """Return the app's public address, without a trailing slash."""
    configured = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if configured or current_app.config.get("APP_ENV") == "production":
        return configured
    return request.host_url.rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """Return an absolute link to an endpoint of this app, on its public address."""
    return base_url() + url_for(endpoint, **values)
