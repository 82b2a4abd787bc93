"""Accounts in the browser: admins invite and manage clinicians; clinicians enrol and change
their password; "Sign out everywhere". The domain work is in service.py beside it.

Its own blueprint, ``accounts``, under /clinic. Every page needs a signed-in clinician
(the guard), the account list and its changes an admin; only the two enrolment pages
are public (guard.PUBLIC_ENDPOINTS), and they open nothing without a valid link.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.wrappers import Response

from questionnaire import security
from questionnaire.auth import devices, guard
from questionnaire.auth.accounts import service as accounts
from questionnaire.auth.accounts.forms import (
    ChangePasswordForm,
    ChoosePasswordForm,
    ConfirmForm,
    FirstCodeForm,
    InviteForm,
    SwitchForm,
)
from questionnaire.auth.guard import admin_required, signed_in_clinician
from questionnaire.auth.signin import service
from questionnaire.exports import jobs as export_jobs
from questionnaire.extensions import db, limiter, now
from questionnaire.questions.wording import N_
from questionnaire.records.models import Clinician

bp = Blueprint("accounts", __name__, url_prefix="/clinic")
#: Enrolment and a password change are throttled like sign-in (they take a password or a code).
_SIGN_IN_LIMIT = security.configured_limit("RATELIMIT_SIGN_IN")


def _form_errors(form: FlaskForm) -> list[tuple[str, str]]:
    return [
        (f"#{name}", str(message)) for name, messages in form.errors.items() for message in messages
    ]


def qr_svg(text: str) -> Markup:
    """Return a QR code of the text as an inline SVG element (made here: nothing from elsewhere)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        scale=5,
        border=4,
        dark="#000",
        light="#fff",
        title=_("QR code for your authenticator app"),
        svgclass="qr-code",
        lineclass=None,
    )
    # segno writes only elements and attributes of its own (no style, no script), so the
    # page's Content-Security-Policy holds; the text is the otpauth:// URI we made.
    return Markup(out.getvalue().decode("utf-8"))  # noqa: S704  # nosec B704


# --- the admin's pages ------------------------------------------------------------------


@bp.get("/accounts/")
@admin_required
def clinicians() -> str:
    """List every clinician with their state and roles, each with its changes (admins only)."""
    return render_template(
        "auth/accounts/list.html",
        clinicians=service.list_clinicians(db.session),
        waiting=accounts.waiting_for_enrolment(db.session),
        me=signed_in_clinician(),
        switch=SwitchForm(),
    )


@bp.route("/accounts/invite", methods=["GET", "POST"])
@admin_required
def invite() -> Any:
    """Invite a clinician by name and email; show their one-time enrolment link once."""
    form = InviteForm()
    errors: list[tuple[str, str]] = []
    if form.validate_on_submit():
        try:
            made = accounts.invite(
                db.session,
                email=form.email.data,
                name=form.name.data,
                by=signed_in_clinician(),
                now=now(),
            )
        except service.InvalidEmail:
            errors = [("#email", _("Enter an email address like name@clinic.example."))]
        except service.DuplicateEmail:
            errors = [("#email", _("A clinician with this email address already exists."))]
        except service.InvalidName:
            errors = [("#name", _("Enter the clinician's name."))]
        else:
            db.session.commit()
            return _link_page(made, invited=True)
    elif request.method == "POST":
        errors = _form_errors(form)
    status = 400 if errors else 200
    return render_template("auth/accounts/invite.html", form=form, errors=errors), status


def _link_page(made: accounts.Enrolment, *, invited: bool) -> str:
    """Show the enrolment link once, on PUBLIC_BASE_URL (never the request's Host header)."""
    link = security.external_url("accounts.enrol_link", token=made.token)
    return render_template(
        "auth/accounts/link.html",
        clinician=made.clinician,
        link=link,
        invited=invited,
        hours=accounts.EnrolmentLink.LIFETIME_HOURS,
    )


def _switch(clinician_id: int) -> tuple[Clinician, bool]:
    """Return the clinician and the value asked for ("on"); a bad form is a 400."""
    form = SwitchForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        clinician = accounts.get_clinician(db.session, clinician_id)
    except service.UnknownClinician:
        abort(404)
    return clinician, form.value.data == "on"


def _done(message: str) -> Response:
    db.session.commit()
    flash(message, "success")
    return guard.see_other(url_for("accounts.clinicians"))


def _refused(message: str) -> Response:
    db.session.rollback()
    flash(message, "error")
    return guard.see_other(url_for("accounts.clinicians"))


@dataclass(frozen=True)
class _SwitchWords:
    """What the account list says after a switch is turned on, or off, or refused."""

    on: str
    off: str
    refused: str | None = None


#: The words for each of account_service.SWITCHES, translated where they are shown.
_SWITCH_WORDS = {
    "active": _SwitchWords(
        N_("%(name)s can sign in again."),
        N_("%(name)s is disabled; their sessions have ended."),
        N_("You cannot disable your own account. Ask another admin."),
    ),
    "admin": _SwitchWords(
        N_("%(name)s is now an admin."),
        N_("%(name)s is no longer an admin."),
        N_("You cannot remove your own admin role. Ask another admin."),
    ),
    "export": _SwitchWords(
        N_("%(name)s may now download CSV exports."),
        N_("%(name)s may no longer download CSV exports."),
    ),
}


LAST_ADMIN = N_(
    "%(name)s was not changed: the clinic needs another active admin first. "
    "Make another clinician an admin, then try again."
)


@admin_required
def set_switch(clinician_id: int, switch: str) -> Response:
    """Turn a clinician's account on or off, their admin role, or their CSV exports.

    Disabling ends their sessions at once; an admin can neither disable their own
    account nor remove their own admin role.
    """
    clinician, on = _switch(clinician_id)
    words = _SWITCH_WORDS[switch]
    try:
        cancelled = accounts.set_switch(db.session, clinician, switch, on, by=signed_in_clinician())
    except accounts.SelfChangeRefused:
        if words.refused is None:  # a switch that refuses has its words in the table
            raise
        return _refused(_(words.refused))
    except accounts.LastAdminRefused:
        return _refused(_(LAST_ADMIN, name=clinician.name))
    response = _done(_(words.on if on else words.off, name=clinician.name))
    for job_id in cancelled:  # after the commit: the jobs are already expired
        export_jobs.remove_files(current_app.config, job_id)
    return response


# POST /clinic/accounts/<id>/active (endpoint accounts.set_active), .../admin, .../export.
for _name in accounts.SWITCHES:
    bp.add_url_rule(
        f"/accounts/<int:clinician_id>/{_name}",
        f"set_{_name}",
        set_switch,
        methods=["POST"],
        defaults={"switch": _name},
    )


@bp.post("/accounts/<int:clinician_id>/second-factor")
@admin_required
def reset_second_factor(clinician_id: int) -> Any:
    """Make the clinician's second factor unusable, end their sessions, show a new link once."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        clinician = accounts.get_clinician(db.session, clinician_id)
    except service.UnknownClinician:
        abort(404)
    made = accounts.reset_second_factor(db.session, clinician, by=signed_in_clinician(), now=now())
    db.session.commit()
    return _link_page(made, invited=False)


# --- enrolment (public: the link is the key) ----------------------------------------------


def _signed_in(clinician: Clinician, location: str, message: str) -> Response:
    """Sign the clinician in on a fresh session, say so there, and keep this a known device."""
    guard.start_session(clinician)
    flash(message, "success")
    response = guard.see_other(location)
    devices.remember(response, clinician)
    return response


def _link_refused() -> tuple[str, int]:
    return render_template("auth/accounts/link_refused.html"), 404


def _issuer() -> str:
    return str(current_app.config["CLINIC_NAME"])


def _authenticator_page(token: str, uri: str, error: str | None = None) -> tuple[str, int]:
    errors = [("#code", error)] if error else []
    page = render_template(
        "auth/accounts/enrol_code.html",
        form=FirstCodeForm(formdata=None),
        token=token,
        uri=uri,
        qr=qr_svg(uri),
        errors=errors,
    )
    return page, 400 if error else 200


def _posted_token() -> str:
    """Return the link's token from the form: after the first GET it travels in no URL."""
    token = request.form.get("token", "")
    return token if isinstance(token, str) else ""


def _password_page(
    token: str, link: accounts.EnrolmentLink, form: ChoosePasswordForm
) -> tuple[str, int]:
    errors = _form_errors(form) if request.method == "POST" else []
    page = render_template(
        "auth/accounts/enrol.html", form=form, clinician=link.clinician, errors=errors, token=token
    )
    return page, 400 if errors else 200


@bp.get("/enrol/<token>")
def enrol_link(token: str) -> Any:
    """Open an enrolment link: the page to choose a password (its form carries the token).

    The only request with the token in its path (secret_paths.py keeps it out of the log).
    """
    try:
        link = accounts.usable_link(db.session, token, now())
    except accounts.LinkRefused:
        return _link_refused()
    return _password_page(token, link, ChoosePasswordForm(formdata=None))


@bp.post("/enrol")
@limiter.limit(_SIGN_IN_LIMIT)
def enrol() -> Any:
    """Let the holder of an enrolment link choose a password, then show the new QR code."""
    token = _posted_token()
    try:
        link = accounts.usable_link(db.session, token, now())
    except accounts.LinkRefused:
        return _link_refused()
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            uri = accounts.choose_password(db.session, token, form.password.data, now(), _issuer())
        except accounts.LinkRefused:
            return _link_refused()
        except service.PasswordPolicyError:
            form.password.errors = [_("Use 12 to 128 characters.")]
        else:
            db.session.commit()
            return _authenticator_page(token, uri)
    return _password_page(token, link, form)


@bp.post("/enrol/code")
@limiter.limit(_SIGN_IN_LIMIT)
def enrol_code() -> Any:
    """Confirm the first code: the account is ready and the clinician is signed in."""
    token = _posted_token()
    try:
        link = accounts.usable_link(db.session, token, now())
    except accounts.LinkRefused:
        return _link_refused()
    if link.pending_totp_secret is None:
        return _password_page(token, link, ChoosePasswordForm(formdata=None))
    uri = accounts.provisioning_uri(link, _issuer())
    form = FirstCodeForm()
    if not form.validate_on_submit():
        return _authenticator_page(token, uri, _("Enter the 6-digit code your app shows now."))
    try:
        clinician = accounts.confirm_code(db.session, token, form.code.data or "", now())
    except accounts.LinkRefused:
        db.session.rollback()
        return _link_refused()
    except accounts.CodeRefused:
        return _authenticator_page(
            token, uri, _("That code is not right. Enter the code your app shows now.")
        )
    db.session.commit()
    return _signed_in(
        clinician, url_for("review.queue"), _("Your account is ready, and you are signed in.")
    )


# --- a clinician's own account ---------------------------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(_SIGN_IN_LIMIT, methods=["POST"])
def change_password() -> Any:
    """Change one's own password with the current one and a fresh code from the app."""
    me = signed_in_clinician()
    form = ChangePasswordForm()
    errors: list[tuple[str, str]] = []
    if form.validate_on_submit():
        try:
            accounts.change_own_password(
                db.session,
                me,
                current=form.current.data,
                code=form.code.data or "",
                new=form.password.data,
                now=now(),
            )
        except accounts.PasswordChangeRefused:
            db.session.commit()  # the audit event
            errors = [
                (
                    "#current",
                    _(
                        "The current password or the code is not right. Enter your current "
                        "password and the code your app shows now."
                    ),
                )
            ]
        except service.PasswordPolicyError:
            errors = [("#password", _("Use 12 to 128 characters."))]
        else:
            db.session.commit()
            # Every other session has ended; this browser carries on, and stays a known device.
            return _signed_in(
                me,
                url_for("accounts.change_password"),
                _("Your password is changed. Every other session has ended."),
            )
    elif request.method == "POST":
        errors = _form_errors(form)
    page = render_template(
        "auth/accounts/password.html", form=ChangePasswordForm(formdata=None), errors=errors
    )
    return page, 400 if errors else 200


@bp.post("/sign-out/everywhere")
def sign_out_everywhere() -> Response:
    """Sign out on every browser and device, this one included."""
    clinician = guard.current_clinician()
    if clinician is not None:
        accounts.sign_out_everywhere(db.session, clinician)
        db.session.commit()
    guard.end_session()
    return guard.see_other(url_for("auth.sign_in"))


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> Any:
    """Say the page timed out (a form kept open too long); nothing was changed."""
    return (
        render_template(
            "errors/error.html",
            code=400,
            name="This page timed out",
            message=_("Nothing was changed. Go back, reload the page and try again."),
            layout="clinic_base.html",
        ),
        400,
    )


security.never_cache(bp)
