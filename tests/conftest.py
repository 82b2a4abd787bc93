"""The root conftest: it registers the suite's plugins, once, and holds nothing else.

- tests/fixtures.py: every shared fixture (databases, the app, clinicians, submissions).
- tests/checks.py: the suite's own rules (a skip fails under STRICT_SKIPS; a test that
  starts Chromium carries the ``browser`` marker).
"""

pytest_plugins = ["tests.fixtures", "tests.checks", "pytester"]
