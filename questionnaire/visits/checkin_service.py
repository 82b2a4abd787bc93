"""The check-in's transactions: find a visit by its link, its window, the course so far, send.

A link opens from VISIT_CHECKIN_OPENS_AT on the visit's own day (clinic zone; never later
than an hour before the visit) until VISIT_CHECKIN_CLOSES_MINUTES after it starts. A
check-in is stored by one conditional UPDATE, so two sends at once store one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa

from questionnaire.extensions import DbSession as Session
from questionnaire.questions.crisis import fill_numbers
from questionnaire.records.models import Notification
from questionnaire.records.visits import Visit
from questionnaire.rules import RuleTable
from questionnaire.rules.findings import highest_level
from questionnaire.urgent.outbox import on_call_addresses, queue_alerts
from questionnaire.visits import checkin
from questionnaire.visits.rules import rule_values
from questionnaire.visits.service import digest

#: The latest a link opens: this long before the visit, whatever VISIT_CHECKIN_OPENS_AT says.
LATEST_OPENING = timedelta(hours=1)
#: A token longer than this is not one of ours (token_urlsafe(32) is 43 characters).
TOKEN_MAX = 64


class CheckInGone(LookupError):
    """The visit was already checked in, or deleted, between the page and the send."""


@dataclass(frozen=True, slots=True)
class Window:
    """When a visit's link opens and closes."""

    opens: datetime
    closes: datetime


def find_visit(session: Session, token: str) -> Visit | None:
    """Return the visit a link's token opens, or None when it is not one."""
    if not token or len(token) > TOKEN_MAX:
        return None
    return (
        session.execute(sa.select(Visit).where(Visit.token_hash == digest(token))).scalars().first()
    )


def opening_time(text: str) -> time:
    """Return VISIT_CHECKIN_OPENS_AT (HH:MM) as a time; raise ValueError saying how to write it."""
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"VISIT_CHECKIN_OPENS_AT is {text!r}: write a time of day like 06:00."
        ) from None


def window(visit: Visit, config: Mapping[str, Any], zone: tzinfo) -> Window:
    """Return when the visit's check-in link opens and closes."""
    local = visit.scheduled_at.astimezone(zone)
    morning = datetime.combine(
        local.date(), opening_time(str(config.get("VISIT_CHECKIN_OPENS_AT") or "06:00")), zone
    )
    opens = min(morning, local - LATEST_OPENING)
    closes = local + timedelta(minutes=int(config.get("VISIT_CHECKIN_CLOSES_MINUTES") or 60))
    return Window(opens, closes)


def link_state(
    visit: Visit | None, moment: datetime, config: Mapping[str, Any], zone: tzinfo
) -> str:
    """Return "unknown", "used", "early", "late" or "open" for a link at a moment."""
    if visit is None or visit.patient.submission.hidden_at is not None:
        # A patient who withdrew (their intake hidden at their request) has no open link.
        return "unknown"
    if visit.checked_in_at is not None:
        return "used"
    span = window(visit, config, zone)
    if moment < span.opens:
        return "early"
    if moment > span.closes:
        return "late"
    return "open"


def earlier_checkins(session: Session, visit: Visit) -> list[Visit]:
    """Return the patient's check-ins sent before this visit, oldest first."""
    return list(
        session.execute(
            sa.select(Visit)
            .where(
                Visit.patient_id == visit.patient_id,
                Visit.checked_in_at.is_not(None),
                Visit.scheduled_at < visit.scheduled_at,
            )
            .order_by(Visit.scheduled_at)
        ).scalars()
    )


def history(session: Session, visit: Visit) -> dict[str, Any]:
    """Return the course so far as the check-in rules read it (checkin.COURSE_INPUTS)."""
    earlier = earlier_checkins(session, visit)
    intake = visit.patient.submission.facts or {}
    found: dict[str, Any] = {"course_visits_before": len(earlier)}
    for instrument in ("phq9", "gad7"):
        total = f"{instrument}_total"
        previous = [
            v.facts.get(total) for v in earlier if v.facts and v.facts.get(total) is not None
        ]
        # The intake's total, else the first complete check-in's (ITEMS.md 15, course.py).
        baseline = intake.get(total)
        if baseline is None and previous:
            baseline, previous = previous[0], previous[1:]
        found[f"course_{instrument}_baseline"] = baseline
        found[f"course_{instrument}_previous"] = previous[-1] if previous else None
    return found


def instruments_due(session: Session, visit: Visit, every_days: int) -> bool:
    """Return whether PHQ-9 and GAD-7 are asked: none answered in the last `every_days` days."""
    since = visit.scheduled_at - timedelta(days=every_days)
    for earlier in earlier_checkins(session, visit):
        answered = earlier.answers or {}
        if earlier.scheduled_at > since and any(key.startswith("phq9_") for key in answered):
            return False
    return True


def submit(
    session: Session,
    visit: Visit,
    validated: checkin.Validated,
    history_values: Mapping[str, Any],
    table: RuleTable,
    *,
    language: str,
    now: datetime,
    settings: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Judge and store a check-in exactly once; raise CheckInGone if it was sent or deleted."""
    findings = table.evaluate(rule_values(validated.answers, validated.facts, history_values))
    flags = [
        {
            "rule": finding.rule,
            "level": finding.level,
            "short": _short(table, finding.rule, finding.level),
            "message": fill_numbers(finding.message, settings),
            "source": finding.source,
            "evidence": finding.evidence,
        }
        for finding in findings
    ]
    result = session.execute(
        sa.update(Visit)
        .where(Visit.id == visit.id, Visit.checked_in_at.is_(None))
        .values(
            checked_in_at=now,
            answers=validated.answers,
            facts=validated.facts,
            flags=flags,
            highest_level=highest_level(findings),
            crisis=checkin.needs_crisis_help(validated.answers),
            rules_version=table.version,
            language=language,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise CheckInGone()
    addresses = on_call_addresses(settings)
    if highest_level(findings) == "urgent" and addresses and not _alerted(session, visit):
        # A hold: the on-call addresses hear of it as of an urgent intake (reference only).
        queue_alerts(session, addresses, visit.patient.submission.reference, now, visit_id=visit.id)
    session.commit()
    return flags


def _alerted(session: Session, visit: Visit) -> bool:
    """Return whether the on-call addresses were already alerted about this visit."""
    found = sa.select(Notification.id).where(Notification.visit_id == visit.id).exists()
    return bool(session.scalar(sa.select(found)))


def _short(table: RuleTable, rule_id: str, level: str) -> str:
    rule = table.rule(rule_id)
    return rule.words_at(level)[1] if rule is not None else rule_id.replace("_", " ")


def mark_opened(session: Session, visit: Visit, now: datetime) -> None:
    """Note the first opening of the link ("in progress" on the day view)."""
    if visit.opened_at is None:
        session.execute(
            sa.update(Visit)
            .where(Visit.id == visit.id, Visit.opened_at.is_(None))
            .values(opened_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()


def raise_unsent_crisis(
    session: Session, visit: Visit, now: datetime, settings: Mapping[str, Any]
) -> bool:
    """Keep a crisis answer sent with a page that failed its checks: it never vanishes.

    The visit shows "crisis" on the day view and the on-call addresses are alerted once,
    although the check-in itself is not stored (the patient was told so on the page).
    Return whether this call raised it (False when it was raised already or sent).
    """
    raised = session.execute(
        sa.update(Visit)
        .where(Visit.id == visit.id, Visit.checked_in_at.is_(None), Visit.crisis.is_(False))
        .values(crisis=True)
        .execution_options(synchronize_session=False)
    )
    if raised.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return False
    addresses = on_call_addresses(settings)
    if addresses:
        queue_alerts(session, addresses, visit.patient.submission.reference, now, visit_id=visit.id)
    session.commit()
    return True
