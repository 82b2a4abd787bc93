"""The app factory: settings, fail-closed start-up, the landing page."""

from __future__ import annotations

from pathlib import Path

import pytest

from questionnaire.config import DEVELOPMENT_SECRET_KEY, ConfigError
from questionnaire.rules import RuleTableError
from tests.harness.app import PROJECT_ROOT, make_app


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = (PROJECT_ROOT / "rules.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


STRONG_KEY = "Zk3vQ2xL7pW4mZ8rB3nH6yJ1cF5sD0gA-_eUq9Tn4Rw"


def test_the_app_starts_with_the_shipped_rule_table(plain_app) -> None:
    table = plain_app.extensions["rule_table"]
    assert table.version == "2026.12.2"
    assert len(table.rules) >= 45


def test_the_app_refuses_to_start_with_a_broken_rule_table(tmp_path: Path) -> None:
    path = broken_copy(
        tmp_path,
        'when: {item: seizures, one_of: ["yes", unsure]}',
        'when: {item: seizure, one_of: ["yes", unsure]}',
    )
    with pytest.raises(RuleTableError) as raised:
        make_app(tmp_path, RULES_PATH=str(path))
    message = str(raised.value)
    line = next(
        number
        for number, text in enumerate(path.read_text().splitlines(), start=1)
        if "item: seizure," in text
    )
    assert f"rules.yaml:{line}: rule 'seizure_history'" in message
    assert "did you mean 'seizures'" in message
    assert "will not start" in message


def test_the_app_refuses_a_table_with_a_verdict_word(tmp_path: Path) -> None:
    path = broken_copy(
        tmp_path,
        "message: Reports a past seizure or epilepsy, or is unsure.",
        "message: Contraindicated - reports a past seizure.",
    )
    with pytest.raises(RuleTableError, match="seizure_history"):
        make_app(tmp_path, RULES_PATH=str(path))


def test_a_missing_rule_table_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(RuleTableError, match="RULES_PATH"):
        make_app(tmp_path, RULES_PATH=str(tmp_path / "nowhere.yaml"))


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (None, "SECRET_KEY is not set"),
        (DEVELOPMENT_SECRET_KEY, "SECRET_KEY is not set"),
        ("short-key", "too weak"),
        ("a" * 64, "too weak"),
    ],
)
def test_production_refuses_a_missing_or_weak_secret_key(
    tmp_path: Path, key: str | None, words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        make_app(tmp_path, APP_ENV="production", SECRET_KEY=key)


def test_production_starts_with_a_strong_secret_key(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        APP_ENV="production",
        PUBLIC_BASE_URL="https://intake.clinic.example",
        SECRET_KEY=STRONG_KEY,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
    )
    assert app.config["APP_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_rate_limits_kept_in_one_workers_memory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI=redis"):
        make_app(
            tmp_path,
            APP_ENV="production",
            PUBLIC_BASE_URL="https://intake.clinic.example",
            SECRET_KEY=STRONG_KEY,
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI="memory://",
        )


def test_production_refuses_debug(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Debug"):
        make_app(tmp_path, APP_ENV="production", SECRET_KEY=STRONG_KEY, DEBUG=True)


def test_an_unknown_app_env_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(ConfigError, match="APP_ENV"):
        make_app(tmp_path)


def test_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRISIS_LINE_NUMBER", "1-833-456-4566")
    monkeypatch.setenv("CLINIC_EMAIL", "intake@harbour.example")
    app = make_app(tmp_path)
    assert app.config["CRISIS_LINE_NUMBER"] == "1-833-456-4566"
    assert app.config["CLINIC_EMAIL"] == "intake@harbour.example"
    page = app.test_client().get("/").get_data(as_text=True)
    assert "1\u2011833\u2011456\u20114566" in page and "intake@harbour.example" in page


def test_the_landing_page_shows_something_real(plain_app) -> None:
    response = plain_app.test_client().get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Before your first appointment" in page
    assert "9\u20118\u20118" in page
    assert "9-8-8" not in page  # non-breaking hyphens: the number never wraps at 9-8- / 8
    assert 'href="tel:988" class="tel"' in page  # .tel: white-space nowrap
    assert "privacy notice" in page


def test_an_unknown_page_is_a_kind_404(plain_app) -> None:
    response = plain_app.test_client().get("/no-such-page")
    assert response.status_code == 404
    assert "We could not find that page" in response.get_data(as_text=True)
