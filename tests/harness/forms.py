"""Reading a page as a browser does: its CSRF token, what its form posts, the text it shows.

Every function takes the page as HTML text, a response from Flask's test client, or a
response from requests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests
    from werkzeug.test import TestResponse

    Page = str | TestResponse | requests.Response

#: Input types a browser does not post as a value of their own.
_NOT_POSTED = {"submit", "button", "image", "reset", "file"}


def page_html(page: Page) -> str:
    """Return the HTML of a page, whichever client fetched it."""
    if isinstance(page, str):
        return page
    get_data = getattr(page, "get_data", None)
    if get_data is not None:
        return str(get_data(as_text=True))
    return str(page.text)


@dataclass
class Form:
    """One form of a page: how it is sent, and the name-value pairs a browser would post."""

    method: str
    action: str
    pairs: list[tuple[str, str]] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        """Return the pairs as name -> value (a list where a name repeats)."""
        values: dict[str, Any] = {}
        for name, value in self.pairs:
            if name not in values:
                values[name] = value
            elif isinstance(values[name], list):
                values[name].append(value)
            else:
                values[name] = [values[name], value]
        return values


class _FormReader(HTMLParser):
    """Collect every form of a page with what a browser would post from it as it stands."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = Form(found.get("method", "get").lower(), found.get("action", ""))
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = found.get("name", "")
        if tag == "input" and name:
            kind = found.get("type", "text").lower()
            if kind in {"radio", "checkbox"}:
                if "checked" in found:
                    self._form.pairs.append((name, found.get("value", "on")))
            elif kind not in _NOT_POSTED:
                self._form.pairs.append((name, found.get("value", "")))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in found:
            self._form.pairs.append((self._select, found.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            self._form.pairs.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)


def forms(page: Page) -> list[Form]:
    """Return the forms of a page, in the order they stand."""
    reader = _FormReader()
    reader.feed(page_html(page))
    reader.close()
    return reader.forms


def form_values(page: Page) -> dict[str, Any]:
    """Return the values the page's first POST form holds (lists for repeated names)."""
    posted = next((form for form in forms(page) if form.method == "post"), None)
    return posted.values() if posted else {}


def find_csrf_token(page: Page) -> str | None:
    """Return the CSRF token of the page's forms, or None when it has none."""
    for form in forms(page):
        for name, value in form.pairs:
            if name == "csrf_token" and value:
                return value
    return None


def csrf_token(page: Page) -> str:
    """Return the CSRF token of a rendered form; fail the test when the page has none."""
    token = find_csrf_token(page)
    assert token, "the page has no CSRF token"
    return token


def as_lists(values: dict[str, Any]) -> dict[str, list[str]]:
    """Return form values as name -> sorted non-empty strings (a browser's view of a form)."""
    shaped: dict[str, list[str]] = {}
    for name, value in values.items():
        many = value if isinstance(value, list) else [value]
        kept = sorted(str(one) for one in many if one not in (None, ""))
        if kept:
            shaped[name] = kept
    return shaped


#: Elements with no end tag: they never open a subtree.
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)


class _TextReader(HTMLParser):
    def __init__(self, skip_lang: str | None = None) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._skip_lang = skip_lang
        #: Open elements, and the depth at which a skipped language's subtree began.
        self._depth = 0
        self._lang_from: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        if tag in _VOID:
            return
        self._depth += 1
        if (
            self._skip_lang is not None
            and self._lang_from is None
            and dict(attrs).get("lang") == self._skip_lang
        ):
            self._lang_from = self._depth
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1
        if tag in _VOID:
            return
        if self._lang_from is not None and self._depth == self._lang_from:
            self._lang_from = None
            self._skip -= 1
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(page: Page, skip_lang: str | None = None) -> str:
    """Return what a person reads on a page: text only, no markup or attributes.

    `skip_lang` leaves out every element marked in that language and what it holds (the
    French walk leaves out the instruments shown in English under their exemption).
    """
    reader = _TextReader(skip_lang)
    reader.feed(page_html(page))
    return " ".join(" ".join(reader.parts).split())


_HTML_LANG = re.compile(r'<html lang="([^"]+)">')


def html_lang(page: Page) -> str:
    """Return the language a page declares on its <html> element."""
    match = _HTML_LANG.search(page_html(page))
    assert match, "the page has no <html lang>"
    return match.group(1)
