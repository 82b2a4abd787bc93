"""The queue at desktop widths (issue 25): at most three flags, no word broken, axe clean.

At 1280 px a row with many flags once gave its flags cell 745 of 1,152 px, so level tags
stacked letter by letter, names split inside words and headers wrapped mid-word.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from tests.browser.conftest import (
    LiveServer,
    assert_no_horizontal_scroll,
    axe_blocking,
    queue_row,
    store_submission,
)
from tests.harness.app import CASE_DAY
from tests.harness.clinician import make_clinician, sign_in

pytestmark = pytest.mark.browser

LONG_NAME = "Maria-Guadalupe Abernathy-Villeneuve-Okonkwo"
MANY_FLAGS = [
    ("suicidal_thoughts_now", "urgent"),
    ("suicide_attempt_history", "urgent"),
    ("phq9_item9_positive", "urgent"),
    ("blood_pressure_very_high", "review"),
    ("heart_event_recent", "review"),
    ("aneurysm_or_avm", "review"),
    ("psychosis_current", "review"),
]

#: Each word (split at spaces and hyphens) of the element's text that the browser drew on
#: more than one line: a word broken inside.
BROKEN_WORDS = """
element => {
  const broken = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent;
    const word = /[^\\s\\-\\u2011·]+/g;
    for (let match = word.exec(text); match; match = word.exec(text)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].map(rect => Math.round(rect.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}
"""


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_queue_at_desktop_widths_names_three_flags_and_breaks_no_word(
    live_server: LiveServer, new_context: CreateContextCallback, width: int
) -> None:
    reference = store_submission(
        live_server,
        {"full_name": LONG_NAME, "date_of_birth": "1950-01-15"},
        submitted_at=CASE_DAY - timedelta(days=900 + width),
        flags=MANY_FLAGS,
    )
    email = f"layout.{width}@clinic.example"
    make_clinician(live_server.app, email, "Dr Layout")
    viewport: ViewportSize = {"width": width, "height": 900}
    page: Page = new_context(viewport=viewport).new_page()
    sign_in(page, live_server, email)
    row = queue_row(page, reference)
    flags = row.locator("td.queue__flags")
    expect(flags).to_contain_text(
        "suicidal thoughts now · suicide attempt, past 3 months · PHQ-9 item 9 nearly every day"
    )
    expect(flags).to_contain_text("+4 more")
    expect(flags).not_to_contain_text("aneurysm")
    table = page.locator("table.queue--desk")
    table_width = table.evaluate("element => element.getBoundingClientRect().width")
    flags_width = flags.evaluate("element => element.getBoundingClientRect().width")
    assert flags_width < table_width * 0.4, (flags_width, table_width)
    broken = {
        "headers": table.locator("thead").evaluate(BROKEN_WORDS),
        "row": row.evaluate(BROKEN_WORDS),
    }
    assert broken == {"headers": [], "row": []}
    # A level tag is one line of letters, never a column of them.
    tag = row.locator(".tag").first
    assert tag.evaluate("element => element.getClientRects().length") == 1
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(live_server.app.instance_path) + f"/queue-{width}.png", full_page=True)
    assert axe_blocking(page, f"queue at {width} px") == []
