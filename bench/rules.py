"""Time RuleTable.evaluate on 10,000 varied submissions; print the median and p99 in µs.

The medicine text mixes table terms (some misspelt by one or two letters), known
look-alikes, doses and filler. A second figure reads the same texts with
tolerance and exactly, side by side, and prints words per second for each and
their ratio (both measured in this run, so a busy machine slows both alike).

Usage: python bench/rules.py [PATH]   (PATH defaults to $RULES_PATH, then ./rules.yaml)
Exits 1 when the median is over the budget.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a plain script from anywhere

from questionnaire.flagging.table import load_rule_table, rule_fields  # noqa: E402
from questionnaire.rules import Field, FieldKind, Lexicon, Reader, RuleTable  # noqa: E402

SUBMISSIONS = 10_000
BUDGET_MEDIAN_US = 100.0
SEED = 20261101

#: Plausible ranges for numbers, by name; anything else gets 0..300.
RANGES: dict[str, tuple[float, float]] = {
    "age_years": (14, 92),
    "weight_value": (30, 400),
    "weight_kg": (30, 260),
    "bp_systolic": (85, 215),
    "bp_diastolic": (45, 135),
}
LOOK_ALIKES = [
    "clonidine",
    "Lamisil",
    "Valtrex",
    "valproate",
    "hydromorphone",
    "Tylenol 300mg",
    "sertraline",
    "venlafaxine XR",
    "escitalopram",
    "bupropion",
    "levothyroxine",
    "metformin",
]
FILLER = [
    "daily",
    "at night",
    "as needed",
    "twice a day",
    "for sleep",
    "I think",
    "and",
    "vitamin D",
]
PREFIXES = ["", "", "", "apo-", "pms-", "Sandoz ", "teva-", "Jamp "]
#: Words patients put before a medicine that give it a context (ITEMS.md 14.1), in both
#: languages, and sentences around it, so the mix reads context as real text does.
CONTEXTS = [
    "no ",
    "stopped ",
    "my wife takes ",
    "allergic to ",
    "never tried ",
    "pas de ",
    "j'ai arrêté le ",
    "ma mère prend du ",
    "Allergies: ",
    "I quit ",
]
SENTENCES = [
    "Nothing for me",
    "Je suis allée à un concert hier",
    "no side effects",
    "now",
    "maintenant je prends",
]
#: Share of table terms given a context, and of texts with a sentence around them.
IN_CONTEXT = 0.25
#: Share of table terms written with a typo, as patients do.
MISSPELT = 0.3


def misspell(rng: random.Random, word: str) -> str:
    """Return the word with one random typo (substitution, deletion, insertion or swap)."""
    if len(word) < 5:
        return word
    at = rng.randrange(len(word) - 1)
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    kind = rng.randrange(4)
    if kind == 0:
        return word[:at] + letter + word[at + 1 :]
    if kind == 1:
        return word[:at] + word[at + 1 :]
    if kind == 2:
        return word[:at] + letter + word[at:]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def medication_text(rng: random.Random, terms: list[str], context: bool = True) -> str:
    """Return a medicine list mixing table terms (some misspelt), look-alikes, doses and filler.

    With context, some terms follow a trigger ("stopped Ativan") and some texts hold a
    sentence; without, the same draws give the same list with neither.
    """
    parts = []
    for _ in range(rng.randint(0, 6)):
        roll = rng.random()
        if roll < 0.35 and terms:
            term = rng.choice(terms)
            if rng.random() < MISSPELT:
                term = misspell(rng, term)
            name = rng.choice(PREFIXES) + term
            trigger = rng.choice(CONTEXTS)
            if rng.random() < IN_CONTEXT and context:
                name = trigger + name
        elif roll < 0.7:
            name = rng.choice(LOOK_ALIKES)
        else:
            name = rng.choice(FILLER)
        name = name.upper() if rng.random() < 0.1 else name
        dose = rng.choice(["", f" {rng.choice([0.25, 0.5, 1, 2, 10, 50, 100])}mg", " 1 tab"])
        parts.append(name + dose)
    sentence = rng.choice(SENTENCES)
    if rng.random() < IN_CONTEXT and context:
        parts.insert(rng.randint(0, len(parts)), sentence)
    return ", ".join(parts)


def sample(field: Field, rng: random.Random, terms: list[str], context: bool = True) -> Any:
    """Return one plausible prepared value for a field, or a missing one."""
    if rng.random() < 0.1:
        return None
    codes = sorted(field.codes)
    if field.kind is FieldKind.CODE:
        return rng.choice(codes) if codes else None
    if field.kind is FieldKind.CODES:
        return rng.sample(codes, rng.randint(0, min(3, len(codes))))
    if field.kind is FieldKind.NUMBER:
        low, high = RANGES.get(field.name, (0, 300))
        value = rng.uniform(low, high)
        return round(value) if field.name.startswith(("age", "bp_")) else round(value, 1)
    if field.kind is FieldKind.TEXT:
        return medication_text(rng, terms, context)
    if field.kind is FieldKind.DATE:
        return f"{rng.randint(1930, 2010)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return rng.random() < 0.95  # FLAG


def submissions(
    table: RuleTable, fields: dict[str, Field], count: int, seed: int = SEED, context: bool = True
) -> list[dict[str, Any]]:
    """Return count varied value dicts over every field the table may see."""
    rng = random.Random(seed)
    terms = [term.written for lexicon in table.reader.flagged for term in lexicon.entries]
    # Most answers are the calm ones in real life; lean towards "no" so flags vary by rule.
    calm = {"no", "never", "0", "driven_by_someone"}
    values = []
    for _ in range(count):
        one: dict[str, Any] = {}
        for name, field in fields.items():
            value = sample(field, rng, terms, context)
            if field.kind is FieldKind.CODE and rng.random() < 0.6:
                value = next((code for code in sorted(field.codes) if code in calm), value)
            one[name] = value
        values.append(one)
    return values


def words_per_second(reader: Reader, texts: list[str]) -> tuple[float, int]:
    """Read every text once; return the words read per second and how many matched."""
    words = sum(len(text.split()) for text in texts)
    matched = 0
    start = time.perf_counter()
    for text in texts:
        matched += len(reader.read(text).matches)
    return words / (time.perf_counter() - start), matched


def exact_only(reader: Reader) -> Reader:
    """Return the same lists with every flagged term marked exact: no near misses."""
    flagged = [
        Lexicon.compile(lexicon.name, lexicon.terms, exact=lexicon.terms)
        for lexicon in reader.flagged
    ]
    return Reader.compile(flagged, reader.known)


def measure(
    count: int = SUBMISSIONS, path: Path | str | None = None, seed: int = SEED
) -> dict[str, Any]:
    """Time evaluate, tolerant matching included, on count varied submissions; return figures."""
    rules_path = Path(path or os.environ.get("RULES_PATH", ROOT / "rules.yaml"))
    table = load_rule_table(rules_path)
    fields = rule_fields()
    batch = submissions(table, fields, count, seed)
    plain_batch = submissions(table, fields, count, seed, context=False)
    for values in batch[:500] + plain_batch[:500]:  # warm up caches and the allocator
        table.evaluate(values)
    timings: list[int] = []
    plain_timings: list[int] = []
    flags = 0
    clock = time.perf_counter_ns
    # Interleaved, so a busy moment slows both mixes alike.
    for values, plain in zip(batch, plain_batch, strict=True):
        start = clock()
        findings = table.evaluate(values)
        timings.append(clock() - start)
        flags += len(findings)
        start = clock()
        table.evaluate(plain)
        plain_timings.append(clock() - start)
    timings.sort()
    median = statistics.median(timings) / 1000
    plain_median = statistics.median(plain_timings) / 1000

    texts = [values["medications"] for values in batch if values.get("medications")]
    strict = exact_only(table.reader)
    tolerant_rates, exact_rates = [], []
    for _ in range(3):  # interleaved, so a busy moment slows both alike
        tolerant_rate, tolerant_matched = words_per_second(table.reader, texts)
        exact_rate, exact_matched = words_per_second(strict, texts)
        tolerant_rates.append(tolerant_rate)
        exact_rates.append(exact_rate)
    tolerant, exact = statistics.median(tolerant_rates), statistics.median(exact_rates)
    return {
        "path": str(rules_path),
        "version": table.version,
        "rule_count": len(table.rules),
        "submissions": count,
        "flags_per_submission": flags / count,
        "rules_median_us": median,
        "rules_median_without_context_us": plain_median,
        "rules_p99_us": timings[int(len(timings) * 0.99) - 1] / 1000,
        "rules_within_budget": median <= BUDGET_MEDIAN_US,
        "texts": len(texts),
        "tolerant_words_per_s": tolerant,
        "exact_words_per_s": exact,
        "tolerant_matches": tolerant_matched,
        "exact_matches": exact_matched,
    }


def main(argv: list[str]) -> int:
    """Load the table, time evaluate on every submission, and print the figures."""
    found = measure(path=argv[1] if len(argv) > 1 else None)
    median = found["rules_median_us"]
    verdict = "within" if found["rules_within_budget"] else "OVER"
    print(f"rule table {found['path']} version {found['version']}: {found['rule_count']} rules")
    print(
        f"{found['submissions']} submissions, "
        f"{found['flags_per_submission']:.1f} flags each on average"
    )
    print(f"evaluate: median {median:.1f} µs, p99 {found['rules_p99_us']:.1f} µs per submission")
    print(
        f"the same submissions without context sentences: median "
        f"{found['rules_median_without_context_us']:.1f} µs (with context {median:.1f} µs)"
    )
    print(f"budget: median <= {BUDGET_MEDIAN_US:.0f} µs ({verdict} budget)")
    tolerant, exact = found["tolerant_words_per_s"], found["exact_words_per_s"]
    print(
        f"matching {found['texts']} medicine texts: {tolerant:,.0f} words/s with tolerance, "
        f"{exact:,.0f} words/s exact only (ratio {tolerant / exact:.2f}); "
        f"{found['tolerant_matches']} matches with tolerance, {found['exact_matches']} exact only"
    )
    return 0 if found["rules_within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
