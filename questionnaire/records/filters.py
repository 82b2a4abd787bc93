"""The filters list pages read from query arguments (the queue, the audit trail)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar


class BadQuery(ValueError):
    """A query value a page does not offer (a forged or stale link); the page answers 400."""


class QueryFilter:
    """A page's filter read from query arguments; ARGS names the argument of each field."""

    #: Field -> the query argument it is written as (fields not named are not kept in links).
    ARGS: ClassVar[dict[str, str]] = {}

    def as_args(self) -> dict[str, str]:
        """Return the filter as query arguments (for links that keep it); empty ones left out."""
        args: dict[str, str] = {}
        for name, arg in self.ARGS.items():
            value = getattr(self, name)
            if value:
                args[arg] = value.isoformat() if isinstance(value, date) else str(value)
        return args
