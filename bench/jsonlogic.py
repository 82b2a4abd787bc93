"""Compare RuleTable.evaluate with the two JSON Logic ports on PyPI, on the same inputs.

The shipped table is translated to JSON Logic automatically, by walking each rule's
validated condition tree. A `mentions` (free text names a term of a list) becomes a
precomputed boolean fact: every text is read once by our matcher, outside the timed
part, and both sides get that reading (ours as the texts' readings, theirs as facts).
What is timed is the logic alone, plus, on our side, building each finding's evidence
(which the ports cannot do). Every input's set of raised rule ids must be the same on
all three sides.

Two mixes: "realistic" (most answers benign, about 1.7 flags per submission, as in the
generated queue data) and "heavy" (bench/rules.py's generator, about 13 flags each).
Timings are medians of repetitions in which the sides take turns every 200 submissions,
so a busy moment of the machine slows every side alike.

panzi-json-logic comes from the virtualenv; json-logic-qubit also installs a top-level
`json_logic`, so it lives in bench/.peers/json-logic-qubit (`make bench-peers`, from
bench/peers.lock) and is imported from there under its own module name.

Usage: python bench/jsonlogic.py [--count N] [--reps N]
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import importlib.util
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a plain script from anywhere

from bench import rules as heavy  # noqa: E402
from questionnaire.flagging.table import load_rule_table, prepare, rule_fields  # noqa: E402
from questionnaire.rules import Field, FieldKind, Reading, RuleTable  # noqa: E402
from questionnaire.rules.schema import AllOf, AnyOf, Condition, Leaf, Not  # noqa: E402

SEED = 20261102
#: The ratio budget `make bench` checks: the best port's µs per submission over ours.
BUDGET_RATIO = 5.0
PEERS = ROOT / "bench" / ".peers"
#: Share of answers that depart from the benign baseline in the realistic mix.
DEPART = 0.07
#: Share of realistic medicine lists that name some table term (often misspelt).
NAMES_A_TERM = 0.08

JsonLogic = Any
Apply = Callable[[JsonLogic, dict[str, Any]], Any]
#: Time one side on batch[lo:hi]: nanoseconds, and the rule ids raised for each submission.
Run = Callable[[int, int], tuple[int, list[list[str]]]]
#: Submissions each side evaluates before the next side takes its turn.
CHUNK = 200


class TranslationError(ValueError):
    """A condition node the translator does not know: translate it before comparing."""


# --- translation ---------------------------------------------------------------------


def mention_fact(name: str, lexicon: str, context: str = "plain") -> str:
    """Return the data key of the precomputed fact "field `name` mentions `lexicon` in `context`"."""
    return f"mentions__{name}__{lexicon}__{context}"  # no dots: JSON Logic's var splits on them


def translate(condition: Condition, fields: Mapping[str, Field]) -> JsonLogic:
    """Return the JSON Logic equivalent of a validated condition; raise on an unknown node."""
    if isinstance(condition, AllOf):
        return {"and": [translate(child, fields) for child in condition.conditions]}
    if isinstance(condition, AnyOf):
        return {"or": [translate(child, fields) for child in condition.conditions]}
    if isinstance(condition, Not):
        return {"!": [translate(condition.condition, fields)]}
    if isinstance(condition, Leaf):
        return _translate_leaf(condition, fields[condition.name])
    raise TranslationError(f"unknown condition node {type(condition).__name__}")


def _translate_leaf(leaf: Leaf, found: Field) -> JsonLogic:
    operator, operand = leaf.operator
    var = {"var": leaf.name}
    # Ours: a missing answer (None, "", []) makes every operator false except `answered`.
    missing = {"in": [var, [None, "", []]]}
    if operator == "answered":
        return {"!": [missing]} if operand else missing
    if operator == "mentions":
        return {"var": mention_fact(leaf.name, operand, leaf.context or "plain")}
    if operator == "equals":
        # Codes are non-empty text and a number never equals null: no missing guard needed.
        return {"===": [var, operand]}
    if operator == "one_of":
        return {"in": [var, list(operand)]}
    if operator == "includes_any" and found.kind is FieldKind.CODES:
        # `in` on a null or empty list is false in both ports.
        return {"or": [{"in": [code, var]} for code in operand]}
    if operator in ("at_least", "at_most") and found.kind is FieldKind.NUMBER:
        # JavaScript reads null as 0, so a missing number must be ruled out first.
        compare = ">=" if operator == "at_least" else "<="
        return {"and": [{"!==": [var, None]}, {compare: [var, operand]}]}
    raise TranslationError(f"unknown operator {operator} on a {found.kind} field")


def translate_table(table: RuleTable) -> list[tuple[str, JsonLogic]]:
    """Return (rule id, JSON Logic) for every rule of the table, in table order."""
    fields = rule_fields()
    translated = []
    for rule in table.rules:
        if rule.when is None:
            raise TranslationError(f"rule '{rule.id}' kept no condition tree to translate")
        translated.append((rule.id, translate(rule.when, fields)))
    return translated


def mention_facts(table: RuleTable, readings: Mapping[str, Reading]) -> dict[str, bool]:
    """Return every `mentions` fact the translated table reads, from texts already read."""
    facts = {}
    for rule in table.rules:
        for name, lexicon, context in _mentions(rule.when):
            reading = readings.get(name)
            facts[mention_fact(name, lexicon, context)] = reading is not None and _named(
                reading, lexicon, context
            )
    return facts


def _named(reading: Reading, lexicon: str, context: str) -> bool:
    if context == "plain":
        return lexicon in reading.lexicons
    if context == "only_in_context":
        return reading.named_only_in_context(lexicon)
    return reading.in_context(lexicon, context)


def _mentions(condition: Condition | None) -> set[tuple[str, str, str]]:
    if isinstance(condition, AllOf | AnyOf):
        return set().union(*(_mentions(child) for child in condition.conditions))
    if isinstance(condition, Not):
        return _mentions(condition.condition)
    if isinstance(condition, Leaf) and condition.operator[0] == "mentions":
        return {(condition.name, condition.operator[1], condition.context or "plain")}
    return set()


# --- the ports -------------------------------------------------------------------------


def load_ports() -> dict[str, Apply]:
    """Return each port's apply(logic, data), by distribution name; fail loudly if absent."""
    try:
        importlib.metadata.distribution("json-logic-qubit")
    except importlib.metadata.PackageNotFoundError:
        pass
    else:
        raise SystemExit(
            "json-logic-qubit is installed in the virtualenv, where it overwrites "
            "panzi-json-logic's json_logic/__init__.py. Remove both and reinstall panzi: "
            "pip uninstall -y json-logic-qubit panzi-json-logic && make .venv/.installed-stamp"
        )
    import json_logic as panzi  # panzi-json-logic, from requirements-dev.lock

    qubit = _load_from("json-logic-qubit", "json_logic")
    return {"panzi-json-logic": panzi.jsonLogic, "json-logic-qubit": qubit.jsonLogic}


def _load_from(distribution: str, package: str) -> ModuleType:
    folder = PEERS / distribution
    init = folder / package / "__init__.py"
    if not init.is_file():
        raise SystemExit(f"{distribution} is not in {folder}: run `make bench-peers` first")
    # Its dependencies (six) are beside it; appended, so the venv's own packages win.
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
    name = f"_peer_{distribution.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(init.parent)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- inputs ----------------------------------------------------------------------------


def benign_values(table: RuleTable) -> dict[str, Any]:
    """Return the table's baseline answers, prepared as the web does: they raise nothing."""
    values, errors = prepare(table.baseline.answers, table.baseline.as_of)
    assert not errors, errors
    return values


def realistic(table: RuleTable, count: int, seed: int) -> list[dict[str, Any]]:
    """Return answer sets like real intakes: mostly the benign baseline, a few answers not."""
    rng = random.Random(seed)
    fields = rule_fields()
    terms = [term.written for lexicon in table.reader.flagged for term in lexicon.entries]
    base = benign_values(table)
    batch = []
    for _ in range(count):
        one = dict(base)
        for name, field in fields.items():
            if field.kind is FieldKind.TEXT:
                continue
            if rng.random() < DEPART:
                one[name] = heavy.sample(field, rng, terms)
        one["medications"] = _medicines(rng, terms)
        batch.append(one)
    return batch


def _medicines(rng: random.Random, terms: list[str]) -> str:
    if rng.random() < NAMES_A_TERM:
        return heavy.medication_text(rng, terms)
    # Known medicines (look-alikes of flagged names among them), doses and filler.
    return heavy.medication_text(rng, [])


def heavy_mix(table: RuleTable, count: int, seed: int) -> list[dict[str, Any]]:
    """Return bench/rules.py's varied answer sets (about 13 flags each)."""
    return heavy.submissions(table, rule_fields(), count, seed)


# --- measuring -------------------------------------------------------------------------


def compare(
    table: RuleTable,
    ports: Mapping[str, Apply],
    batch: list[dict[str, Any]],
    reps: int,
) -> dict[str, Any]:
    """Time every side on one batch (interleaved reps); check every output is the same."""
    logic = translate_table(table)
    readings = [table.read_texts(values) for values in batch]  # outside the timed part
    data = [
        {**values, **mention_facts(table, read)}
        for values, read in zip(batch, readings, strict=True)
    ]
    clock = time.perf_counter_ns
    evaluate = table.evaluate

    def ours(lo: int, hi: int) -> tuple[int, list[list[str]]]:
        outputs: list[Any] = []
        start = clock()
        for index in range(lo, hi):
            outputs.append(evaluate(batch[index], readings[index]))
        elapsed = clock() - start
        return elapsed, [[finding.rule for finding in found] for found in outputs]

    def theirs(apply: Apply) -> Run:
        def run(lo: int, hi: int) -> tuple[int, list[list[str]]]:
            outputs: list[list[str]] = []
            start = clock()
            for index in range(lo, hi):
                one = data[index]
                outputs.append([rule for rule, tree in logic if apply(tree, one)])
            return clock() - start, outputs

        return run

    sides: dict[str, Run] = {"ours": ours}
    sides.update({name: theirs(apply) for name, apply in ports.items()})
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in sides}
    results: dict[str, list[list[str]]] = {name: [] for name in sides}
    for rep in range(reps + 1):  # the first round warms up and collects the outputs
        spent = dict.fromkeys(sides, 0)
        gc.collect()
        gc.disable()  # as timeit does: a collection would land on whichever side allocated
        # Sides take turns every CHUNK submissions, each turn starting with another side, so
        # a busy moment of the machine lands on all of them alike.
        for turn, lo in enumerate(range(0, len(batch), CHUNK)):
            hi = min(lo + CHUNK, len(batch))
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                elapsed, outputs = sides[name](lo, hi)
                spent[name] += elapsed
                if rep == 0:
                    results[name].extend(outputs)
        gc.enable()
        if rep:
            for name in sides:
                times[name].append(spent[name] / len(batch) / 1000)
    mismatches = {
        name: sum(set(a) != set(b) for a, b in zip(results["ours"], results[name], strict=True))
        for name in ports
    }
    identical = not any(mismatches.values())
    flags = sum(len(found) for found in results["ours"]) / len(batch)
    figures: dict[str, Any] = {
        f"{'ours' if name == 'ours' else name}_us": statistics.median(values)
        for name, values in times.items()
    }
    figures["flags_per_submission"] = flags
    figures["outputs_identical"] = identical
    figures["mismatches"] = mismatches
    best = min(figures[f"{name}_us"] for name in ports)
    figures["ratio_vs_best"] = best / figures["ours_us"]
    return figures


def measure(count: int = 10_000, seed: int = SEED, reps: int = 5) -> dict[str, Any]:
    """Return ours and each port's µs per submission on both mixes, and whether all agree."""
    table = load_rule_table(ROOT / "rules.yaml")
    ports = load_ports()
    mixes = {
        "realistic": realistic(table, count, seed),
        "heavy": heavy_mix(table, count, seed),
    }
    result: dict[str, Any] = {
        name: compare(table, ports, batch, reps) for name, batch in mixes.items()
    }
    result["rules_ratio_vs_best_jsonlogic"] = result["realistic"]["ratio_vs_best"]
    result["rules_outputs_identical"] = all(result[name]["outputs_identical"] for name in mixes)
    result["ports"] = list(ports)
    result["count"] = count
    result["reps"] = reps
    return result


def main(argv: list[str]) -> int:
    """Measure and print a small table; exit 1 if an output differs or the ratio is short."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv[1:])
    result = measure(args.count, args.seed, args.reps)
    ports = result["ports"]
    print(
        f"{args.count} submissions per mix, median of {args.reps} interleaved reps; "
        "term lists read beforehand for every side"
    )
    header = f"{'mix':<10} {'flags':>6} {'ours µs':>8} " + " ".join(
        f"{port + ' µs':>22} {'ratio':>5}" for port in ports
    )
    print(header)
    for mix in ("realistic", "heavy"):
        figures = result[mix]
        ours = figures["ours_us"]
        cells = " ".join(
            f"{figures[port + '_us']:>22.1f} {figures[port + '_us'] / ours:>5.2f}" for port in ports
        )
        print(f"{mix:<10} {figures['flags_per_submission']:>6.2f} {ours:>8.1f} {cells}")
        for port, differ in figures["mismatches"].items():
            if differ:
                print(f"  {port}: {differ} submissions raise different rules than ours")
    ratio = result["rules_ratio_vs_best_jsonlogic"]
    print(
        f"realistic mix: best port / ours = {ratio:.2f} (budget >= {BUDGET_RATIO:.0f}); "
        f"outputs identical: {result['rules_outputs_identical']}"
    )
    ok = result["rules_outputs_identical"] and ratio >= BUDGET_RATIO
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
