"""The patient's forms: question pages built from items.py, plus start, resume and send."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired

from questionnaire.forms import field_for, section_form_class
from questionnaire.items import ITEMS


class Honeypot:
    """A field people never see or fill; automated form fillers do, and are quietly ignored."""

    website = StringField("Leave this empty")

    def is_bot(self) -> bool:
        """Return whether the hidden field was filled in."""
        return bool((self.website.data or "").strip())


#: The separate, optional consent for unsent urgent intakes. The clinic's clinical lead and
#: privacy officer own this wording (README, Urgent intakes); the privacy notice explains it.
CONTACT_CONSENT_LABEL = (
    "If I say I am in danger right now, the clinic may contact me even if I do not "
    "finish this form."
)


class StartForm(FlaskForm, Honeypot):
    """The start page: agree to the privacy notice before anything is stored."""

    privacy_consent = field_for(ITEMS["privacy_consent"])
    #: Optional, and only offered when ALERT_UNSENT_URGENT is on.
    contact_consent = BooleanField(CONTACT_CONSENT_LABEL)


class SendForm(FlaskForm, Honeypot):
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
