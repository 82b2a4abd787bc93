"""How long the clinic keeps a sent intake, in words a patient reads (the privacy notice).

`flask purge` deletes submissions RETENTION_DAYS after they were sent (ops/purge.py);
the notice says the same length in whole years or months, marked for translation with
plural forms in the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Average lengths, so that 3650 days read as 10 years and 730 as 2 (leap days included).
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


@dataclass(frozen=True)
class Span:
    """A length of time in whole years or months, for a sentence ("about 10 years")."""

    unit: Literal["years", "months"]
    count: int


def retention_span(days: int) -> Span:
    """Return a retention period in whole units: years for whole years or 2 or more, else months.

    3650 days are about 10 years, 730 about 2 years, 365 about 1 year, 90 about 3 months
    (never fewer than 1 month).
    """
    months = max(1, round(days / DAYS_PER_MONTH))
    if months >= 24 or months % 12 == 0:  # from two years on, a year is the natural unit
        return Span("years", round(days / DAYS_PER_YEAR))
    return Span("months", months)
