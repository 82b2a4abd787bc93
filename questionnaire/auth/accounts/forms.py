"""Forms of the account pages: invite, enrol, the first code, change password, switches."""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, EqualTo, InputRequired, Length

from questionnaire.auth.signin.forms import PASSWORD_FIELD_MAX
from questionnaire.records.models import Clinician


def _password_length() -> Length:
    return Length(
        min=Clinician.PASSWORD_MIN,
        max=Clinician.PASSWORD_MAX,
        message=_(
            "Use %(low)s to %(high)s characters.",
            low=Clinician.PASSWORD_MIN,
            high=Clinician.PASSWORD_MAX,
        ),
    )


class InviteForm(FlaskForm):
    """An admin invites a clinician: their name and email address."""

    name = StringField(
        _("Name"), validators=[InputRequired(_("Enter the clinician's name.")), Length(max=200)]
    )
    email = EmailField(
        _("Email address"),
        validators=[InputRequired(_("Enter the clinician's email address.")), Length(max=254)],
    )


class ChoosePasswordForm(FlaskForm):
    """Enrolment, step one: the clinician chooses their password."""

    password = PasswordField(
        _("New password"),
        validators=[
            InputRequired(_("Enter a password.")),
            Length(max=PASSWORD_FIELD_MAX),
            _password_length(),
        ],
    )
    confirm = PasswordField(
        _("The same password again"),
        validators=[
            InputRequired(_("Enter the password again.")),
            EqualTo("password", _("The two passwords are not the same.")),
        ],
    )


class FirstCodeForm(FlaskForm):
    """Enrolment, step two: the first code from the authenticator app."""

    code = StringField(
        _("Code from your authenticator app"),
        validators=[InputRequired(_("Enter the 6-digit code.")), Length(max=32)],
    )


class ChangePasswordForm(FlaskForm):
    """A clinician changes their own password: the current one and a fresh code first."""

    current = PasswordField(
        _("Current password"),
        validators=[
            InputRequired(_("Enter your current password.")),
            Length(max=PASSWORD_FIELD_MAX),
        ],
    )
    code = StringField(
        _("Code from your authenticator app"),
        validators=[InputRequired(_("Enter the 6-digit code.")), Length(max=32)],
    )
    password = PasswordField(
        _("New password"),
        validators=[
            InputRequired(_("Enter a new password.")),
            Length(max=PASSWORD_FIELD_MAX),
            _password_length(),
        ],
    )
    confirm = PasswordField(
        _("The new password again"),
        validators=[
            InputRequired(_("Enter the new password again.")),
            EqualTo("password", _("The two new passwords are not the same.")),
        ],
    )


class SwitchForm(FlaskForm):
    """Turn one thing about an account on or off (active, admin, export): "on" or "off"."""

    value = HiddenField(validators=[InputRequired(), AnyOf(["on", "off"])])


class ConfirmForm(FlaskForm):
    """A button that needs nothing but its CSRF token (reset second factor, sign out)."""
