"""The one harness that tests, benchmarks and scans drive the app through.

- ``forms``: reading a page as a browser does: its CSRF token, the values its form would
  post, the text a person reads.
- ``patient``: a browser and the patient who walks the real pages with it, through Flask's
  test client or over real HTTP, every exchange recorded.
- ``served``: the app under gunicorn on 127.0.0.1 and a free port, on a database of the
  caller's choosing, started, waited for and stopped here; ``postgres_url``.
- ``app``: the app as tests make it (``make_app``), the test keys and the ``Clock``.
- ``clinician``: clinicians stored in the app or with the CLI, and ``sign_in``, the one way
  everything signs a clinician in (test client, HTTP, or a Playwright page).

Used by the tests (``tests/``), ``bench/load.py`` and ``.ci/scan.py``. Nothing here needs
pytest; the scripts put the project root on ``sys.path`` and import ``tests.harness``.
"""
