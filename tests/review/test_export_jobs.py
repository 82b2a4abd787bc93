"""Exports as jobs (issue 12): prepared in the background, sealed at rest, only for the asker.

A job is made from the queue's button or the CLI, run by the worker, watched on a
page that reloads itself, and downloaded only whole, only by the clinician who
asked, with the export permission, each download on the record.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.exports import csv as export_csv
from questionnaire.exports import jobs
from questionnaire.extensions import db
from questionnaire.questions.catalogue import Item
from questionnaire.records.models import AuditEvent, ExportJob, Submission
from questionnaire.records.references import format_reference
from tests.exports import BENZODIAZEPINE, BLOOD_PRESSURE, NO_FLAGS, URGENT, submit
from tests.harness.app import Clock
from tests.harness.clinician import make_clinician, sign_in
from tests.harness.forms import csrf_token, forms

SENTINEL_NAME = "Zelda Quillfeather"


def grant_export(app: Flask, email: str) -> None:
    result = app.test_cli_runner().invoke(args=["clinician", "grant-export", email])
    assert result.exit_code == 0, result.output


def actions(app: Flask, *wanted: str) -> list[tuple[str, dict[str, Any]]]:
    with app.app_context():
        events = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.detail).order_by(AuditEvent.id)
        ).all()
    return [(action, detail) for action, detail in events if not wanted or action in wanted]


def the_job(app: Flask, job_id: int) -> ExportJob:
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        assert job is not None
        db.session.expunge(job)
        return job


def export_files(app: Flask) -> list[Path]:
    folder = Path(app.config["EXPORT_DIR"])
    return sorted(folder.glob("*")) if folder.exists() else []


def run_worker(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["exports", "worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def press_prepare(client: FlaskClient, kind: str, query: str = "") -> int:
    """Press the queue's "Prepare CSV export" button for a kind; return the new job's id."""
    page = client.get(f"/clinic/?{query}")
    form = next(
        form
        for form in forms(page)
        if form.method == "post"
        and form.action == "/clinic/exports"
        and ("kind", kind) in form.pairs
    )
    response = client.post(form.action, data=dict(form.pairs))
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert location.startswith("/clinic/exports/")
    return int(location.rsplit("/", 1)[1])


@pytest.fixture
def exporter(app: Flask, as_reviewer: FlaskClient) -> FlaskClient:
    grant_export(app, "reviewer@clinic.example")
    return as_reviewer


def test_the_queue_button_makes_a_job_the_worker_runs_into_the_same_csv_as_the_stream(
    app: Flask, exporter: FlaskClient
) -> None:
    urgent = submit(app, URGENT)
    submit(app, BENZODIAZEPINE)
    submit(app, BLOOD_PRESSURE)
    submit(app, NO_FLAGS)
    for kind, stream_url in (
        ("submissions", "/clinic/export/submissions.csv"),
        ("flags", "/clinic/export/flags.csv"),
    ):
        job_id = press_prepare(exporter, kind, "level=urgent")
        assert the_job(app, job_id).state == "pending"
        assert "1 export jobs run." in run_worker(app)
        job = the_job(app, job_id)
        assert job.state == "done" and job.rows_done == job.rows_total
        download = exporter.get(f"/clinic/exports/{job_id}/download")
        assert download.status_code == 200 and download.mimetype == "text/csv"
        assert download.headers["Content-Length"] == str(len(download.get_data()))
        direct = exporter.get(f"{stream_url}?level=urgent")
        assert download.get_data() == direct.get_data()
    assert format_reference(urgent) in download.get_data(as_text=True)  # as the screen shows it
    completed = actions(app, "export_requested", "export_completed", "export_downloaded")
    assert [action for action, _ in completed] == [
        "export_requested",
        "export_completed",
        "export_downloaded",
    ] * 2
    assert completed[1][1]["rows"] == 1  # one urgent submission
    assert completed[2][1]["rows"] == 1 and completed[2][1]["level"] == "urgent"


def test_the_whole_queue_exports_every_row_across_batches(
    app: Flask, exporter: FlaskClient, add_submission: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "BATCH", 3)
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 2)
    monkeypatch.setattr("questionnaire.exports.sealed.CHUNK_BYTES", 100)
    references = [add_submission(flags=[("r", level)]) for level in ("urgent", "info") * 5]
    references += [add_submission() for _ in range(3)]
    job_id = press_prepare(exporter, "submissions")
    run_worker(app)
    body = exporter.get(f"/clinic/exports/{job_id}/download").get_data(as_text=True)
    lines = body.splitlines()
    assert len(lines) == 1 + len(references)
    assert sorted(line.split(",")[0].strip('"') for line in lines[1:]) == sorted(
        format_reference(reference) for reference in references
    )
    assert body.encode() == exporter.get("/clinic/export/submissions.csv").get_data()


def test_the_cli_makes_a_job_and_with_wait_runs_it_printing_no_patient_data(
    app: Flask, reviewer: Any
) -> None:
    grant_export(app, reviewer.email)
    reference = submit(app, {**URGENT, "full_name": SENTINEL_NAME})
    runner = app.test_cli_runner()
    queued = runner.invoke(
        args=["exports", "create", "--format", "csv", "--kind", "flags", "--by", reviewer.email]
    )
    assert queued.exit_code == 0, queued.output
    assert "queued" in queued.output
    waited = runner.invoke(
        args=["exports", "create", "--level", "urgent", "--by", reviewer.email, "--wait"]
    )
    assert waited.exit_code == 0, waited.output
    assert "done: 1 rows." in waited.output
    listed = runner.invoke(args=["exports", "list"])
    for output in (queued.output, waited.output, listed.output):
        assert SENTINEL_NAME not in output and reference not in output
    with app.app_context():
        states = dict(db.session.execute(sa.select(ExportJob.kind, ExportJob.state)).all())
    assert states == {"flags": "pending", "submissions": "done"}


def test_the_cli_refuses_a_clinician_without_the_export_permission(
    app: Flask, reviewer: Any
) -> None:
    result = app.test_cli_runner().invoke(args=["exports", "create", "--by", reviewer.email])
    assert result.exit_code == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportJob)) == 0


def test_the_job_page_shows_progress_and_reloads_itself_until_done(
    app: Flask, exporter: FlaskClient
) -> None:
    submit(app, URGENT)
    job_id = press_prepare(exporter, "submissions")
    pending = exporter.get(f"/clinic/exports/{job_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in pending
    assert "<progress" in pending and "Waiting for the export worker" in pending
    with app.app_context():
        db.session.execute(
            sa.update(ExportJob).values(state="running", rows_done=1200, rows_total=4000)
        )
        db.session.commit()
    running = exporter.get(f"/clinic/exports/{job_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh"' in running
    assert 'max="4000" value="1200"' in running and "1,200 of 4,000 rows" in running
    with app.app_context():
        db.session.execute(sa.update(ExportJob).values(state="pending", rows_done=0))
        db.session.commit()
    run_worker(app)
    done = exporter.get(f"/clinic/exports/{job_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in done
    assert "Complete: 1 rows." in done
    assert f"/clinic/exports/{job_id}/download" in done


def test_only_the_asker_with_the_permission_reaches_a_job_and_its_file(
    app: Flask, exporter: FlaskClient
) -> None:
    submit(app, URGENT)
    job_id = press_prepare(exporter, "submissions")
    run_worker(app)
    other = make_clinician(app, email="other@clinic.example", name="Dr Other")
    grant_export(app, other.email)
    stranger = app.test_client()
    sign_in(stranger, app, other)
    for path in (f"/clinic/exports/{job_id}", f"/clinic/exports/{job_id}/download"):
        assert stranger.get(path).status_code == 404
    app.test_cli_runner().invoke(args=["clinician", "revoke-export", "reviewer@clinic.example"])
    for path in (f"/clinic/exports/{job_id}", f"/clinic/exports/{job_id}/download"):
        assert exporter.get(path).status_code == 403
    # With a valid CSRF token (the queue still shows), so the refusal is the permission's 403.
    token = csrf_token(exporter.get("/clinic/"))
    refused = exporter.post("/clinic/exports", data={"kind": "submissions", "csrf_token": token})
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportJob)) == 1
    anonymous = app.test_client().get(f"/clinic/exports/{job_id}/download")
    assert (
        anonymous.status_code in (302, 303) and "/clinic/sign-in" in anonymous.headers["Location"]
    )
    assert [action for action, _ in actions(app, "export_downloaded")] == []


def test_every_download_is_audited_with_its_row_count(app: Flask, exporter: FlaskClient) -> None:
    submit(app, URGENT)
    submit(app, BENZODIAZEPINE)
    job_id = press_prepare(exporter, "flags")
    run_worker(app)
    for _ in range(2):
        assert exporter.get(f"/clinic/exports/{job_id}/download").status_code == 200
    downloads = actions(app, "export_downloaded")
    rows = the_job(app, job_id).rows_done
    assert rows >= 2
    assert [detail for _, detail in downloads] == [
        {"job": job_id, "kind": "flags", "rows": rows}
    ] * 2


def test_a_failure_mid_job_fails_it_and_offers_no_file(
    app: Flask, exporter: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for answers in (URGENT, BENZODIAZEPINE, BLOOD_PRESSURE):
        submit(app, answers)
    real = export_csv.submissions_csv

    def breaks_after_two(
        submissions: Iterable[Submission], earlier: Sequence[Item] = ()
    ) -> Iterator[str]:
        for number, line in enumerate(real(submissions, earlier)):
            if number == 3:  # the header and two rows went out
                raise OSError("disk full")
            yield line

    monkeypatch.setattr(export_csv, "submissions_csv", breaks_after_two)
    job_id = press_prepare(exporter, "submissions")
    run_worker(app)
    job = the_job(app, job_id)
    assert job.state == "failed" and job.error == "OSError"
    assert export_files(app) == []
    download = exporter.get(f"/clinic/exports/{job_id}/download")
    assert download.status_code == 303 and download.mimetype != "text/csv"
    page = exporter.get(f"/clinic/exports/{job_id}").get_data(as_text=True)
    assert "This export failed" in page and "Prepare it again" in page
    assert "disk full" not in page
    failed = actions(app, "export_failed")
    assert len(failed) == 1 and failed[0][1]["error"] == "OSError"
    assert "disk full" not in json.dumps(actions(app))


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_tampered_or_cut_file_refuses_to_open_and_fails_the_job(
    app: Flask, exporter: FlaskClient, damage: str
) -> None:
    submit(app, URGENT)
    job_id = press_prepare(exporter, "submissions")
    run_worker(app)
    [path] = export_files(app)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[-20] ^= 1
    else:
        data = data[: len(data) - 10]
    path.write_bytes(bytes(data))
    download = exporter.get(f"/clinic/exports/{job_id}/download")
    assert download.status_code == 303
    assert the_job(app, job_id).state == "failed"
    assert export_files(app) == []
    assert [action for action, _ in actions(app, "export_downloaded")] == []


def test_files_are_deleted_after_export_keep_hours(
    app: Flask, exporter: FlaskClient, clock: Clock, reviewer: Any
) -> None:
    submit(app, URGENT)
    job_id = press_prepare(exporter, "submissions")
    run_worker(app)
    assert len(export_files(app)) == 1
    clock.advance(hours=23)
    app.test_cli_runner().invoke(args=["alerts", "sweep"])
    assert len(export_files(app)) == 1 and the_job(app, job_id).state == "done"
    clock.advance(hours=2)
    swept = app.test_cli_runner().invoke(args=["alerts", "sweep"])
    assert "1 export jobs expired." in swept.output
    assert export_files(app) == [] and the_job(app, job_id).state == "expired"
    sign_in(exporter, app, reviewer)  # the session itself ended after 12 hours
    assert exporter.get(f"/clinic/exports/{job_id}/download").status_code == 303
    assert "has expired" in exporter.get(f"/clinic/exports/{job_id}").get_data(as_text=True)


def test_two_workers_never_run_one_job(app: Flask, exporter: FlaskClient) -> None:
    submit(app, URGENT)
    job_id = press_prepare(exporter, "submissions")
    with app.app_context():
        first = jobs.claim(db.session, job_id, app.config["CLOCK"]())
        second = jobs.claim(db.session, job_id, app.config["CLOCK"]())
        assert first == 1 and second is None
        db.session.execute(sa.update(ExportJob).values(state="pending"))
        db.session.commit()
    winners: list[Any] = []
    start = threading.Barrier(4)

    def worker() -> None:
        with app.app_context():
            start.wait()
            winners.append(jobs.claim_next(db.session, app.config["CLOCK"]()))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(winners, key=str) == [(job_id, 2), None, None, None]


def test_a_run_whose_worker_vanished_is_retried_then_failed(
    app: Flask, exporter: FlaskClient, clock: Clock
) -> None:
    submit(app, URGENT)
    job_id = press_prepare(exporter, "submissions")
    with app.app_context():
        for attempt in range(1, 4):
            assert jobs.claim(db.session, job_id, clock()) == attempt
            clock.advance(minutes=11)
            assert jobs.recover_stuck(db.session, app.config, clock()) == 1
        job = db.session.get(ExportJob, job_id)
        assert job is not None and job.state == "failed" and job.error == "WorkerLost"
        # A run that lost its job cannot finish it.
        with pytest.raises(jobs.JobLost):
            jobs.run_job(db.session, job_id, 3, app.config, app.extensions["keyring"], clock)


def test_a_large_direct_download_is_handed_to_a_job(app: Flask, exporter: FlaskClient) -> None:
    app.config["EXPORT_STREAM_MAX_ROWS"] = 1
    submit(app, URGENT)
    submit(app, URGENT)
    response = exporter.get("/clinic/export/submissions.csv?level=urgent")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/clinic/exports/new?")
    offer = exporter.get(response.headers["Location"]).get_data(as_text=True)
    assert "holds 2 submissions" in offer and "Prepare CSV export" in offer
    assert actions(app, "export_csv") == []
    small = exporter.get("/clinic/export/flags.csv?level=none")
    assert small.status_code == 200


def test_a_job_stores_only_the_filter_codes(app: Flask, exporter: FlaskClient) -> None:
    reference = submit(app, {**URGENT, "full_name": SENTINEL_NAME})
    job_id = press_prepare(
        exporter, "submissions", f"status=new&level=urgent&rule=suicidal_thoughts_now&q={reference}"
    )
    with app.app_context():
        row = db.session.execute(sa.select(ExportJob.__table__).where(ExportJob.id == job_id)).one()
    assert row.filters == {
        "status": "new",
        "level": "urgent",
        "rule": "suicidal_thoughts_now",
        "q": reference,
    }
    stored = json.dumps([str(value) for value in row])
    assert SENTINEL_NAME not in stored and 'suicidal_thoughts_now": "yes' not in stored


def test_a_job_downloads_as_plain_csv_or_csv_for_excel_from_its_one_file(
    app: Flask, exporter: FlaskClient
) -> None:
    """Issue 25, point 15: a prepared export offers "CSV for Excel" beside the plain CSV."""
    submit(app, {**URGENT, "full_name": "Zoé Lévesque-Gagné"})
    job_id = press_prepare(exporter, "submissions")
    run_worker(app)
    page = exporter.get(f"/clinic/exports/{job_id}").get_data(as_text=True)
    assert f'href="/clinic/exports/{job_id}/download" download="submissions.csv"' in page
    assert (
        f'href="/clinic/exports/{job_id}/download?for=excel" download="submissions-excel.csv"'
        in page
    )
    assert "Download submissions-excel.csv (CSV for Excel)" in page
    assert "Opening the file in Microsoft Excel? Pick “CSV for Excel”" in page
    plain = exporter.get(f"/clinic/exports/{job_id}/download")
    excel = exporter.get(f"/clinic/exports/{job_id}/download?for=excel")
    assert 'filename="submissions.csv"' in plain.headers["Content-Disposition"]
    assert 'filename="submissions-excel.csv"' in excel.headers["Content-Disposition"]
    assert excel.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = excel.get_data()
    assert excel.headers["Content-Length"] == str(len(body))
    assert body.startswith(b"\xef\xbb\xbf") and not plain.get_data().startswith(b"\xef\xbb\xbf")
    assert body[3:] == plain.get_data()
    assert "Zoé Lévesque-Gagné" in body.decode("utf-8-sig")  # accents whole after the mark
    # The same bytes as the direct "CSV for Excel" download of the same filter.
    assert body == exporter.get("/clinic/export/submissions.csv?for=excel").get_data()
    downloads = [detail for _, detail in actions(app, "export_downloaded")]
    assert downloads == [
        {"job": job_id, "kind": "submissions", "rows": 1},
        {"job": job_id, "kind": "submissions", "rows": 1, "for": "excel"},
    ]


def test_the_excel_flavour_of_a_job_is_the_mark_then_the_checked_file(
    app: Flask, exporter: FlaskClient
) -> None:
    """The service: open_download sends the BOM first and counts it in the size."""
    submit(app, BENZODIAZEPINE)
    job_id = press_prepare(exporter, "flags")
    run_worker(app)
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        assert job is not None
        ring = app.extensions["keyring"]
        plain, plain_size = jobs.open_download(job, app.config, ring)
        excel, excel_size = jobs.open_download(job, app.config, ring, "excel")
        plain_bytes, excel_bytes = b"".join(plain), b"".join(excel)
        with pytest.raises(ValueError, match="plain or excel"):
            jobs.open_download(job, app.config, ring, "xlsx")
    assert excel_bytes == jobs.EXCEL_BOM.encode() + plain_bytes
    assert (plain_size, excel_size) == (len(plain_bytes), len(plain_bytes) + 3)
    assert plain_bytes.startswith(b'"reference","rule"')
    assert jobs.download_name("flags") == "flags.csv"
    assert jobs.download_name("flags", "excel") == "flags-excel.csv"


def test_a_tampered_file_sends_nothing_in_either_flavour(app: Flask, exporter: FlaskClient) -> None:
    submit(app, URGENT)
    job_id = press_prepare(exporter, "submissions")
    run_worker(app)
    (sealed_file,) = export_files(app)
    data = bytearray(sealed_file.read_bytes())
    data[-5] ^= 1
    sealed_file.write_bytes(bytes(data))
    response = exporter.get(f"/clinic/exports/{job_id}/download?for=excel")
    assert response.status_code == 303 and b'"reference"' not in response.get_data()
    assert the_job(app, job_id).state == "failed"
    assert exporter.get(f"/clinic/exports/{job_id}/download").status_code == 303
    assert actions(app, "export_downloaded") == []
