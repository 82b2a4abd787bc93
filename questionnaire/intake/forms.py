"""The patient's forms: question pages built from items.py, plus start, resume and send."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField

from questionnaire.questions import catalogue
from questionnaire.questions.forms import field_for, section_form_class
from questionnaire.questions.wording import N_


class Honeypot:
    """A field people never see or fill; automated form fillers do, and are quietly ignored."""

    website = StringField(N_("Leave this empty"))

    def is_bot(self) -> bool:
        """Return whether the hidden field was filled in."""
        return bool((self.website.data or "").strip())


#: The separate, optional consent for unsent urgent intakes. The clinic's clinical lead and
#: privacy officer own this wording (README, Urgent intakes); the privacy notice explains it.
#: It covers every urgent answer, past-month intent and plans included (ITEMS.md, 11), not
#: only the "right now" question; the field id stays `contact_consent`.
CONTACT_CONSENT_LABEL = N_(
    "If my answers say I may be in danger, the clinic may contact me even if I do not "
    "finish this form."
)


def _form(
    name: str, doc: str, bases: tuple[type, ...], fields: dict[str, object]
) -> type[FlaskForm]:
    # Fields are named by the catalogue's item ids, so the posted names match the items.
    return type(name, bases, {"__doc__": doc, **fields})


StartForm = _form(
    "StartForm",
    "The start page: agree to the privacy notice before anything is stored.",
    (FlaskForm, Honeypot),
    {
        catalogue.PRIVACY_CONSENT.id: field_for(catalogue.PRIVACY_CONSENT),
        # Optional, and only offered when ALERT_UNSENT_URGENT is on.
        "contact_consent": BooleanField(CONTACT_CONSENT_LABEL),
    },
)

SendForm = _form(
    "SendForm",
    "The last step: understand that a clinician reads the answers, then send.",
    (FlaskForm, Honeypot),
    {catalogue.UNDERSTANDS_REVIEW.id: field_for(catalogue.UNDERSTANDS_REVIEW)},
)

ResumeForm = _form(
    "ResumeForm",
    "Coming back with a link: the date of birth proves it is the same person.",
    (FlaskForm,),
    {
        # The question page's own field: a date that is not a real one, or not in the past,
        # is refused here with the same message, before it counts as a guess.
        catalogue.DATE_OF_BIRTH.id: field_for(catalogue.DATE_OF_BIRTH)
    },
)


def page_form_class(section_id: str, screener: bool = False) -> type[FlaskForm]:
    """Return the CSRF-protected form class for one question page, as the setting asks it."""
    return section_form_class(section_id, FlaskForm, screener, asked=True)


class EmailLinkForm(FlaskForm):
    """The saved page's "Email me this link" button: its CSRF token only."""
