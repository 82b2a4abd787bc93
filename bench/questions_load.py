"""Time loading the questionnaire definition beside loading the rule table; print both in ms.

Both are read, checked and built from their files at start-up (create_app): the
definition must add at most 50 ms (issue 26). Each is loaded REPEAT times from its
bytes (no cache), in this run, so a busy machine slows both alike; the median is printed.

Usage: python bench/questions_load.py [QUESTIONS] [RULES]
       (defaults: $QUESTIONS_PATH, then forms/intake.yaml; $RULES_PATH, then rules.yaml)
Exits 1 when the definition's median is over the budget.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a plain script from anywhere

from questionnaire.flagging.table import prepare, rule_fields  # noqa: E402
from questionnaire.questions import catalogue  # noqa: E402
from questionnaire.questions.definition import load_definition  # noqa: E402
from questionnaire.rules import load_table  # noqa: E402

REPEAT = 5
BUDGET_MS = 50.0
LANGUAGES = ("en", "fr_CA")


def median_ms(load: Callable[[], object]) -> float:
    """Return the median wall time of REPEAT loads, in milliseconds."""
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        load()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    """Print both load times; return 1 when the definition's is over the budget."""
    questions = Path(
        argv[1] if len(argv) > 1 else os.environ.get("QUESTIONS_PATH") or ROOT / "forms/intake.yaml"
    )
    rules = Path(argv[2] if len(argv) > 2 else os.environ.get("RULES_PATH") or ROOT / "rules.yaml")
    definition_ms = median_ms(
        lambda: load_definition(questions, LANGUAGES, all_facts=catalogue.ALL_FACTS)
    )
    fields = rule_fields()
    rules_ms = median_ms(lambda: load_table(rules, fields, prepare))
    print(
        f"questionnaire definition {questions.name}: {definition_ms:8.1f} ms (median of {REPEAT})"
    )
    print(f"rule table {rules.name}:                 {rules_ms:8.1f} ms (median of {REPEAT})")
    print(f"definition / rule table: {definition_ms / rules_ms:.2f}")
    if definition_ms > BUDGET_MS:
        print(f"over budget: the definition takes more than {BUDGET_MS:.0f} ms to load")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
