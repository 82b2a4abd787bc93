"""Settings read from the environment, with development defaults and production checks."""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from questionnaire.questions.wording import N_

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RULES_PATH = PROJECT_ROOT / "rules.yaml"
DEFAULT_CHECKIN_RULES_PATH = PROJECT_ROOT / "checkin_rules.yaml"
#: The questionnaire definition shipped with the app (docs/clinical-leads-questions.md).
DEFAULT_QUESTIONS_PATH = PROJECT_ROOT / "forms" / "intake.yaml"
#: The clinic's zone when CLINIC_TIMEZONE is unset (an IANA name).
DEFAULT_CLINIC_TIMEZONE = "America/Toronto"
#: How long a sent intake is kept when RETENTION_DAYS is unset: about 10 years, what
#: Ontario's CPSO expects for an adult's record. Clinics set it from their regulator.
DEFAULT_RETENTION_DAYS = 3650

#: Used only when APP_ENV is not production; production refuses it.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-deploy"  # noqa: S105
SECRET_KEY_MIN_LENGTH = 43
SECRET_KEY_MIN_BYTES = 32
HOW_TO_MAKE_A_KEY = (
    "Make one with: flask --app questionnaire keys make-secret "
    '(or python -c "import secrets; print(secrets.token_urlsafe(32))").'
)
_URLSAFE = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def is_strong_secret_key(key: str) -> bool:
    """Return whether a key is URL-safe base64 of 32 bytes or more, and not one repeated character."""
    if len(key.rstrip("=")) < SECRET_KEY_MIN_LENGTH or not _URLSAFE.fullmatch(key):
        return False
    if len(set(key.rstrip("="))) == 1:
        return False
    try:
        decoded = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except (binascii.Error, ValueError):
        return False
    return len(decoded) >= SECRET_KEY_MIN_BYTES


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


#: Settings written in words for patients: each may be given again per language, with the
#: locale id in capitals after it (CLINIC_HOURS_FR_CA); a default reads in every language.
WORDED_SETTINGS = (
    "CLINIC_NAME",
    "CLINIC_REPLY_DAYS",
    "CLINIC_HOURS",
    "CRISIS_LINE_NOTE",
    "DATA_LOCATION",
)


def from_environment(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Return the app's settings from environment variables (see docs/clinic-it.md, Configuration)."""
    env = environ.get("APP_ENV", "development").strip().lower()
    if env not in {"development", "production"}:
        raise ConfigError(f"APP_ENV is {env!r}; set it to 'development' or 'production'.")
    default_db = "sqlite:///" + os.path.join(instance_path, "questionnaire.db")
    # A setting in words may have one value per language: CLINIC_HOURS_FR_CA.
    worded = {
        key: value
        for key, value in environ.items()
        if any(key.startswith(f"{name}_") for name in WORDED_SETTINGS) and value.strip()
    }
    return worded | {
        "APP_ENV": env,
        # Cookies: never readable by scripts, not sent on cross-site posts (HTTPS-only in
        # production: see check_production).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Flask-WTF's HTTPS check wants a same-site Referer, but every page sends
        # Referrer-Policy: no-referrer, so browsers send none. The token and SameSite guard.
        "WTF_CSRF_SSL_STRICT": False,
        "SECRET_KEY": environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": environ.get("DATABASE_URL", default_db),
        "RULES_PATH": environ.get("RULES_PATH", str(DEFAULT_RULES_PATH)),
        # The questionnaire definition the patient answers (checked at start-up, like rules).
        "QUESTIONS_PATH": environ.get("QUESTIONS_PATH", str(DEFAULT_QUESTIONS_PATH)),
        # The key that seals answers at rest; without it, instance/answers.key (made in
        # development only). ANSWERS_OLD_KEYS: earlier keys during a rotation.
        "ANSWERS_KEY": environ.get("ANSWERS_KEY", ""),
        "ANSWERS_OLD_KEYS": environ.get("ANSWERS_OLD_KEYS", ""),
        # The blind-index key for name search, apart from the answers key (docs/clinicians.md, "Searching
        # by name"); without it, instance/name-index.key (made in development only).
        "NAME_INDEX_KEY": environ.get("NAME_INDEX_KEY", ""),
        # The patient's languages, as Babel locale ids; the first is the default.
        "LANGUAGES": environ.get("LANGUAGES", "en,fr_CA"),
        "CLINIC_NAME": environ.get("CLINIC_NAME", N_("Our clinic")),
        "CLINIC_PHONE": environ.get("CLINIC_PHONE", ""),
        "CLINIC_EMAIL": environ.get("CLINIC_EMAIL", ""),
        "CLINIC_REPLY_DAYS": environ.get("CLINIC_REPLY_DAYS", N_("2 working days")),
        "CRISIS_LINE_NUMBER": environ.get("CRISIS_LINE_NUMBER", "9-8-8"),
        "CRISIS_LINE_NOTE": environ.get("CRISIS_LINE_NOTE", N_("Canada and the US, any time")),
        "EMERGENCY_NUMBER": environ.get("EMERGENCY_NUMBER", "911"),
        # The C-SSRS screener (Screen Version - Recent) in the safety section. Off by default:
        # its electronic use needs the clinic's own permission (docs/clinical-leads.md, "C-SSRS screener").
        "CSSRS_SCREENER_ENABLED": environ.get("CSSRS_SCREENER_ENABLED", "false").lower() == "true",
        "PUBLIC_BASE_URL": environ.get("PUBLIC_BASE_URL", ""),
        # Below this age the online form stops at the date of birth (Quebec: under 14 a
        # minor cannot consent alone to the collection of their personal information).
        "MIN_AGE_ONLINE": int(environ.get("MIN_AGE_ONLINE", "14")),
        # Requests bigger than this get a 413 page; the largest real page is a few kB.
        "MAX_CONTENT_LENGTH": int(environ.get("MAX_CONTENT_LENGTH", str(64 * 1024))),
        # How many reverse proxies in front of the app set X-Forwarded-For (0: none).
        "TRUSTED_PROXY_HOPS": int(environ.get("TRUSTED_PROXY_HOPS", "0")),
        "RATELIMIT_ENABLED": environ.get("RATELIMIT_ENABLED", "true").lower() != "false",
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": environ.get("RATELIMIT_KEY_PREFIX", "intake"),
        "RATELIMIT_START": environ.get("RATELIMIT_START", "20 per hour"),
        # Sends of one draft (a double click, a refresh), then a much higher ceiling per
        # address against floods; only sends that go through count (intake/views.check).
        "RATELIMIT_SUBMIT": environ.get("RATELIMIT_SUBMIT", "10 per hour"),
        "RATELIMIT_SUBMIT_ADDRESS": environ.get("RATELIMIT_SUBMIT_ADDRESS", "200 per hour"),
        "RATELIMIT_SIGN_IN": environ.get("RATELIMIT_SIGN_IN", "30 per 15 minutes"),
        # Submissions older than this many days are deleted by `flask purge`; the privacy
        # notice states it in years or months.
        "RETENTION_DAYS": int(environ.get("RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS))),
        # The clinic's IANA time zone: ages are judged on its date, times shown in it.
        "CLINIC_TIMEZONE": environ.get("CLINIC_TIMEZONE", DEFAULT_CLINIC_TIMEZONE).strip(),
        # The privacy notice names these when set (Quebec's Law 25, PIPEDA, PHIPA).
        "PRIVACY_OFFICER_NAME": environ.get("PRIVACY_OFFICER_NAME", "").strip(),
        "PRIVACY_OFFICER_EMAIL": environ.get("PRIVACY_OFFICER_EMAIL", "").strip(),
        # Where the data is hosted, in words: "on servers in Ontario, Canada".
        "DATA_LOCATION": environ.get("DATA_LOCATION", "").strip(),
        "ON_CALL_EMAILS": environ.get("ON_CALL_EMAILS", ""),
        # When the clinic answers the phone, for patients who report danger now (confirmation).
        "CLINIC_HOURS": environ.get("CLINIC_HOURS", ""),
        # Unsent urgent intakes (docs/clinicians.md, Urgent intakes): off turns the whole feature off.
        "ALERT_UNSENT_URGENT": environ.get("ALERT_UNSENT_URGENT", "true").lower() != "false",
        "UNSENT_URGENT_AFTER_MINUTES": int(environ.get("UNSENT_URGENT_AFTER_MINUTES", "30")),
        # A second alert when no clinician opened an urgent intake within this many minutes.
        "URGENT_ESCALATE_MINUTES": int(environ.get("URGENT_ESCALATE_MINUTES", "60")),
        "ESCALATION_EMAILS": environ.get("ESCALATION_EMAILS", ""),
        "SMTP_HOST": environ.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(environ.get("SMTP_PORT", "25")),
        "SMTP_FROM": environ.get("SMTP_FROM", "intake@localhost"),
        "SMTP_USERNAME": environ.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": environ.get("SMTP_STARTTLS", "").lower() in {"1", "true", "yes"},
        # Bulk exports (docs/clinicians.md, Exports): larger ones are prepared by the export worker.
        "EXPORT_DIR": environ.get("EXPORT_DIR", os.path.join(instance_path, "exports")),
        "EXPORT_KEEP_HOURS": float(environ.get("EXPORT_KEEP_HOURS", "24")),
        "EXPORT_STREAM_MAX_ROWS": int(environ.get("EXPORT_STREAM_MAX_ROWS", "5000")),
        "EXPORT_STUCK_MINUTES": float(environ.get("EXPORT_STUCK_MINUTES", "10")),
        # Treatment visits (docs/visits.md): when a visit's check-in link opens and closes.
        # It opens at VISIT_CHECKIN_OPENS_AT on the visit's own day in the clinic's zone (the
        # 24-hour questions need same-day answers), and never later than an hour before it.
        "VISIT_CHECKIN_OPENS_AT": environ.get("VISIT_CHECKIN_OPENS_AT", "06:00").strip(),
        "VISIT_CHECKIN_CLOSES_MINUTES": int(environ.get("VISIT_CHECKIN_CLOSES_MINUTES", "60")),
        # The reminder with the check-in link: this many hours before the visit, sent by
        # `flask visits remind` (cron), only to patients who agreed to reminders.
        "VISIT_REMINDER_HOURS": float(environ.get("VISIT_REMINDER_HOURS", "24")),
        # PHQ-9 and GAD-7 recall two weeks: asked at a check-in at most once this many days.
        "VISIT_INSTRUMENTS_EVERY_DAYS": int(environ.get("VISIT_INSTRUMENTS_EVERY_DAYS", "7")),
        # The check-in's rule table (holds before a dose); its thresholds marked "to verify"
        # in ITEMS.md (fasting, the blood-pressure hold) are the clinic's to edit there.
        "CHECKIN_RULES_PATH": environ.get("CHECKIN_RULES_PATH", str(DEFAULT_CHECKIN_RULES_PATH)),
    }


#: Shown in development where the clinic's phone number goes when CLINIC_PHONE is unset,
#: so nobody mistakes a page that points to nobody for a finished one.
CLINIC_PHONE_PLACEHOLDER = "[CLINIC_PHONE is not set]"


#: Settings that are one address shown in a mailto: link on the patients' pages.
LINKED_ADDRESSES = ("CLINIC_EMAIL", "PRIVACY_OFFICER_EMAIL")


def check_addresses(config: Mapping[str, Any]) -> None:
    """Refuse an address setting that is not one plain email address (it becomes a link)."""
    from questionnaire.questions.text import checked_email

    for name in LINKED_ADDRESSES:
        value = str(config.get(name) or "").strip()
        if value and checked_email(value) is None:
            raise ConfigError(
                f"{name} is {value!r}: set one email address like privacy@clinic.example "
                "(no ?, &, # or %: it is shown as a mailto: link)."
            )


def check_production(config: MutableMapping[str, Any]) -> None:
    """Refuse to run in production with unsafe settings; make session cookies HTTPS-only.

    In development, an unset CLINIC_PHONE becomes a visible placeholder instead. In every
    environment, the address settings shown as links are checked first.
    """
    check_addresses(config)
    if config.get("APP_ENV") != "production":
        if not str(config.get("CLINIC_PHONE") or "").strip():
            config["CLINIC_PHONE"] = CLINIC_PHONE_PLACEHOLDER
        return
    config["SESSION_COOKIE_SECURE"] = True
    if not str(config.get("CLINIC_PHONE") or "").strip():
        raise ConfigError(
            "CLINIC_PHONE is not set. Patients are told to call the clinic and quote their "
            "reference: set it to the number they should call, like CLINIC_PHONE='416 555 0100'."
        )
    key = str(config.get("SECRET_KEY") or "")
    if not key or key == DEVELOPMENT_SECRET_KEY:
        raise ConfigError("SECRET_KEY is not set. " + HOW_TO_MAKE_A_KEY)
    if not is_strong_secret_key(key):
        raise ConfigError(
            f"SECRET_KEY is too weak: it must be at least {SECRET_KEY_MIN_LENGTH} URL-safe "
            f"base64 characters that decode to {SECRET_KEY_MIN_BYTES} bytes or more, not one "
            "character repeated. " + HOW_TO_MAKE_A_KEY
        )
    if config.get("DEBUG"):
        raise ConfigError("Debug mode is on. Unset FLASK_DEBUG in production.")
    if not config.get("RATELIMIT_ENABLED"):
        raise ConfigError(
            "Rate limits are off (RATELIMIT_ENABLED=false). In production leave RATELIMIT_ENABLED "
            "unset (or true) and keep the counts in Redis: RATELIMIT_STORAGE_URI=redis://..."
        )
    base = str(config.get("PUBLIC_BASE_URL") or "")
    parts = urlsplit(base)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"PUBLIC_BASE_URL is {base!r}. In production set it to the https:// address patients "
            "use, like PUBLIC_BASE_URL=https://intake.clinic.example (links in emails and "
            "exports are built from it, never from the request's Host header)."
        )
    if config.get("RATELIMIT_ENABLED") and str(config.get("RATELIMIT_STORAGE_URI", "")).startswith(
        "memory"
    ):
        raise ConfigError(
            "Rate limits are kept in memory, so each worker counts alone. In production set "
            "RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379 (see docs/clinic-it.md, Deploying)."
        )
