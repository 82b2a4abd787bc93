"""The audit trail as admins read it: newest first, filtered, a page at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import ClassVar

import sqlalchemy as sa

from questionnaire.audit import ACTIONS
from questionnaire.extensions import DbSession
from questionnaire.questions.text import YEARS, parse_iso_date, parse_row_id
from questionnaire.records.filters import BadQuery, QueryFilter
from questionnaire.records.models import AuditEvent, Clinician
from questionnaire.records.references import parse_reference

PAGE_SIZE = 100


class BadTrailFilter(BadQuery):
    """A filter value the audit page does not offer."""


@dataclass(frozen=True)
class TrailFilter(QueryFilter):
    """Which events to show; before is the id to page back from."""

    #: `before` is not kept: a link that keeps the filter starts from the newest again.
    ARGS: ClassVar[dict[str, str]] = {
        "action": "action",
        "actor": "actor",
        "reference": "reference",
        "since": "since",
    }

    action: str | None = None
    actor: str | None = None
    reference: str | None = None
    since: date | None = None
    before: int | None = None

    @classmethod
    def parse(cls, args: dict[str, str]) -> TrailFilter:
        """Return a filter from query arguments; raise BadTrailFilter for a value not offered."""
        action = args.get("action") or None
        if action is not None and action not in ACTIONS:
            raise BadTrailFilter("action")
        actor = (args.get("actor") or "").strip().lower() or None
        if actor is not None and (len(actor) > 254 or not re.fullmatch(r"[^\s]+@[^\s]+", actor)):
            raise BadTrailFilter("actor")
        reference = None
        if args.get("reference"):
            reference = parse_reference(args["reference"])
            if reference is None:
                raise BadTrailFilter("reference")
        # Typed and bounded: a huge number or an odd date is a bad link, not a database error.
        since = parse_iso_date(args["since"]) if args.get("since") else None
        if args.get("since") and (since is None or since.year not in YEARS):
            raise BadTrailFilter("since")
        before = parse_row_id(args["before"]) if args.get("before") else None
        if args.get("before") and before is None:
            raise BadTrailFilter("before")
        return cls(action, actor, reference, since, before)


@dataclass
class TrailPage:
    events: list[AuditEvent]
    older: int | None


def events_query(wanted: TrailFilter) -> sa.Select[AuditEvent]:
    """Return the query for the events a filter selects, newest first."""
    query = sa.select(AuditEvent)
    if wanted.action:
        query = query.where(AuditEvent.action == wanted.action)
    if wanted.actor:
        query = query.join(Clinician, AuditEvent.actor_id == Clinician.id).where(
            Clinician.email == wanted.actor
        )
    if wanted.reference:
        query = query.where(AuditEvent.reference == wanted.reference)
    if wanted.since:
        query = query.where(AuditEvent.at >= datetime.combine(wanted.since, time(), UTC))
    return query.order_by(AuditEvent.id.desc())


def trail_page(session: DbSession, wanted: TrailFilter) -> TrailPage:
    """Return one page of events, newest first."""
    query = events_query(wanted)
    if wanted.before:
        query = query.where(AuditEvent.id < wanted.before)
    events = list(session.scalars(query.limit(PAGE_SIZE + 1)))
    older = events[PAGE_SIZE - 1].id if len(events) > PAGE_SIZE else None
    return TrailPage(events=events[:PAGE_SIZE], older=older)
