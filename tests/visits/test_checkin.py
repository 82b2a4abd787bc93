"""The check-in link: its window, one use, kind pages, crisis help at once, holds, languages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.ops.secret_paths import redact
from questionnaire.records.visits import Visit
from tests.harness.app import CASE_DAY, Clock
from tests.harness.forms import csrf_token
from tests.visits.conftest import AddIntake, book

CLEAR = {
    "visit_suicidal_thoughts_now": "no",
    "visit_health_change": "no",
    "visit_heart_symptoms": "no",
    "visit_medicines_changed": "no",
    "visit_alcohol_24h": "no",
    "visit_drugs_24h": "no",
    "visit_last_solid_food": "over_8h",
    "visit_pregnancy_possible": "not_applicable",
    "visit_escort_home": "yes",
    "visit_travel_home": "driven_by_someone",
}
PHQ9 = {**{f"phq9_{n}": "1" for n in range(1, 9)}, "phq9_9": "0"}
GAD7 = {f"gad7_{n}": "1" for n in range(1, 8)}


def on_the_morning(clock: Clock) -> None:
    """Move the test clock (2026-06-01 12:00 UTC) to 09:00 Toronto on 2 June."""
    clock.advance(hours=25)


def send(client: FlaskClient, path: str, answers: dict[str, str]) -> tuple[int, str]:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    token = path.removeprefix("/checkin/")
    reply = client.post(
        "/checkin", data={**answers, "token": token, "csrf_token": csrf_token(page)}
    )
    html = reply.get_data(as_text=True)
    reply.close()  # a hold's alert goes out once the patient has their page
    return reply.status_code, html


def stored(app: Flask) -> Visit:
    with app.app_context():
        visit = db.session.execute(sa.select(Visit)).scalar_one()
        db.session.expunge(visit)
        return visit


def test_a_link_before_its_window_after_it_and_not_a_link_get_kind_pages(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    path = book(app, add_intake(), "2026-06-02T09:30")
    early = client.get(path)
    assert early.status_code == 403
    assert "It opens on the day of your treatment" in early.get_data(as_text=True)
    assert client.get("/checkin/not-a-token").status_code == 404
    assert "We could not find this link" in client.get("/checkin/x").get_data(as_text=True)
    clock.advance(hours=27)  # 11:00 Toronto: 90 minutes after the visit
    late = client.get(path)
    assert late.status_code == 410
    assert "has passed" in late.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(Visit)).scalar_one().opened_at is None


def test_a_clear_check_in_is_stored_sealed_once_and_the_link_then_says_so(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    path = book(app, add_intake(), "2026-06-02T09:30")
    on_the_morning(clock)
    status, html = send(client, path, {**CLEAR, **PHQ9, **GAD7, "visit_bp_reading": "128/82"})
    assert status == 200 and "your answers have been sent" in html
    visit = stored(app)
    assert visit.highest_level is None and not visit.crisis
    assert visit.facts["phq9_total"] == 8 and visit.facts["gad7_total"] == 7
    assert visit.facts["visit_bp_systolic"] == 128
    with app.app_context():
        raw = repr(db.session.execute(sa.text("SELECT answers, facts FROM visits")).all())
        assert "128/82" not in raw and "over_8h" not in raw
    again = client.get(path)
    assert again.status_code == 409
    assert "already been sent" in again.get_data(as_text=True)


def test_a_check_in_sent_twice_is_stored_once(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    path = book(app, add_intake(), "2026-06-02T09:30")
    on_the_morning(clock)
    page = client.get(path)
    data = {**CLEAR, "token": path.removeprefix("/checkin/"), "csrf_token": csrf_token(page)}
    assert client.post("/checkin", data=data).status_code == 200
    second = client.post("/checkin", data={**data, "visit_alcohol_24h": "yes"})
    assert second.status_code == 409
    assert stored(app).highest_level is None


def test_a_missing_answer_shows_the_page_again_with_its_message(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    path = book(app, add_intake(), "2026-06-02T09:30")
    on_the_morning(clock)
    answers = {k: v for k, v in CLEAR.items() if k != "visit_escort_home"}
    status, html = send(client, path, answers)
    assert status == 400
    assert "Select yes if an adult will take you home" in html
    assert stored(app).checked_in_at is None


def test_thoughts_of_ending_life_now_show_crisis_help_at_once_and_hold(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    path = book(app, add_intake(), "2026-06-02T09:30")
    on_the_morning(clock)
    page = client.get(path).get_data(as_text=True)
    # The panel is on the page from the start, revealed by the intake's script on the answer.
    assert 'data-crisis-for="visit_suicidal_thoughts_now"' in page
    assert 'data-crisis-for="phq9_9"' in page
    status, html = send(client, path, {**CLEAR, "visit_suicidal_thoughts_now": "prefer_not"})
    assert status == 200
    assert "You do not have to wait to talk to someone" in html
    visit = stored(app)
    assert visit.crisis and visit.highest_level == "urgent"
    assert [f["rule"] for f in visit.flags] == ["visit_suicidal_thoughts_now"]


def test_phq9_item9_above_zero_shows_crisis_help(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    path = book(app, add_intake(), "2026-06-02T09:30")
    on_the_morning(clock)
    _status, html = send(client, path, {**CLEAR, **PHQ9, "phq9_9": "1"})
    assert "You do not have to wait to talk to someone" in html
    assert stored(app).crisis


def test_a_page_sent_with_an_error_and_a_crisis_answer_shows_crisis_help(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    path = book(app, add_intake(), "2026-06-02T09:30")
    on_the_morning(clock)
    status, html = send(client, path, {"visit_suicidal_thoughts_now": "yes"})
    assert status == 400
    assert "You do not have to wait to talk to someone" in html


def test_alcohol_in_24_hours_is_a_hold_with_its_short_label(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    path = book(app, add_intake(), "2026-06-02T09:30")
    on_the_morning(clock)
    send(client, path, {**CLEAR, "visit_alcohol_24h": "yes", "visit_bp_reading": "150/95"})
    visit = stored(app)
    assert visit.highest_level == "urgent" and not visit.crisis
    assert {(f["rule"], f["level"], f["short"]) for f in visit.flags} == {
        ("visit_alcohol_24h", "urgent", "alcohol in 24 h"),
        ("visit_bp_raised", "review", "BP ≥ 140/90"),
    }


def test_instruments_are_asked_at_most_once_a_week(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    reference = add_intake()
    first = book(app, reference, "2026-06-02T09:30")
    second = book(app, reference, "2026-06-05T09:30")
    third = book(app, reference, "2026-06-10T09:30")
    on_the_morning(clock)
    assert 'name="phq9_1"' in client.get(first).get_data(as_text=True)
    send(client, first, {**CLEAR, **PHQ9, **GAD7})
    clock.advance(days=3)
    page = client.get(second).get_data(as_text=True)
    assert 'name="phq9_1"' not in page and 'name="gad7_1"' not in page
    assert 'name="visit_suicidal_thoughts_now"' in page
    send(client, second, CLEAR)
    clock.advance(days=5)
    assert 'name="phq9_1"' in client.get(third).get_data(as_text=True)


def test_the_check_in_is_in_the_patients_language_without_gad7_in_french(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    path = book(app, add_intake(language="fr-CA"), "2026-06-02T09:30")
    on_the_morning(clock)
    html = client.get(path).get_data(as_text=True)
    assert 'lang="fr-CA"' in html or 'lang="fr"' in html
    assert "En ce moment, pensez-vous à mettre fin à vos jours" in html
    assert "Pourriez-vous être enceinte en ce moment" in html
    assert 'name="phq9_1"' in html and 'name="gad7_1"' not in html


def test_the_links_token_is_redacted_from_access_logs() -> None:
    assert redact("GET /checkin/abcDEF123_-x HTTP/1.1") == "GET /checkin/- HTTP/1.1"


def test_a_patient_who_withdrew_has_no_open_link(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    from questionnaire.records.models import Submission

    reference = add_intake()
    path = book(app, reference, "2026-06-02T09:30")
    with app.app_context():
        db.session.execute(
            sa.update(Submission)
            .where(Submission.reference == reference)
            .values(hidden_at=CASE_DAY, hidden_reason="consent_withdrawn")
        )
        db.session.commit()
    on_the_morning(clock)
    assert client.get(path).status_code == 404
    assert stored(app).checked_in_at is None


def test_a_visit_deleted_while_the_patient_answers_gets_a_kind_page(
    app: Flask, client: FlaskClient, add_intake: AddIntake, clock: Clock
) -> None:
    path = book(app, add_intake(), "2026-06-02T09:30")
    on_the_morning(clock)
    page = client.get(path)
    with app.app_context():
        db.session.execute(sa.delete(Visit))
        db.session.commit()
    token = path.removeprefix("/checkin/")
    reply = client.post("/checkin", data={**CLEAR, "token": token, "csrf_token": csrf_token(page)})
    assert reply.status_code == 404
    assert "We could not find this link" in reply.get_data(as_text=True)
