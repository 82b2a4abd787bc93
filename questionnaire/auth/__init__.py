"""Clinician accounts and sign-in: password then TOTP code, sessions that end, deny by default.

The public face for other blueprints:

- ``current_clinician()``: the signed-in Clinician, or None;
- ``signed_in_clinician()``: the signed-in Clinician for a view acting for them (401 if none);
- ``admin_required``: a view decorator, 403 for a clinician who is not an admin;
- ``export_required``: 403 unless an admin granted the bulk-export permission;
- every path under /clinic needs a signed-in clinician, except the sign-in
  pages (guard.PUBLIC_ENDPOINTS), whatever the view says;
- ``templates/auth/_account.html``: "Signed in as … · Sign out" for a page header.
"""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager  # type: ignore[import-untyped]

from questionnaire.auth import guard
from questionnaire.auth.guard import (
    SignedIn,
    admin_required,
    current_clinician,
    export_required,
    require_clinician,
    signed_in_clinician,
)

__all__ = [
    "admin_required",
    "current_clinician",
    "export_required",
    "init_app",
    "login_manager",
    "signed_in_clinician",
]

login_manager = LoginManager()
# Our own checks (guard.session_problem) decide whether a session holds; Flask-Login's
# "basic" protection would only write a _fresh flag into every visitor's cookie,
# patients' included.
login_manager.session_protection = None


@login_manager.user_loader
def _load_clinician(user_id: str) -> SignedIn | None:
    clinician = guard.load_clinician(user_id)
    return SignedIn(clinician) if clinician is not None else None


def init_app(app: Flask) -> None:
    """Attach sign-in, sessions, the deny-by-default guard and the `clinician` commands."""
    from questionnaire.auth.accounts.routes import bp as accounts_bp
    from questionnaire.auth.cli import clinician_group
    from questionnaire.auth.signin.routes import bp

    # No current_user in every template: patient pages never load a clinician.
    login_manager.init_app(app, add_context_processor=False)
    app.register_blueprint(bp)
    app.register_blueprint(accounts_bp)
    # First of all before_request functions, ahead of CSRFProtect's: an anonymous
    # post under /clinic is sent to sign in, never checked, let alone processed.
    app.before_request_funcs.setdefault(None, []).insert(0, require_clinician)
    app.add_template_global(current_clinician, "current_clinician")
    app.cli.add_command(clinician_group)
