"""Bulk export as a job, end to end: rows per second, memory growth, and that no row is lost.

Usage (from the project root, with the project venv), on an already-filled database
(`make bench` bulk-loads 10,000 and 1,000,000 submissions)::

    .venv/bin/python bench/export.py --db postgresql+psycopg://intake@127.0.0.1/intake

or from another bench: ``measure(database_url, environment)``. It makes (or reuses) a
clinician with the export permission, runs one full submissions CSV export in a child
process (`flask exports create --kind submissions --wait`), samples the child's resident
memory with psutil, then opens the sealed file in this process and counts its rows against
the database's. The environment must carry the ANSWERS_KEY the database was sealed with
(and INSTANCE_PATH / EXPORT_DIR if they are not the defaults).

Figures: {"rows", "rows_per_s", "complete", "rss_growth_mb"}. rows_per_s is the job's own
time (started_at to finished_at), not the child's start-up; rss_growth_mb is the child's
peak RSS minus its RSS when the job started running. Nothing printed holds patient data.
It is a benchmark, not a test: it prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "questionnaire"]
EXPORTER = "bench-exporter@clinic.example"
#: How often the child's memory is sampled (seconds).
SAMPLE_EVERY = 0.05
DONE = re.compile(r"Export job (\d+) done: (\d+) rows\.")


def _flask(args: list[str], environment: Mapping[str, str], stdin: str | None = None) -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter and the flask CLI
        [*FLASK, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(environment),
        cwd=PROJECT_ROOT,
        check=False,
    )
    return result.stdout + result.stderr


def _ensure_exporter(environment: Mapping[str, str]) -> None:
    # The otpauth URI `create` prints is the bench account's own, not patient data; not shown.
    _flask(
        ["clinician", "create", EXPORTER, "--name", "Bench exporter", "--password-stdin"],
        environment,
        stdin="bench-password-not-for-use\n",
    )
    granted = _flask(["clinician", "grant-export", EXPORTER], environment)
    if "may now download" not in granted:
        raise SystemExit(f"Could not give {EXPORTER} the export permission: {granted[-300:]}")


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0


def _running_since(engine: sa.Engine, after_id: int) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.scalar(
                sa.text("SELECT count(*) FROM export_jobs WHERE id > :id AND state = 'running'"),
                {"id": after_id},
            )
        )


@contextmanager
def _environ(environment: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _rows_in_file(job_id: int, environment: Mapping[str, str]) -> int:
    """Open the job's sealed file the way a download does and count its CSV rows."""
    with _environ(environment):
        from questionnaire import create_app
        from questionnaire.exports import jobs
        from questionnaire.extensions import db
        from questionnaire.records.models import ExportJob

        app = create_app()
        with app.app_context():
            job = db.session.get(ExportJob, job_id)
            assert job is not None
            chunks, _size = jobs.open_download(job, app.config, app.extensions["keyring"])
            text = io.TextIOWrapper(_Chunks(chunks), encoding="utf-8", newline="")
            rows = sum(1 for _ in csv.reader(text)) - 1  # the header
            db.engine.dispose()
    return rows


class _Chunks(io.RawIOBase):
    """A readable stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.pending = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            try:
                self.pending = next(self.chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        return size


def measure(database_url: str, environment: dict[str, str]) -> dict[str, Any]:
    """Run one full submissions CSV export job in a child process; return its figures."""
    env = {**environment, "DATABASE_URL": database_url}
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        in_database = int(connection.scalar(sa.text("SELECT count(*) FROM submissions")) or 0)
        last_job = int(connection.scalar(sa.text("SELECT max(id) FROM export_jobs")) or 0)
    _ensure_exporter(env)
    child = psutil.Popen(
        [*FLASK, "exports", "create", "--kind", "submissions", "--by", EXPORTER, "--wait"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    baseline = peak = 0
    while child.poll() is None:
        rss = _rss(child)
        if not baseline and _running_since(engine, last_job):
            baseline = rss
        peak = max(peak, rss)
        time.sleep(SAMPLE_EVERY)
    output, errors = child.communicate()
    found = DONE.search(output)
    if child.returncode != 0 or found is None:
        engine.dispose()
        return {"rows": 0, "rows_per_s": 0.0, "complete": False, "rss_growth_mb": 0.0,
                "error": (errors or output).strip().splitlines()[-1:]}  # fmt: skip
    job_id, rows = int(found.group(1)), int(found.group(2))
    with engine.connect() as connection:
        started, finished = connection.execute(
            sa.text("SELECT started_at, finished_at FROM export_jobs WHERE id = :id"),
            {"id": job_id},
        ).one()
    engine.dispose()
    seconds = _seconds_between(started, finished)
    in_file = _rows_in_file(job_id, env)
    return {
        "rows": rows,
        "rows_per_s": round(rows / seconds, 1) if seconds > 0 else float("inf"),
        "complete": in_file == in_database == rows,
        "rss_growth_mb": round(max(peak - (baseline or peak), 0) / 2**20, 1),
    }


def _seconds_between(started: Any, finished: Any) -> float:
    from datetime import datetime

    def parse(value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

    return (parse(finished) - parse(started)).total_seconds()


def main() -> None:
    """Run the bench against --db and print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of a filled database")
    arguments = parser.parse_args()
    figures = measure(arguments.db, dict(os.environ))
    print(json.dumps(figures))
    if not figures["complete"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
