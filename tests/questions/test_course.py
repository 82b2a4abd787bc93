"""Measurement-based care facts across a course (ITEMS.md section 15)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from questionnaire.questions.course import Reading, baseline, course_facts, trend

START = datetime(2027, 1, 4, 9, 30)


def course(
    intake: tuple[int | None, int | None], *visits: tuple[int | None, int | None]
) -> list[Reading]:
    """The intake's (PHQ-9, GAD-7) totals, then each check-in's, a few days apart."""
    readings = [Reading(START, {"phq9_total": intake[0], "gad7_total": intake[1]}, "intake")]
    for number, (phq9, gad7) in enumerate(visits, 1):
        when = START + timedelta(days=7 + 3 * number)
        readings.append(Reading(when, {"phq9_total": phq9, "gad7_total": gad7}))
    return readings


def test_a_course_that_responds_without_remitting() -> None:
    readings = course((20, 12), (14, 10), (9, 8))
    facts = course_facts(readings, 2)
    assert facts["visit_number"] == 2
    assert (facts["phq9_baseline"], facts["phq9_baseline_from"]) == (20, "intake")
    assert (facts["phq9_previous"], facts["phq9_change_previous"]) == (14, -5)
    assert facts["phq9_change_baseline"] == -11
    assert (facts["phq9_response"], facts["phq9_remission"]) == ("yes", "no")
    assert facts["phq9_worsening"] == "no"
    # The first check-in had fallen by 6 of 20: not yet a response.
    assert course_facts(readings, 1)["phq9_response"] == "no"


def test_half_is_exact_in_whole_numbers() -> None:
    assert course_facts(course((21, None), (10, None)), 1)["phq9_response"] == "yes"
    assert course_facts(course((21, None), (11, None)), 1)["phq9_response"] == "no"
    assert course_facts(course((20, None), (10, None)), 1)["phq9_response"] == "yes"


def test_a_course_that_remits() -> None:
    facts = course_facts(course((16, 9), (8, 6), (4, 3)), 2)
    assert (facts["phq9_response"], facts["phq9_remission"]) == ("yes", "yes")
    assert facts["phq9_change_baseline"] == -12


def test_a_course_that_worsens_against_the_last_check_in_or_the_intake() -> None:
    since_last = course_facts(course((12, 8), (8, 8), (13, 12)), 2)
    assert (since_last["phq9_change_previous"], since_last["phq9_change_baseline"]) == (5, 1)
    assert since_last["phq9_worsening"] == "yes"
    assert (since_last["gad7_change_previous"], since_last["gad7_worsening"]) == (4, "yes")
    since_intake = course_facts(course((12, 8), (16, 11), (17, 10)), 2)
    assert (since_intake["phq9_change_previous"], since_intake["phq9_change_baseline"]) == (1, 5)
    assert since_intake["phq9_worsening"] == "yes"
    assert since_intake["gad7_worsening"] == "no"  # a rise of 2 and 3: under 4
    steady = course_facts(course((12, 8), (15, 11)), 1)
    assert (steady["phq9_worsening"], steady["gad7_worsening"]) == ("no", "no")  # 3, 3


def test_below_a_baseline_of_ten_there_is_no_response_or_remission() -> None:
    facts = course_facts(course((9, 5), (2, 1)), 1)
    assert "phq9_response" not in facts and "phq9_remission" not in facts
    assert facts["phq9_change_baseline"] == -7  # the change is still there


def test_an_incomplete_intake_takes_the_first_complete_check_in_as_baseline() -> None:
    readings = course((None, None), (None, 9), (18, 10), (8, 7))
    assert baseline(readings, "phq9") is not None
    first = course_facts(readings, 1)
    assert "phq9_baseline" not in first  # no complete PHQ-9 yet: nothing guessed
    assert (first["gad7_baseline"], first["gad7_baseline_from"]) == (9, "visit 1")
    at_baseline = course_facts(readings, 2)
    assert (at_baseline["phq9_baseline"], at_baseline["phq9_baseline_from"]) == (18, "visit 2")
    assert at_baseline["phq9_change_baseline"] == 0 and at_baseline["phq9_change_previous"] == 0
    later = course_facts(readings, 3)
    assert (later["phq9_previous"], later["phq9_response"]) == (18, "yes")


def test_a_check_in_without_the_instruments_keeps_the_baseline_but_no_change() -> None:
    readings = course((15, 10), (None, None))
    facts = course_facts(readings, 1)
    assert facts["phq9_baseline"] == 15 and facts["phq9_previous"] == 15
    assert not {"phq9_change_baseline", "phq9_worsening", "phq9_response"} & facts.keys()


def test_the_previous_total_skips_check_ins_without_one() -> None:
    facts = course_facts(course((20, 10), (12, 9), (None, None), (17, 9)), 3)
    assert (facts["visit_number"], facts["phq9_previous"], facts["phq9_change_previous"]) == (
        3,
        12,
        5,
    )
    assert facts["phq9_worsening"] == "yes"


def test_the_trend_lists_complete_totals_in_time_order() -> None:
    readings = course((20, None), (None, 9), (12, 8))
    assert [total for _, total in trend(readings, "phq9")] == [20, 12]
    assert [when for when, _ in trend(readings, "gad7")] == [readings[1].at, readings[2].at]


@given(st.integers(0, 27), st.integers(0, 27))
def test_response_and_remission_follow_their_definitions(base: int, total: int) -> None:
    facts = course_facts(course((base, None), (total, None)), 1)
    if base < 10:
        assert "phq9_response" not in facts and "phq9_remission" not in facts
    else:
        assert (facts["phq9_response"] == "yes") == (total * 2 <= base)
        assert (facts["phq9_remission"] == "yes") == (total < 5)
    assert (facts["phq9_worsening"] == "yes") == (total - base >= 5)
