"""Every route, anonymous and signed in, with generated path parts, queries and forms.

Properties: never a 5xx, never a stack trace; and when a 4xx is answered, no patient
answer, draft, submission, flag, note or account setting changed (failed-attempt
counters and audit rows may). FUZZ_EXAMPLES sets the examples per route (make test:
a few; .ci/run: more).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questionnaire.extensions import db
from questionnaire.questions import catalogue
from questionnaire.records.models import Clinician, Draft, Flag, Note, Submission
from tests.answers import baseline
from tests.harness.app import Clock, make_app
from tests.harness.clinician import make_clinician, sign_in
from tests.harness.forms import csrf_token
from tests.harness.forms import csrf_token as clinic_csrf_token
from tests.harness.patient import Patient

EXAMPLES_PER_ROUTE = int(os.environ.get("FUZZ_EXAMPLES", "5"))
ROUTE_PART = re.compile(r"<(?:(\w+):)?(\w+)>")

#: Values attackers try first: control characters, bidi, other digits, huge numbers, dates.
NASTY = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "\u202e\u2066x",
        "\r\n",
        "\uff11\uff12\uff13\uff14\uff15\uff16",
        "\u0661\u0662\u0663\u0664\u0665\u0666",
        "¹²³⁴⁵⁶",
        "9" * 40,
        "-1",
        "1e309",
        "NaN",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01",
        "1985W133",
        "19850327",
        "'; DROP TABLE submissions; --",
        "<script>alert(1)</script>",
        "y",
        "n",
        "later",
        "yes",
        "urgent",
        "reviewed",
    ]
)
#: Values a form or filter accepts; a nasty character spliced into one gets past format checks.
VALID = st.sampled_from(
    [
        "admin@clinic.example",
        "ana@clinic.example",
        "2026-06-01",
        "1980-05-17",
        "2026-06-01T12:00:00+00:00",
        "1",
        "ABCD-2345",
        "sign_in",
        "urgent",
        "new",
        "yes",
        "Sam Example",
        "123456",
    ]
)
SPLICED = st.tuples(VALID, NASTY, st.integers(min_value=0, max_value=30)).map(
    lambda parts: parts[0][: parts[2]] + parts[1] + parts[0][parts[2] :]
)
#: Odd text: nasty and spliced values (weighted up), any Unicode, huge numbers, long strings.
ODD = st.one_of(
    NASTY,
    NASTY,
    SPLICED,
    SPLICED,
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(min_size=300, max_size=3000),
)
FIELDS = sorted(
    {
        *catalogue.ITEMS,
        "website",
        "action",
        "email",
        "password",
        "code",
        "note",
        "text",
        "status",
        "outcome",
        "date_of_birth",
    }
)
QUERY_NAMES = [
    "after",
    "before",
    "since",
    "action",
    "actor",
    "reference",
    "status",
    "level",
    "rule",
    "q",
    "next",
    "return",
    "expired",
]


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """Return (method, rule, endpoint) for every route but static files."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            found.append((method, rule.rule, rule.endpoint))
    return sorted(found)


def protected_state(app: Flask) -> str:
    """Return a digest of everything a refused request must leave as it was."""
    with app.app_context():
        rows: list[Any] = []
        for submission in db.session.scalars(sa.select(Submission).order_by(Submission.id)):
            rows.append((submission.id, submission.status, submission.outcome, submission.answers))
        for flag in db.session.scalars(sa.select(Flag).order_by(Flag.id)):
            rows.append((flag.id, str(flag.acknowledged_at), flag.acknowledgement_note))
        for note in db.session.scalars(sa.select(Note).order_by(Note.id)):
            rows.append((note.id, note.text))
        for draft in db.session.scalars(sa.select(Draft).order_by(Draft.id)):
            rows.append((draft.id, draft.answers, draft.token_hash))
        for clinician in db.session.scalars(sa.select(Clinician).order_by(Clinician.id)):
            rows.append(
                (
                    clinician.email,
                    clinician.name,
                    clinician.password_hash,
                    clinician.totp_secret,
                    clinician.is_admin,
                    clinician.is_active,
                    clinician.can_export,
                    clinician.device_version,
                )
            )
        db.session.remove()
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def path_values(rule: str, known: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """Return a strategy for a URL path: each part a known value or odd text."""
    parts: list[st.SearchStrategy[str]] = []
    position = 0
    for match in ROUTE_PART.finditer(rule):
        parts.append(st.just(rule[position : match.start()]))
        converter, name = match.groups()
        if converter == "int":
            odd = st.integers(min_value=0, max_value=2**80).map(str)
        else:
            odd = ODD.filter(bool).map(lambda text: quote(text, safe=""))
        parts.append(st.one_of(st.sampled_from(known.get(name, ["x"])), odd))
        position = match.end()
    parts.append(st.just(rule[position:]))
    return st.tuples(*parts).map("".join)


#: The fields each form posts (others get any field name of the app).
ENDPOINT_FIELDS = {
    "intake.begin": ["privacy_consent", "website"],
    "intake.resume": ["date_of_birth"],
    "intake.check": ["understands_review", "website"],
    "review.acknowledge": ["note"],
    "review.add_note": ["text"],
    "review.set_status": ["status", "outcome"],
    "auth.sign_in": ["email", "password"],
    "auth.sign_in_code": ["code"],
}


def form_data(token: str, endpoint: str) -> st.SearchStrategy[dict[str, Any]]:
    """Return a strategy for a posted form: some known fields, odd values, a token or not."""
    values = st.one_of(ODD, st.lists(ODD, max_size=3))
    names = st.sampled_from(ENDPOINT_FIELDS.get(endpoint, FIELDS))
    random_fields = st.dictionaries(st.one_of(names, st.sampled_from(FIELDS)), values, max_size=8)
    # A real set of answers with one field made odd reaches past validation to the service.
    one_odd = st.tuples(st.sampled_from(FIELDS), values, st.sampled_from(["", "later"])).map(
        lambda odd: {**baseline(), odd[0]: odd[1], "action": odd[2]}
    )
    fields = st.one_of(random_fields, one_odd, st.just(baseline()))
    tokens = st.one_of(st.just(token), ODD)
    return st.tuples(fields, tokens).map(lambda pair: {**pair[0], "csrf_token": pair[1]})


#: A file part where a text field is expected: what `curl -F website=@somefile` sends.
FILE_PARTS = st.dictionaries(
    st.sampled_from(FIELDS),
    st.tuples(st.binary(max_size=200), st.sampled_from(["somefile", "a.txt", "", "x\u202e.pdf"])),
    min_size=1,
    max_size=3,
)
#: How a form is sent: urlencoded (as every page's form is), multipart with text parts only,
#: or multipart with file parts (no form of the app takes a file).
ENCODINGS = st.sampled_from(["urlencoded", "urlencoded", "multipart", "files"])


def encoded(form: dict[str, Any], encoding: str, files: dict[str, Any]) -> dict[str, Any]:
    """Return the keyword arguments of client.open that send this form so encoded."""
    if encoding == "urlencoded":
        return {"data": form}
    if encoding == "multipart":
        return {"data": form, "content_type": "multipart/form-data"}
    parts = {name: (io.BytesIO(content), filename) for name, (content, filename) in files.items()}
    return {"data": {**form, **parts}, "content_type": "multipart/form-data"}


#: Queue cursors (base64 of "rank|time|id") with odd parts: what a crafted page link holds.
CURSOR_PARTS = [
    st.sampled_from(["0", "1", "2", "3", "9", "-1"]),
    st.sampled_from(["2026-06-01T12:00:00+00:00", "9999-12-31T23:59:59-14:00", "2026-06-01"]),
    st.integers(min_value=0, max_value=2**80).map(str),
]
#: Each part mostly well formed, so one odd part at a time reaches the query.
CURSORS = st.tuples(*(st.one_of(part, part, part, NASTY) for part in CURSOR_PARTS)).map(
    lambda parts: base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")
)
QUERIES = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(QUERY_NAMES), ODD), ODD, max_size=4),
    st.fixed_dictionaries({"after": CURSORS}),
)


#: Endpoints whose 503 is an answer for the clinic's monitoring, not a failure.
MONITORING = frozenset({"health.healthz"})


def fuzz(
    app: Flask,
    client: FlaskClient,
    token: str,
    known: dict[str, list[str]],
    skip: frozenset[str] = frozenset(),
) -> None:
    """Drive every route of the app (but `skip`) through one client with generated requests."""
    table = [route for route in routes(app) if route[2] not in skip]
    assert len(table) > 20  # every route of the url_map, not a hand-picked few

    @settings(
        max_examples=EXAMPLES_PER_ROUTE * len(table),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def one_request(data: st.DataObject) -> None:
        method, rule, endpoint = data.draw(st.sampled_from(table), label="route")
        path = data.draw(path_values(rule, known), label="path")
        query = data.draw(QUERIES, label="query")
        body_args: dict[str, Any] = {}
        if method == "POST":
            form = data.draw(form_data(token, endpoint), label="form")
            encoding = data.draw(ENCODINGS, label="encoding")
            files = data.draw(FILE_PARTS, label="files") if encoding == "files" else {}
            body_args = encoded(form, encoding, files)
        before = protected_state(app)
        response = client.open(path, method=method, query_string=query, **body_args)
        body = response.get_data(as_text=True)
        # /healthz answers 503 on purpose while the alerts sweep has not run: that is its job.
        by_design = endpoint in MONITORING and response.status_code == 503
        assert response.status_code < 500 or by_design, (endpoint, response.status_code)
        assert "Traceback" not in body and 'File "' not in body
        if 400 <= response.status_code < 500:
            assert protected_state(app) == before, (endpoint, response.status_code)

    one_request()


def served(database_url: str, tmp_path: Path, clock: Clock) -> Flask:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=database_url, CLOCK=clock)
    with app.app_context():
        db.create_all()
    return app


def seeded(app: Flask) -> dict[str, list[str]]:
    """Store one sent submission (with flags); return known path values."""
    answers = {**baseline(), "suicidal_thoughts_past_month": "yes", "suicidal_thoughts_now": "yes"}
    Patient(app.test_client()).complete(answers)
    with app.app_context():
        submission = db.session.scalar(sa.select(Submission))
        assert submission is not None and submission.flags
        known = {
            "reference": [submission.reference],
            "flag_id": [str(flag.id) for flag in submission.flags],
            "section_id": [section.id for section in catalogue.PAGES],
            "token": ["not-a-token"],
        }
        db.session.remove()
    return known


def test_no_route_answers_5xx_to_an_anonymous_visitor(
    database_url: str, tmp_path: Path, clock: Clock
) -> None:
    app = served(database_url, tmp_path, clock)
    known = seeded(app)
    client = app.test_client()
    patient = Patient(client)
    patient.start()
    patient.answer(catalogue.PAGES[0], baseline())
    token = csrf_token(client.get("/questions/looking_for"))
    fuzz(app, client, token, known)
    _dispose(app)


def test_no_route_answers_5xx_to_a_signed_in_admin(
    database_url: str, tmp_path: Path, clock: Clock
) -> None:
    app = served(database_url, tmp_path, clock)
    known = seeded(app)
    admin = make_clinician(app, "admin@clinic.example", "Ada Admin", is_admin=True)
    with app.app_context():
        db.session.execute(sa.update(Clinician).values(can_export=True))
        db.session.commit()
    client = app.test_client()
    sign_in(client, app, admin)
    token = clinic_csrf_token(client.get(f"/clinic/submissions/{known['reference'][0]}"))
    # Signing out would leave the rest anonymous; the anonymous run posts to it.
    fuzz(app, client, token, known, skip=frozenset({"auth.sign_out"}))
    _dispose(app)


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
