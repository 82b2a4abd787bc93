"""A clinic network's worth of submissions, bulk-loaded with COPY into a fresh PostgreSQL schema.

Usage (from the project root, with the project venv)::

    .venv/bin/python bench/dataset.py --rows 100000        # load, print what was loaded, drop

The answers are the rules.yaml baseline and cases, validated and judged by the app's own
catalogue and rule table, mixed so that a submission carries about 1.7 flags on average
(as a clinic's real intake does: most answers benign, some flags common). Each answer set
is sealed once with the run's answers key through the app's own column types, then
reused across rows: a sealed value is bound to its column, not its row, so every row
opens as the app would open it. Submitted times spread over two years, oldest first;
statuses follow age (old ones reviewed, recent ones new or in review).

Nothing printed holds an answer.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

#: The mean number of flags per submission the mix aims at.
FLAGS_PER_SUBMISSION = 1.7
#: Submissions spread over this many days before the load's "now".
SPAN_DAYS = 730
#: Younger than this, a submission is still new or in review.
OPEN_DAYS = 14


@dataclass(frozen=True)
class Variant:
    """One answer set as stored: sealed answers and facts, level, and sealed flags."""

    answers: str
    facts: str
    level: str | None
    rank: int
    flags: tuple[tuple[str, str, str, str, str], ...]  # rule, level, message, source, evidence


def _answer_sets(today: date) -> list[dict[str, Any]]:
    from tests.answers import baseline, cases, with_changes

    dated = [case["answers"] for case in cases() if "as_of" not in case]
    sets = [baseline()] + [with_changes(changes) for changes in dated]
    # Pairs of cases: real intakes often raise two or three flags at once.
    chooser = random.Random(today.toordinal())
    sets += [with_changes({**chooser.choice(dated), **chooser.choice(dated)}) for _ in range(150)]
    return sets


def variants(app: Any, today: date) -> tuple[list[Variant], list[float]]:
    """Return the sealed answer sets and the weights that give about 1.7 flags each."""
    from questionnaire.flagging.table import evaluate
    from questionnaire.questions.crisis import fill_numbers
    from questionnaire.questions.forms import validate_answers
    from questionnaire.records.models import Flag, Submission
    from questionnaire.rules import LEVEL_RANK, highest_level

    table = app.extensions["rule_table"]
    seal_answers = Submission.__table__.c.answers.type.process_bind_param
    seal_facts = Submission.__table__.c.facts.type.process_bind_param
    seal_evidence = Flag.__table__.c.evidence.type.process_bind_param
    found: list[Variant] = []
    with app.app_context():
        for answers in _answer_sets(today):
            validated = validate_answers(answers, today)
            if not validated.ok:
                continue
            findings = evaluate(table, validated.answers, validated.facts)
            level = highest_level(findings)
            found.append(
                Variant(
                    answers=seal_answers(validated.answers, None),
                    facts=seal_facts(validated.facts, None),
                    level=level,
                    rank=LEVEL_RANK[level],
                    flags=tuple(
                        (
                            finding.rule,
                            finding.level,
                            fill_numbers(finding.message, app.config),
                            finding.source,
                            seal_evidence(finding.evidence, None),
                        )
                        for finding in findings
                    ),
                )
            )
    flagged = [variant for variant in found if variant.flags]
    mean = sum(len(variant.flags) for variant in flagged) / len(flagged)
    # The unflagged baseline takes the share that brings the mean down to the target.
    share_unflagged = max(0.0, 1 - FLAGS_PER_SUBMISSION / mean)
    unflagged = len(found) - len(flagged)
    weights = [
        share_unflagged / unflagged if not variant.flags else (1 - share_unflagged) / len(flagged)
        for variant in found
    ]
    return found, weights


def reference_of(number: int) -> str:
    """Return a unique reference code for a row number (the app's alphabet, 8 characters)."""
    from questionnaire.records.references import REFERENCE_ALPHABET, REFERENCE_LENGTH

    base = len(REFERENCE_ALPHABET)
    letters = []
    for _ in range(REFERENCE_LENGTH):
        number, digit = divmod(number, base)
        letters.append(REFERENCE_ALPHABET[digit])
    return "".join(reversed(letters))


def _status(chooser: random.Random, age: timedelta) -> tuple[str, str | None]:
    if age > timedelta(days=OPEN_DAYS):
        return "reviewed", chooser.choice(
            ("invite_to_consultation", "needs_more_information", "not_proceeding")
        )
    return chooser.choice(("new", "new", "in_review")), None


def load(database_url: str, app: Any, rows: int, seed: int = 12) -> dict[str, float]:
    """COPY `rows` submissions and their flags into the (migrated) database; return figures."""
    import psycopg
    import sqlalchemy as sa

    now = datetime.now(UTC)
    chooser = random.Random(seed)
    found, weights = variants(app, now.date())
    url = sa.make_url(database_url)
    options = str(url.query.get("options", ""))
    conninfo = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    started = time.perf_counter()
    flags_loaded = 0
    with psycopg.connect(conninfo, options=options or None) as connection:
        with connection.cursor() as cursor:
            first_id = (
                int(cursor.execute("SELECT coalesce(max(id), 0) FROM submissions").fetchone()[0])
                + 1
            )  # type: ignore[index]
            first_flag = (
                int(cursor.execute("SELECT coalesce(max(id), 0) FROM flags").fetchone()[0]) + 1
            )  # type: ignore[index]
            chosen = chooser.choices(range(len(found)), weights=weights, k=rows)
            step = timedelta(days=SPAN_DAYS) / max(rows, 1)
            oldest = now - timedelta(days=SPAN_DAYS)
            columns = (
                "id, draft_key, reference, submitted_at, language, answers, facts, rules_version,"
                " rules_sha256, status, highest_level, level_rank, outcome"
            )
            table = app.extensions["rule_table"]
            with cursor.copy(f"COPY submissions ({columns}) FROM STDIN") as copy:
                for offset, index in enumerate(chosen):
                    variant = found[index]
                    ident = first_id + offset
                    at = oldest + step * offset
                    status, outcome = _status(chooser, now - at)
                    copy.write_row(
                        (
                            ident,
                            hashlib.sha256(f"bench-{ident}".encode()).hexdigest(),
                            reference_of(ident),
                            at,
                            "en",
                            variant.answers,
                            variant.facts,
                            table.version,
                            table.sha256,
                            status,
                            variant.level,
                            variant.rank,
                            outcome,
                        )
                    )
            flag_columns = (
                "id, submission_id, rule, level, message, source, evidence, level_rank,"
                " submitted_at"
            )
            with cursor.copy(f"COPY flags ({flag_columns}) FROM STDIN") as copy:
                flag_id = first_flag
                for offset, index in enumerate(chosen):
                    variant, at = found[index], oldest + step * offset
                    for rule, level, message, source, evidence in variant.flags:
                        copy.write_row(
                            (
                                *(flag_id, first_id + offset, rule, level, message, source),
                                *(evidence, variant.rank, at),
                            )
                        )
                        flag_id += 1
                flags_loaded = flag_id - first_flag
            # COPY names its ids, so the sequences move on past them.
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('submissions', 'id'),"
                " (SELECT max(id) FROM submissions))"
            )
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('flags', 'id'), (SELECT max(id) FROM flags))"
            )
        connection.commit()
        connection.autocommit = True
        # VACUUM as well: otherwise autovacuum wakes for the new rows in the middle of the
        # measurements that follow.
        connection.execute("VACUUM (ANALYZE) submissions")
        connection.execute("VACUUM (ANALYZE) flags")
    return {
        "rows": rows,
        "flags": flags_loaded,
        "flags_per_submission": flags_loaded / max(rows, 1),
        "seconds": time.perf_counter() - started,
    }


@contextlib.contextmanager
def loaded_database(
    rows: int, folder: Path, postgres: str | None = None
) -> Iterator[tuple[str, dict[str, str], dict[str, float]]]:
    """Yield (database URL, app environment, load figures) for a fresh, migrated, filled schema."""
    from tests.harness.served import app_environment, fresh_database, migrate, postgres_url

    postgres = postgres or postgres_url("BENCH_DATABASE_URL")
    with fresh_database("postgres", folder, postgres, prefix="bench_") as url:
        environment = app_environment(url, folder / "instance")
        migrate(environment)
        app = app_for(environment)
        try:
            figures = load(url, app, rows)
        finally:
            with app.app_context():
                from questionnaire.extensions import db

                db.engine.dispose()
        yield url, environment, figures


@dataclass(frozen=True)
class Landmarks:
    """Places in a filled table that the queue's benchmarks visit."""

    middle: Any  # the cursor (queue_page's Cursor) of the row in the middle of queue order
    common_rule: str  # the rule with the most flags
    reference: str  # a submission a third of the way in


def landmarks(session: Any) -> Landmarks:
    """Return the middle of the queue, the commonest rule and one reference of a filled table."""
    import sqlalchemy as sa

    from questionnaire.records.models import Flag, Submission
    from questionnaire.records.queue import Cursor

    total = session.scalar(sa.select(sa.func.count()).select_from(Submission)) or 0
    order = (Submission.level_rank, Submission.submitted_at, Submission.id)
    middle = session.scalar(sa.select(Submission).order_by(*order).offset(total // 2).limit(1))
    common = session.scalar(
        sa.select(Flag.rule).group_by(Flag.rule).order_by(sa.func.count().desc()).limit(1)
    )
    somebody = session.scalar(
        sa.select(Submission.reference).order_by(Submission.id).offset(total // 3).limit(1)
    )
    if middle is None or common is None or somebody is None:
        raise RuntimeError("the table is empty: load it first (bench/dataset.py)")
    return Landmarks(Cursor.of(middle), common, somebody)


def app_for(environment: dict[str, str]) -> Any:
    """Return the app in this process on the environment's database and keys."""
    from questionnaire import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": environment["DATABASE_URL"],
            "ANSWERS_KEY": environment["ANSWERS_KEY"],
            "SECRET_KEY": environment["SECRET_KEY"],
            "INSTANCE_PATH": environment["INSTANCE_PATH"],
            "RATELIMIT_ENABLED": False,
        }
    )


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as folder,
        loaded_database(args.rows, Path(folder)) as (
            _url,
            _environment,
            figures,
        ),
    ):
        print(
            f"loaded {figures['rows']:,} submissions and {figures['flags']:,} flags "
            f"({figures['flags_per_submission']:.2f} a submission) in {figures['seconds']:.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
