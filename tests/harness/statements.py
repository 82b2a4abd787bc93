"""Count the SQL statements an engine runs (a count, never a timing)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa


@contextlib.contextmanager
def counting(engine: sa.Engine) -> Iterator[list[str]]:
    """Yield a list that fills with the first word of every statement the engine runs.

    Only the verb is kept (SELECT, INSERT …), never parameters, so nothing of a
    patient's answers is held. A commit or rollback is not a statement.
    """
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
