"""Keyboard use: the skip link comes first, and focus is always visible and readable."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import start

pytestmark = pytest.mark.browser

#: The focused element, its computed focus styles, and its text and background colours
#: (the first opaque background found walking up from it).
FOCUSED = """() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    let background = "rgba(0, 0, 0, 0)";
    for (let node = element; node; node = node.parentElement) {
        const colour = getComputedStyle(node).backgroundColor;
        if (!/rgba\\(.*, 0\\)$/.test(colour) && colour !== "transparent") {
            background = colour;
            break;
        }
    }
    const box = element.getBoundingClientRect();
    return {
        tag: element.tagName.toLowerCase(),
        classes: element.className,
        text: (element.innerText || element.value || "").trim().slice(0, 40),
        outlineStyle: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth),
        boxShadow: style.boxShadow,
        color: style.color,
        background: background,
        fontSize: parseFloat(style.fontSize),
        fontWeight: parseInt(style.fontWeight, 10),
        box: [box.left, box.top, box.width, box.height],
        innerWidth: window.innerWidth,
        innerHeight: window.innerHeight,
        inMain: Boolean(element.closest("main")),
    };
}"""


def focused(page: Page) -> dict[str, Any]:
    return page.evaluate(FOCUSED)


def shows_focus(state: dict[str, Any]) -> bool:
    """Return whether a focused element draws an outline or a box shadow."""
    outline = state["outlineStyle"] != "none" and state["outlineWidth"] > 0
    return outline or state["boxShadow"] != "none"


def _channel(value: float) -> float:
    value /= 255
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def _luminance(css: str) -> float:
    numbers = css[css.index("(") + 1 : css.index(")")].split(",")
    red, green, blue = (float(part) for part in numbers[:3])
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast(foreground: str, background: str) -> float:
    """Return the WCAG contrast ratio of two CSS rgb() colours."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def tab_stops(page: Page, limit: int = 40) -> list[dict[str, Any]]:
    """Press Tab from the top of the page until focus leaves the page; return each stop."""
    stops: list[dict[str, Any]] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = focused(page)
        if state["tag"] == "body":
            return stops
        stops.append(state)
    raise AssertionError(f"Tab never left the page after {limit} presses")


@pytest.mark.parametrize("where", ["start page", "question page"])
def test_the_first_tab_reaches_a_visible_skip_link(page: Page, where: str) -> None:
    if where == "question page":
        start(page)
        page.reload()
    else:
        page.goto("/")
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["classes"] == "skip-link", f"the first Tab reached {skip}"
    assert skip["text"] == "Skip to main content"
    assert shows_focus(skip), f"the focused skip link shows no outline or shadow: {skip}"
    left, top, width, height = skip["box"]
    assert width > 1 and height > 1, "the focused skip link is not visible"
    assert left >= 0 and left + width <= skip["innerWidth"] and 0 <= top < skip["innerHeight"]

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert focused(page)["inMain"], "after skipping, Tab moves into the main content"


def test_every_tab_stop_on_the_start_page_shows_focus(page: Page) -> None:
    page.goto("/")
    stops = tab_stops(page)
    assert [stop["text"] for stop in stops][:2] == ["Skip to main content", "Test Clinic"]
    assert stops[-1]["tag"] == "a", "the footer links are the last stops"
    invisible = [stop for stop in stops if not shows_focus(stop)]
    assert not invisible, f"focus is not visible on: {invisible}"


def test_every_tab_stop_on_the_check_page_shows_focus(page: Page) -> None:
    start(page)
    page.goto("/check")
    stops = tab_stops(page, limit=80)
    assert any(stop["text"].startswith("Change") for stop in stops)
    assert any(stop["text"] == "Send my answers" for stop in stops)
    invisible = [stop for stop in stops if not shows_focus(stop)]
    assert not invisible, f"focus is not visible on: {invisible}"


def test_focused_text_stays_readable_on_the_start_page(page: Page) -> None:
    page.goto("/")
    unreadable = []
    for stop in tab_stops(page):
        if not stop["text"]:
            continue  # a tick box: no text of its own
        large = stop["fontSize"] >= 24 or (stop["fontSize"] >= 18.66 and stop["fontWeight"] >= 700)
        ratio = contrast(stop["color"], stop["background"])
        if ratio < (3 if large else 4.5):
            unreadable.append(f"{stop['text']!r}: {stop['color']} on {stop['background']}")
    assert not unreadable, f"focused text below WCAG AA contrast: {unreadable}"
