"""Numbers, blood pressures and months as a francophone writes them are read too."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questionnaire.questions import catalogue as items
from questionnaire.questions.catalogue import month_number, parse_date_parts

TODAY = date(2026, 6, 1)

# --- a decimal comma ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("70,5", 70.5), (" 70,5 ", 70.5), ("70,25", 70.25), ("154,5", 154.5), ("0,5", 0.5)],
)
def test_a_weight_with_a_decimal_comma(text: str, value: float) -> None:
    assert items.parse_weight(text) == value


@pytest.mark.parametrize(("text", "value"), [("2,5", 2.5), ("3", 3.0), ("12,75", 12.75)])
def test_a_number_with_a_decimal_comma(text: str, value: float) -> None:
    assert items.parse_number(text) == value


@given(
    whole=st.integers(0, 999),
    hundredths=st.integers(0, 99),
    places=st.sampled_from([1, 2]),
)
def test_a_comma_and_a_point_read_the_same(whole: int, hundredths: int, places: int) -> None:
    fraction = f"{hundredths:02d}"[:places]
    point, comma = f"{whole}.{fraction}", f"{whole},{fraction}"
    assert items.parse_number(comma) == items.parse_number(point) == float(point)
    if float(point) > 0:
        assert items.parse_weight(comma) == items.parse_weight(point) == float(point)


@given(whole=st.integers(1, 999), thousands=st.integers(0, 999), mark=st.sampled_from(",."))
def test_a_thousands_separator_is_refused_not_guessed(
    whole: int, thousands: int, mark: str
) -> None:
    # "1,234" is 1234 to an anglophone and 1.234 to a francophone: ask again, never guess.
    text = f"{whole}{mark}{thousands:03d}"
    with pytest.raises(ValueError, match=re.escape(items.NUMBER_EXAMPLE)):
        items.parse_number(text)
    with pytest.raises(ValueError, match=re.escape(items.WEIGHT_EXAMPLE)):
        items.parse_weight(text)


@pytest.mark.parametrize("text", ["1,234", "1 234", "70,5 kg", "70,5,5", ",5", "70,", "1.234,5"])
def test_weights_that_are_refused_with_the_example(text: str) -> None:
    # The unit is chosen beside the box, so a unit typed in it is refused, as before.
    with pytest.raises(ValueError, match=re.escape(items.WEIGHT_EXAMPLE)):
        items.parse_weight(text)


# --- blood pressure: "sur" ------------------------------------------------------------


@pytest.mark.parametrize("text", ["128 sur 82", "128sur82", "128 SUR 82", " 128  Sur  82 mmHg "])
def test_a_blood_pressure_written_with_sur(text: str) -> None:
    assert items.parse_blood_pressure(text) == (128, 82)


@pytest.mark.parametrize("text", ["128 sous 82", "128 sure 82", "sur 82", "128 sur"])
def test_other_words_between_the_numbers_are_still_refused(text: str) -> None:
    with pytest.raises(ValueError, match="128/82"):
        items.parse_blood_pressure(text)


# --- French month names ---------------------------------------------------------------

#: Each month's French name and usual short forms, with their accents.
FRENCH = {
    1: ["janvier", "janv", "janv."],
    2: ["février", "fevrier", "févr", "févr.", "fevr", "fév", "fev."],
    3: ["mars"],
    4: ["avril", "avr", "avr."],
    5: ["mai"],
    6: ["juin"],
    7: ["juillet", "juil", "juil."],
    8: ["août", "aout", "Août", "AOÛT"],
    9: ["septembre", "sept", "sept."],
    10: ["octobre", "oct", "oct."],
    11: ["novembre", "nov", "nov."],
    12: ["décembre", "decembre", "déc", "déc.", "dec."],
}


@pytest.mark.parametrize(
    ("text", "number"), [(name, number) for number, names in FRENCH.items() for name in names]
)
def test_french_month_names_and_short_forms(text: str, number: int) -> None:
    assert month_number(text) == number


@given(
    number=st.integers(1, 12),
    data=st.data(),
    case=st.sampled_from([str.lower, str.upper, str.title, str.capitalize]),
)
def test_a_french_month_reads_in_any_case(number: int, data: st.DataObject, case) -> None:
    name = data.draw(st.sampled_from(FRENCH[number]))
    assert month_number(case(name)) == number


@pytest.mark.parametrize(
    ("text", "number"),
    [("March", 3), ("mar", 3), ("Sept", 9), ("dec", 12), ("May", 5), ("3", 3), ("03", 3)],
)
def test_english_months_and_numbers_still_read(text: str, number: int) -> None:
    assert month_number(text) == number


@pytest.mark.parametrize("text", ["marsh", "juni", "aoû", "13", "0", "mardi", "", "."])
def test_words_that_are_not_months(text: str) -> None:
    assert month_number(text) is None


def test_a_date_of_birth_typed_with_a_french_month() -> None:
    assert parse_date_parts("27", "mars", "1985", TODAY) == date(1985, 3, 27)
    assert parse_date_parts("1", "févr.", "1990", TODAY) == date(1990, 2, 1)
    assert parse_date_parts("15", "aout", "2000", TODAY) == date(2000, 8, 15)
