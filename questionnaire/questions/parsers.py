"""Parsers: each turns what a person typed into a typed value, or raises ValueError with a
message that tells them how to write it. Pure, and shared by the forms and the facts.

A message a patient may read is marked for translation (`N_`, or a `Phrase` when it
carries values) and raised as the exception's only argument, so the page can translate
it; `str(error)` stays the English sentence. People write numbers and dates as they
would in English or in French: a decimal comma, "128 sur 82", "mars" or "févr.".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from questionnaire.questions.text import DIGIT, ascii_number
from questionnaire.questions.wording import N_

POUND_KG = 0.45359237

BP_EXAMPLE = N_("Write your blood pressure like 128/82 or 128 over 82, or leave it blank.")
BP_CHECK = N_(
    "Check the numbers. Write your blood pressure like 128/82 or 128 over 82, or leave it blank."
)
BP_ORDER = N_("Put the top (bigger) number first, like 128/82.")
_BP = re.compile(
    rf"^\s*(?P<sys>{DIGIT}{{2,3}})\s*(?:/|over|sur)\s*(?P<dia>{DIGIT}{{2,3}})\s*(?:mm\s*hg)?\s*$",
    re.IGNORECASE | re.ASCII,
)


def parse_blood_pressure(text: str) -> tuple[int, int]:
    """Return (systolic, diastolic) from '152/94', '152 / 94', '152 over 94' or '152 sur 94'."""
    match = _BP.match(text)
    if match is None:
        raise ValueError(BP_EXAMPLE)
    systolic, diastolic = int(match["sys"]), int(match["dia"])
    if not (50 <= systolic <= 300 and 20 <= diastolic <= 200):
        raise ValueError(BP_CHECK)
    if systolic <= diastolic:
        raise ValueError(BP_ORDER)
    return systolic, diastolic


def _decimal(text: str, whole_digits: int) -> float | None:
    """Return a number with a decimal point or a decimal comma, or None.

    At most 2 digits may follow the point or comma, and no thousands separator is read:
    "70,5" and "70.5" are 70.5, while "1,234" (a thousand to an anglophone, one point two
    to a francophone) is refused rather than guessed. No value asked here needs thousands.
    """
    match = re.fullmatch(rf"({DIGIT}{{1,{whole_digits}}})(?:[.,]({DIGIT}{{1,2}}))?", text.strip())
    if match is None:
        return None
    whole, fraction = match.groups()
    return float(f"{whole}.{fraction or 0}")


NUMBER_EXAMPLE = N_("Enter a number, like 3 or 2.5.")


def parse_number(text: str) -> float:
    """Return a number from '3', '2.5' or '2,5' (a decimal comma): any number item's default.

    "1,234" is refused, not read as 1234 or 1.234 (see `_decimal`).
    """
    value = _decimal(text, 6)
    if value is None:
        raise ValueError(NUMBER_EXAMPLE)
    return value


WEIGHT_EXAMPLE = N_("Enter your weight as a number, like 70 or 154.5.")
WEIGHT_CHECK = N_("Check your weight. Enter your weight as a number, like 70 or 154.5.")
WEIGHT_MAX = 1000.0
#: The weights most adults fall within, in kg (the rule table's weight_missing uses the same).
#: A weight outside them is asked again on its page; the patient may confirm it.
WEIGHT_USUAL_KG = (35.0, 250.0)
WEIGHT_UNUSUAL = N_(
    'Check your weight. It is outside the usual range. If it is right, tick "This weight is '
    'right" below and continue.'
)


def parse_weight(text: str) -> float:
    """Return a positive weight from '70', '70.5' or '70,5' (a decimal comma).

    The unit is chosen beside it, so a unit typed in the box ("70 kg") is refused, and
    "1,234" is refused rather than guessed (see `_decimal`).
    """
    value = _decimal(text, 4)
    if value is None:
        raise ValueError(WEIGHT_EXAMPLE)
    if not 0 < value <= WEIGHT_MAX:
        raise ValueError(WEIGHT_CHECK)
    return value


DATE_EXAMPLE = N_("Enter your date of birth like 1985-03-27 (year, month, day).")
DATE_NOT_PAST = N_(
    "Your date of birth must be in the past. "
    "Enter your date of birth like 1985-03-27 (year, month, day)."
)
DATE_CHECK_YEAR = N_("Check the year. Enter your date of birth like 1985-03-27 (year, month, day).")


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
        raise ValueError(DATE_NOT_PAST)
    if born.year < 1900:
        raise ValueError(DATE_CHECK_YEAR)
    return born


DATE_PARTS = ("day", "month", "year")
EARLIEST_BIRTH = date(1900, 1, 1)

#: Month names and their usual short forms, in English and in French, written without
#: accents: a name is compared without its accents, case or final full stop ("Févr." is
#: "fevr"). "mar" is March in English; French writes "mars".
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "janvier", "janv"),
            ("february", "feb", "fevrier", "fevr", "fev"),
            ("march", "mar", "mars"),
            ("april", "apr", "avril", "avr"),
            ("may", "mai"),
            ("june", "jun", "juin"),
            ("july", "jul", "juillet", "juil"),
            ("august", "aug", "aout"),
            ("september", "sep", "sept", "septembre"),
            ("october", "oct", "octobre"),
            ("november", "nov", "novembre"),
            ("december", "dec", "decembre"),
        ),
        start=1,
    )
    for name in names
}


@dataclass(frozen=True, slots=True)
class DateWords:
    """The GOV.UK memorable-date messages for one date question, each a whole sentence.

    Whole sentences, not a name put into a pattern, so each translates as a sentence.
    """

    #: Nothing typed.
    enter: str
    #: Some parts left out, by the tuple of parts missing (in day, month, year order).
    missing: dict[tuple[str, ...], str]
    #: A part that cannot be a day, month or year, or a day not in that month.
    real: str
    #: A date after today.
    past: str
    #: A date before EARLIEST_BIRTH.
    earliest: str


DATE_OF_BIRTH_WORDS = DateWords(
    enter=N_("Enter your date of birth"),
    missing={
        ("day",): N_("Date of birth must include a day"),
        ("month",): N_("Date of birth must include a month"),
        ("year",): N_("Date of birth must include a year"),
        ("day", "month"): N_("Date of birth must include a day and month"),
        ("day", "year"): N_("Date of birth must include a day and year"),
        ("month", "year"): N_("Date of birth must include a month and year"),
    },
    real=N_("Date of birth must be a real date"),
    past=N_("Date of birth must be in the past"),
    earliest=N_("Date of birth must be the same as or after 1 January 1900"),
)
YEAR_DIGITS = N_("Year must include 4 numbers")


class DateProblem(ValueError):
    """A date typed in three parts is wrong: the message, and which parts to mark.

    The message is the marked English sentence, kept as it is (`message`) so the page can
    translate it; `str(problem)` is the English.
    """

    def __init__(self, message: str, parts: tuple[str, ...]) -> None:
        super().__init__(message)
        self.message = message
        self.parts = parts


def _small_number(text: str) -> int | None:
    # ASCII digits only, at most two: int() alone also takes "٣" and " 1_0 ".
    return ascii_number(text, 2)


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def month_number(text: str) -> int | None:
    """Return a month from '3', '03', 'March', 'mar', 'mars', 'févr.' or 'aout', or None."""
    number = _small_number(text)
    if number is None:
        number = _MONTHS.get(_without_accents(text).casefold().rstrip("."))
    return number if number is not None and 1 <= number <= 12 else None


def parse_date_parts(
    day: str, month: str, year: str, today: date, words: DateWords = DATE_OF_BIRTH_WORDS
) -> date:
    """Return a date of birth typed as day, month and year (the GOV.UK memorable date).

    Raise DateProblem with the pattern's message (from words) and the parts to mark in error.
    """
    typed = {"day": day.strip(), "month": month.strip(), "year": year.strip()}
    missing = tuple(part for part in DATE_PARTS if not typed[part])
    if len(missing) == len(DATE_PARTS):
        raise DateProblem(words.enter, DATE_PARTS)
    if missing:
        raise DateProblem(words.missing[missing], missing)
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
        raise DateProblem(words.real, tuple(wrong))
    if len(year_text) != 4:
        raise DateProblem(YEAR_DIGITS, ("year",))
    try:
        born = date(int(year_text), month_value, day_number)
    except ValueError:  # 31 2 2000: the day does not exist in that month
        raise DateProblem(words.real, ("day",)) from None
    if born > today:
        raise DateProblem(words.past, DATE_PARTS)
    if born < EARLIEST_BIRTH:
        raise DateProblem(words.earliest, ("year",))
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
