"""The questionnaire versions the app has served, kept so an old response's questionnaire resolves.

Each process records the version it serves once, on its first request (`remember`), in
its own short transaction: INSERT … ON CONFLICT DO NOTHING, so processes starting
together never collide. Only the public Questionnaire is stored, its base URL written
as fhir_server.BASE_PLACEHOLDER.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from questionnaire.exports import fhir
from questionnaire.exports.fhir_server import BASE_PLACEHOLDER
from questionnaire.questions import version as versions
from questionnaire.records.models import QuestionnaireVersion


def stored_text(
    clinic_name: str, translations: Mapping[str, Callable[[str], str]], screener: bool = False
) -> str:
    """Return today's Questionnaire as stored: JSON, the base URL as a placeholder."""
    resource = fhir.questionnaire_resource(BASE_PLACEHOLDER, clinic_name, translations, screener)
    return json.dumps(resource, ensure_ascii=False, sort_keys=True)


def remember(
    engine: Engine,
    clinic_name: str,
    translations: Mapping[str, Callable[[str], str]],
    now: datetime,
    version: str | None = None,
    screener: bool = False,
) -> None:
    """Store the version this process serves (with the C-SSRS screener on or off), once."""
    version = version or (versions.VERSIONS[True] if screener else versions.QUESTIONNAIRE_VERSION)
    with engine.begin() as connection:
        if _known(connection, version):
            return
        values = {
            "version": version,
            "first_served_at": now,
            "resource": stored_text(clinic_name, translations, screener),
        }
        insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(insert(QuestionnaireVersion).values(**values).on_conflict_do_nothing())


def _known(connection: Connection, version: str) -> bool:
    query = sa.select(QuestionnaireVersion.version).where(QuestionnaireVersion.version == version)
    return connection.execute(query).first() is not None


def earlier(session: Any, current: str | None = None) -> dict[str, str]:
    """Return every stored version but the current one: version -> stored JSON text."""
    current = current or versions.QUESTIONNAIRE_VERSION
    rows = session.execute(
        sa.select(QuestionnaireVersion.version, QuestionnaireVersion.resource).where(
            QuestionnaireVersion.version != current
        )
    )
    return {version: text for version, text in rows}


def earlier_codes(stored: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Return, by question, the answer codes earlier versions offered: code -> display."""
    found: dict[str, dict[str, str]] = {}
    prefix = f"{BASE_PLACEHOLDER}/fhir/CodeSystem/"
    for text in stored.values():
        for item in _walk(json.loads(text)["item"]):
            for option in item.get("answerOption", []):
                coding = option.get("valueCoding", {})
                system = coding.get("system", "")
                if system.startswith(prefix):
                    codes = found.setdefault(system.removeprefix(prefix), {})
                    codes.setdefault(coding["code"], coding.get("display", coding["code"]))
    return found


def _walk(items: list[dict[str, Any]]) -> Any:
    for item in items:
        yield item
        yield from _walk(item.get("item", []))
