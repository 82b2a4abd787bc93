"""One patient: a browser that walks the real pages, reading each form's CSRF token.

The same patient works through Flask's test client and over real HTTP::

    Patient(app.test_client())            # in the test's process
    Patient("http://127.0.0.1:8123")      # against a served app (tests.harness.served)

Every request is recorded as an Exchange (what was asked, when, and what came back).

The questionnaire steps (start, answer, send) return the response, whatever it is: the
test asserts on it. The journey steps (walk_to_check, send_for_reference, journey) check
every answer as a patient would see it (a redirect to the next page, a reference on the
confirmation page) and raise JourneyFailed on anything else.

With a deadline, a patient who gets a 5xx or no answer at all waits a moment and tries
again until the deadline, as a person at the keyboard would; after a 503 on a question
page they press Continue on the page that came back, so the retry posts that page's form.
Without one, every request is sent once.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from questionnaire.intake.routes import WEIGHT_CONFIRM_FIELD
from questionnaire.questions import catalogue
from questionnaire.questions.catalogue import (
    ITEMS,
    WEIGHT_ITEM,
    Kind,
    Section,
    section_is_asked,
)
from tests.harness.forms import as_lists, find_csrf_token, form_values, page_html, visible_text

if TYPE_CHECKING:
    from flask.testing import FlaskClient
    from werkzeug.test import TestResponse

    Response = TestResponse | requests.Response

#: The reference on the confirmation page.
REFERENCE = re.compile(r'class="reference">\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*<')
#: Timeouts of one HTTP request: connecting, then reading the answer (seconds).
HTTP_TIMEOUT = (3.0, 20.0)


#: A date answer as stored (YYYY-MM-DD), which the page asks as three inputs.
ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
DATE_ITEMS = frozenset(item.id for item in ITEMS.values() if item.kind is Kind.DATE)


def split_dates(values: dict[str, Any]) -> dict[str, Any]:
    """Return form values with each YYYY-MM-DD date as the three inputs a patient types.

    Any other value of a date item is posted as it is, under the item's own name.
    """
    posted: dict[str, Any] = {}
    for name, value in values.items():
        match = ISO_DATE.fullmatch(value) if name in DATE_ITEMS and isinstance(value, str) else None
        if match is None:
            posted[name] = value
            continue
        year, month, day = match.groups()
        posted.update(
            {
                f"{name}-day": day.lstrip("0"),
                f"{name}-month": month.lstrip("0"),
                f"{name}-year": year,
            }
        )
    return posted


def page_answers(section: Section, answers: dict[str, Any]) -> dict[str, Any]:
    """Return the part of an answer set that one page posts (a date as its three inputs)."""
    return split_dates({item.id: answers[item.id] for item in section.items if item.id in answers})


def asked_pages(answers: dict[str, Any], language: str = "en") -> list[Section]:
    """Return the pages a patient with these answers is asked, in order (PCL-5 needs PTSD;
    a page with no official version in the patient's language is left out)."""
    return [section for section in catalogue.PAGES if section_is_asked(section, answers, language)]


def _accepted_language(client: FlaskClient | str) -> str:
    """Return fr-CA when a test client asks for French first, else en."""
    environ = getattr(client, "environ_base", {}) or {}
    accepted = str(environ.get("HTTP_ACCEPT_LANGUAGE", "")).strip().lower()
    return "fr-CA" if accepted.startswith("fr") else "en"


@dataclass
class Exchange:
    """One request a browser made and what came back (status None: no answer at all)."""

    method: str
    path: str
    started: float
    ended: float
    status: int | None
    retry_after: str | None = None
    location: str | None = None
    error: str | None = None
    #: The page's posted answers, for question-page POSTs.
    posted: dict[str, list[str]] | None = None
    #: The body, kept for 5xx answers only.
    body: str | None = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


class JourneyFailed(AssertionError):
    """A journey met an answer a patient should never get."""


def expect_redirect(response: Response, where: str, what: str) -> None:
    """Raise JourneyFailed unless the response is a 303 to the path `where`."""
    location = urlsplit(response.headers.get("Location", "")).path
    if response.status_code != 303 or location != where:
        raise JourneyFailed(f"{what}: {response.status_code} to {location!r}, not {where}")


class Browser:
    """A cookie jar on the app, through Flask's test client or over HTTP (a base URL).

    Over HTTP: `verify` is what requests checks the server's certificate with, `timeout`
    bounds each request. `exchanges` collects every request (pass a list to share it);
    `cancel`, once set, stops the retries at once.
    """

    def __init__(
        self,
        client: FlaskClient | str,
        *,
        verify: str | bool = True,
        timeout: float | tuple[float, float] = HTTP_TIMEOUT,
        exchanges: list[Exchange] | None = None,
        cancel: threading.Event | None = None,
        retry_wait: float = 0.25,
    ) -> None:
        self.client: FlaskClient | None = None
        self.http: requests.Session | None = None
        self.base_url = ""
        if isinstance(client, str):
            self.base_url = client
            self.http = requests.Session()
            self.http.trust_env = False  # no proxy, and no CA bundle from the environment
            self.http.verify = verify
        else:
            self.client = client
        self.timeout = timeout
        self.exchanges: list[Exchange] = [] if exchanges is None else exchanges
        self.cancel = cancel
        self.retry_wait = retry_wait

    def close(self) -> None:
        if self.http is not None:
            self.http.close()

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, Any] | None = None,
        posted: dict[str, list[str]] | None = None,
    ) -> Response | None:
        """Send one request; return the response, or None when the connection failed."""
        started = time.monotonic()
        response: Response
        if self.client is not None:
            response = self.client.open(path, method=method, data=data)
        else:
            assert self.http is not None
            try:
                response = self.http.request(
                    method,
                    self.base_url + path,
                    data=data,
                    allow_redirects=False,
                    timeout=self.timeout,
                )
            except requests.RequestException as error:
                self.exchanges.append(
                    Exchange(
                        method, path, started, time.monotonic(), None, error=type(error).__name__
                    )
                )
                return None
        status = response.status_code
        self.exchanges.append(
            Exchange(
                method,
                path,
                started,
                time.monotonic(),
                status,
                retry_after=response.headers.get("Retry-After"),
                location=response.headers.get("Location"),
                posted=posted,
                body=page_html(response) if status >= 500 else None,
            )
        )
        return response

    def persist(
        self,
        method: str,
        path: str,
        data: dict[str, Any] | None = None,
        deadline: float | None = None,
        page: Section | None = None,
    ) -> Response:
        """Send, and with a deadline again until the answer is not a 5xx (or no answer).

        Every answer is recorded: a test asserts on the 5xx afterwards. After a 503 on a
        question page (`page`) the retry posts the form of the page that came back.
        """
        posted = as_lists(page_answers(page, data or {})) if page else None
        while True:
            response = self.request(method, path, data, posted)
            if deadline is None:
                if response is None:
                    raise JourneyFailed(f"{method} {path}: no answer ({self.exchanges[-1].error})")
                return response
            if response is not None and response.status_code < 500:
                return response
            if time.monotonic() > deadline or (self.cancel and self.cancel.is_set()):
                raise JourneyFailed(f"{method} {path} still failing at the deadline")
            if response is not None and response.status_code == 503 and page and method == "POST":
                shown = form_values(page_html(response))
                if "csrf_token" in shown:
                    data = {**shown, "action": "continue"}
            time.sleep(self.retry_wait)

    def get(self, path: str, deadline: float | None = None) -> Response:
        return self.persist("GET", path, None, deadline)

    def post(self, path: str, data: dict[str, Any], deadline: float | None = None) -> Response:
        return self.persist("POST", path, data, deadline)

    def token(self, path: str, deadline: float | None = None) -> str:
        """GET a page and return its CSRF token (JourneyFailed when it has none)."""
        response = self.get(path, deadline)
        token = find_csrf_token(page_html(response))
        if token is None:
            raise JourneyFailed(f"GET {path}: {response.status_code} without a CSRF token")
        return token

    def post_form(
        self, path: str, data: dict[str, Any], deadline: float | None = None, **extra: Any
    ) -> Response:
        """GET a page for its token, then POST the form (as a browser would)."""
        token = self.token(path, deadline)
        return self.post(path, {**split_dates(data), "csrf_token": token, **extra}, deadline)


class Patient(Browser):
    """One patient at the keyboard: a browser, and the questionnaire's steps.

    `think_time` is the longest a patient spends reading and typing on a question page
    before pressing Continue (chosen at random each time; none by default).
    """

    def __init__(
        self,
        client: FlaskClient | str,
        *,
        think_time: float = 0.0,
        language: str | None = None,
        confirms_weight: bool = True,
        **options: Any,
    ):
        super().__init__(client, **options)
        self.think_time = think_time
        #: Whether the patient ticks "This weight is right" beside an unusual weight, as one
        #: who typed it on purpose would (a rules.yaml case's 30 kg or 600 lb).
        self.confirms_weight = confirms_weight
        #: The language the pages are read in (a BCP 47 tag), which decides the pages asked:
        #: as given, else the test client's Accept-Language (fr… reads French), else English.
        self.language = language or _accepted_language(client)

    # --- the steps: each returns the response -------------------------------------------

    def start(self, deadline: float | None = None) -> Response:
        token = self.token("/", deadline)
        return self.post("/start", {"privacy_consent": "y", "csrf_token": token}, deadline)

    def answer(
        self,
        section: Section,
        answers: dict[str, Any],
        deadline: float | None = None,
        **extra: Any,
    ) -> Response:
        """Answer one question page with its part of `answers`; `extra` is posted too."""
        path = f"/questions/{section.id}"
        if not section_is_asked(section, answers, self.language):
            # A page these answers rule out (PCL-5 without PTSD, or an instrument with no
            # official version in the patient's language): the app sends the patient on.
            return self.get(path, deadline)
        token = self.token(path, deadline)
        if self.think_time:
            time.sleep(random.uniform(0, self.think_time))
        if self.confirms_weight and any(item.id == WEIGHT_ITEM for item in section.items):
            extra = {WEIGHT_CONFIRM_FIELD: "y", **extra}
        data = {**page_answers(section, answers), "csrf_token": token, **extra}
        return self.persist("POST", path, data, deadline, page=section)

    def answer_all(self, answers: dict[str, Any], deadline: float | None = None) -> list[Response]:
        return [self.answer(section, answers, deadline) for section in catalogue.PAGES]

    def send_form(self, deadline: float | None = None) -> dict[str, str]:
        """GET the check page; return the send form's data (as the button would post it)."""
        return {"understands_review": "y", "csrf_token": self.token("/check", deadline)}

    def send(self, form: dict[str, str] | None = None, deadline: float | None = None) -> Response:
        return self.post("/check", form or self.send_form(deadline), deadline)

    def complete(self, answers: dict[str, Any]) -> Response:
        """Start, answer every page, send; return the response to sending."""
        assert self.start().status_code == 303
        for response in self.answer_all(answers):
            assert response.status_code == 303, visible_text(response)[:2000]
        return self.send()

    # --- the journey: every answer checked ------------------------------------------------

    def walk_to_check(self, answers: dict[str, Any], deadline: float | None = None) -> None:
        """Start and answer every page, each leading on to the next, up to the check page."""
        expect_redirect(self.start(deadline), f"/questions/{catalogue.PAGES[0].id}", "start")
        asked = asked_pages(answers, self.language)
        for index, section in enumerate(asked):
            response = self.answer(section, answers, deadline, action="continue")
            following = f"/questions/{asked[index + 1].id}" if index + 1 < len(asked) else "/check"
            expect_redirect(response, following, f"page {section.id}")

    def reference(self, deadline: float | None = None) -> str:
        """Return the reference the confirmation page shows (without its hyphen)."""
        response = self.get("/done", deadline)
        match = REFERENCE.search(page_html(response)) if response.status_code == 200 else None
        if match is None:
            raise JourneyFailed(f"/done: {response.status_code} without a reference")
        return match.group(1).replace("-", "")

    def send_for_reference(
        self, form: dict[str, str] | None = None, deadline: float | None = None
    ) -> str:
        """Send (the given form, or the check page's), then return the reference shown."""
        expect_redirect(self.send(form, deadline), "/done", "send")
        return self.reference(deadline)

    def journey(self, answers: dict[str, Any], deadline: float | None = None) -> str:
        """Start, answer every page, send; return the acknowledged reference."""
        self.walk_to_check(answers, deadline)
        return self.send_for_reference(None, deadline)


# --- answers a patient can give ------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A rules.yaml case: its answers and the flags they raise."""

    name: str
    answers: dict[str, Any]
    expect: frozenset[str]


def usable_cases(today: date) -> tuple[list[Case], list[str]]:
    """Return the rules.yaml cases whose expected flags hold today, and the names left out.

    The cases are dated (ages are computed on the day of the table's cases); the server
    judges with today's date, so a case about an age on that day may raise other flags
    today. Those are left out rather than given an expectation computed by the app itself.
    """
    from questionnaire.flagging.table import evaluate, load_rule_table
    from questionnaire.questions.forms import validate_answers
    from tests.answers import RULES_FILE, cases, with_changes

    table = load_rule_table(RULES_FILE)
    kept: list[Case] = []
    left_out: list[str] = []
    for case in cases():
        if "as_of" in case:
            left_out.append(case["name"])
            continue
        answers = with_changes(case.get("answers") or {})
        validated = validate_answers(answers, today)
        # An escalated flag is written {rule: level}; its rule id is what is compared here.
        expect = frozenset(
            entry if isinstance(entry, str) else next(iter(entry)) for entry in case["expect"]
        )
        flags = {finding.rule for finding in evaluate(table, validated.answers, validated.facts)}
        if validated.errors or flags != expect:
            left_out.append(case["name"])
            continue
        kept.append(Case(case["name"], answers, expect))
    return kept, left_out
