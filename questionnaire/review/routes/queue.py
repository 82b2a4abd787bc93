"""The queue of submissions and the search by name."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from questionnaire import audit
from questionnaire import language as languages
from questionnaire.auth import signed_in_clinician
from questionnaire.clinic_time import clinic_today
from questionnaire.extensions import db, now
from questionnaire.records import crypto
from questionnaire.records.models import STATUSES
from questionnaire.records.queue import NO_FLAG, TAKEN, BadFilter, Cursor, QueueFilter, queue_page
from questionnaire.review import name_search
from questionnaire.review.present import identity
from questionnaire.review.replies import bad_filter
from questionnaire.review.routes.blueprint import bp
from questionnaire.review.rows import RowWords, queue_rows
from questionnaire.rules import LEVELS
from questionnaire.urgent import outbox as notify
from questionnaire.urgent import unsent


@bp.get("/")
def queue() -> str | tuple[str, int]:
    """Show submissions, urgent first, then review, info-only and unflagged; oldest first."""
    clinician = signed_in_clinician()
    try:
        wanted = QueueFilter.parse(request.args.to_dict(), me=clinician.id)
        after = Cursor.decode(request.args["after"]) if request.args.get("after") else None
    except BadFilter as error:
        return bad_filter(error)
    page = queue_page(db.session, wanted, after)
    audit.record(db.session, "view_queue", actor=clinician, detail=wanted.as_detail())
    html = _render_queue(clinician, wanted, page)
    # Committed after rendering: a commit expires every loaded row, and rendering after it
    # would load each one again. If the audit row cannot be stored, nothing is shown.
    db.session.commit()
    return html


def _render_queue(clinician: Any, wanted: QueueFilter, page: Any) -> str:
    """Render one page of the queue with its filters, links and the admin's warnings."""

    def queue_link(**changes: str) -> str:
        values: dict[str, Any] = wanted.as_args() | changes
        return url_for("review.queue", **{name: value for name, value in values.items() if value})

    clock = now()
    return render_template(
        "review/queue.html",
        page=page,
        # Opened for this page only: names and ages live in the HTML, never in a link or a log.
        # Ages on the clinic's own date, as the rules judge them.
        rows=queue_rows(
            page.rows,
            page.answers,
            page.flags,
            current_app.extensions["rule_table"],
            today=clinic_today(),
            now=clock,
        ),
        say=RowWords(),
        me=clinician,
        wanted=wanted,
        # Exports have no "mine" of their own: their links leave the taken filter out.
        export_args={name: value for name, value in wanted.as_args().items() if name != "taken"},
        excel_args={
            **{name: value for name, value in wanted.as_args().items() if name != "taken"},
            "for": "excel",
        },
        queue_link=queue_link,
        levels=(*LEVELS, NO_FLAG),
        taken_filters=TAKEN,
        statuses=STATUSES,
        # Retired ids too: old submissions keep the flags they were judged with.
        rules=[
            *(rule.id for rule in current_app.extensions["rule_table"].rules),
            *current_app.extensions["rule_table"].retired,
        ],
        failed_alerts=notify.failed_alerts(db.session) if clinician.is_admin else [],
        unsent_intakes=(intakes := unsent.open_intakes(db.session)),
        unsent_languages=unsent.languages_of(db.session, intakes),
        can_export=clinician.can_export,
    )


class NameSearchForm(FlaskForm):
    """The name search: one field, sent by POST with its CSRF token."""

    name = StringField(validators=[DataRequired(), Length(max=200)])


@bp.route("/search", methods=["GET", "POST"])
def search_by_name() -> str:
    """Find submissions by the patient's name (a POST: the name never goes in a URL)."""
    form = NameSearchForm()
    results = None
    if form.validate_on_submit():
        found = name_search.find_by_name(
            db.session, signed_in_clinician(), form.name.data or "", crypto.name_index_key()
        )
        today = clinic_today()
        results = [
            (submission, identity(submission.answers, today, languages.translate))
            for submission in found
        ]
    return render_template("review/search.html", form=form, results=results)
