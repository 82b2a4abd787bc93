"""Find submissions by the patient's name through the blind index (issue 25).

Names are sealed, so they are never compared in the database: the typed name is split
into normalised tokens, each hashed under the name-index key, and a submission matches
when every typed token is one of its name's tokens (exact tokens: "Côté" finds "cote",
"Cote-Lavoie"; "Cot" finds nothing). Searches are POSTs, never in a URL, each audited
with counts only.
"""

from __future__ import annotations

import sqlalchemy as sa

from questionnaire import audit
from questionnaire.extensions import DbSession
from questionnaire.questions.blind_index import MAX_TOKENS, blind_tokens
from questionnaire.records.models import Clinician, NameToken, Submission

#: At most this many submissions are listed (most urgent first, then oldest).
MOST_RESULTS = 50


def find_by_name(
    session: DbSession, clinician: Clinician, typed: str, key: bytes
) -> list[Submission]:
    """Return the submissions whose name holds every token typed; audit the search."""
    digests = blind_tokens(typed[: 40 * MAX_TOKENS], key)
    found: list[Submission] = []
    if digests:
        matching = (
            sa.select(NameToken.submission_id)
            .where(NameToken.digest.in_(digests))
            .group_by(NameToken.submission_id)
            .having(sa.func.count(sa.distinct(NameToken.digest)) == len(digests))
        )
        found = list(
            session.scalars(
                sa.select(Submission)
                .where(Submission.id.in_(matching), Submission.hidden_at.is_(None))
                .order_by(Submission.level_rank, Submission.submitted_at, Submission.id)
                .limit(MOST_RESULTS)
            )
        )
    audit.record(
        session,
        "name_search",
        actor=clinician,
        detail={"tokens": len(digests), "results": len(found)},
    )
    session.commit()
    return found
