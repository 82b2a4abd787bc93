"""The privacy notice names the privacy officer, where the data is kept, and for how long."""

from __future__ import annotations

from pathlib import Path

import pytest

from questionnaire.config import DEFAULT_RETENTION_DAYS
from questionnaire.intake.retention import Span, retention_span
from tests.harness.app import make_app
from tests.harness.forms import page_html, visible_text


def notice(tmp_path: Path, **config: object) -> tuple[str, str]:
    """Return the privacy notice's visible text and its HTML, in English."""
    response = make_app(tmp_path, **config).test_client().get("/privacy")
    assert response.status_code == 200
    return visible_text(response), page_html(response)


@pytest.mark.parametrize(
    ("days", "span"),
    [
        (3650, Span("years", 10)),
        (3652, Span("years", 10)),
        (730, Span("years", 2)),
        (1000, Span("years", 3)),
        (2555, Span("years", 7)),
        (365, Span("years", 1)),
        (500, Span("months", 16)),
        (90, Span("months", 3)),
        (31, Span("months", 1)),
        (1, Span("months", 1)),
    ],
)
def test_a_retention_period_reads_in_whole_years_or_months(days: int, span: Span) -> None:
    assert retention_span(days) == span


def test_the_default_retention_is_about_ten_years(tmp_path: Path) -> None:
    assert DEFAULT_RETENTION_DAYS == 3650
    assert make_app(tmp_path).config["RETENTION_DAYS"] == 3650
    text, _html = notice(tmp_path)
    assert "We keep the answers you send for about 10 years." in text


@pytest.mark.parametrize(
    ("days", "sentence"),
    [
        (365, "for about 1 year."),
        (90, "for about 3 months."),
        (30, "for about 1 month."),
    ],
)
def test_the_notice_states_the_retention_setting(tmp_path: Path, days: int, sentence: str) -> None:
    text, _html = notice(tmp_path, RETENTION_DAYS=days)
    assert sentence in text


def test_the_notice_names_the_officer_and_where_the_data_is_kept(tmp_path: Path) -> None:
    text, html = notice(
        tmp_path,
        PRIVACY_OFFICER_NAME="Dr. Ada O'Neil",
        PRIVACY_OFFICER_EMAIL="privacy@clinic.example",
        DATA_LOCATION="on servers in Ontario, Canada",
    )
    assert "Our privacy officer is Dr. Ada O'Neil." in text
    assert '<a href="mailto:privacy@clinic.example">privacy@clinic.example</a>' in html
    assert "Your answers are kept on servers in Ontario, Canada." in text


def test_without_those_settings_the_notice_says_nothing_of_them(tmp_path: Path) -> None:
    text, html = notice(tmp_path)
    assert "privacy officer" not in text
    assert "Your answers are kept " not in text
    assert "mailto:" not in html  # CLINIC_EMAIL is unset in tests


def test_an_officer_s_name_alone_or_email_alone_is_shown(tmp_path: Path) -> None:
    text, html = notice(tmp_path, PRIVACY_OFFICER_NAME="Sam Lee")
    assert "Our privacy officer is Sam Lee." in text and "mailto:" not in html
    text, html = notice(tmp_path, PRIVACY_OFFICER_EMAIL="privacy@clinic.example")
    assert "You can write to our privacy officer at privacy@clinic.example" in text
    assert 'href="mailto:privacy@clinic.example"' in html


def test_the_officer_s_name_is_escaped(tmp_path: Path) -> None:
    _text, html = notice(tmp_path, PRIVACY_OFFICER_NAME="<script>x</script>")
    assert "<script>x" not in html and "&lt;script&gt;x" in html


def test_the_data_location_reads_in_the_patient_s_language(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        DATA_LOCATION="on servers in Ontario, Canada",
        DATA_LOCATION_FR_CA="sur des serveurs en Ontario, au Canada",
    )
    response = app.test_client().get("/privacy", headers={"Accept-Language": "fr-CA"})
    assert "sur des serveurs en Ontario, au Canada" in visible_text(response)


def test_the_worded_data_location_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA_LOCATION", "on servers in Quebec, Canada")
    monkeypatch.setenv("DATA_LOCATION_FR_CA", "sur des serveurs au Québec, Canada")
    monkeypatch.setenv("PRIVACY_OFFICER_NAME", "Sam Lee")
    config = make_app(tmp_path).config
    assert config["DATA_LOCATION"] == "on servers in Quebec, Canada"
    assert config["DATA_LOCATION_FR_CA"] == "sur des serveurs au Québec, Canada"
    assert config["PRIVACY_OFFICER_NAME"] == "Sam Lee"
