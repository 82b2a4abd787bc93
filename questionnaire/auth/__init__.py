"""Clinician accounts and sign-in (filled in by the auth work)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach sign-in, sessions and the deny-by-default guard to the app."""
