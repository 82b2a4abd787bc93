"""`flask exports create | worker | list | expire`: thin Click wrappers over exports/jobs.py.

Nothing here prints patient data: a job id, a state, row counts and file names only.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from questionnaire.exports import jobs
from questionnaire.extensions import db, now
from questionnaire.records.crypto import keyring
from questionnaire.records.models import EXPORT_FORMATS, EXPORT_KINDS, Clinician, ExportJob
from questionnaire.records.queue import BadFilter, QueueFilter


@click.group("exports")
def exports_cli() -> None:
    """Bulk CSV exports prepared in the background (see README, Exports)."""


@exports_cli.command("create")
@click.option("--format", "file_format", type=click.Choice(EXPORT_FORMATS), default="csv")
@click.option("--kind", type=click.Choice(EXPORT_KINDS), default="submissions")
@click.option("--status", default="", help="Only submissions with this status.")
@click.option("--level", default="", help="Only this highest level (urgent, review, info, none).")
@click.option("--rule", default="", help="Only submissions with a flag from this rule id.")
@click.option("--reference", default="", help="Only the submission with this reference code.")
@click.option("--by", "email", required=True, help="The clinician it is for (needs grant-export).")
@click.option("--wait", is_flag=True, help="Run it here and now instead of leaving it to a worker.")
@with_appcontext
def create_command(
    file_format: str,
    kind: str,
    status: str,
    level: str,
    rule: str,
    reference: str,
    email: str,
    wait: bool,
) -> None:
    """Queue an export of the queue's submissions or flags for a clinician.

    Only that clinician can download it, from /clinic/exports/<id>. With --wait
    it runs in this process and prints the job id and the row count.
    """
    try:
        wanted = QueueFilter.parse({"status": status, "level": level, "rule": rule, "q": reference})
    except BadFilter as error:
        click.echo(f"The filter --{error} is not one the queue offers.", err=True)
        sys.exit(2)
    clinician = db.session.scalar(sa.select(Clinician).where(Clinician.email == email.lower()))
    if clinician is None:
        click.echo(f"No clinician {email}.", err=True)
        sys.exit(2)
    try:
        job = jobs.create_job(db.session, clinician, kind, wanted, current_app.config, now())
    except jobs.ExportRefused as refused:
        click.echo(str(refused), err=True)
        sys.exit(2)
    job_id = job.id
    if not wait:
        click.echo(f"Export job {job_id} queued ({kind}, {file_format}).")
        return
    attempt = jobs.claim(db.session, job_id, now())
    if attempt is None:
        click.echo(f"Export job {job_id} was taken by a worker; see flask exports list.")
        return
    done = jobs.run_job(db.session, job_id, attempt, current_app.config, keyring(), now)
    if done.state != "done":
        click.echo(f"Export job {job_id} failed ({done.error}).", err=True)
        sys.exit(1)
    click.echo(f"Export job {job_id} done: {done.rows_done} rows.")


@exports_cli.command("worker")
@click.option("--once", is_flag=True, help="Run the pending jobs, then exit.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=2.0, show_default=True)
@with_appcontext
def worker_command(once: bool, interval: float) -> None:
    """Run export jobs as they arrive; expire old files; retry jobs whose worker was lost.

    SIGTERM or Ctrl-C stops it between jobs; a job cut off mid-run is retried later.
    """
    config, ring = current_app.config, keyring()
    if once:
        ran = jobs.run_pending(db.session, config, ring, now)
        click.echo(f"{len(ran)} export jobs run.")
        return

    def stop(signum: int, frame: Any) -> None:
        raise jobs.WorkerStopping

    signal.signal(signal.SIGTERM, stop)
    click.echo("Export worker started.")
    try:
        jobs.work(db.session, config, ring, now, interval, lambda: True)
    except (jobs.WorkerStopping, KeyboardInterrupt):
        click.echo("Export worker stopped. Any job it was running is back in the queue.")


@exports_cli.command("list")
@with_appcontext
def list_command() -> None:
    """List export jobs, newest first: id, state, rows, who asked, when it expires."""
    for job in db.session.scalars(sa.select(ExportJob).order_by(ExportJob.id.desc()).limit(100)):
        who = job.requester.email if job.requester else "-"
        total = "?" if job.rows_total is None else job.rows_total
        click.echo(
            f"{job.id}\t{job.kind}\t{job.state}\t{job.rows_done}/{total}\t{who}\t"
            f"expires {job.expires_at:%Y-%m-%d %H:%M} UTC{'  ' + job.error if job.error else ''}"
        )


@exports_cli.command("expire")
@with_appcontext
def expire_command() -> None:
    """Delete the files of exports older than EXPORT_KEEP_HOURS (the sweep does it too)."""
    count = jobs.expire_jobs(db.session, current_app.config, now())
    click.echo(f"{count} export jobs expired.")
