"""The sign-in forms: email and password, then the code from the authenticator app.

Labels and messages are marked (N_) and translated where shown (`|t`).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from questionnaire.questions.wording import N_

#: Longer than any allowed password, so a paste is never cut, yet bounded.
PASSWORD_FIELD_MAX = 1024


class SignInForm(FlaskForm):
    """Step one: the clinician's email and password."""

    email = StringField(
        N_("Email address"),
        validators=[InputRequired(N_("Enter your email address.")), Length(max=254)],
    )
    password = PasswordField(
        N_("Password"),
        validators=[InputRequired(N_("Enter your password.")), Length(max=PASSWORD_FIELD_MAX)],
    )


class CodeForm(FlaskForm):
    """Step two: the 6-digit code the authenticator app shows now."""

    #: No validators: whatever is sent (empty, too long, other digits) is a counted failure.
    code = StringField(N_("Code from your authenticator app"))
