"""The patient's forms: question pages built from items.py, plus start, resume and send."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired

from questionnaire.forms import field_for, section_form_class
from questionnaire.items import ITEMS


class StartForm(FlaskForm):
    """The start page: agree to the privacy notice before anything is stored."""

    privacy_consent = field_for(ITEMS["privacy_consent"])


class SendForm(FlaskForm):
    """The last step: understand that a clinician reads the answers, then send."""

    understands_review = field_for(ITEMS["understands_review"])


class ResumeForm(FlaskForm):
    """Coming back with a link: the date of birth proves it is the same person."""

    date_of_birth = StringField(
        "Your date of birth",
        validators=[InputRequired("Enter your date of birth, like 1985-03-27.")],
    )


def page_form_class(section_id: str) -> type[FlaskForm]:
    """Return the CSRF-protected form class for one question page."""
    return section_form_class(section_id, FlaskForm)
