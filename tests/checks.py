"""The suite's own rules, as a pytest plugin (registered by tests/conftest.py).

- Under STRICT_SKIPS (set by .ci/run) a skipped test is a failure, not a pass.
- A test that starts Chromium (any fixture of pytest-playwright's that launches it)
  carries the ``browser`` marker, so ``-m "not browser"`` leaves out every test that
  needs one; a test without it fails before Chromium starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

#: pytest-playwright's fixtures: a test that uses any of them launches Chromium.
CHROMIUM_FIXTURES = frozenset(
    {"browser_type", "launch_browser", "browser", "context", "new_context", "page"}
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under STRICT_SKIPS a skipped test is reported as failed, with the skip's reason."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("STRICT_SKIPS") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under STRICT_SKIPS: {report.longrepr}"


def starts_chromium(item: pytest.Item) -> bool:
    """Say whether the test's fixtures launch Chromium.

    An argument parametrized directly (a test's own `context` or `page` values) is not
    pytest-playwright's fixture of that name, and starts nothing.
    """
    callspec = getattr(item, "callspec", None)
    direct = set(callspec.params) if callspec is not None else set()
    used = set(getattr(item, "fixturenames", ())) - direct
    return not CHROMIUM_FIXTURES.isdisjoint(used)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a test that would start Chromium without the browser marker, before it does."""
    if starts_chromium(item) and item.get_closest_marker("browser") is None:
        pytest.fail(
            f"{item.nodeid} starts Chromium but lacks the browser marker: add "
            "`pytestmark = pytest.mark.browser` to its module (or @pytest.mark.browser)",
            pytrace=False,
        )
