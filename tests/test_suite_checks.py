"""The suite's own rules (tests/checks.py) and its database per pytest process hold."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from tests.harness.served import postgres_url, worker_name

#: A test module as a newcomer might write it: a Playwright page (here a stand-in, so no
#: Chromium starts) with and without the marker.
BROWSER_TESTS = """
import pytest

@pytest.fixture
def page():
    return "a page"

def test_unmarked(page):
    assert page

@pytest.mark.browser
def test_marked(page):
    assert page

@pytest.mark.parametrize("context", ["a rules.yaml context, not a browser's"])
def test_own_argument_named_context(context):
    assert context
"""


def test_a_test_that_starts_chromium_without_the_browser_marker_fails(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_newcomer=BROWSER_TESTS)
    result = pytester.runpytest(
        "-p", "tests.checks", "-p", "no:playwright", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*test_unmarked starts Chromium but lacks the browser marker*"])


def test_under_strict_skips_a_skip_is_a_failure(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_skips="import pytest\n\ndef test_x():\n    pytest.skip('no X')\n")
    monkeypatch.delenv("STRICT_SKIPS", raising=False)
    pytester.runpytest("-p", "tests.checks", "-p", "no:playwright").assert_outcomes(skipped=1)
    monkeypatch.setenv("STRICT_SKIPS", "1")
    strict = pytester.runpytest("-p", "tests.checks", "-p", "no:playwright")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["*skipped under STRICT_SKIPS*no X*"])


@pytest.mark.postgres
def test_each_pytest_process_has_a_postgresql_database_of_its_own(postgres_schema: str) -> None:
    given = os.environ["_GIVEN_TEST_DATABASE_URL"]
    own = sa.make_url(postgres_url())
    assert own.database != sa.make_url(given).database
    assert own.database is not None and f"_{worker_name()}_" in own.database
    # The schemas of this process's tests live in that database.
    assert sa.make_url(postgres_schema).database == own.database
