"""Export routes (FHIR, CSV) and the audit trail: who may, and that each is on the record."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from flask import Flask
from flask.testing import FlaskClient

from questionnaire.extensions import db
from questionnaire.records.models import AuditEvent
from questionnaire.records.references import format_reference
from tests.exports import BENZODIAZEPINE, URGENT, submit
from tests.harness.clinician import make_clinician, sign_in
from tests.harness.forms import visible_text


def actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_questionnaire_is_public_fhir(client: FlaskClient) -> None:
    response = client.get("/fhir/Questionnaire/intake")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    resource = Questionnaire.model_validate(response.get_json())
    assert resource.url == "http://localhost/fhir/Questionnaire/intake"
    assert resource.version
    # The type's URL is a search: a searchset Bundle holding the same Questionnaire.
    found = Bundle.model_validate(client.get("/fhir/Questionnaire").get_json())
    assert found.type == "searchset"
    assert [entry.resource.url for entry in found.entry] == [resource.url]


def test_a_submission_downloads_as_a_valid_fhir_bundle_and_is_audited(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    reference = submit(app, URGENT)
    response = as_reviewer.get(f"/clinic/submissions/{reference}/fhir")
    assert response.status_code == 200
    shown = f"{reference[:4]}-{reference[4:]}"  # as the screen shows it
    assert f'filename="{shown}.json"' in response.headers["Content-Disposition"]
    bundle = Bundle.model_validate(json.loads(response.get_data(as_text=True)))
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds[0] == "QuestionnaireResponse" and "DetectedIssue" in kinds
    assert actions(app)[-1] == "export_fhir"


def grant_export(app: Flask, email: str) -> None:
    result = app.test_cli_runner().invoke(args=["clinician", "grant-export", email])
    assert result.exit_code == 0, result.output


def test_the_queue_downloads_as_csv_with_its_filter_and_is_audited(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    grant_export(app, "reviewer@clinic.example")
    urgent, benzo = submit(app, URGENT), submit(app, BENZODIAZEPINE)
    response = as_reviewer.get("/clinic/export/submissions.csv?level=urgent")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["reference"] for row in rows] == [format_reference(urgent)]  # as on screen
    assert rows[0]["suicidal_thoughts_now"] == "yes"
    flags = as_reviewer.get("/clinic/export/flags.csv")
    flag_rows = list(csv.DictReader(io.StringIO(flags.get_data(as_text=True))))
    assert {row["reference"] for row in flag_rows} == {
        format_reference(urgent),
        format_reference(benzo),
    }
    assert {"reference", "rule", "level", "rules_version"} <= set(flag_rows[0])
    assert actions(app)[-2:] == ["export_csv", "export_flags_csv"]
    with app.app_context():
        detail = db.session.scalar(
            sa.select(AuditEvent.detail).where(AuditEvent.action == "export_csv")
        )
        flags_detail = db.session.scalar(
            sa.select(AuditEvent.detail).where(AuditEvent.action == "export_flags_csv")
        )
    assert detail == {"level": "urgent", "rows": 1}
    assert flags_detail == {"rows": len(flag_rows)}


def test_bulk_export_needs_the_permission_an_admin_grants(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    reference = submit(app, URGENT)
    queue = as_reviewer.get("/clinic/").get_data(as_text=True)
    assert "Download these submissions" not in queue
    assert as_reviewer.get("/clinic/export/submissions.csv").status_code == 403
    assert as_reviewer.get("/clinic/export/flags.csv").status_code == 403
    assert "export_csv" not in actions(app)
    # One submission as FHIR stays with every clinician.
    assert as_reviewer.get(f"/clinic/submissions/{reference}/fhir").status_code == 200
    grant_export(app, "reviewer@clinic.example")
    assert "export_permission_granted" in actions(app)
    assert "Download these submissions" in as_reviewer.get("/clinic/").get_data(as_text=True)
    assert as_reviewer.get("/clinic/export/submissions.csv").status_code == 200
    revoked = app.test_cli_runner().invoke(
        args=["clinician", "revoke-export", "reviewer@clinic.example"]
    )
    assert revoked.exit_code == 0
    assert as_reviewer.get("/clinic/export/submissions.csv").status_code == 403
    unknown = app.test_cli_runner().invoke(args=["clinician", "grant-export", "no@clinic.example"])
    assert unknown.exit_code != 0


def test_the_audit_page_is_for_admins(app: Flask, as_reviewer: FlaskClient) -> None:
    assert as_reviewer.get("/clinic/audit").status_code == 403


def test_admins_read_and_filter_the_audit_trail(app: Flask, client: FlaskClient) -> None:
    reviewer = make_clinician(app, email="reviewer@clinic.example", name="Dr Reviewer")
    reference = submit(app, BENZODIAZEPINE)
    sign_in(client, app, reviewer)
    client.get(f"/clinic/submissions/{reference}")
    other = app.test_client()
    admin = make_clinician(app, email="admin@clinic.example", name="Ada", is_admin=True)
    sign_in(other, app, admin)
    page = visible_text(other.get("/clinic/audit?action=view_submission"))
    table = page[page.index("When Who Action") :]
    assert "reviewer@clinic.example view_submission" in table
    assert "sign_in" not in table  # filtered out
    by_reference = visible_text(other.get(f"/clinic/audit?reference={reference}"))
    assert "view_submission" in by_reference
    assert other.get("/clinic/audit?action=drop_table").status_code == 400
    assert actions(app)[-1] == "view_audit"


def test_no_route_edits_or_deletes_audit_rows(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        assert not (rule.methods or set()) & {"PUT", "PATCH", "DELETE"}, rule
        if "audit" in rule.rule:
            assert (rule.methods or set()) <= {"GET", "HEAD", "OPTIONS"}, rule


def test_audit_export_writes_csv_since_a_day(app: Flask, as_reviewer: FlaskClient) -> None:
    reference = submit(app, BENZODIAZEPINE)
    as_reviewer.get(f"/clinic/submissions/{reference}")
    result = app.test_cli_runner().invoke(args=["audit", "export", "--since", "2026-06-01"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [row["action"] for row in rows][-1] == "view_submission"
    assert rows[-1]["actor"] == "reviewer@clinic.example"
    assert rows[-1]["reference"] == format_reference(reference)  # as the trail page shows it
    assert "Sam Example" not in result.output
    none = app.test_cli_runner().invoke(args=["audit", "export", "--since", "2026-06-02"])
    assert list(csv.DictReader(io.StringIO(none.output))) == []
    assert actions(app)[-1] == "export_audit"


def test_a_forbidden_page_uses_the_clinician_layout(app: Flask, as_reviewer: FlaskClient) -> None:
    response = as_reviewer.get("/clinic/audit")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "intake review" in page and "Your account cannot open this page" in page
    assert "Need help now?" not in page  # the patient's crisis footer is not shown to staff


def test_csv_for_excel_is_the_same_file_with_a_byte_order_mark_and_is_audited(
    app: Flask, as_reviewer: FlaskClient
) -> None:
    """Issue 25: Excel reads UTF-8 only after a BOM; the plain CSV stays without one."""
    grant_export(app, "reviewer@clinic.example")
    submit(app, URGENT)
    queue = as_reviewer.get("/clinic/?level=urgent").get_data(as_text=True)
    assert "/clinic/export/submissions.csv?level=urgent&amp;for=excel" in queue
    assert "CSV for Excel" in queue and "Microsoft Excel" in queue
    plain = as_reviewer.get("/clinic/export/submissions.csv?level=urgent").get_data()
    excel = as_reviewer.get("/clinic/export/submissions.csv?level=urgent&for=excel")
    assert excel.status_code == 200 and excel.mimetype == "text/csv"
    assert "submissions-excel.csv" in excel.headers["Content-Disposition"]
    body = excel.get_data()
    assert body.startswith(b"\xef\xbb\xbf") and not plain.startswith(b"\xef\xbb\xbf")
    assert body[3:] == plain
    flags = as_reviewer.get("/clinic/export/flags.csv?for=excel").get_data()
    assert flags.startswith(b"\xef\xbb\xbf")
    with app.app_context():
        details = list(
            db.session.scalars(
                sa.select(AuditEvent.detail)
                .where(AuditEvent.action == "export_csv")
                .order_by(AuditEvent.id)
            )
        )
    assert details == [
        {"level": "urgent", "rows": 1},
        {"level": "urgent", "rows": 1, "for": "excel"},
    ]
