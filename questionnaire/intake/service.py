"""The patient-side transactions: drafts saved page by page, and sending a questionnaire.

Plain functions that take the database session explicitly and raise typed
exceptions that views turn into messages.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.orm.exc import StaleDataError

from questionnaire.clinic_time import local_date, zone_of
from questionnaire.extensions import DbSession, utcnow
from questionnaire.flagging.table import evaluate
from questionnaire.questions import catalogue
from questionnaire.questions.blind_index import blind_tokens
from questionnaire.questions.crisis import fill_numbers
from questionnaire.questions.forms import (
    as_formdata,
    asked_now,
    section_form_class,
    validate_answers,
)
from questionnaire.questions.text import parse_iso_date
from questionnaire.questions.version import VERSIONS
from questionnaire.records.crypto import name_index_key as name_key
from questionnaire.records.drafts import lifetime, remove_expired_drafts
from questionnaire.records.models import Draft, Flag, NameToken, Submission, UnsentIntake
from questionnaire.records.references import new_reference
from questionnaire.rules import LEVEL_RANK, RuleTable, highest_level
from questionnaire.urgent.outbox import queue_alerts

REFERENCE_ATTEMPTS = 5
#: Saves of one draft retried after a concurrent write; each retry means another save landed.
DRAFT_WRITE_ATTEMPTS = 20


class DraftNotFound(LookupError):
    """The draft is gone: expired, removed, or never existed."""


class AnswersInvalid(ValueError):
    """The draft's answers do not pass validation; errors are keyed by item id."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__(f"{len(errors)} answers need attention")
        self.errors = dict(errors)


class DraftBusy(RuntimeError):
    """A draft changed under every attempt to save it (never seen outside a flood)."""


class ResumeRefused(PermissionError):
    """A resume link is unknown, expired or locked, or the date of birth did not match."""


def digest(token: str) -> str:
    """Return the SHA-256 of a token: only this is stored, so a database leak opens no draft."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """Return a new random token (256 bits)."""
    return secrets.token_urlsafe(32)


# --- drafts ----------------------------------------------------------------------------


def start_draft(
    session: DbSession, language: str, now: datetime | None = None, contact_consent: bool = False
) -> tuple[Draft, str]:
    """Create an empty draft; return it and the token the browser keeps in its session.

    `contact_consent` is the separate tick: the clinic may reach the patient about an
    urgent answer they saved but did not send.
    """
    now = now or utcnow()
    remove_expired_drafts(session, now)
    token = new_token()
    draft = Draft(
        token_hash=digest(token),
        answers={},
        language=language,
        created_at=now,
        updated_at=now,
        expires_at=now + lifetime(),
        contact_consent=contact_consent,
    )
    session.add(draft)
    session.commit()
    return draft, token


def find_draft(session: DbSession, token: str | None, now: datetime | None = None) -> Draft | None:
    """Return the live draft a session token opens, or None."""
    if not token:
        return None
    return session.scalar(
        sa.select(Draft).where(
            Draft.token_hash == digest(token), Draft.expires_at > (now or utcnow())
        )
    )


def save_answers(
    session: DbSession,
    draft: Draft,
    item_ids: Iterable[str],
    raw: Mapping[str, Any],
    now: datetime | None = None,
    continued: int | None = None,
    language: str | None = None,
) -> None:
    """Replace a page's answers in a draft with what was posted, and keep the draft alive.

    `continued` is the index of a page the patient pressed Continue on: resume opens
    the page after the furthest one. `language` (a BCP 47 tag) is the language the
    patient switched to with this save, if they did.

    Two pages saved at once must both land: each save merges into the answers as
    stored now, and the draft's version column turns a lost update into a retry.
    """
    now = now or utcnow()
    replaced = set(item_ids)
    # An empty list stays: a page sent with no box ticked was answered "none of these",
    # which the check page says ("None"), unlike a question never reached.
    given = {key: value for key, value in raw.items() if value not in (None, "")}

    def merge(current: Draft) -> None:
        answers = {key: value for key, value in current.answers.items() if key not in replaced}
        # A new dict, so SQLAlchemy sees the change to the JSON column.
        current.answers = answers | given
        if continued is not None:
            current.pages_done = max(current.pages_done or 0, continued + 1)
        if language is not None:
            current.language = language
        current.updated_at = now
        current.expires_at = now + lifetime()

    _change_draft(session, draft, merge)


def _change_draft(session: DbSession, draft: Draft, change: Callable[[Draft], None]) -> None:
    """Apply a change to a draft and commit; start again from the stored row if it moved.

    Draft.version makes the UPDATE conditional (SQLAlchemy's version_id_col), so a
    concurrent writer's commit shows up here as StaleDataError, never as a lost update.
    """
    for _ in range(DRAFT_WRITE_ATTEMPTS):
        change(draft)
        try:
            session.commit()
            return
        except StaleDataError:
            session.rollback()
        try:
            session.refresh(draft)
        except InvalidRequestError:
            # Deleted meanwhile: sent from another tab, or expired and swept.
            raise DraftNotFound("the draft is gone") from None
    raise DraftBusy("the draft kept changing under this save")


def set_language(session: DbSession, draft: Draft, language: str) -> None:
    """Record the language (a BCP 47 tag) the patient now reads; the submission keeps it."""

    def switch(current: Draft) -> None:
        current.language = language

    _change_draft(session, draft, switch)


def discard_draft(session: DbSession, draft: Draft) -> None:
    """Delete a draft and everything in it now (a patient below the online form's minimum age)."""
    session.execute(sa.delete(Draft).where(Draft.id == draft.id))
    session.commit()


def issue_resume_link(session: DbSession, draft: Draft, now: datetime | None = None) -> str:
    """Return a new token for a "come back later" link (the previous link stops working).

    The draft's session token is replaced by one nobody holds: from now on the draft
    opens only through the link and the date of birth, not from this browser (which
    may be a shared computer) nor from any copy of its cookie.
    """
    now = now or utcnow()
    token = new_token()

    def link(current: Draft) -> None:
        current.token_hash = digest(new_token())
        current.resume_hash = digest(token)
        current.resume_failures = 0
        current.updated_at = now
        current.expires_at = now + lifetime()

    _change_draft(session, draft, link)
    return token


def resume_draft(
    session: DbSession, resume_token: str, date_of_birth: str, now: datetime | None = None
) -> tuple[Draft, str]:
    """Reopen a draft from its link once the date of birth matches; return it and a new token.

    Every guess is counted before it is compared, in one conditional UPDATE, so no
    more than MAX_RESUME_FAILURES dates are ever checked, however many arrive at once;
    a right date then clears the count.
    """
    now = now or utcnow()
    live = sa.and_(
        Draft.resume_hash == digest(resume_token),
        Draft.expires_at > now,
        Draft.resume_failures < Draft.MAX_RESUME_FAILURES,
    )
    claimed = session.execute(
        sa.update(Draft)
        .where(live)
        .values(resume_failures=Draft.resume_failures + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if _rowcount(claimed) != 1:
        raise ResumeRefused("unknown, expired or locked link")
    draft = session.scalar(sa.select(Draft).where(Draft.resume_hash == digest(resume_token)))
    if draft is None:
        raise ResumeRefused("the link was used a moment ago")
    session.refresh(draft)
    if not same_date_of_birth(draft.answers.get(catalogue.DATE_OF_BIRTH.id), date_of_birth):
        raise ResumeRefused("date of birth does not match")
    # A fresh session token: whoever held the old cookie no longer opens this draft.
    # Conditional on the link, so two right guesses at once open it only once.
    token = new_token()
    opened = session.execute(
        sa.update(Draft)
        .where(Draft.id == draft.id, Draft.resume_hash == digest(resume_token))
        .values(
            token_hash=digest(token),
            resume_hash=None,
            resume_failures=0,
            updated_at=now,
            expires_at=now + lifetime(),
            version=Draft.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if _rowcount(opened) != 1:
        raise ResumeRefused("the link was used a moment ago")
    session.refresh(draft)
    return draft, token


def resume_section(draft: Draft, today: date, screener: bool = False) -> str | None:
    """Return the page to reopen a draft on, or None when every page was continued past.

    The first page the patient has not continued past, or an earlier one whose
    saved answers no longer pass its checks, whichever comes first.
    """
    for index, section in enumerate(catalogue.PAGES):
        if not catalogue.section_is_asked(section, draft.answers, draft.language):
            continue  # ruled out by an earlier answer (PCL-5 without PTSD among the reasons)
        if index >= (draft.pages_done or 0):
            return section.id
        form = section_form_class(section.id, screener=screener, asked=True)(
            formdata=as_formdata(draft.answers)
        )
        form.today = today
        form.context = draft.answers
        if not form.validate():
            return section.id
    return None


def same_date_of_birth(stored: object, given: str) -> bool:
    """Return whether a typed date of birth is the stored one (both read as calendar dates)."""
    first, second = parse_iso_date(str(stored or "")), parse_iso_date(given)
    return first is not None and first == second


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0))


def resume_link_is_live(session: DbSession, resume_token: str, now: datetime | None = None) -> bool:
    """Return whether a resume link still opens a draft (before asking for the date of birth)."""
    draft = session.scalar(
        sa.select(Draft).where(
            Draft.resume_hash == digest(resume_token), Draft.expires_at > (now or utcnow())
        )
    )
    return draft is not None and draft.resume_failures < Draft.MAX_RESUME_FAILURES


def resume_link_email(
    session: DbSession, resume_token: str, now: datetime | None = None
) -> str | None:
    """Return the email address the draft of a live resume link gives, else None.

    Only for emailing that link to the patient's own address: no answer leaves the draft.
    """
    draft = session.scalar(
        sa.select(Draft).where(
            Draft.resume_hash == digest(resume_token), Draft.expires_at > (now or utcnow())
        )
    )
    email = draft.answers.get("email") if draft is not None else None
    return email.strip() or None if isinstance(email, str) else None


def resume_link_language(
    session: DbSession, resume_token: str, now: datetime | None = None
) -> str | None:
    """Return the language (a BCP 47 tag) of the draft a live resume link opens, else None.

    The link's date-of-birth page is shown in it, so a French draft opened in an English
    browser is asked in French. Nothing else about the draft is read.
    """
    found = session.execute(
        sa.select(Draft.language, Draft.resume_failures).where(
            Draft.resume_hash == digest(resume_token), Draft.expires_at > (now or utcnow())
        )
    ).first()
    if found is None or found.resume_failures >= Draft.MAX_RESUME_FAILURES:
        return None
    return str(found.language)


# --- sending ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """What the patient's pages need of a stored submission, read before its commit."""

    id: int
    reference: str
    highest_level: str | None

    @classmethod
    def of(cls, submission: Submission) -> Sent:
        return cls(submission.id, submission.reference, submission.highest_level)


def find_submission(session: DbSession, token: str) -> Submission | None:
    """Return the submission a draft token already produced, if any."""
    return session.scalar(sa.select(Submission).where(Submission.draft_key == digest(token)))


# The send's statements, built once: Core statements on the tables with bound parameters,
# so each send only fills in values (building a statement and its cache key, and the ORM's
# bulk paths, cost more than running it). Column types still seal and unseal as usual.
_DRAFTS = Draft.__table__.c
_DRAFT_TO_SEND = (
    sa.select(
        _DRAFTS.id, _DRAFTS.answers, _DRAFTS.language, _DRAFTS.contact_consent, _DRAFTS.version
    )
    .where(_DRAFTS.token_hash == sa.bindparam("key"), _DRAFTS.expires_at > sa.bindparam("now"))
    .with_for_update()
)
_INSERT_SUBMISSION = sa.insert(Submission.__table__).returning(Submission.__table__.c.id)
_INSERT_FLAGS = sa.insert(Flag.__table__)
_DELETE_DRAFT = sa.delete(Draft.__table__).where(
    _DRAFTS.id == sa.bindparam("draft_id"), _DRAFTS.version == sa.bindparam("draft_version")
)


def _draft_to_send(session: DbSession, key: str, now: datetime) -> Any:
    """Return what a send needs of the live draft with this key, or None; locked (PostgreSQL).

    The lock makes a second send of the same draft wait here for the first to commit,
    then find the draft gone and return the first one's submission. A row of columns,
    not a tracked object: the send never changes the draft, it deletes it.
    """
    return session.execute(_DRAFT_TO_SEND, {"key": key, "now": now}).one_or_none()


def submit(
    session: DbSession,
    token: str,
    table: RuleTable,
    now: datetime | None = None,
    confirmed: Mapping[str, Any] | None = None,
    alert_addresses: Sequence[str] = (),
    settings: Mapping[str, Any] | None = None,
) -> Sent:
    """Send a draft: validate it whole, derive facts, evaluate rules, store, delete the draft.

    `confirmed` holds the answers of the last step (the review tick box). An urgent
    submission gets one pending alert per address in `alert_addresses`, in the same
    transaction, so no crash can store it without its alert. `settings` fill the
    crisis-number placeholders of each flag's message snapshot.

    One transaction. Sending the same draft again, or twice at once, returns the
    one submission it produced: the draft key is unique, so the database, not a
    check-then-insert, decides who wins.

    The submission stores the questionnaire version its patient answered (the catalogue's
    fingerprint), in the same insert.

    A send costs one draft read, one insert each for the submission and its flags, and
    the draft's delete; nothing is read again after the commit (the result says what the
    confirmation needs).
    """
    now = now or utcnow()
    key = digest(token)
    for _ in range(REFERENCE_ATTEMPTS):
        draft = _draft_to_send(session, key, now)
        if draft is None:
            return _sent_already(session, token)
        judged = _judge(draft, table, confirmed, settings, now)
        reference = new_reference()
        try:
            # Statements, not the unit of work: nothing here is read back or tracked.
            submission_id = _store_submission(session, key, reference, draft, judged, table, now)
            _store_flags(session, submission_id, judged, settings or {}, now)
            _index_name(session, submission_id, judged.answers)
            _relink_unsent_intake(session, draft, submission_id)
            _delete_sent_draft(session, draft)
            if judged.level == "urgent" and alert_addresses:
                queue_alerts(session, alert_addresses, reference, now, submission_id=submission_id)
            session.commit()
        except (IntegrityError, StaleDataError):
            # Another request sent this draft first (or, rarely, the reference was taken):
            # start again from the top, which returns the winner's submission.
            session.rollback()
            continue
        return Sent(submission_id, reference, judged.level)
    raise RuntimeError("could not store the submission; references kept colliding")


@dataclass(frozen=True)
class _Judged:
    """A draft's answers validated whole, with their facts, the rules' findings and level."""

    answers: dict[str, Any]
    facts: dict[str, Any]
    findings: list[Any]
    level: str | None
    screener: bool


def _sent_already(session: DbSession, token: str) -> Sent:
    """Return the submission this draft became (perhaps a moment ago), or raise DraftNotFound."""
    existing = find_submission(session, token)
    if existing is None:
        raise DraftNotFound("no draft for this token")
    return Sent.of(existing)


def _judge(
    draft: Any,
    table: RuleTable,
    confirmed: Mapping[str, Any] | None,
    settings: Mapping[str, Any] | None,
    now: datetime,
) -> _Judged:
    """Validate the draft's answers whole and evaluate the rules; raise AnswersInvalid."""
    # The last step's tick box joins the draft's answers inside this one transaction.
    # Ages are judged on the clinic's date of sending, not the UTC date.
    sent_on = local_date(now, zone_of(settings))
    screener = bool((settings or {}).get("CSSRS_SCREENER_ENABLED"))
    # A draft begun under an earlier definition may hold answers to questions no longer
    # asked: they are left out, never an error the patient cannot see or fix.
    validated = validate_answers(
        asked_now({**draft.answers, **(confirmed or {})}), sent_on, screener
    )
    if not validated.ok:
        raise AnswersInvalid(validated.errors)
    findings = evaluate(table, validated.answers, validated.facts)
    return _Judged(validated.answers, validated.facts, findings, highest_level(findings), screener)


def _store_submission(
    session: DbSession,
    key: str,
    reference: str,
    draft: Any,
    judged: _Judged,
    table: RuleTable,
    now: datetime,
) -> int:
    """Insert the submission; return its id."""
    return int(
        session.execute(
            _INSERT_SUBMISSION,
            {
                "draft_key": key,
                "reference": reference,
                "submitted_at": now,
                "language": draft.language,
                "answers": judged.answers,
                "facts": judged.facts,
                "rules_version": table.version,
                "rules_sha256": table.sha256,
                "questionnaire_version": VERSIONS[judged.screener],
                "status": "new",
                "highest_level": judged.level,
                "level_rank": LEVEL_RANK[judged.level],
            },
        ).scalar_one()
    )


def _store_flags(
    session: DbSession,
    submission_id: int,
    judged: _Judged,
    settings: Mapping[str, Any],
    now: datetime,
) -> None:
    """Insert every flag in one statement, each with its submission's place in the queue."""
    if not judged.findings:
        return
    session.execute(
        _INSERT_FLAGS,
        [
            {
                "submission_id": submission_id,
                "rule": finding.rule,
                "level": finding.level,
                "message": fill_numbers(finding.message, settings),
                "source": finding.source,
                "evidence": finding.evidence,
                "level_rank": LEVEL_RANK[judged.level],
                "submitted_at": now,
            }
            for finding in judged.findings
        ],
    )


def _index_name(session: DbSession, submission_id: int, answers: Mapping[str, Any]) -> None:
    """Store the name's blind index (exact-token search for clinicians; issue 25)."""
    digests = blind_tokens(str(answers.get("full_name") or ""), name_key())
    if digests:
        session.execute(
            sa.insert(NameToken),
            [{"submission_id": submission_id, "digest": value} for value in digests],
        )


def _relink_unsent_intake(session: DbSession, draft: Any, submission_id: int) -> None:
    """Point the draft's unsent urgent intake, if any, at the submission that replaces it.

    Only a draft with the contact consent can have raised one. Before the draft's
    delete, which sets the intake's draft_id to NULL.
    """
    if draft.contact_consent:
        session.execute(
            sa.update(UnsentIntake)
            .where(UnsentIntake.draft_id == draft.id)
            .values(submission_id=submission_id)
            .execution_options(synchronize_session=False)
        )


def _delete_sent_draft(session: DbSession, draft: Any) -> None:
    """Delete the draft as it was read; StaleDataError if it was saved again since."""
    deleted = session.execute(_DELETE_DRAFT, {"draft_id": draft.id, "draft_version": draft.version})
    if _rowcount(deleted) != 1:
        # Saved again since it was read (SQLite, where the read takes no lock).
        raise StaleDataError("the draft changed while it was being sent")
