"""The queue's query plans: EXPLAIN ANALYZE of exactly what each page runs, on a filled table.

Usage (from the project root, with the project venv)::

    .venv/bin/python bench/plans.py --rows 1000000

On a database filled by bench/dataset.py, each kind of queue page is built by the app's own
queue_page(); every statement it sends is caught with SQLAlchemy's cursor events and run
again, with the same parameters, under EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL. The
docs/developers.md's Performance section shows these plans. Nothing printed holds an answer (the
statements read ids, levels, times, statuses and rule ids only).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.dataset import app_for, landmarks, loaded_database  # noqa: E402


def explain(environment: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """Return, per kind of page, each statement's first line and its EXPLAIN ANALYZE plan."""
    import sqlalchemy as sa

    from questionnaire.extensions import db
    from questionnaire.records.queue import Cursor, QueueFilter, queue_page

    app = app_for(environment)
    plans: dict[str, list[tuple[str, str]]] = {}
    with app.app_context():
        marks = landmarks(db.session)
        common, middle = marks.common_rule, marks.middle
        cases: dict[str, tuple[QueueFilter, Cursor | None]] = {
            "first page": (QueueFilter(), None),
            "deep page (the middle of the table)": (QueueFilter(), middle),
            "level=info": (QueueFilter(level="info"), None),
            "status=in_review": (QueueFilter(status="in_review"), None),
            f"rule={common}": (QueueFilter(rule=common), None),
            f"rule={common}, deep": (QueueFilter(rule=common), middle),
        }
        db.session.expunge_all()
        for name, (wanted, after) in cases.items():
            caught: list[tuple[str, Any]] = []

            def catch(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
                caught.append((statement, parameters))  # noqa: B023 - used at once, per case

            sa.event.listen(db.engine, "before_cursor_execute", catch)
            try:
                queue_page(db.session, wanted, after)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", catch)
            db.session.rollback()
            raw = db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                plans[name] = []
                for statement, parameters in caught:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = "\n".join(str(row[0]) for row in cursor.fetchall())
                    plans[name].append((statement.split("\n")[0][:70], plan))
                raw.rollback()
            finally:
                raw.close()
        db.engine.dispose()
    return plans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as folder,
        loaded_database(args.rows, Path(folder)) as (_url, environment, loaded),
    ):
        print(f"{loaded['rows']:,} submissions, {loaded['flags']:,} flags")
        for name, statements in explain(environment).items():
            print(f"\n### {name}")
            for first_line, plan in statements:
                print(f"\n-- {first_line}\n{plan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
