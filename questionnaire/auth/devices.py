"""Known devices: a signed cookie naming the clinicians who completed both sign-in steps here.

From a known device the per-account failure limit does not apply (throttle.py);
the password and a fresh code are still required. Each entry holds the account's
device_version, so disabling the account, resetting its second factor or
changing its password (service.end_sessions) revokes every device at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from questionnaire.records.models import Clinician

COOKIE = "clinic_device"
SALT = "known-device"
LIFETIME = timedelta(days=180)
#: A shared clinic computer may know a few clinicians; more than this and the oldest go.
MAX_CLINICIANS = 8


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt=SALT)


def known() -> dict[int, int]:
    """Return {clinician id: device version} from this browser's cookie, or {} if none or forged."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        entries = _serializer().loads(raw, max_age=int(LIFETIME.total_seconds()))
    except BadSignature:
        return {}
    if not isinstance(entries, list):
        return {}
    return {
        int(pair[0]): int(pair[1])
        for pair in entries
        if isinstance(pair, list) and len(pair) == 2 and all(type(n) is int for n in pair)
    }


def is_known(devices: Mapping[int, int], clinician: Clinician) -> bool:
    """Return whether this browser completed sign-in for this clinician, and is not revoked."""
    return devices.get(clinician.id) == clinician.device_version


def remember(response: Response, clinician: Clinician) -> None:
    """Add this clinician to the browser's known-device cookie (after both sign-in steps)."""
    entries = {key: value for key, value in known().items() if key != clinician.id}
    entries[clinician.id] = clinician.device_version
    kept = list(entries.items())[-MAX_CLINICIANS:]
    response.set_cookie(
        COOKIE,
        _serializer().dumps([list(pair) for pair in kept]),
        max_age=int(LIFETIME.total_seconds()),
        path="/clinic",
        httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        samesite="Strict",
    )
