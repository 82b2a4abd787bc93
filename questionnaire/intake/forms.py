"""The patient's forms: question pages built from items.py, plus start, resume and send."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Regexp

from questionnaire.forms import field_for, section_form_class
from questionnaire.items import DATE_EXAMPLE, ITEMS


class Honeypot:
    """A field people never see or fill; automated form fillers do, and are quietly ignored."""

    website = StringField("Leave this empty")

    def is_bot(self) -> bool:
        """Return whether the hidden field was filled in."""
        return bool((self.website.data or "").strip())


class StartForm(FlaskForm, Honeypot):
    """The start page: agree to the privacy notice before anything is stored."""

    privacy_consent = field_for(ITEMS["privacy_consent"])


class SendForm(FlaskForm, Honeypot):
    """The last step: understand that a clinician reads the answers, then send."""

    understands_review = field_for(ITEMS["understands_review"])


class ResumeForm(FlaskForm):
    """Coming back with a link: the date of birth proves it is the same person."""

    date_of_birth = StringField(
        "Your date of birth",
        validators=[
            InputRequired("Enter your date of birth, like 1985-03-27."),
            # A date not written YYYY-MM-DD is refused here, before it counts as a guess.
            Regexp(r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*$", message=DATE_EXAMPLE),
        ],
    )


def page_form_class(section_id: str) -> type[FlaskForm]:
    """Return the CSRF-protected form class for one question page."""
    return section_form_class(section_id, FlaskForm)
