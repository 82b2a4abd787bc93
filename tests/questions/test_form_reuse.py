"""Whole-questionnaire validation reuses each thread's forms: nothing of one send reaches the next."""

from __future__ import annotations

import threading
from datetime import date

from questionnaire.questions.forms import validate_answers
from tests.answers import BASELINE_DATE, baseline, cases, with_changes

DAY: date = BASELINE_DATE


def test_an_answer_left_out_of_the_next_questionnaire_is_not_kept_from_the_last() -> None:
    full = with_changes({"medications": "sertraline 100 mg", "phone": "416 555 0100"})
    first = validate_answers(full, DAY)
    assert first.ok and first.answers["medications"] == "sertraline 100 mg"
    second = validate_answers(with_changes({"medications": None, "phone": None}), DAY)
    assert second.ok
    assert "medications" not in second.answers and "phone" not in second.answers


def test_errors_of_one_questionnaire_do_not_reach_the_next() -> None:
    broken = validate_answers(with_changes({"bp_reading": "not a reading"}), DAY)
    assert not broken.ok and "bp_reading" in broken.errors
    clean = validate_answers(baseline(), DAY)
    assert clean.ok and clean.errors == {}


def test_every_case_validates_the_same_whatever_came_before() -> None:
    answer_sets = [with_changes(case["answers"]) for case in cases()]
    forwards = [validate_answers(answers, DAY) for answers in answer_sets]
    backwards = [validate_answers(answers, DAY) for answers in reversed(answer_sets)]
    for one, other in zip(forwards, reversed(backwards), strict=True):
        assert (one.answers, one.facts, one.errors) == (other.answers, other.facts, other.errors)


def test_threads_validate_with_forms_of_their_own() -> None:
    results: dict[str, object] = {}

    def validate(name: str, answers: dict) -> None:
        for _ in range(30):
            results[name] = validate_answers(answers, DAY).answers.get("medications")

    threads = [
        threading.Thread(target=validate, args=("a", with_changes({"medications": "alpha med"}))),
        threading.Thread(target=validate, args=("b", with_changes({"medications": None}))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"a": "alpha med", "b": None}
