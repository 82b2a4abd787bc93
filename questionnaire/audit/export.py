"""The audit trail as CSV, a row at a time (never an answer: the trail holds none)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from questionnaire.records.models import AuditEvent
from questionnaire.records.references import format_reference

CSV_COLUMNS = ("id", "at", "actor", "action", "reference", "client_address", "detail")


def audit_csv(events: Iterable[AuditEvent]) -> Iterator[str]:
    """Yield the audit trail as CSV text, a row at a time (never an answer: there is none)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for event in events:
        writer.writerow(
            [
                event.id,
                event.at.isoformat(),
                event.actor.email if event.actor else "",
                event.action,
                # As the trail's page shows it (K7QM-4TZ9).
                format_reference(event.reference) if event.reference else "",
                event.client_address or "",
                json.dumps(event.detail, sort_keys=True) if event.detail else "",
            ]
        )
        yield flush()
