"""Simulated patients for locust: each walks the real pages and notes the reference it is shown.

Usage (from the project root; bench/cluster.py runs it through nginx)::

    .venv/bin/locust -f bench/locustfile.py --headless -u 40 -r 20 -t 40s \\
        --host http://127.0.0.1:8080 --journeys /tmp/journeys.jsonl

Each locust user is one browser (its own cookie jar). A task is one journey, exactly as in
bench/load.py and tests/harness (patient.Patient): GET each page for its CSRF token, POST the
page, follow on to the check page, send, read the reference on the confirmation page. The
requests go through locust's own HTTP client, so locust's figures count every one of them.

After a 5xx or no answer at all the patient waits a moment and sends the same form again
(as a person would press the button again), for up to RETRY_SECONDS; sending twice gives one
submission. Every journey is appended to the --journeys file as one JSON line: its marker
(the full name it was given, which ties a stored submission to it), its rules.yaml case and
expected flags, the reference it was shown, whether its send may have reached the server
unanswered, and the 5xx / no-answer responses met on the way. No answer is written there or
printed (the answers are a case's, looked up again by name).
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import requests  # noqa: E402
from locust import HttpUser, between, events, task  # noqa: E402

from bench.load import REQUEST_TIMEOUT, Journey, new_journey, walk  # noqa: E402
from tests.harness.patient import Patient, usable_cases  # noqa: E402

#: How long a patient keeps pressing the button again after a 5xx or no answer (seconds).
RETRY_SECONDS = 30.0
CASES, _LEFT_OUT = usable_cases(date.today())
_NUMBERS = itertools.count(1)
_WRITE = threading.Lock()


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--journeys", default="", help="append each journey here (JSON lines)")
    parser.add_argument("--seed", type=int, default=5, help="random seed for the answers")


def request_name(method: str, url: str) -> str:
    """Group locust's figures: the question pages together, the send apart."""
    path = urlsplit(url).path
    if path.startswith("/questions/"):
        path = "/questions/[page]"
    elif method == "POST" and path == "/check":
        path = "/check (send)"
    return path


class LocustSession:
    """What a Patient sends its requests with, made of locust's HTTP client.

    Locust answers a failed connection with a response whose status is 0; the patient
    expects requests' exception (it records "no answer" and may try again), so raise it.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.cookies = client.cookies

    def request(self, method: str, url: str, **options: Any) -> requests.Response:
        response = self.client.request(method, url, name=request_name(method, url), **options)
        if response.status_code == 0:
            raise response.error
        return response  # type: ignore[no-any-return]

    def close(self) -> None:
        """Locust closes its own client."""


def journey_record(journey: Journey, patient: Patient) -> dict[str, Any]:
    """What the cluster run needs to check a journey afterwards (no answer in it)."""
    trouble = [
        e.status if e.status is not None else (e.error or "no answer") for e in patient.exchanges
    ]
    return {
        "marker": journey.marker,
        "case": journey.case.name,
        "expect": sorted(journey.case.expect),
        "reference": journey.reference,
        "sent_uncertain": journey.sent_uncertain,
        "failed_at": journey.failed_at,
        "ended": time.time(),
        "requests": len(patient.exchanges),
        "trouble": [t for t in trouble if not isinstance(t, int) or t >= 500],
    }


class PatientUser(HttpUser):
    """One browser: journeys with new answers, one after the other."""

    wait_time = between(0.0, 1.0)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.number = next(_NUMBERS)
        self.rng = random.Random((options.seed if options else 5) * 100_003 + self.number)
        self.count = 0
        self.patient = Patient(self.host, timeout=REQUEST_TIMEOUT)
        self.patient.close()
        self.patient.http = LocustSession(self.client)  # type: ignore[assignment]
        self.journeys = options.journeys if options else ""

    @task
    def one_journey(self) -> None:
        self.count += 1
        journey = new_journey(self.rng, CASES, f"Cluster Patient {self.number}-{self.count}")
        try:
            walk(self.patient, journey, deadline=time.monotonic() + RETRY_SECONDS)
        except BaseException as error:
            # Stopped by locust mid-journey, or an error of the patient's own: its send may
            # be under way unrecorded.
            journey.failed_at = f"interrupted ({type(error).__name__})"
            journey.sent_uncertain = any(e.path == "/check" for e in self.patient.exchanges)
            raise
        finally:
            self.record(journey)
            self.patient.exchanges.clear()

    def record(self, journey: Journey) -> None:
        if not self.journeys:
            return
        line = json.dumps(journey_record(journey, self.patient)) + "\n"
        with _WRITE, open(self.journeys, "a", encoding="utf-8") as out:
            out.write(line)
