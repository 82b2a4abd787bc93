"""Every `flask …` command group, registered on the app in one place."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Add every command group to the app's `flask` command."""
    from questionnaire.audit.cli import audit_cli
    from questionnaire.exports.cli import exports_cli
    from questionnaire.flagging.cli import rules
    from questionnaire.flagging.questions_cli import questions
    from questionnaire.flagging.table import rule_fields
    from questionnaire.ops.cli import alerts_cli, keys_cli, notifications_cli, purge_command
    from questionnaire.visits.cli import visits_cli

    for command in (
        rules,
        questions,
        notifications_cli,
        alerts_cli,
        audit_cli,
        keys_cli,
        purge_command,
        exports_cli,
        visits_cli,
    ):
        app.cli.add_command(command)
    # rule_fields() is cached; warming it here keeps the first command quick.
    rule_fields()
