"""Ages are judged on the clinic's local date of sending, never on the UTC date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from questionnaire.extensions import db
from questionnaire.intake import service as services
from questionnaire.questions.catalogue import PAGES
from questionnaire.records.models import Submission
from questionnaire.urgent import unsent
from tests.answers import baseline
from tests.harness.app import Clock, make_app
from tests.harness.forms import visible_text
from tests.harness.patient import Patient

#: 01:30 UTC on 2 June: still 21:30 on 1 June in Toronto (EDT, UTC-4).
TORONTO_EVENING = datetime(2026, 6, 2, 1, 30, tzinfo=UTC)
#: 13:00 UTC on 1 June: already 01:00 on 2 June in Auckland (NZST, UTC+12).
AUCKLAND_NIGHT = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
#: 18 on 2 June 2026: 17 on the 1st.
EIGHTEENTH_BIRTHDAY_2_JUNE = "2008-06-02"


def app_at(tmp_path: Path, moment: datetime, **config: Any) -> Flask:
    app = make_app(tmp_path, CLOCK=Clock(moment), **config)
    with app.app_context():
        db.create_all()
    return app


def send(app: Flask, born: str) -> tuple[dict[str, Any], set[str]]:
    """Send the baseline answers with a date of birth; return the stored facts and flags."""
    response = Patient(app.test_client()).complete({**baseline(), "date_of_birth": born})
    assert response.status_code == 303, visible_text(response)[:500]
    with app.app_context():
        submission = db.session.scalars(sa.select(Submission)).one()
        return dict(submission.facts), {flag.rule for flag in submission.flags}


def test_a_birthday_eve_evening_in_toronto_is_judged_on_the_eve(tmp_path: Path) -> None:
    facts, flags = send(app_at(tmp_path, TORONTO_EVENING), EIGHTEENTH_BIRTHDAY_2_JUNE)
    # The UTC date (2 June) would make the patient 18; in Toronto it is still 1 June.
    assert facts["age_years"] == 17
    assert "age_under_18" in flags


def test_after_midnight_in_toronto_the_birthday_counts(tmp_path: Path) -> None:
    facts, flags = send(
        app_at(tmp_path, datetime(2026, 6, 2, 4, 30, tzinfo=UTC)), EIGHTEENTH_BIRTHDAY_2_JUNE
    )
    assert facts["age_years"] == 18
    assert "age_under_18" not in flags


def test_a_zone_ahead_of_utc_counts_the_birthday_before_the_utc_date(tmp_path: Path) -> None:
    app = app_at(tmp_path, AUCKLAND_NIGHT, CLINIC_TIMEZONE="Pacific/Auckland")
    facts, flags = send(app, EIGHTEENTH_BIRTHDAY_2_JUNE)
    # The UTC date (1 June) would make the patient 17; in Auckland it is 2 June.
    assert facts["age_years"] == 18
    assert "age_under_18" not in flags


def test_the_65th_birthday_counts_on_the_clinic_s_date(tmp_path: Path) -> None:
    _facts, flags = send(app_at(tmp_path, TORONTO_EVENING), "1961-06-02")
    assert "age_65_plus" not in flags  # 64 until 2 June in Toronto
    _facts, flags = send(
        app_at(tmp_path / "ahead", AUCKLAND_NIGHT, CLINIC_TIMEZONE="Pacific/Auckland"),
        "1961-06-02",
    )
    assert "age_65_plus" in flags


def test_the_minimum_age_is_judged_on_the_clinic_s_date(tmp_path: Path) -> None:
    app = app_at(tmp_path, TORONTO_EVENING)
    patient = Patient(app.test_client())
    patient.start()
    # 14 on 2 June: on the evening of 1 June in Toronto the patient is 13.
    response = patient.answer(PAGES[0], {**baseline(), "date_of_birth": "2012-06-02"})
    assert response.status_code == 200 and "14 and older" in visible_text(response)

    ahead = app_at(tmp_path / "ahead", AUCKLAND_NIGHT, CLINIC_TIMEZONE="Pacific/Auckland")
    patient = Patient(ahead.test_client())
    patient.start()
    response = patient.answer(PAGES[0], {**baseline(), "date_of_birth": "2012-06-02"})
    assert response.status_code == 303


def test_a_date_of_birth_today_in_the_clinic_is_not_in_the_future(tmp_path: Path) -> None:
    # At 01:00 on 2 June in Auckland the UTC date is still 1 June; 2 June is today, not later.
    ahead = app_at(tmp_path, AUCKLAND_NIGHT, CLINIC_TIMEZONE="Pacific/Auckland")
    patient = Patient(ahead.test_client())
    patient.start()
    response = patient.answer(PAGES[0], {**baseline(), "date_of_birth": "2026-06-02"})
    text = visible_text(response)
    assert response.status_code == 200 and "14 and older" in text  # too young, not "future"


@pytest.mark.parametrize(
    ("zone", "moment", "judged_on", "age"),
    [
        ("America/Toronto", TORONTO_EVENING, date(2026, 6, 1), 17),
        ("Pacific/Auckland", AUCKLAND_NIGHT, date(2026, 6, 2), 18),
    ],
)
def test_unsent_drafts_are_judged_on_the_clinic_s_date(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    zone: str,
    moment: datetime,
    judged_on: date,
    age: int,
) -> None:
    app = app_at(tmp_path, moment, CLINIC_TIMEZONE=zone)
    seen: list[tuple[date, Any]] = []
    real_partial_answers = unsent.partial_answers

    def partial_answers(
        raw: Any, today: date, screener: bool = False
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        # A spy, not a stub: the draft is judged by the real function, and the date it was
        # given and the age it derived from that date are recorded.
        answers, facts = real_partial_answers(raw, today, screener)
        seen.append((today, facts["age_years"]))
        return answers, facts

    monkeypatch.setattr(unsent, "partial_answers", partial_answers)
    with app.app_context():
        draft, _token = services.start_draft(
            db.session, language="en", now=moment, contact_consent=True
        )
        draft.answers = {"date_of_birth": EIGHTEENTH_BIRTHDAY_2_JUNE}
        table = app.extensions["rule_table"]
        # Nothing urgent in a date of birth: judged, and nothing raised.
        assert unsent.raise_for_draft(db.session, draft, table, app.config, [], moment) is None
        assert draft.judged_at is not None
    assert seen == [(judged_on, age)]
