"""The trail as admins read it: filters checked, newest first, a page at a time."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from questionnaire import audit
from questionnaire.audit.trail import PAGE_SIZE, BadTrailFilter, TrailFilter, trail_page
from questionnaire.extensions import db


def test_a_filter_reads_every_argument_it_offers() -> None:
    wanted = TrailFilter.parse(
        {
            "action": "export_csv",
            "actor": " Ada@Clinic.example ",
            "reference": "abcd-2345",
            "since": "2026-01-02",
            "before": "40",
        }
    )
    assert wanted == TrailFilter(
        "export_csv", "ada@clinic.example", "ABCD2345", date(2026, 1, 2), 40
    )
    assert wanted.as_args() == {
        "action": "export_csv",
        "actor": "ada@clinic.example",
        "reference": "ABCD2345",
        "since": "2026-01-02",
    }


@pytest.mark.parametrize(
    "args",
    [
        {"action": "drop_table"},
        {"actor": "not an address"},
        {"reference": "nope"},
        {"since": "yesterday"},
        {"before": "ten"},
    ],
)
def test_a_value_not_offered_is_refused(args: dict[str, str]) -> None:
    with pytest.raises(BadTrailFilter):
        TrailFilter.parse(args)


def test_pages_run_newest_first_and_filters_narrow_them(app: Flask) -> None:
    with app.app_context():
        for number in range(PAGE_SIZE + 5):
            action = "export_csv" if number % 2 else "view_queue"
            audit.record(db.session, action, reference=f"ABCD{number:04d}")
        db.session.commit()
        first = trail_page(db.session, TrailFilter())
        assert len(first.events) == PAGE_SIZE
        ids = [event.id for event in first.events]
        assert ids == sorted(ids, reverse=True)
        assert first.older is not None
        rest = trail_page(db.session, TrailFilter(before=first.older))
        assert len(rest.events) == 5 and rest.older is None
        exports = trail_page(db.session, TrailFilter(action="export_csv"))
        assert {event.action for event in exports.events} == {"export_csv"}
        one = trail_page(db.session, TrailFilter(reference="ABCD0003"))
        assert [event.reference for event in one.events] == ["ABCD0003"]
