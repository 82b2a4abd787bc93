"""Print each module's mutation score from mutmut's results in mutants/ (make mutants).

Not a test: `make mutants` runs it after mutmut. The score is the share of a module's mutants
that some test killed (a timeout counts as killed); a mutant no test reaches counts against it.
Usage: python tests/mutation_score.py questions.parsers rules.engine ...
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "caught by type check"}


def results(module: str, root: Path = Path("mutants")) -> dict[str, str]:
    """Return each mutant of a module (e.g. "rules.engine") and its status."""
    meta = root / "questionnaire" / (module.replace(".", "/") + ".py.meta")
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return {name: status_by_exit_code[code] for name, code in codes.items()}


def main(modules: list[str]) -> int:
    """Print a line per module and the mutants that were not killed; return 0."""
    for module in modules:
        statuses = results(module)
        counts = Counter(statuses.values())
        killed = sum(counts[status] for status in KILLED)
        score = 100 * killed / len(statuses) if statuses else 100.0
        detail = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        print(f"{module}: {score:.1f} % ({killed} of {len(statuses)} killed; {detail})")
        for name, status in sorted(statuses.items()):
            if status not in KILLED:
                print(f"    {status}: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
