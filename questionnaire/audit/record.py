"""The audit trail: one AuditEvent per view, action, export and sign-in event; never an answer."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from questionnaire.extensions import now
from questionnaire.records.models import AuditEvent, Clinician, Submission

#: Every action the trail records, so a typo cannot invent a new one.
ACTIONS = frozenset(
    {
        "sign_in",
        "sign_in_failed",
        "sign_in_throttled",
        "sign_out",
        "session_expired",
        "view_queue",
        "view_submission",
        "acknowledge_flag",
        "add_note",
        "set_status",
        "submission_taken",
        "submission_handed_over",
        "submission_released",
        "export_fhir",
        "export_csv",
        "export_flags_csv",
        "export_requested",
        "export_completed",
        "export_failed",
        "export_downloaded",
        "export_expired",
        "view_audit",
        "export_audit",
        "clinician_created",
        "clinician_disabled",
        "clinician_2fa_reset",
        "export_permission_granted",
        "export_permission_revoked",
        "notification_failed",
        "view_unsent_intake",
        "close_unsent_intake",
        "purge",
        "keys_rotated",
        # Accounts in the browser (issue 14).
        "clinician_invited",
        "clinician_enrolled",
        "clinician_enabled",
        "second_factor_reset",
        "admin_granted",
        "admin_removed",
        "exports_cancelled",
        "export_granted",
        "export_removed",
        "password_changed",
        "password_change_failed",
        "sign_out_everywhere",
        # A picture of the work (issue 14): counts and times only.
        "view_dashboard",
        # A patient's requests (issue 14): the reference, who, when and a coded reason.
        "request_looked_up",
        "access_copy",
        "add_correction",
        "submission_deleted_on_request",
        "submission_hidden_on_request",
        "submission_shown_again",
        # Name search through the blind index (issue 25): counts only, never a name.
        "name_search",
        "name_index_rebuilt",
        "name_index_rotated",
        # Treatment visits (issue 27): ids and times only, never an answer.
        "patient_created",
        "visit_scheduled",
        "view_patient",
        "view_day",
    }
)


def client_address() -> str | None:
    """Return the client's address as the app sees it (after any trusted proxy fix)."""
    return request.remote_addr if has_request_context() else None


def record(
    session: Any,
    action: str,
    *,
    actor: Clinician | None = None,
    submission: Submission | None = None,
    reference: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session (the caller commits it with its own change)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to audit.ACTIONS")
    event = AuditEvent(
        at=now(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        submission_id=submission.id if submission is not None else None,
        reference=submission.reference if submission is not None else reference,
        client_address=client_address(),
        detail=detail or {},
    )
    session.add(event)
    return event
