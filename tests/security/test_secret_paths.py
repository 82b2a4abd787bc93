"""Secret paths: every route whose path carries a token is in one list, and no log holds it.

The list (questionnaire/ops/secret_paths.py) is shared by the gunicorn access logger and the
routes; these tests fail for a new route with a ``token`` part that is not in it, and for
any access-log atom (path, request line, raw URI, referrer...) that still holds a token.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from flask import Flask

from questionnaire.ops.gunicorn_conf import RedactingLogger
from questionnaire.ops.secret_paths import is_secret_path, redact

SENTINEL = "SeCrEtToKeN-8f2a1c"


def test_every_route_with_a_token_in_its_path_is_a_secret_path(plain_app: Flask) -> None:
    with_token = [rule for rule in plain_app.url_map.iter_rules() if "token" in rule.arguments]
    assert {rule.endpoint for rule in with_token} >= {"intake.resume", "accounts.enrol_link"}
    with plain_app.test_request_context():
        for rule in with_token:
            values = {name: "1" for name in rule.arguments} | {"token": SENTINEL}
            path = plain_app.url_map.bind("localhost").build(rule.endpoint, values)
            assert is_secret_path(path), rule.rule
            assert SENTINEL not in redact(path), rule.rule


def test_a_token_is_redacted_wherever_it_appears_in_a_string() -> None:
    text = f"GET /clinic/enrol/{SENTINEL} HTTP/1.1 from https://x.example/resume/{SENTINEL}?a=1"
    assert SENTINEL not in redact(text)
    assert redact(f"/clinic/enrol/{SENTINEL}") == "/clinic/enrol/-"
    assert redact("/clinic/enrol") == "/clinic/enrol"  # the POST carries it in its body


def _atoms(path: str) -> dict[str, object]:
    logger = RedactingLogger.__new__(RedactingLogger)
    logger.now = lambda: "[now]"  # type: ignore[method-assign]
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{path}?q=1",
        "PATH_INFO": path,
        "QUERY_STRING": "q=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://intake.example{path}",
    }
    request = SimpleNamespace(headers=[("X-Original-Url", path), ("Referer", path)])
    response = SimpleNamespace(status="200 OK", sent=10, headers=[("Location", path)])
    return RedactingLogger.atoms(logger, response, request, environ, timedelta(milliseconds=3))


def test_the_access_log_holds_no_enrolment_or_resume_token_in_any_atom() -> None:
    for path in (f"/clinic/enrol/{SENTINEL}", f"/resume/{SENTINEL}"):
        atoms = _atoms(path)
        leaked = {key: value for key, value in atoms.items() if SENTINEL in str(value)}
        assert leaked == {}, leaked
        assert atoms["U"] == path.replace(SENTINEL, "-")
