"""Every definition served is kept; a submission is shown with the questions it answered.

The process stores the definition it asks once (keyed by both of its fingerprints, one
per C-SSRS screener setting, as Submission.questionnaire_version records them). A
submission answered under an earlier definition is rendered with that definition's
pages, built again from its stored text.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from questionnaire.extensions import DbSession
from questionnaire.questions import catalogue, version
from questionnaire.questions.definition import DefinitionError, definition_from_text
from questionnaire.questions.model import Item, Section
from questionnaire.records.models import QuestionnaireDefinition

log = logging.getLogger(__name__)


def remember_definition(engine: Engine, now: datetime) -> None:
    """Store the definition this process asks under both its fingerprints, unless stored."""
    definition = catalogue.DEFINITION
    with engine.begin() as connection:
        insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        for fingerprint in dict.fromkeys(version.VERSIONS.values()):
            connection.execute(
                insert(QuestionnaireDefinition)
                .values(
                    version=fingerprint,
                    sha256=definition.sha256,
                    first_served_at=now,
                    definition=definition.source,
                )
                .on_conflict_do_nothing()
            )


def sections_of(session: DbSession, answered_with: str | None) -> tuple[Section, ...]:
    """Return every section a submission was asked: its own definition's, or today's.

    Today's when the version is today's, was never recorded (before versions were kept),
    or its stored definition no longer builds (then a warning names the version).
    """
    if answered_with is None or answered_with in version.VERSIONS.values():
        return catalogue.SECTIONS
    stored = session.execute(
        sa.select(QuestionnaireDefinition.sha256, QuestionnaireDefinition.definition).where(
            QuestionnaireDefinition.version == answered_with
        )
    ).first()
    if stored is None:
        return catalogue.SECTIONS
    try:
        return _built(stored.sha256, stored.definition)
    except DefinitionError:
        log.warning("The stored questionnaire %s no longer builds; shown as today's", answered_with)
        return catalogue.SECTIONS


def pages_of(session: DbSession, answered_with: str | None) -> tuple[Section, ...]:
    """Return the pages (one page each) of the sections a submission was asked."""
    return tuple(s for s in sections_of(session, answered_with) if s.placement == "page")


def earlier_items(session: DbSession) -> tuple[Item, ...]:
    """Return the questions of earlier stored definitions that today's no longer asks.

    In the order they were first served; each once. A stored definition that no longer
    builds is skipped with a warning naming its version.
    """
    rows = session.execute(
        sa.select(
            QuestionnaireDefinition.version,
            QuestionnaireDefinition.sha256,
            QuestionnaireDefinition.definition,
        ).order_by(QuestionnaireDefinition.first_served_at, QuestionnaireDefinition.version)
    )
    found: dict[str, Item] = {}
    for fingerprint, sha256, text in rows:
        if fingerprint in version.VERSIONS.values():
            continue
        try:
            sections = _built(sha256, text)
        except DefinitionError:
            log.warning("The stored questionnaire %s no longer builds; left out", fingerprint)
            continue
        for section in sections:
            for item in section.items:
                if item.id not in catalogue.ITEMS:
                    found.setdefault(item.id, item)
    return tuple(found.values())


@lru_cache(maxsize=16)
def _built(sha256: str, text: str) -> tuple[Section, ...]:
    del sha256  # with the text, the key: a few versions, each built once
    definition = definition_from_text(
        text, "stored questionnaire definition", None, all_facts=catalogue.ALL_FACTS
    )
    catalogue.remember_texts(definition)  # its French, for the pages that show it
    return definition.sections
