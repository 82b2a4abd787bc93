"""Production gunicorn settings.

Run with::

    gunicorn -c python:questionnaire.ops.gunicorn_conf 'questionnaire:create_app()'

Environment:

- ``BIND``: address to listen on (default ``127.0.0.1:8000``; put a TLS proxy in front).
- ``WEB_CONCURRENCY``: sync worker processes (default 2 x cores + 1).
- ``GUNICORN_TIMEOUT``: seconds a request may run before its worker is killed (default 30).
- ``GUNICORN_PRELOAD``: ``1`` loads the app once in the master before forking.
- ``FORWARDED_ALLOW_IPS``: proxies whose X-Forwarded-* headers are trusted (default 127.0.0.1).
- ``GUNICORN_ACCESSLOG``: where the access log goes (default ``-``, standard output;
  an empty value turns it off).

The access log never holds a query string, a referrer, a user agent or a secret token:
a URL can carry a search for a reference code, and every path listed in
``questionnaire.ops.secret_paths`` (``/resume/<token>``, ``/clinic/enrol/<token>``) is a key.

Gunicorn always sends ``Server: gunicorn`` (its name, no version); it has no setting to
remove or change that header, so the TLS proxy in front should drop or replace it.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from questionnaire.ops.secret_paths import redact


def _int_from_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = [os.environ.get("BIND", "127.0.0.1:8000")]
workers = _int_from_env("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = _int_from_env("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
# A slow or stuck worker is replaced, and memory growth is bounded.
max_requests = 2000
max_requests_jitter = 200
# Smaller than the defaults: no page needs long request lines or many headers.
limit_request_line = 4094
limit_request_fields = 60
preload_app = os.environ.get("GUNICORN_PRELOAD", "").lower() in {"1", "true", "yes"}
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "questionnaire"
# gunicorn 25+ opens a control socket under ~/.gunicorn by default: not in production.
control_socket_disable = True

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = "info"
# %(U)s is the path without the query string; never %(r)s, %(q)s, %(f)s or %(a)s.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


class RedactingLogger(Logger):
    """Gunicorn's logger, with secrets removed from every atom an access format could use."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        path = str(atoms.get("U") or "")
        atoms["r"] = f"{atoms.get('m')} {path} {atoms.get('H')}"
        atoms["q"] = "-"
        atoms["f"] = "-"
        for key in [key for key in atoms if key.startswith("{")]:
            if key in {"{referer}i", "{cookie}i", "{authorization}i", "{set-cookie}o"}:
                atoms[key] = "-"
        # Every atom, not only the path: {raw_uri}e or {path_info}e would hold it too.
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()
        }


logger_class = RedactingLogger


def post_fork(server: Any, worker: Any) -> None:
    """In each new worker, drop the database connections inherited from the master.

    Only a preloaded app has an engine in the master. A pooled connection shared by two
    processes corrupts both, so the worker forgets them (close=False leaves the master's
    sockets alone) and opens its own.
    """
    app = getattr(server.app, "callable", None) if preload_app else None
    extensions = getattr(app, "extensions", None)
    if app is None or not isinstance(extensions, dict) or "sqlalchemy" not in extensions:
        return
    with app.app_context():
        for engine in extensions["sqlalchemy"].engines.values():
            engine.dispose(close=False)
