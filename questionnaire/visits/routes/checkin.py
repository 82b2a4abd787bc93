"""The patient's check-in pages: a one-time link, one page of questions, crisis help at once.

The token is in the path of the first GET only (secret_paths.py keeps it out of the
access log); the page carries it in a hidden field, so the send puts no secret in a URL.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, session
from flask_babel import refresh
from flask_wtf import FlaskForm

from questionnaire import language as languages
from questionnaire import security
from questionnaire.clinic_time import zone_of
from questionnaire.extensions import db, now
from questionnaire.questions import instruments
from questionnaire.records.visits import Visit
from questionnaire.urgent.outbox import deliver_after
from questionnaire.visits import checkin
from questionnaire.visits.checkin_service import (
    CheckInGone,
    find_visit,
    history,
    instruments_due,
    link_state,
    mark_opened,
    raise_unsent_crisis,
    submit,
    window,
)

bp = Blueprint("visits", __name__)
security.never_cache(bp)

#: The status each closed link answers with: a kind page, never an error page.
CLOSED_STATUS = {"unknown": 404, "used": 409, "early": 403, "late": 410}


def _closed(state: str, visit: Visit | None) -> tuple[str, int]:
    span = window(visit, current_app.config, zone_of(current_app.config)) if visit else None
    return render_template("visits/closed.html", state=state, span=span), CLOSED_STATUS[state]


def _asked(visit: Visit) -> checkin.Asked:
    every = int(current_app.config.get("VISIT_INSTRUMENTS_EVERY_DAYS") or 7)
    return checkin.asked(instruments_due(db.session, visit, every), languages.current_tag())


def _page(visit: Visit, token: str, form: Any, which: checkin.Asked, crisis: bool = False) -> str:
    return render_template(
        "visits/checkin.html",
        form=form,
        items=which.items,
        token=token,
        visit=visit,
        crisis=crisis,
        crisis_triggers=checkin.CRISIS_TRIGGERS,
        stems={"phq9": instruments.PHQ9.stem, "gad7": instruments.GAD7.stem},
        errors=[(f"#{name}", messages[0]) for name, messages in form.errors.items() if messages],
    )


def _use_patient_language(visit: Visit) -> None:
    """Show the check-in in the language the patient answered the intake in."""
    wanted = visit.patient.submission.language
    if wanted in languages.tags():
        session[languages.SESSION_KEY] = wanted
        refresh()


@bp.get("/checkin/<token>")
def checkin_page(token: str) -> str | tuple[str, int]:
    """Open a visit's check-in from its one-time link (inside its window)."""
    visit = find_visit(db.session, token)
    state = link_state(visit, now(), current_app.config, zone_of(current_app.config))
    if visit is None or state != "open":
        return _closed(state, visit)
    _use_patient_language(visit)
    mark_opened(db.session, visit, now())
    which = _asked(visit)
    form = checkin.form_class(which, FlaskForm)(formdata=None)
    return _page(visit, token, form, which)


@bp.post("/checkin")
def checkin_send() -> Response | str | tuple[str, int]:
    """Send a check-in once: judge it with the check-in rules and store it sealed."""
    token = request.form.get("token", "")
    visit = find_visit(db.session, token)
    state = link_state(visit, now(), current_app.config, zone_of(current_app.config))
    if visit is None or state != "open":
        return _closed(state, visit)
    which = _asked(visit)
    form = checkin.form_class(which, FlaskForm)()
    posted_crisis = checkin.needs_crisis_help(request.form)
    wanted = request.form.get("language")
    if wanted:
        if wanted in languages.tags():
            session[languages.SESSION_KEY] = wanted
            refresh()
        return _page(visit, token, form, which, crisis=posted_crisis)
    course = history(db.session, visit)
    validated = checkin.validate(form, which, course)
    if validated.errors:
        page = _page(visit, token, form, which, crisis=posted_crisis)
        if posted_crisis and raise_unsent_crisis(db.session, visit, now(), current_app.config):
            response = current_app.make_response((page, 400))
            deliver_after(response)
            return response
        return page, 400
    try:
        flags = submit(
            db.session,
            visit,
            validated,
            course,
            current_app.extensions["checkin_rule_table"],
            language=languages.current_tag(),
            now=now(),
            settings=current_app.config,
        )
    except CheckInGone:
        return _closed("used", None)
    response = current_app.make_response(
        render_template(
            "visits/checked_in.html", crisis=checkin.needs_crisis_help(validated.answers)
        )
    )
    if any(flag["level"] == "urgent" for flag in flags):
        deliver_after(response)
    return response
