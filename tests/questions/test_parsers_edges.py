"""The parsers at their limits: each bound on both sides, and the message each refusal gives."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questionnaire.questions import parsers
from questionnaire.questions.parsers import (
    BP_CHECK,
    BP_EXAMPLE,
    BP_ORDER,
    DATE_CHECK_YEAR,
    DATE_EXAMPLE,
    DATE_NOT_PAST,
    DATE_OF_BIRTH_WORDS,
    DATE_PARTS,
    NUMBER_EXAMPLE,
    WEIGHT_CHECK,
    WEIGHT_EXAMPLE,
    YEAR_DIGITS,
    DateProblem,
    age_on,
    month_number,
    parse_blood_pressure,
    parse_date_of_birth,
    parse_date_parts,
    parse_number,
    parse_weight,
    weight_in_kg,
)

TODAY = date(2026, 6, 1)
WORDS = DATE_OF_BIRTH_WORDS


def refusal(parse: object, *args: object) -> str:
    """Return the message a parser refuses with (the marked sentence, its only argument)."""
    with pytest.raises(ValueError) as raised:
        parse(*args)  # type: ignore[operator]
    (message,) = raised.value.args
    return str(message)


# --- blood pressure ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("50/20", (50, 20)),
        ("300/200", (300, 200)),
        ("300/20", (300, 20)),
        ("51/50", (51, 50)),
        ("128 over 82", (128, 82)),
        ("128 OVER 82", (128, 82)),
        ("128 sur 82", (128, 82)),
        (" 128 / 82 mm Hg ", (128, 82)),
        ("128/82mmhg", (128, 82)),
    ],
)
def test_a_blood_pressure_inside_its_limits_is_read(text: str, reading: tuple[int, int]) -> None:
    assert parse_blood_pressure(text) == reading


@pytest.mark.parametrize("text", ["49/20", "301/80", "120/19", "250/201", "49/19", "301/201"])
def test_a_blood_pressure_past_a_limit_is_checked(text: str) -> None:
    assert refusal(parse_blood_pressure, text) == BP_CHECK


@pytest.mark.parametrize("text", ["120/120", "50/50", "82/128", "200/200"])
def test_equal_or_upside_down_numbers_ask_for_the_bigger_first(text: str) -> None:
    assert refusal(parse_blood_pressure, text) == BP_ORDER


@pytest.mark.parametrize(
    "text", ["", "128", "128-82", "1280/82", "128/8200", "9/5", "128/82 kPa", "١٢٨/٨٢"]
)
def test_a_blood_pressure_not_written_as_one_gets_the_example(text: str) -> None:
    assert refusal(parse_blood_pressure, text) == BP_EXAMPLE


@given(st.integers(50, 300), st.integers(20, 200))
def test_every_reading_inside_the_limits_is_read_or_asked_in_order(
    systolic: int, diastolic: int
) -> None:
    text = f"{systolic}/{diastolic}"
    if systolic > diastolic:
        assert parse_blood_pressure(text) == (systolic, diastolic)
    else:
        assert refusal(parse_blood_pressure, text) == BP_ORDER


# --- numbers and weights -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3.0), ("2,5", 2.5), ("2.55", 2.55), (" 7 ", 7.0), ("123456", 123456.0), ("0", 0.0)],
)
def test_a_number_is_read_with_a_point_or_a_comma(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "1,234", "2.555", "1234567", "-3", "3 kg", "½", "1e3"])
def test_anything_else_is_not_a_number(text: str) -> None:
    assert refusal(parse_number, text) == NUMBER_EXAMPLE


@pytest.mark.parametrize(
    ("text", "value"), [("0.01", 0.01), ("70,5", 70.5), ("1000", 1000.0), ("9", 9.0)]
)
def test_a_weight_up_to_the_maximum_is_read(text: str, value: float) -> None:
    assert parse_weight(text) == value


@pytest.mark.parametrize("text", ["0", "0,0", "1000.01", "9999"])
def test_a_weight_of_nothing_or_over_the_maximum_is_checked(text: str) -> None:
    assert refusal(parse_weight, text) == WEIGHT_CHECK


@pytest.mark.parametrize("text", ["70 kg", "10000", "1,234", "", "seventy"])
def test_a_weight_not_written_as_a_number_gets_the_example(text: str) -> None:
    assert refusal(parse_weight, text) == WEIGHT_EXAMPLE


def test_pounds_become_kilograms_rounded_to_two_places() -> None:
    assert weight_in_kg(154.0, "lb") == 69.85
    assert weight_in_kg(1.0, "lb") == 0.45
    assert weight_in_kg(70.5, "kg") == 70.5
    with pytest.raises(ValueError, match="unknown weight unit 'st'"):
        weight_in_kg(11.0, "st")


# --- a date of birth in one box ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "born"),
    [
        ("1985-03-31", date(1985, 3, 31)),
        ("1900-01-01", date(1900, 1, 1)),
        (" 1985-12-31 ", date(1985, 12, 31)),
        (TODAY.isoformat(), TODAY),
    ],
)
def test_a_date_of_birth_from_1900_to_today_is_read(text: str, born: date) -> None:
    assert parse_date_of_birth(text, TODAY) == born


@pytest.mark.parametrize(
    "text",
    [
        "1985-04-31",  # April has 30 days
        "1985-02-29",
        "19x5-03-27",  # a year with letters
        "1985-W13-3",  # an ISO week date: fromisoformat alone would take it
        "1985W133",
        "19850327",
        "1985/03/27",
        "85-03-27",
        "\uff11\uff19\uff18\uff15-03-27",  # full-width digits
        "27-03-1985",
        "",
    ],
)
def test_anything_but_a_real_year_month_day_gets_the_example(text: str) -> None:
    assert refusal(parse_date_of_birth, text, TODAY) == DATE_EXAMPLE


def test_a_date_of_birth_after_today_or_before_1900_is_refused() -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert refusal(parse_date_of_birth, tomorrow, TODAY) == DATE_NOT_PAST
    assert refusal(parse_date_of_birth, "1899-12-31", TODAY) == DATE_CHECK_YEAR


# --- a date of birth in three boxes ------------------------------------------------------


def problem(day: str, month: str, year: str, today: date = TODAY) -> tuple[str, tuple[str, ...]]:
    """Return the message and the parts marked when three typed parts are refused."""
    with pytest.raises(DateProblem) as raised:
        parse_date_parts(day, month, year, today)
    assert str(raised.value) == raised.value.message
    return raised.value.message, raised.value.parts


@pytest.mark.parametrize(
    ("parts", "born"),
    [
        (("31", "1", "1985"), date(1985, 1, 31)),
        (("31", "12", "1999"), date(1999, 12, 31)),
        (("1", "1", "1900"), date(1900, 1, 1)),
        (("01", "01", "1900"), date(1900, 1, 1)),
        (("29", "févr.", "2000"), date(2000, 2, 29)),
        ((" 1 ", " June ", " 2026 "), TODAY),
    ],
)
def test_three_parts_from_1900_to_today_are_read(parts: tuple[str, str, str], born: date) -> None:
    assert parse_date_parts(*parts, TODAY) == born


@pytest.mark.parametrize(
    ("parts", "marked"),
    [
        (("32", "1", "1985"), ("day",)),
        (("0", "1", "1985"), ("day",)),
        (("x", "1", "1985"), ("day",)),
        (("100", "1", "1985"), ("day",)),
        (("1", "13", "1985"), ("month",)),
        (("1", "0", "1985"), ("month",)),
        (("1", "1", "19x5"), ("year",)),
        (("1", "1", "\uff11\uff19\uff18\uff15"), ("year",)),  # full-width digits
        (("1", "1", "-985"), ("year",)),
        (("32", "13", "19x5"), ("day", "month", "year")),
        (("31", "4", "1985"), ("day",)),  # April has 30 days
        (("29", "2", "1900"), ("day",)),
    ],
)
def test_a_part_that_cannot_be_real_is_marked(
    parts: tuple[str, str, str], marked: tuple[str, ...]
) -> None:
    assert problem(*parts) == (WORDS.real, marked)


@pytest.mark.parametrize("year", ["985", "19850", "85"])
def test_a_year_needs_four_numbers(year: str) -> None:
    assert problem("1", "1", year) == (YEAR_DIGITS, ("year",))


def test_a_date_after_today_or_before_1900_is_refused() -> None:
    assert problem("2", "6", "2026") == (WORDS.past, DATE_PARTS)
    assert problem("31", "12", "1899") == (WORDS.earliest, ("year",))


@pytest.mark.parametrize(
    ("parts", "missing"),
    [
        (("", "1", "1985"), ("day",)),
        (("1", " ", "1985"), ("month",)),
        (("1", "1", ""), ("year",)),
        (("", "", "1985"), ("day", "month")),
        (("", "1", ""), ("day", "year")),
        (("1", "", ""), ("month", "year")),
    ],
)
def test_each_part_left_out_is_named(parts: tuple[str, str, str], missing: tuple[str, ...]) -> None:
    assert problem(*parts) == (WORDS.missing[missing], missing)


def test_nothing_typed_asks_for_the_date() -> None:
    assert problem(" ", "", "") == (WORDS.enter, DATE_PARTS)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("3", 3),
        ("03", 3),
        ("12", 12),
        ("mar", 3),
        ("Mars", 3),
        ("FÉVR.", 2),
        ("aout", 8),
        ("Août", 8),
        ("sept.", 9),
        ("decembre", 12),
    ],
)
def test_a_month_is_read_as_a_number_or_a_name(text: str, number: int) -> None:
    assert month_number(text) == number


@pytest.mark.parametrize("text", ["0", "13", "003", "marc", "", "٣", "1.", "juin juin"])
def test_anything_else_is_no_month(text: str) -> None:
    assert month_number(text) is None


# --- age ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(2008, 6, 2), date(2026, 6, 1), 17),
        (date(2008, 6, 2), date(2026, 6, 2), 18),
        (date(2008, 6, 2), date(2026, 6, 3), 18),
        (date(2008, 5, 31), date(2026, 6, 1), 18),
        (date(2008, 7, 1), date(2026, 6, 1), 17),
        (date(2000, 2, 29), date(2026, 2, 28), 25),
        (date(2000, 2, 29), date(2026, 3, 1), 26),
    ],
)
def test_age_counts_whole_years_from_the_birthday(born: date, today: date, age: int) -> None:
    assert age_on(born, today) == age


def test_the_earliest_birth_is_the_first_of_january_1900() -> None:
    assert date(1900, 1, 1) == parsers.EARLIEST_BIRTH
