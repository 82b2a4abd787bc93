"""Production refuses a weak SECRET_KEY, rate limits off, and a missing PUBLIC_BASE_URL;
every absolute link is built from PUBLIC_BASE_URL, never from the Host header."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from questionnaire.config import CLINIC_PHONE_PLACEHOLDER, ConfigError, is_strong_secret_key
from questionnaire.extensions import db
from questionnaire.questions.catalogue import PAGES
from tests.answers import baseline
from tests.harness.app import Clock, make_app
from tests.harness.patient import Patient

STRONG = "Zk3vQ2xL7pW4mZ8rB3nH6yJ1cF5sD0gA-_eUq9Tn4Rw"
PUBLIC = "https://intake.clinic.example"


def production(tmp_path: Path, **overrides: Any) -> Flask:
    settings: dict[str, Any] = {
        "APP_ENV": "production",
        "SECRET_KEY": STRONG,
        "PUBLIC_BASE_URL": PUBLIC,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
    }
    settings.update(overrides)
    return make_app(tmp_path, **settings)


@pytest.mark.parametrize(
    "key",
    [
        "abcdefghijklmnopqrstuvwxyzabcdefgh",  # 34 lowercase letters
        "A" * 64,
        "a+b/" * 12,
        "Zk3vQ2xL7pW4mZ8rB3nH6yJ1cF5sD0gA-_eUq9Tn4R",  # 42 characters
        "Zk3vQ2xL7pW4mZ8rB3nH6yJ1cF5sD0gA-_eUq9Tn4Rw!",
    ],
)
def test_production_refuses_a_weak_secret_key_and_says_how_to_make_one(
    tmp_path: Path, key: str
) -> None:
    with pytest.raises(ConfigError, match="keys make-secret"):
        production(tmp_path, SECRET_KEY=key)


def test_the_make_secret_command_prints_a_key_production_accepts(tmp_path: Path) -> None:
    result = make_app(tmp_path).test_cli_runner().invoke(args=["keys", "make-secret"])
    assert result.exit_code == 0
    key = result.output.strip()
    assert is_strong_secret_key(key)
    assert production(tmp_path, SECRET_KEY=key).config["SECRET_KEY"] == key


def test_production_refuses_rate_limits_switched_off(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RATELIMIT_ENABLED"):
        production(tmp_path, RATELIMIT_ENABLED=False)


@pytest.mark.parametrize("base", ["", "http://intake.clinic.example", "https://", "intake.example"])
def test_production_requires_an_https_public_base_url(tmp_path: Path, base: str) -> None:
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        production(tmp_path, PUBLIC_BASE_URL=base)


def test_the_resume_link_uses_the_public_address_whatever_the_host_header(
    tmp_path: Path, clock: Clock
) -> None:
    app = make_app(tmp_path, PUBLIC_BASE_URL=PUBLIC, CLOCK=clock)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    client.environ_base["HTTP_HOST"] = "evil.example"
    patient = Patient(client)
    patient.start()
    patient.answer(PAGES[0], baseline())
    later = patient.answer(PAGES[1], {"reasons": "anxiety"}, action="later")
    assert later.status_code == 303
    page = client.get("/saved").get_data(as_text=True)
    assert re.search(r'href="https://intake\.clinic\.example/resume/[A-Za-z0-9_-]+"', page)
    assert "evil.example" not in page


def test_fhir_urls_use_the_public_address_whatever_the_host_header(tmp_path: Path) -> None:
    app = make_app(tmp_path, PUBLIC_BASE_URL=PUBLIC)
    response = app.test_client().get("/fhir/Questionnaire", headers={"Host": "evil.example"})
    text = response.get_data(as_text=True)
    assert PUBLIC in text and "evil.example" not in text


def test_production_refuses_to_start_without_a_clinic_phone(tmp_path: Path) -> None:
    """Issue 25: "quote your reference" must point to a number patients can call."""
    with pytest.raises(ConfigError, match="CLINIC_PHONE is not set"):
        production(tmp_path, CLINIC_PHONE="")
    assert production(tmp_path, CLINIC_PHONE="416 555 0100").config["CLINIC_PHONE"]


def test_development_shows_a_visible_placeholder_where_the_clinic_phone_goes(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, CLINIC_PHONE="")
    assert app.config["CLINIC_PHONE"] == CLINIC_PHONE_PLACEHOLDER
    page = app.test_client().get("/").get_data(as_text=True)
    assert f'<mark class="placeholder">{CLINIC_PHONE_PLACEHOLDER}</mark>' in page
    assert "tel:[" not in page


def test_production_refuses_to_make_a_name_index_key(tmp_path: Path) -> None:
    """The blind-index key must be given in production, like the answers key."""
    from questionnaire.records.crypto import AnswersKeyError

    with pytest.raises(AnswersKeyError, match="NAME_INDEX_KEY"):
        production(tmp_path, NAME_INDEX_KEY="")


def test_an_address_setting_that_would_change_its_mailto_link_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CLINIC_EMAIL"):
        make_app(tmp_path, CLINIC_EMAIL="desk?bcc=someone@elsewhere.example")
    with pytest.raises(ConfigError, match="PRIVACY_OFFICER_EMAIL"):
        make_app(tmp_path, PRIVACY_OFFICER_EMAIL="not an address")
