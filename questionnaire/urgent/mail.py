"""Emails: alerts (a reference code only), the patient's resume link, and how they go out."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from questionnaire.records.references import format_reference

SMTP_TIMEOUT_SECONDS = 10


def alert_message(
    reference: str,
    sender: str,
    recipient: str,
    clinic: str,
    kind: str = "urgent",
    unsent: bool = False,
    hold: bool = False,
) -> EmailMessage:
    """Return the alert email: the reference and where to sign in, nothing about the patient."""
    shown = format_reference(reference)
    if hold:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = recipient
        message["Subject"] = f"Hold before treatment: {shown}"
        message.set_content(
            f"A check-in before a treatment at {clinic}, reference {shown}, raised a hold: "
            "do not dose until a clinician has spoken with the patient. Sign in and open "
            "today's visits.\n"
        )
        return message
    what = "urgent intake (not sent by the patient)" if unsent else "urgent intake"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    if kind == "escalation":
        message["Subject"] = f"Not opened yet: {what} {shown}"
        message.set_content(
            f"No clinician has opened the {what} at {clinic}, reference {shown}, "
            "since it was raised; sign in to review it now.\n"
        )
    else:
        message["Subject"] = f"Urgent intake {shown}" + (" (not sent)" if unsent else "")
        article = "An " + what
        message.set_content(
            f"{article} arrived at {clinic}, reference {shown}; sign in to review.\n"
        )
    return message


def resume_link_message(
    link: str, sender: str, recipient: str, subject: str, body: str
) -> EmailMessage:
    """Return the patient's own "come back later" email: the link and what it does, no answer."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    return message


def send(config: Mapping[str, Any], message: EmailMessage) -> None:
    """Send one email through the configured SMTP server (STARTTLS and login if set)."""
    host = str(config.get("SMTP_HOST") or "localhost")
    port = int(config.get("SMTP_PORT") or 25)
    with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USERNAME"):
            smtp.login(str(config["SMTP_USERNAME"]), str(config.get("SMTP_PASSWORD") or ""))
        smtp.send_message(message)
