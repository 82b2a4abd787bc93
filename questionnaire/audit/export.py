"""The audit trail as CSV, a row at a time (never an answer: the trail holds none)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from questionnaire.models import AuditEvent

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
                event.reference or "",
                event.client_address or "",
                json.dumps(event.detail, sort_keys=True) if event.detail else "",
            ]
        )
        yield flush()
