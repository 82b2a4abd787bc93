"""Bulk exports as jobs: created by a clinician (or `flask exports create`), run by a worker.

The database is the queue: an ExportJob row holds who asked, the queue filter's
codes and how far it got, never patient data. A worker (`flask exports worker`)
claims a pending job with one conditional UPDATE (and ``FOR UPDATE SKIP LOCKED``
on PostgreSQL), so two workers never run one job; each run carries its attempt
number, and every later write is fenced on it, so a run presumed lost cannot
overwrite the run that replaced it.

A run reads its rows in one snapshot (REPEATABLE READ on PostgreSQL, one read
transaction on SQLite) through the queue's keyset cursor, writes the CSV sealed
in chunks (exports/sealed.py) to a partial file, fsyncs it, checks the row count
against the count taken in the same snapshot, renames it into place, and only
then marks the job done. Anything else marks it failed and deletes the file.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import scoped_session

from questionnaire import audit
from questionnaire.exports import csv as export_csv
from questionnaire.exports import sealed
from questionnaire.extensions import DbSession
from questionnaire.flagging import versions
from questionnaire.records import locks
from questionnaire.records.crypto import Keyring
from questionnaire.records.models import EXPORT_KINDS, Clinician, ExportJob, Submission
from questionnaire.records.queue import (
    QueueFilter,
    all_in_queue,
    count_flags_in_queue,
    count_in_queue,
)

#: Submissions read per keyset query (500 keeps the worker under 30 MB above its start).
BATCH = 500
#: Rows between progress writes (each also proves the worker is alive).
PROGRESS_EVERY = 1000
#: What each kind's CSV file is called when downloaded.
FILE_NAMES = {"submissions": "submissions.csv", "flags": "flags.csv"}
#: The byte-order mark that tells Excel a CSV file is UTF-8 (without it, accents break).
EXCEL_BOM = "\ufeff"
#: The ways a CSV is offered: plain (any program, a script) or "for Excel" (with the BOM).
CSV_FLAVOURS = ("plain", "excel")


class ExportRefused(Exception):
    """A request for an export that cannot be made; the message says why, for the clinician."""


class RowCountMismatch(RuntimeError):
    """The file holds a different number of rows than the snapshot counted."""


class JobLost(RuntimeError):
    """The job was taken from this run (presumed lost and retried, or expired)."""


class WorkerStopping(BaseException):
    """The worker was told to stop (SIGTERM, Ctrl-C): its job goes back to the queue."""


def csv_lines(
    kind: str, submissions: Iterable[Submission], session: DbSession | None = None
) -> Iterator[str]:
    """Yield the CSV of a kind for these submissions: a header line, then one line per row.

    With a session, the submissions CSV also has a column for each question of an earlier
    definition that is no longer asked, so no stored answer is left out.
    """
    if kind == "submissions":
        earlier = versions.earlier_items(session) if session is not None else ()
        return export_csv.submissions_csv(submissions, earlier)
    return export_csv.flags_csv(flag for found in submissions for flag in found.flags)


def count_rows(session: DbSession, kind: str, wanted: QueueFilter) -> int:
    """Return how many CSV rows (submissions or flags) the filter holds."""
    if kind == "submissions":
        return count_in_queue(session, wanted)
    return count_flags_in_queue(session, wanted)


def export_dir(config: Mapping[str, Any]) -> Path:
    """Return the folder export files are written to."""
    return Path(config["EXPORT_DIR"])


def file_path(config: Mapping[str, Any], job_id: int, attempt: int) -> Path:
    """Return where one run of a job keeps its finished, sealed file."""
    return export_dir(config) / f"export-{job_id}-{attempt}.sealed"


def _partial_path(config: Mapping[str, Any], job_id: int, attempt: int) -> Path:
    return export_dir(config) / f"export-{job_id}-{attempt}.partial"


def remove_files(config: Mapping[str, Any], job_id: int) -> int:
    """Delete every file of a job (finished or partial, any run); return how many."""
    removed = 0
    for path in export_dir(config).glob(f"export-{job_id}-*"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def _keep(config: Mapping[str, Any]) -> timedelta:
    return timedelta(hours=float(config["EXPORT_KEEP_HOURS"]))


def create_job(
    session: DbSession,
    clinician: Clinician,
    kind: str,
    wanted: QueueFilter,
    config: Mapping[str, Any],
    now: datetime,
) -> ExportJob:
    """Queue an export of the filter's submissions or flags for this clinician; audited."""
    if kind not in EXPORT_KINDS:
        raise ExportRefused(f"An export is of {' or '.join(EXPORT_KINDS)}, not {kind!r}.")
    if not clinician.can_export or not clinician.is_active:
        raise ExportRefused(f"{clinician.email} may not export: an admin grants it.")
    job = ExportJob(
        requester_id=clinician.id,
        kind=kind,
        format="csv",
        filters=wanted.as_args(),
        state="pending",
        created_at=now,
        expires_at=now + _keep(config),
    )
    session.add(job)
    session.flush()
    detail = {"job": job.id, "kind": kind, **wanted.as_detail()}
    detail["rows"] = count_rows(session, kind, wanted)
    audit.record(session, "export_requested", actor=clinician, detail=detail)
    session.commit()
    return job


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


def claim(session: DbSession, job_id: int, now: datetime) -> int | None:
    """Take a pending job for this run; return its attempt number, or None if another has it."""
    result = session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.state == "pending")
        .values(
            state="running",
            started_at=now,
            heartbeat_at=now,
            attempts=ExportJob.attempts + 1,
            rows_done=0,
            rows_total=None,
            error=None,
        )
    )
    if _rowcount(result) != 1:
        session.rollback()
        return None
    attempt = session.scalar(sa.select(ExportJob.attempts).where(ExportJob.id == job_id))
    session.commit()
    return int(attempt or 0)


def claim_next(session: DbSession, now: datetime) -> tuple[int, int] | None:
    """Take the oldest pending job; return (job id, attempt), or None when there is none."""
    for _ in range(5):  # another worker may take the one we saw; look again a few times
        query = (
            sa.select(ExportJob.id)
            .where(ExportJob.state == "pending")
            .order_by(ExportJob.created_at, ExportJob.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job_id = session.scalar(query)
        if job_id is None:
            session.rollback()
            return None
        attempt = claim(session, job_id, now)
        if attempt is not None:
            return job_id, attempt
    return None


@contextlib.contextmanager
def _snapshot(session: DbSession) -> Iterator[None]:
    """Read everything inside in one consistent snapshot of the database."""
    session.rollback()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    elif dialect == "sqlite":
        # pysqlite begins transactions only before writes; begin one so reads share a snapshot.
        session.connection().exec_driver_sql("BEGIN")
    try:
        yield
    finally:
        session.rollback()


@dataclass
class _Run:
    """One run of a job: writes its progress on its own connection, fenced on its attempt."""

    engine: sa.Engine
    job_id: int
    attempt: int
    clock: Callable[[], datetime]

    def _update(self, **values: Any) -> None:
        with self.engine.begin() as connection:
            result = connection.execute(
                sa.update(ExportJob)
                .where(
                    ExportJob.id == self.job_id,
                    ExportJob.state == "running",
                    ExportJob.attempts == self.attempt,
                )
                .values(heartbeat_at=self.clock(), **values)
            )
        if _rowcount(result) != 1:
            raise JobLost("the job is no longer this run's")

    def started(self, total: int) -> None:
        self._update(rows_total=total, rows_done=0)

    def progress(self, done: int) -> None:
        self._update(rows_done=done)


def _released(session: DbSession, submissions: Iterable[Submission]) -> Iterator[Submission]:
    """Yield submissions and forget each once it is written, so memory stays flat."""
    for submission in submissions:
        yield submission
        session.expunge(submission)  # cascades to its flags


def _write(
    session: DbSession,
    job: ExportJob,
    run: _Run,
    path: Path,
    ring: Keyring,
) -> tuple[int, int]:
    """Write the job's sealed CSV to path; return (rows written, rows counted)."""
    wanted = QueueFilter.parse(dict(job.filters or {}))
    kind = job.kind
    with _snapshot(session):
        total = count_rows(session, kind, wanted)
        run.started(total)
        written = 0
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            writer = sealed.SealedWriter(handle, ring, run.job_id)
            lines = csv_lines(
                kind, _released(session, all_in_queue(session, wanted, BATCH)), session
            )
            writer.write(next(lines).encode())  # the header
            for line in lines:
                writer.write(line.encode())
                written += 1
                if written % PROGRESS_EVERY == 0:
                    run.progress(written)
            writer.close()
    if written != total:
        raise RowCountMismatch(f"wrote {written} rows, counted {total}")
    return written, total


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def run_job(
    session: DbSession,
    job_id: int,
    attempt: int,
    config: Mapping[str, Any],
    ring: Keyring,
    clock: Callable[[], datetime],
) -> ExportJob:
    """Run one claimed job to done or failed; return it. Never leaves a partial file offered."""
    job = session.get(ExportJob, job_id)
    if job is None or job.state != "running" or job.attempts != attempt:
        raise JobLost("the job is not this run's to do")
    run = _Run(session.get_bind(), job_id, attempt, clock)  # type: ignore[arg-type]
    folder = export_dir(config)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = _partial_path(config, job_id, attempt)
    try:
        written, _total = _write(session, job, run, partial, ring)
        final = file_path(config, job_id, attempt)
        os.replace(partial, final)
        _fsync_folder(folder)
        run.progress(written)
    except JobLost:
        session.rollback()
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    except (WorkerStopping, KeyboardInterrupt):
        session.rollback()
        _release(session, job_id, attempt, config)
        raise
    except Exception as error:
        session.rollback()
        return _fail(session, job_id, attempt, config, type(error).__name__, clock())
    return _finish(session, job_id, attempt, written, config, clock())


def _release(session: DbSession, job_id: int, attempt: int, config: Mapping[str, Any]) -> None:
    """Put a job this run was stopped in back in the queue, and delete its partial file."""
    session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.state == "running", ExportJob.attempts == attempt)
        .values(state="pending", rows_done=0, rows_total=None, attempts=attempt - 1)
    )
    session.commit()
    remove_files(config, job_id)


def _finish(
    session: DbSession,
    job_id: int,
    attempt: int,
    rows: int,
    config: Mapping[str, Any],
    now: datetime,
) -> ExportJob:
    result = session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.state == "running", ExportJob.attempts == attempt)
        .values(
            state="done",
            rows_done=rows,
            finished_at=now,
            heartbeat_at=now,
            expires_at=now + _keep(config),
        )
    )
    if _rowcount(result) != 1:
        session.rollback()
        remove_files(config, job_id)
        raise JobLost("the job was taken from this run before it finished")
    return _audited(session, job_id, "export_completed", lambda job: {"rows": rows})


def _audited(
    session: DbSession,
    job_id: int,
    action: str,
    detail: Callable[[ExportJob], dict[str, Any]],
) -> ExportJob:
    """Read a job as just stored (one query), audit what happened to it, commit.

    The detail holds counts, codes and the error's class name: never patient data.
    """
    job = session.get(ExportJob, job_id, populate_existing=True)
    assert job is not None
    audit.record(
        session,
        action,
        actor=None,
        detail={"job": job_id, "kind": job.kind, **detail(job), "requested_by": job.requester_id},
    )
    session.commit()
    return job


def _fail(
    session: DbSession,
    job_id: int,
    attempt: int | None,
    config: Mapping[str, Any],
    error: str,
    now: datetime,
) -> ExportJob:
    """Mark a job failed (fenced on the attempt when given), delete its files; audited."""
    remove_files(config, job_id)
    where = [ExportJob.id == job_id, ExportJob.state.in_(("pending", "running", "done"))]
    if attempt is not None:
        where.append(ExportJob.attempts == attempt)
    session.execute(
        sa.update(ExportJob)
        .where(*where)
        .values(state="failed", error=error[:128], finished_at=now, expires_at=now + _keep(config))
    )
    return _audited(
        session,
        job_id,
        "export_failed",
        lambda job: {"rows": job.rows_done, "error": job.error or error[:128]},
    )


def fail_job(
    session: DbSession, job: ExportJob, config: Mapping[str, Any], error: str, now: datetime
) -> ExportJob:
    """Mark a finished job failed after its file would not open (tampered, cut short, gone)."""
    return _fail(session, job.id, job.attempts, config, error, now)


def recover_stuck(session: DbSession, config: Mapping[str, Any], now: datetime) -> int:
    """Put back (or fail, after MAX_ATTEMPTS) running jobs whose worker stopped beating."""
    cutoff = now - timedelta(minutes=float(config["EXPORT_STUCK_MINUTES"]))
    stuck = session.execute(
        sa.select(ExportJob.id, ExportJob.attempts).where(
            ExportJob.state == "running", ExportJob.heartbeat_at < cutoff
        )
    ).all()
    session.rollback()
    recovered = 0
    for job_id, attempt in stuck:
        if attempt >= ExportJob.MAX_ATTEMPTS:
            _fail(session, job_id, attempt, config, "WorkerLost", now)
        else:
            result = session.execute(
                sa.update(ExportJob)
                .where(
                    ExportJob.id == job_id,
                    ExportJob.state == "running",
                    ExportJob.attempts == attempt,
                    ExportJob.heartbeat_at < cutoff,
                )
                .values(state="pending", rows_done=0, rows_total=None)
            )
            session.commit()
            if _rowcount(result) == 1:
                remove_files(config, job_id)
        recovered += 1
    return recovered


def expire_jobs(session: DbSession, config: Mapping[str, Any], now: datetime) -> int:
    """Delete the files of jobs past their expiry and mark them expired; return how many.

    One run at a time (locks.one_run): started while another host's runs, it does nothing.
    """
    with locks.one_run(session, "export-expiry") as mine:
        return _expire_jobs(session, config, now) if mine else 0


def _expire_jobs(session: DbSession, config: Mapping[str, Any], now: datetime) -> int:
    due = list(
        session.scalars(
            sa.select(ExportJob.id).where(
                ExportJob.expires_at <= now, ExportJob.state.in_(("pending", "done", "failed"))
            )
        )
    )
    session.rollback()
    expired = 0
    for job_id in due:
        result = session.execute(
            sa.update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.state.in_(("pending", "done", "failed")))
            .values(state="expired")
        )
        session.commit()
        remove_files(config, job_id)
        expired += _rowcount(result)
    if expired:
        audit.record(session, "export_expired", detail={"jobs": expired})
        session.commit()
    return expired


def expire_jobs_since(session: DbSession, since: datetime) -> list[int]:
    """Expire every export that may hold a submission sent at `since`; return their ids.

    For a submission deleted on request: a bulk file started after it was sent may hold
    it, so the file goes now rather than when it would have expired (the caller removes
    the files after its commit, with remove_files). A run still writing one is stopped
    (its fenced progress update finds the job expired, and it deletes its partial file).
    """
    started_after = sa.or_(ExportJob.started_at >= since, ExportJob.finished_at >= since)
    ids = list(
        session.scalars(
            sa.select(ExportJob.id).where(ExportJob.state.in_(("running", "done")), started_after)
        )
    )
    if ids:
        session.execute(
            sa.update(ExportJob)
            .where(ExportJob.id.in_(ids), ExportJob.state.in_(("running", "done")))
            .values(state="expired")
            .execution_options(synchronize_session=False)
        )
    return ids


def expire_jobs_of(session: DbSession, requester_id: int) -> list[int]:
    """Cancel every export a clinician asked for that is not over; return their ids.

    For a clinician just disabled: queued, running and finished jobs are marked
    expired at once (a running one stops at its next fenced write and deletes its
    partial file), so nothing they asked for can be downloaded if they are enabled
    again. The caller removes the files after its commit, with remove_files.
    """
    live = ("pending", "running", "done", "failed")
    ids = list(
        session.scalars(
            sa.select(ExportJob.id).where(
                ExportJob.requester_id == requester_id, ExportJob.state.in_(live)
            )
        )
    )
    if ids:
        session.execute(
            sa.update(ExportJob)
            .where(ExportJob.id.in_(ids), ExportJob.state.in_(live))
            .values(state="expired")
            .execution_options(synchronize_session=False)
        )
    return ids


def download_name(kind: str, flavour: str = "plain") -> str:
    """Return the file name a kind's CSV downloads as ("submissions-excel.csv" for Excel)."""
    name = FILE_NAMES[kind]
    return name.replace(".csv", "-excel.csv") if flavour == "excel" else name


def open_download(
    job: ExportJob, config: Mapping[str, Any], ring: Keyring, flavour: str = "plain"
) -> tuple[Iterator[bytes], int]:
    """Check every chunk of a done job's file opens; return its chunks and the size sent.

    One file serves both flavours: "excel" sends the byte-order mark first, so the
    clinician picks at download time, as with the direct downloads. Raise
    sealed.SealedFileError or FileNotFoundError when the file does not open: nothing of
    a tampered or cut-short file is ever sent.
    """
    if flavour not in CSV_FLAVOURS:
        raise ValueError(f"A CSV is {' or '.join(CSV_FLAVOURS)}, not {flavour!r}.")
    path = file_path(config, job.id, job.attempts)
    size = sealed.verify(path, ring, job.id)
    chunks = sealed.open_chunks(path, ring, job.id)
    if flavour == "excel":
        bom = EXCEL_BOM.encode()
        return itertools.chain((bom,), chunks), size + len(bom)
    return chunks, size


def run_pending(
    session: DbSession,
    config: Mapping[str, Any],
    ring: Keyring,
    clock: Callable[[], datetime],
) -> list[ExportJob]:
    """Recover stuck jobs, expire old ones, then run every pending job; return those run."""
    recover_stuck(session, config, clock())
    expire_jobs(session, config, clock())
    ran = []
    while (claimed := claim_next(session, clock())) is not None:
        job_id, attempt = claimed
        with contextlib.suppress(JobLost):
            ran.append(run_job(session, job_id, attempt, config, ring, clock))
    return ran


def work(
    session: DbSession,
    config: Mapping[str, Any],
    ring: Keyring,
    clock: Callable[[], datetime],
    interval: float,
    running: Callable[[], bool],
) -> None:
    """Run pending jobs until running() turns false, looking again every interval seconds."""
    while running():
        run_pending(session, config, ring, clock)
        # A fresh session per round: nothing read for one job stays in memory for the next.
        if isinstance(session, scoped_session):
            session.remove()
        else:
            session.close()
        deadline = time.monotonic() + interval
        while running() and time.monotonic() < deadline:
            time.sleep(min(0.2, interval))
