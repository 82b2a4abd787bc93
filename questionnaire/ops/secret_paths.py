"""The URL paths that carry a secret, in one list every log and route shares.

A link that is itself a key (the patient's "come back later" link, a clinician's
enrolment or second-factor reset link) has its token in the path of the first GET,
so any access log would hold it. Every such path is listed here; the gunicorn
access logger (ops/gunicorn_conf.py) writes each of them with its token replaced
by "-", in every atom a log format could use. A test walks the url_map and fails
for any route with a ``token`` part whose path is not covered here.

The token travels in the path only on that first GET: the page then carries it in
a hidden form field, so the POSTs that use it put no secret in any URL.

Imports nothing from Flask: gunicorn's master process reads it.
"""

from __future__ import annotations

import re

#: Path prefixes whose next segment is a secret token.
SECRET_PATH_PREFIXES: tuple[str, ...] = ("/resume/", "/clinic/enrol/", "/checkin/")

#: A listed prefix and its token, anywhere in a string (a path, a raw URI, a referrer).
_SECRET = re.compile(
    "(" + "|".join(re.escape(prefix) for prefix in SECRET_PATH_PREFIXES) + r")[^/?#\s\"']+"
)

REDACTED = "-"


def redact(text: str) -> str:
    """Return text with the token after every secret path prefix replaced by "-"."""
    return _SECRET.sub(r"\1" + REDACTED, text)


def is_secret_path(path: str) -> bool:
    """Return whether a path carries a secret token (one of SECRET_PATH_PREFIXES)."""
    return redact(path) != path
