"""Parsers: each turns what a person typed into a typed value, or raises ValueError with a
message that tells them how to write it. Pure, and shared by the forms and the facts."""

from __future__ import annotations

import re
from datetime import date

POUND_KG = 0.45359237

BP_EXAMPLE = "Write your blood pressure like 128/82 or 128 over 82, or leave it blank."
_BP = re.compile(
    r"^\s*(?P<sys>\d{2,3})\s*(?:/|over)\s*(?P<dia>\d{2,3})\s*(?:mm\s*hg)?\s*$",
    re.IGNORECASE,
)


def parse_blood_pressure(text: str) -> tuple[int, int]:
    """Return (systolic, diastolic) from '152/94', '152 / 94' or '152 over 94'."""
    match = _BP.match(text)
    if match is None:
        raise ValueError(BP_EXAMPLE)
    systolic, diastolic = int(match["sys"]), int(match["dia"])
    if not (50 <= systolic <= 300 and 20 <= diastolic <= 200):
        raise ValueError(f"Check the numbers. {BP_EXAMPLE}")
    if systolic <= diastolic:
        raise ValueError("Put the top (bigger) number first, like 128/82.")
    return systolic, diastolic


NUMBER_EXAMPLE = "Enter a number, like 3 or 2.5."
_NUMBER = re.compile(r"\d{1,6}(\.\d{1,2})?")


def parse_number(text: str) -> float:
    """Return a number from '3', '2.5' or '2,5' (a decimal comma): any number item's default."""
    cleaned = text.strip().replace(",", ".")
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError(NUMBER_EXAMPLE)
    return float(cleaned)


WEIGHT_EXAMPLE = "Enter your weight as a number, like 70 or 154.5."
WEIGHT_MAX = 1000.0


def parse_weight(text: str) -> float:
    """Return a positive weight from '70', '70.5' or '70,5' (a decimal comma)."""
    cleaned = text.strip().replace(",", ".")
    if not re.fullmatch(r"\d{1,4}(\.\d{1,2})?", cleaned):
        raise ValueError(WEIGHT_EXAMPLE)
    value = float(cleaned)
    if not 0 < value <= WEIGHT_MAX:
        raise ValueError(f"Check your weight. {WEIGHT_EXAMPLE}")
    return value


DATE_EXAMPLE = "Enter your date of birth like 1985-03-27 (year, month, day)."


def parse_date_of_birth(text: str, today: date) -> date:
    """Return a date of birth from YYYY-MM-DD that is not in the future nor before 1900."""
    text = text.strip()
    # Only YYYY-MM-DD: fromisoformat alone also takes 19850327 and 1985W133.
    if not (len(text) == 10 and text.isascii() and text[4] == text[7] == "-"):
        raise ValueError(DATE_EXAMPLE)
    try:
        born = date.fromisoformat(text)
    except ValueError:
        raise ValueError(DATE_EXAMPLE) from None
    if born > today:
        raise ValueError("Your date of birth must be in the past. " + DATE_EXAMPLE)
    if born.year < 1900:
        raise ValueError("Check the year. " + DATE_EXAMPLE)
    return born


DATE_PARTS = ("day", "month", "year")
EARLIEST_BIRTH = date(1900, 1, 1)

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}


class DateProblem(ValueError):
    """A date typed in three parts is wrong: the message, and which parts to mark."""

    def __init__(self, message: str, parts: tuple[str, ...]) -> None:
        super().__init__(message)
        self.parts = parts


def _small_number(text: str) -> int | None:
    # ASCII digits only, at most two: int() alone also takes "٣" and " 1_0 ".
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 2 else None


def month_number(text: str) -> int | None:
    """Return a month from '3', '03', 'March' or 'mar', or None."""
    number = _small_number(text)
    if number is None:
        number = _MONTHS.get(text.lower().rstrip("."))
    return number if number is not None and 1 <= number <= 12 else None


def parse_date_parts(
    day: str, month: str, year: str, today: date, name: str = "Date of birth"
) -> date:
    """Return a date of birth typed as day, month and year (the GOV.UK memorable date).

    Raise DateProblem with the pattern's message and the parts to mark in error.
    """
    typed = {"day": day.strip(), "month": month.strip(), "year": year.strip()}
    missing = [part for part in DATE_PARTS if not typed[part]]
    if len(missing) == len(DATE_PARTS):
        raise DateProblem(f"Enter your {name.lower()}", DATE_PARTS)
    if missing:
        raise DateProblem(f"{name} must include a {' and '.join(missing)}", tuple(missing))
    day_number = _small_number(typed["day"])
    month_value = month_number(typed["month"])
    year_text = typed["year"]
    wrong = []
    if day_number is None or not 1 <= day_number <= 31:
        wrong.append("day")
    if month_value is None:
        wrong.append("month")
    if not (year_text.isascii() and year_text.isdigit()):
        wrong.append("year")
    if wrong or day_number is None or month_value is None:
        raise DateProblem(f"{name} must be a real date", tuple(wrong))
    if len(year_text) != 4:
        raise DateProblem("Year must include 4 numbers", ("year",))
    try:
        born = date(int(year_text), month_value, day_number)
    except ValueError:  # 31 2 2000: the day does not exist in that month
        raise DateProblem(f"{name} must be a real date", ("day",)) from None
    if born > today:
        raise DateProblem(f"{name} must be in the past", DATE_PARTS)
    if born < EARLIEST_BIRTH:
        raise DateProblem(f"{name} must be the same as or after 1 January 1900", ("year",))
    return born


def age_on(born: date, today: date) -> int:
    """Return a person's age in whole years on a given day."""
    had_birthday = (today.month, today.day) >= (born.month, born.day)
    return today.year - born.year - (0 if had_birthday else 1)


def weight_in_kg(value: float, unit: str) -> float:
    """Return a weight in kilograms, from kg or lb."""
    if unit == "lb":
        return round(value * POUND_KG, 2)
    if unit == "kg":
        return value
    raise ValueError(f"unknown weight unit {unit!r}")
