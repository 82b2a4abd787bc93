"""Patient pages: parse the request, call a service, render or redirect."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import flask_babel
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import format_decimal
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from questionnaire import language as languages
from questionnaire import security
from questionnaire.clinic_time import clinic_today
from questionnaire.extensions import csrf, db, limiter, now
from questionnaire.intake import service as services
from questionnaire.intake.forms import (
    EmailLinkForm,
    ResumeForm,
    SendForm,
    StartForm,
    page_form_class,
)
from questionnaire.intake.retention import retention_span
from questionnaire.questions import catalogue, instruments
from questionnaire.questions.catalogue import PAGES, Section
from questionnaire.questions.forms import DateParts, form_errors
from questionnaire.questions.wording import N_, Phrase
from questionnaire.questions.words import section_rows
from questionnaire.records.models import Draft, Submission
from questionnaire.records.references import format_reference
from questionnaire.urgent import mail, unsent
from questionnaire.urgent import outbox as notify

bp = Blueprint("intake", __name__)

DRAFT_KEY = "draft"
SENT_KEY = "sent"
RESUME_KEY = "resume_link"
#: What the "saved" page shows besides the link: [crisis panel, unsent intake raised].
SAVED_KEY = "saved_notice"
PAGE_INDEX = {section.id: index for index, section in enumerate(PAGES)}


@catalogue.on_install
def _refresh() -> None:
    """Number another definition's pages (catalogue.install)."""
    global PAGES
    PAGES = catalogue.PAGES
    PAGE_INDEX.clear()
    PAGE_INDEX.update({section.id: index for index, section in enumerate(PAGES)})


@bp.context_processor
def _page_context() -> dict[str, Any]:
    return {
        "items": catalogue.ITEMS,
        "consent_item": catalogue.PRIVACY_CONSENT,
        "understanding_item": catalogue.UNDERSTANDS_REVIEW,
        "today": clinic_today().isoformat(),
    }


security.never_cache(bp)


def _screener() -> bool:
    """Return whether the clinic asks the C-SSRS screener (CSSRS_SCREENER_ENABLED)."""
    return bool(current_app.config.get("CSSRS_SCREENER_ENABLED"))


def _asked(section: Section) -> Section:
    """Return a page as this clinic asks it (the screener's items and wording, or not), in
    the reader's language: an instrument's items with no official version in it left out."""
    return catalogue.in_language(
        catalogue.asked_section(section, _screener()), languages.current_tag()
    )


def _current_draft() -> Draft | None:
    return services.find_draft(db.session, session.get(DRAFT_KEY), now())


def _needs_crisis_panel(answers: dict[str, Any]) -> bool:
    return catalogue.needs_crisis_help(answers)


def _posted_crisis(section: Section) -> bool:
    """Return whether this page's form was just sent with an answer that calls for crisis help."""
    return request.method == "POST" and any(
        request.form.get(item.id) in catalogue.CRISIS_TRIGGERS[item.id]
        for item in section.items
        if item.id in catalogue.CRISIS_TRIGGERS
    )


def _crisis_on_page(section: Section, draft: Draft) -> tuple[bool, bool]:
    """Return whether a page shows the crisis panel, and whether beside its own question.

    From the safety page on, once any answer calls for it. Beside the question when this
    page's own answer called for it; at the top when an answer of another page did.
    """
    if PAGE_INDEX[section.id] < PAGE_INDEX[catalogue.CRISIS_SECTION.id]:
        return False, False
    # What was just posted counts even when the page had an error and saved nothing.
    here_ids = {item.id for item in section.items}
    saved_here = catalogue.needs_crisis_help(
        {key: value for key, value in draft.answers.items() if key in here_ids}
    )
    here = _posted_crisis(section) or (request.method == "GET" and saved_here)
    return here or _needs_crisis_panel(draft.answers), here


def _contact_notice(section: Section, draft: Draft) -> str | None:
    """Return which plain-words notice the safety page shows before its questions, if any."""
    if section.id != catalogue.CRISIS_SECTION.id or not unsent.is_enabled(current_app.config):
        return None
    return "consented" if draft.contact_consent else "private"


def _raw_formdata(section: Section, answers: dict[str, Any]) -> MultiDict[str, str]:
    """Return a draft's answers for one page in the shape a browser posts them."""
    pairs = []
    for item in section.items:
        value = answers.get(item.id)
        for one in value if isinstance(value, list) else [value]:
            if one not in (None, ""):
                pairs.append((item.id, str(one)))
    return MultiDict(pairs)


def _posted(section: Section, form: Any) -> dict[str, Any]:
    """Return what the browser posted for one page's items, as raw answers."""
    posted: dict[str, Any] = {}
    for item in section.items:
        if item.kind is catalogue.Kind.DATE:
            # Three inputs, one answer: the field has joined them (YYYY-MM-DD once valid).
            posted[item.id] = form[item.id].data or None
        elif item.kind is catalogue.Kind.MULTI:
            posted[item.id] = request.form.getlist(item.id)
        else:
            posted[item.id] = request.form.get(item.id, "").strip() or None
    return posted


TIMED_OUT = N_("This page timed out. Check your answers and press the button again.")


def _error_summary(form: Any) -> list[tuple[str, str]]:
    """Return (link, message) pairs for the error summary, in page order."""
    errors = form_errors(form)
    summary = [
        (f"#{_first_input(form[name])}", messages[0])
        for name, messages in errors.items()
        if name != "csrf_token"
    ]
    if "csrf_token" in errors:
        summary.insert(0, ("#main", TIMED_OUT))
    return summary


def _first_input(field: Any) -> str:
    """Return the id of the input an error links to: a date's first part in error."""
    if isinstance(field, DateParts):
        return f"{field.name}-{(field.error_parts or catalogue.DATE_PARTS)[0]}"
    return str(field.name)


#: The session key that keeps a resume link for one "Email me this link" press.
RESUME_EMAIL_KEY = "resume_to_email"

#: The tick box that confirms an unusual weight (a page field, never an answer).
WEIGHT_CONFIRM_FIELD = "weight_is_right"


def _asked_pages(answers: dict[str, Any]) -> list[Section]:
    """Return the pages this patient is asked, in order (PCL-5 only after PTSD is named)."""
    tag = languages.current_tag()
    return [page for page in PAGES if catalogue.section_is_asked(page, answers, tag)]


def _left_out_next(section: Section, answers: dict[str, Any]) -> list[tuple[Section, str]]:
    """Return the pages between this one and the next asked, left out only for the language.

    A standard instrument with no official version in the reader's language is not asked
    in it (never English among French); the page before it says so.
    """
    tag = languages.current_tag()
    left_out = []
    for page in PAGES[PAGE_INDEX[section.id] + 1 :]:
        if catalogue.section_is_asked(page, answers, tag):
            break
        if not catalogue.asked_in(page, tag) and catalogue.section_is_asked(page, answers):
            name = instruments.BY_ID[page.instrument].name if page.instrument else ""
            left_out.append((page, name))
    return left_out


def _following(section: Section, answers: dict[str, Any]) -> Section | None:
    """Return the next page this patient is asked after this one, or None after the last."""
    for page in PAGES[PAGE_INDEX[section.id] + 1 :]:
        if catalogue.section_is_asked(page, answers, languages.current_tag()):
            return page
    return None


def _next_url(section: Section, answers: dict[str, Any]) -> str:
    if request.args.get("return") == "check":
        return url_for("intake.check")
    following = _following(section, answers)
    if following is not None:
        return url_for("intake.page", section_id=following.id)
    return url_for("intake.check")


def _this_page(section: Section) -> str:
    values: dict[str, Any] = {"section_id": section.id}
    if request.args.get("return") == "check":
        values["return"] = "check"
    return url_for("intake.page", **values)


def _back_url(section: Section, answers: dict[str, Any]) -> str:
    if request.args.get("return") == "check":
        return url_for("intake.check")
    for page in reversed(PAGES[: PAGE_INDEX[section.id]]):
        if catalogue.section_is_asked(page, answers, languages.current_tag()):
            return url_for("intake.page", section_id=page.id)
    return url_for("intake.start")


@bp.get("/")
def start() -> str:
    """Show what this questionnaire is, how long it takes, and where to get help now."""
    draft = _current_draft()
    carry_on = None
    if draft is not None:
        section_id = services.resume_section(draft, clinic_today(), _screener())
        carry_on = (
            url_for("intake.page", section_id=section_id) if section_id else url_for("intake.check")
        )
    return render_template("intake/start.html", form=StartForm(), draft=draft, carry_on=carry_on)


@bp.post("/start")
@csrf.exempt  # the start form checks its own token, so a timeout shows a message, not an error
@limiter.limit(security.configured_limit("RATELIMIT_START"))
def begin() -> Response | tuple[str, int]:
    """Agree to the privacy notice and start a draft; nothing is stored before this."""
    form = StartForm()
    if form.is_bot():
        return render_template("intake/received.html"), 200
    if not form.validate_on_submit():
        return (
            render_template(
                "intake/start.html", form=form, draft=None, errors=_error_summary(form)
            ),
            400,
        )
    consent = unsent.is_enabled(current_app.config) and bool(form.contact_consent.data)
    tag = languages.current_tag()
    draft, token = services.start_draft(
        db.session, language=tag, now=now(), contact_consent=consent
    )
    session[languages.SESSION_KEY] = tag
    privacy = catalogue.PRIVACY_CONSENT.id
    services.save_answers(db.session, draft, [privacy], {privacy: "y"}, now())
    session[DRAFT_KEY] = token
    session.pop(SENT_KEY, None)
    return redirect(url_for("intake.page", section_id=PAGES[0].id), code=303)


@bp.get("/language/<tag>")
def switch_language(tag: str) -> Response:
    """Show the patient's pages in another language from now on; the draft records it.

    A question page switches with a button that also saves its answers (page());
    this link serves every other page, and returns to it.
    """
    if tag not in languages.tags():
        abort(404)
    session[languages.SESSION_KEY] = tag
    draft = _current_draft()
    if draft is not None:
        # Sent or expired meanwhile: the choice still holds for this browser.
        with contextlib.suppress(services.DraftNotFound):
            services.set_language(db.session, draft, tag)
    return redirect(_local_page(request.args.get("next", "")), code=303)


def _local_page(path: str) -> str:
    """Return a patient page's own path (and query) to go back to, else the start page."""
    page = security.page_endpoint(path)
    if page is None or not page[1].startswith("intake.") or page[1] == "intake.switch_language":
        return url_for("intake.start")
    return page[0]


@bp.get("/privacy")
def privacy() -> str:
    """Explain what the clinic stores, why, for how long, and who reads it."""
    retention = retention_span(int(current_app.config["RETENTION_DAYS"]))
    return render_template("intake/privacy.html", retention=retention)


@bp.route("/questions/<section_id>", methods=["GET", "POST"])
@csrf.exempt  # the page form checks its own token, so a timeout can keep the answers
def page(section_id: str) -> Response | str | tuple[str, int]:
    """Ask one section's questions; Continue saves them to the draft."""
    if section_id not in PAGE_INDEX:
        abort(404)
    section = _asked(PAGES[PAGE_INDEX[section_id]])
    draft = _current_draft()
    if draft is None:
        return redirect(url_for("intake.start", expired=1), code=303)
    if not catalogue.section_is_asked(section, draft.answers, languages.current_tag()):
        # A page an earlier answer rules out (PCL-5 without PTSD among the reasons): nothing
        # is asked or saved here; the patient goes on to the next page they are asked.
        return redirect(_next_url(section, draft.answers), code=303)
    form_class = page_form_class(section.id, _screener())
    if request.method == "POST":
        return _answer_page(section, draft, form_class())
    return _show_page(section, draft, form_class(formdata=_raw_formdata(section, draft.answers)))


def _answer_page(section: Section, draft: Draft, form: Any) -> Response | str | tuple[str, int]:
    """Take a sent page: save what may be kept, then go on, leave for later or switch language."""
    form.today = clinic_today()
    form.context = draft.answers
    # The call-back agreed to at the start needs a phone number (questions/forms.py).
    form.contact_consent = draft.contact_consent
    later = request.form.get("action") == "later"
    # The language switch on a question page sends the page: what is valid is kept.
    switch_to = request.form.get("language")
    switching = switch_to in languages.tags()
    valid = form.validate()
    # Asked on Continue only: saving for later or switching language keeps what was typed.
    if not later and not switching and _unusual_weight(form):
        form[catalogue.WEIGHT_ITEM].errors.append(catalogue.WEIGHT_UNUSUAL)
        valid = False
    bad = set(form_errors(form))
    # A timed-out page is shown again with its values and a fresh token; nothing is saved.
    trusted = "csrf_token" not in bad
    if trusted and _below_minimum_age(form, bad):
        services.discard_draft(db.session, draft)
        session.pop(DRAFT_KEY, None)
        return render_template("intake/too_young.html"), 200
    language = switch_to if switching else None
    if trusted and not _save_page(section, draft, form, bad, valid, later, language):
        return redirect(url_for("intake.start", expired=1), code=303)
    if trusted and later and catalogue.DATE_OF_BIRTH.id in draft.answers:
        return _leave_for_later(draft)
    if trusted and switching:
        session[languages.SESSION_KEY] = switch_to
        return redirect(_this_page(section), code=303)
    if valid:
        return redirect(_next_url(section, draft.answers), code=303)
    return _show_page(section, draft, form, status=400)


def _save_page(
    section: Section,
    draft: Draft,
    form: Any,
    bad: set[str],
    valid: bool,
    later: bool,
    language: str | None,
) -> bool:
    """Save the page's answers that may be kept, and note an urgent one; False if the draft is gone."""
    keep = {key: value for key, value in _posted(section, form).items() if key not in bad}
    # "Later" with errors saves the valid answers only when a link can follow (a date of
    # birth is known), so a page answered 400 never changes the draft.
    linkable = catalogue.DATE_OF_BIRTH.id in draft.answers or bool(
        keep.get(catalogue.DATE_OF_BIRTH.id)
    )
    if not (valid or (later and linkable) or language):
        return True
    try:
        services.save_answers(
            db.session,
            draft,
            [i.id for i in section.items],
            keep,
            now(),
            continued=None if later or language else PAGE_INDEX[section.id],
            language=language,
        )
    except services.DraftNotFound:  # sent or expired from another tab meanwhile
        return False
    table = current_app.extensions["rule_table"]
    unsent.note_saved(db.session, draft, table, current_app.config, now())
    return True


def _leave_for_later(draft: Draft) -> Response:
    """Save for later: raise the unsent urgent intake if the answers call for it, then /saved."""
    response = redirect(url_for("intake.saved"), code=303)
    raised = _raise_unsent(draft, response)
    # "Later" locks this browser: the draft is forgotten here (and its session
    # token replaced), so only the link and the date of birth open it again.
    session[RESUME_KEY] = services.issue_resume_link(db.session, draft, now())
    session[SAVED_KEY] = [_needs_crisis_panel(draft.answers), raised]
    if draft.answers.get("email"):
        session[RESUME_EMAIL_KEY] = session[RESUME_KEY]
    session.pop(DRAFT_KEY, None)
    return response


def _show_page(section: Section, draft: Draft, form: Any, status: int = 200) -> tuple[str, int]:
    """Render a question page: its form, the errors of a sent one, and crisis help if called for."""
    crisis, crisis_beside = _crisis_on_page(section, draft)
    return _render_page(
        section,
        form,
        draft.answers,
        errors=_error_summary(form) if request.method == "POST" else [],
        crisis=crisis,
        crisis_beside=crisis_beside,
        contact_notice=_contact_notice(section, draft),
        can_save_later=catalogue.DATE_OF_BIRTH.id in draft.answers,
        weight_confirm=(
            WEIGHT_CONFIRM_FIELD
            if request.method == "POST"
            and catalogue.WEIGHT_ITEM in form
            and catalogue.WEIGHT_UNUSUAL in form[catalogue.WEIGHT_ITEM].errors
            else None
        ),
    ), status


def _unusual_weight(form: Any) -> bool:
    """Return whether a weight just sent is outside the usual range and not confirmed.

    Asked on the page, once: the patient may tick "This weight is right" (not stored; the
    clinician's flag weight_missing still says it). A mistyped 900 is caught where it is typed.
    """
    field = form._fields.get(catalogue.WEIGHT_ITEM)
    if field is None or field.errors or not field.data:
        return False
    if request.form.get(WEIGHT_CONFIRM_FIELD) == "y":
        return False
    unit_item = catalogue.UNIT_OF[catalogue.WEIGHT_ITEM].id
    unit = form[unit_item].data if unit_item in form else "kg"
    weight = catalogue.weight_in_kg(catalogue.parse_weight(field.data), unit or "kg")
    low, high = catalogue.WEIGHT_USUAL_KG
    return not low <= weight <= high


def _raise_unsent(draft: Draft, response: Response) -> bool:
    """The patient saved and left: raise their unsent urgent intake if the answers call for it.

    Returns whether one is raised for this draft (now or before).
    """
    intake = unsent.raise_for_draft(
        db.session,
        draft,
        current_app.extensions["rule_table"],
        current_app.config,
        notify.on_call_addresses(current_app.config),
        now(),
    )
    if intake is not None:
        notify.deliver_after(response)
    return unsent.find_for_draft(db.session, draft) is not None


def _below_minimum_age(form: Any, bad: set[str]) -> bool:
    """Return whether a date of birth just sent is below MIN_AGE_ONLINE (nothing more is asked)."""
    born_id = catalogue.DATE_OF_BIRTH.id
    if born_id not in form or born_id in bad or not form[born_id].data:
        return False
    today = clinic_today()
    born = catalogue.parse_date_of_birth(form[born_id].data, today)
    return catalogue.age_on(born, today) < int(current_app.config["MIN_AGE_ONLINE"])


def _crisis_items(section: Section, answers: dict[str, Any]) -> set[str]:
    """Return the page's questions whose answer calls for crisis help (the panel goes beside
    each): what was just posted, else what is saved."""
    given = request.form if request.method == "POST" else answers
    return {
        item.id
        for item in section.items
        if given.get(item.id) in catalogue.CRISIS_TRIGGERS.get(item.id, ())
    }


def _render_page(section: Section, form: Any, answers: dict[str, Any], **context: Any) -> str:
    asked = [page.id for page in _asked_pages(answers)]
    step = asked.index(section.id) + 1 if section.id in asked else PAGE_INDEX[section.id] + 1
    return render_template(
        "intake/page.html",
        section=section,
        form=form,
        step=step,
        steps=len(asked),
        back_url=_back_url(section, answers),
        crisis_triggers=catalogue.CRISIS_TRIGGERS,
        left_out=_left_out_next(section, answers),
        # Items of this page left out in the reader's language (the AUDIT-C in French).
        left_out_here=catalogue.left_out_in(PAGES[PAGE_INDEX[section.id]], languages.current_tag()),
        crisis_items=_crisis_items(section, answers),
        **context,
    )


@bp.record_once
def _on_outage(state: BlueprintSetupState) -> None:
    # A question page sent while the database is down comes back with every typed answer.
    security.register_outage_page(state.app, "intake.page", render_unsaved_page)


def render_unsaved_page(section_id: str) -> str | None:
    """Render a question page from what was posted, without the database (it is down)."""
    if section_id not in PAGE_INDEX:
        return None
    section = _asked(PAGES[PAGE_INDEX[section_id]])
    form = page_form_class(section.id, _screener())()
    return _render_page(
        section,
        form,
        {},
        errors=[],
        unsaved=True,
        crisis=_posted_crisis(section),
        crisis_beside=_posted_crisis(section),
        can_save_later=False,
    )


@bp.get("/saved")
def saved() -> Response | str:
    """Show the "come back later" link once; it opens the draft with the date of birth."""
    token = session.pop(RESUME_KEY, None)
    crisis, raised = session.pop(SAVED_KEY, None) or [False, False]
    if token is None:
        return redirect(url_for("intake.start"), code=303)
    link = security.external_url("intake.resume", token=token)
    email = ""
    emailing = session.get(RESUME_EMAIL_KEY)
    if emailing == token:
        # Kept for one "Email me this link" press on this page (the patient's choice).
        email = services.resume_link_email(db.session, token, now()) or ""
    return render_template(
        "intake/saved.html",
        link=link,
        hours=Draft.LIFETIME_HOURS,
        crisis=crisis,
        raised=raised,
        email=email,
        form=EmailLinkForm(),
    )


@bp.post("/saved/email")
def email_resume_link() -> Response | str | tuple[str, int]:
    """Email the "come back later" link to the patient's own address, once, on request.

    The email holds the link and what it does, never an answer. Nothing is stored or
    logged about the address; a mail server that fails is said on the page.
    """
    form = EmailLinkForm()
    token = session.pop(RESUME_EMAIL_KEY, None)
    email = services.resume_link_email(db.session, token, now()) if token else None
    if not form.validate_on_submit() or token is None or not email:
        return redirect(url_for("intake.start"), code=303)
    link = security.external_url("intake.resume", token=token)
    message = mail.resume_link_message(
        link,
        sender=str(current_app.config.get("SMTP_FROM") or "intake@localhost"),
        recipient=email,
        subject=languages.translate(
            Phrase(
                N_("Your link to carry on with your form at %(clinic)s"),
                clinic=languages.setting("CLINIC_NAME"),
            )
        ),
        body=languages.translate(
            Phrase(
                N_(
                    "Here is your link to carry on with your form at %(clinic)s:\n\n%(link)s\n\n"
                    "It works once, within %(hours)s hours. When you open it, we ask for your "
                    "date of birth before showing any answer. This email holds the link only, "
                    "none of your answers.\n"
                ),
                clinic=languages.setting("CLINIC_NAME"),
                link=link,
                hours=Draft.LIFETIME_HOURS,
            )
        ),
    )
    try:
        mail.send(current_app.config, message)
        sent = True
    except OSError as error:  # the mail server: say so, never the address
        current_app.logger.warning("Resume link email failed: %s", type(error).__name__)
        sent = False
    return render_template(
        "intake/link_emailed.html", sent=sent, link=None if sent else link,
        hours=Draft.LIFETIME_HOURS,
    )  # fmt: skip


@bp.route("/resume/<token>", methods=["GET", "POST"])
@csrf.exempt  # the resume form checks its own token
@limiter.limit(security.configured_limit("RATELIMIT_START"), methods=["POST"])
def resume(token: str) -> Response | str | tuple[str, int]:
    """Reopen saved answers after checking the date of birth; no answer shows before that."""
    draft_language = services.resume_link_language(db.session, token, now())
    if draft_language is None:
        return render_template("intake/resume_expired.html"), 404
    if session.get(languages.SESSION_KEY) not in languages.tags() and (
        draft_language in languages.tags()
    ):
        # A browser that chose no language here asks in the draft's (issue 25).
        session[languages.SESSION_KEY] = draft_language
        flask_babel.refresh()
    form = ResumeForm()
    form.today = clinic_today()
    errors: list[tuple[str, str]] = []
    if form.validate_on_submit():
        try:
            draft, session_token = services.resume_draft(
                db.session, token, form[catalogue.DATE_OF_BIRTH.id].data, now()
            )
        except services.ResumeRefused:
            if not services.resume_link_is_live(db.session, token, now()):
                return render_template("intake/resume_expired.html"), 404
            born = form[catalogue.DATE_OF_BIRTH.id]
            born.errors = [N_("That date of birth does not match. Check it and try again.")]
            errors = [(f"#{_first_input(born)}", born.errors[0])]
        else:
            session[DRAFT_KEY] = session_token
            _keep_language(draft)
            section_id = services.resume_section(draft, clinic_today(), _screener())
            if section_id is None:
                return redirect(url_for("intake.check"), code=303)
            return redirect(url_for("intake.page", section_id=section_id), code=303)
    elif request.method == "POST":
        errors = _error_summary(form)
    status = 400 if errors else 200
    return render_template("intake/resume.html", form=form, errors=errors), status


def _number(value: float) -> str:
    """Return a number as the reader writes it (70,5 in French), without float noise."""
    return str(format_decimal(value, format="#,##0.##"))


def _keep_language(draft: Draft) -> None:
    """A reopened draft: a language chosen in this browser wins, else the draft's own."""
    chosen = session.get(languages.SESSION_KEY)
    if chosen in languages.tags() and chosen != draft.language:
        services.set_language(db.session, draft, chosen)
    elif draft.language in languages.tags():
        session[languages.SESSION_KEY] = draft.language


def _send_limit_key() -> str:
    """Return what the send limit counts: this draft (a hash of its key, never the key),
    so patients on one connection (a clinic's Wi-Fi, a family) do not share one count."""
    token = session.get(DRAFT_KEY)
    if not token:
        return f"address:{get_remote_address()}"
    return "draft:" + hashlib.sha256(str(token).encode()).hexdigest()[:32]


def _was_sent(response: Response) -> bool:
    """Return whether a send went through (to the confirmation): only real sends count."""
    return response.status_code == 303 and response.location == url_for("intake.done")


@bp.route("/check", methods=["GET", "POST"])
@csrf.exempt  # the send form checks its own token, so a timeout shows the page again
@limiter.limit(
    security.configured_limit("RATELIMIT_SUBMIT"),
    methods=["POST"],
    key_func=lambda: _send_limit_key(),
    deduct_when=lambda response: _was_sent(response),
)
@limiter.limit(
    security.configured_limit("RATELIMIT_SUBMIT_ADDRESS"),
    methods=["POST"],
    deduct_when=lambda response: _was_sent(response),
)
def check() -> Response | str | tuple[str, int]:
    """Show every answer in plain words with a Change link; send when it is right."""
    token = session.get(DRAFT_KEY)
    form = SendForm()
    problems: list[tuple[str, str]] = []
    # No honeypot here: this session walked every page to a draft, so a filled hidden field
    # is a browser's autofill, and discarding the send silently would lose a real person.
    # A send reads the draft once, inside its transaction; only a send that cannot go on
    # reads it again, to show the page.
    if token is not None and form.validate_on_submit():
        sent = _send(token)
        if isinstance(sent, Response):
            return sent
        problems = sent
    elif request.method == "POST":
        problems = _error_summary(form)
    draft = _current_draft()
    if draft is None:
        token = token or session.get(SENT_KEY)
        already = services.find_submission(db.session, token) if token else None
        if already is not None and token is not None:
            # Sent already (a double click, or a refresh of the POST): the same confirmation,
            # and its alerts sent in case the first request died before it could.
            return _confirmation(token, already.highest_level)
        return redirect(url_for("intake.start", expired=1), code=303)
    return _show_check(form, draft, problems)


def _send(token: str) -> Response | list[tuple[str, str]]:
    """Send the draft: the confirmation, or the problems to show (none when the draft is gone)."""
    try:
        sent = services.submit(
            db.session,
            token,
            current_app.extensions["rule_table"],
            now(),
            confirmed={catalogue.UNDERSTANDS_REVIEW.id: "y"},
            alert_addresses=notify.on_call_addresses(current_app.config),
            settings=current_app.config,
        )
    except services.AnswersInvalid as invalid:
        return _missing_answers(invalid.errors)
    except services.DraftNotFound:
        return []  # expired, or never there: the page says so
    return _confirmation(token, sent.highest_level)


def _show_check(form: Any, draft: Draft, problems: list[tuple[str, str]]) -> tuple[str, int]:
    """Render the check page: every asked section's answers in words, and any problem."""
    return (
        render_template(
            "intake/check.html",
            form=form,
            sections=[
                (section, rows)
                for section in map(_asked, PAGES)
                if catalogue.asked_in(section, languages.current_tag())
                and (
                    rows := section_rows(
                        section, draft.answers, languages.translate, _number, languages.long_date
                    )
                )
            ],
            errors=problems,
            crisis=_needs_crisis_panel(draft.answers),
            back_url=url_for("intake.page", section_id=_asked_pages(draft.answers)[-1].id),
        ),
        400 if problems else 200,
    )


def _confirmation(token: str, level: str | None) -> Response:
    """Forget the draft, remember what was sent, and go to the confirmation page."""
    session.pop(DRAFT_KEY, None)
    session[SENT_KEY] = token
    response = redirect(url_for("intake.done"), code=303)
    if level == "urgent":
        # Once the patient has their page: an urgent submission's pending alerts.
        notify.deliver_after(response)
    return response


def _missing_answers(errors: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Return error-summary entries that send the patient to the page of each bad answer."""
    entries = []
    for item_id, messages in errors.items():
        section = catalogue.SECTION_OF.get(item_id)
        if section is None or section.id not in PAGE_INDEX:
            # Only the consent boxes live outside the pages; the start page asks again.
            entries.append((url_for("intake.start"), N_("Start again and tick the box to agree.")))
            continue
        values: dict[str, Any] = {"section_id": section.id, "return": "check"}
        link = url_for("intake.page", **values)
        # Each message names its question, so it stands alone in the summary.
        entries.append((f"{link}#{item_id}", messages[0]))
    return entries


@bp.get("/done")
def done() -> Response | str:
    """Confirm the questionnaire was sent: the reference code and what happens next."""
    token = session.get(SENT_KEY)
    submission: Submission | None = services.find_submission(db.session, token) if token else None
    if submission is None:
        return redirect(url_for("intake.start"), code=303)
    return render_template(
        "intake/done.html",
        reference=format_reference(submission.reference),
        crisis=_needs_crisis_panel(submission.answers),
    )


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> tuple[str, int]:
    """Explain an expired or missing form token without a stack trace."""
    return render_template("errors/error.html", code=400, name=N_("This page timed out")), 400
