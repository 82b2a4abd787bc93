"""A simulated patient: walks the real pages with the test client, CSRF tokens and all."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from questionnaire.questions.catalogue import PAGES, Section

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(response: TestResponse) -> str:
    """Return the CSRF token of a rendered form."""
    match = CSRF.search(response.get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


def page_answers(section: Section, answers: dict[str, Any]) -> dict[str, Any]:
    """Return the part of an answer set that one page posts."""
    return {item.id: answers[item.id] for item in section.items if item.id in answers}


class Patient:
    """One browser: a cookie jar and the answers it will give."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, url: str) -> TestResponse:
        return self.client.get(url)

    def post_form(self, url: str, data: dict[str, Any], **extra: Any) -> TestResponse:
        """GET a page for its token, then POST the form (as a browser would)."""
        token = csrf_token(self.client.get(url))
        return self.client.post(url, data={**data, "csrf_token": token, **extra})

    def start(self) -> TestResponse:
        token = csrf_token(self.client.get("/"))
        return self.client.post("/start", data={"privacy_consent": "y", "csrf_token": token})

    def answer(self, section: Section, answers: dict[str, Any], **extra: Any) -> TestResponse:
        return self.post_form(f"/questions/{section.id}", page_answers(section, answers), **extra)

    def answer_all(self, answers: dict[str, Any]) -> list[TestResponse]:
        return [self.answer(section, answers) for section in PAGES]

    def send(self) -> TestResponse:
        return self.post_form("/check", {"understands_review": "y"})

    def complete(self, answers: dict[str, Any]) -> TestResponse:
        """Start, answer every page, send; return the response to sending."""
        assert self.start().status_code == 303
        for response in self.answer_all(answers):
            assert response.status_code == 303, visible_text(response)[:2000]
        return self.send()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(response: TestResponse) -> str:
    """Return what a person reads on a page: text only, no markup or attributes."""
    parser = _Text()
    parser.feed(response.get_data(as_text=True))
    return " ".join(" ".join(parser.parts).split())
