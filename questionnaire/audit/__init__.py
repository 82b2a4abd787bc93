"""The audit trail: one event per view, action, export and sign-in event; never an answer."""

from questionnaire.audit.record import ACTIONS, client_address, record

__all__ = ["ACTIONS", "client_address", "record"]
