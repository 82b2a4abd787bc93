"""Check a condition tree against the field catalogue, and compile it into fast closures."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from questionnaire.rules.lexicon import Reader, Reading
from questionnaire.rules.schema import AllOf, AnyOf, Condition, Leaf, Not
from questionnaire.rules.vocabulary import OPERATORS_FOR_KIND, Field, FieldKind

Path = tuple[str | int, ...]
Report = Callable[[Path, str], None]
Values = Mapping[str, Any]
#: Text already read against the term lists during one evaluate call, by field name.
TokenCache = dict[str, Reading]
Evidence = list[dict[str, Any]]
Test = Callable[[Values, TokenCache], bool]
Explain = Callable[[Values, TokenCache, Evidence], None]


class ValueTypeError(TypeError):
    """A value of the wrong type reached a rule (the caller's prepare() is at fault)."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled condition: its test, what made it true, and the values it looks at."""

    test: Test
    #: Append the evidence of why the condition is true (call only when it is).
    explain: Explain
    #: Append every value the condition looks at (what a `not` reports).
    look: Explain


def is_missing(value: Any) -> bool:
    """Return whether a value counts as not answered (absent, None, "" or [])."""
    return value is None or value == "" or value == [] or value == ()


# --- checking ------------------------------------------------------------------------


def check_condition(
    condition: Condition,
    path: Path,
    fields: Mapping[str, Field],
    lexicons: Mapping[str, Any],
    report: Report,
) -> None:
    """Report every way a validated condition disagrees with the catalogue and the lexicons."""
    if isinstance(condition, AllOf | AnyOf):
        key = "all" if isinstance(condition, AllOf) else "any"
        for index, child in enumerate(condition.conditions):
            check_condition(child, (*path, key, index), fields, lexicons, report)
    elif isinstance(condition, Not):
        check_condition(condition.condition, (*path, "not"), fields, lexicons, report)
    else:
        _check_leaf(condition, path, fields, lexicons, report)


def _check_leaf(
    leaf: Leaf,
    path: Path,
    fields: Mapping[str, Field],
    lexicons: Mapping[str, Any],
    report: Report,
) -> None:
    name, source = leaf.name, leaf.source
    found = fields.get(name)
    if found is None:
        same_source = [f.name for f in fields.values() if f.source == source]
        close = difflib.get_close_matches(name, same_source or list(fields), n=3, cutoff=0.6)
        hint = f"; did you mean {_quoted_or(close)}?" if close else f"; check the {source} names"
        report((*path, source), f"there is no {source} '{name}'{hint}")
        return
    if found.source != source:
        other = found.source
        what = "a derived fact" if other == "fact" else "a questionnaire item"
        report((*path, source), f"'{name}' is {what}, not {_a(source)}; write {other}: {name}")
        return
    operator, operand = leaf.operator
    allowed = OPERATORS_FOR_KIND[found.kind]
    here = (*path, operator)
    if operator not in allowed:
        hint = ""
        if operator in ("equals", "one_of") and found.kind is FieldKind.CODES:
            hint = " (it is a multiple-choice item: use includes_any)"
        elif operator == "includes_any" and found.kind is FieldKind.CODE:
            hint = " (it is a single-choice item: use one_of)"
        report(
            here,
            f"{source} '{name}' holds {_KIND_WORDS[found.kind]}, so '{operator}' does not "
            f"apply{hint}; use one of: {', '.join(allowed)}",
        )
        return
    operands = operand if isinstance(operand, list) else [operand]
    if found.kind in (FieldKind.CODE, FieldKind.CODES) and operator != "answered":
        # `answered` takes true or false on any item, not an answer code.
        for value in operands:
            if not isinstance(value, str):
                report(
                    here,
                    f'answer codes are text; write {value!r} in quotes, as "{value}"',
                )
            elif value not in found.codes:
                codes = ", ".join(sorted(found.codes)) or "(none)"
                report(here, f"{source} '{name}' has no answer code '{value}'; use one of: {codes}")
    elif found.kind is FieldKind.NUMBER and operator in ("equals", "one_of"):
        for value in operands:
            if isinstance(value, bool) or not isinstance(value, int | float):
                report(
                    here, f"{source} '{name}' is a number; compare it with numbers, not {value!r}"
                )
    elif found.kind is FieldKind.FLAG and operator == "equals":
        if not isinstance(operand, bool):
            report(here, f"{source} '{name}' is a tick box; write equals: true or equals: false")
    elif operator == "mentions" and operand not in lexicons:
        close = difflib.get_close_matches(operand, list(lexicons), n=3, cutoff=0.6)
        hint = f"; did you mean {_quoted_or(close)}?" if close else "; add it under lexicons:"
        report(here, f"there is no lexicon '{operand}'{hint}")


_KIND_WORDS = {
    FieldKind.CODE: "one answer code",
    FieldKind.CODES: "a list of answer codes",
    FieldKind.NUMBER: "a number",
    FieldKind.TEXT: "free text",
    FieldKind.DATE: "a date",
    FieldKind.FLAG: "a tick box",
}


def _a(source: str) -> str:
    return "an item" if source == "item" else "a fact"


def _quoted_or(names: list[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


# --- compiling -----------------------------------------------------------------------


def compile_condition(
    condition: Condition, fields: Mapping[str, Field], reader: Reader
) -> Compiled:
    """Turn a checked condition into closures; call only after check_condition found nothing."""
    if isinstance(condition, AllOf):
        return _all([compile_condition(c, fields, reader) for c in condition.conditions])
    if isinstance(condition, AnyOf):
        return _any([compile_condition(c, fields, reader) for c in condition.conditions])
    if isinstance(condition, Not):
        return _not(compile_condition(condition.condition, fields, reader))
    return _leaf(condition, fields[condition.name], reader)


def mentioned_lists(condition: Condition) -> set[tuple[str, str]]:
    """Return each (field, term list) pair a condition's `mentions` looks at, anywhere in its tree."""
    if isinstance(condition, AllOf | AnyOf):
        return set().union(*(mentioned_lists(child) for child in condition.conditions))
    if isinstance(condition, Not):
        return mentioned_lists(condition.condition)
    operator, operand = condition.operator
    return {(condition.name, operand)} if operator == "mentions" else set()


def _all(children: list[Compiled]) -> Compiled:
    tests = tuple(child.test for child in children)
    test: Test
    if len(tests) == 2:
        first, second = tests

        def test(values: Values, cache: TokenCache) -> bool:
            return first(values, cache) and second(values, cache)

    else:
        # Plain loops, not all()/any() over a generator: this runs for every rule on every
        # submission.
        def test(values: Values, cache: TokenCache) -> bool:
            for child in tests:  # noqa: SIM110
                if not child(values, cache):
                    return False
            return True

    def explain(values: Values, cache: TokenCache, out: Evidence) -> None:
        for child in children:
            child.explain(values, cache, out)

    def look(values: Values, cache: TokenCache, out: Evidence) -> None:
        for child in children:
            child.look(values, cache, out)

    return Compiled(test, explain, look)


def _any(children: list[Compiled]) -> Compiled:
    tests = tuple(child.test for child in children)
    test: Test
    if len(tests) == 2:
        first, second = tests

        def test(values: Values, cache: TokenCache) -> bool:
            return first(values, cache) or second(values, cache)

    else:

        def test(values: Values, cache: TokenCache) -> bool:
            for child in tests:  # noqa: SIM110
                if child(values, cache):
                    return True
            return False

    def explain(values: Values, cache: TokenCache, out: Evidence) -> None:
        # Report every true branch, not just the first: the clinician sees all reasons.
        for child in children:
            if child.test(values, cache):
                child.explain(values, cache, out)

    def look(values: Values, cache: TokenCache, out: Evidence) -> None:
        for child in children:
            child.look(values, cache, out)

    return Compiled(test, explain, look)


def _not(child: Compiled) -> Compiled:
    inner = child.test

    def test(values: Values, cache: TokenCache) -> bool:
        return not inner(values, cache)

    # Why a `not` holds is what its inner conditions saw, e.g. {"fact": "weight_kg", "value": None}.
    return Compiled(test, child.look, child.look)


def _add(out: Evidence, entry: dict[str, Any]) -> None:
    if entry not in out:
        out.append(entry)


_COLLECTIONS = (list, tuple, set, frozenset)


def _wrong(name: str, expected: str) -> ValueTypeError:
    # Never include the value: it may be patient data and errors can end up in logs.
    return ValueTypeError(f"field '{name}' should hold {expected}")


def _leaf(leaf: Leaf, found: Field, reader: Reader) -> Compiled:
    name, source, kind = leaf.name, leaf.source, found.kind
    operator, operand = leaf.operator

    def look(values: Values, cache: TokenCache, out: Evidence) -> None:
        value = values.get(name)
        entry = {source: name, "value": list(value) if isinstance(value, _COLLECTIONS) else value}
        if entry not in out:
            out.append(entry)

    if operator == "answered":
        wanted = bool(operand)

        def answered(values: Values, cache: TokenCache) -> bool:
            return (not is_missing(values.get(name))) is wanted

        return Compiled(answered, look, look)

    if operator == "mentions":
        return _mentions(name, source, operand, leaf.context or "plain", reader, look)

    return Compiled(_fast_test(name, kind, operator, operand), look, look)


def _fast_test(name: str, kind: FieldKind, operator: str, operand: Any) -> Test:
    """Return a comparison's test, with the common case (a value of its kind) inlined.

    Any other value (missing, or of the wrong type) takes the general path, which says
    what it always said: a missing value is false, a value of the wrong type raises.
    """
    check_type = _type_check(name, kind)
    compare = _comparison(operator, operand)

    def general(value: Any) -> bool:
        if is_missing(value):
            return False
        check_type(value)
        return compare(value)

    if kind is FieldKind.CODE and operator in ("equals", "one_of"):
        # "" is missing, so false: leave it out of the codes it may equal.
        codes = frozenset(operand if operator == "one_of" else [operand]) - {""}

        def code(values: Values, cache: TokenCache) -> bool:
            value = values.get(name)
            if value.__class__ is str:
                return value in codes
            return general(value)

        return code

    if kind is FieldKind.CODES and operator == "includes_any":
        wanted = frozenset(operand)

        def codes_list(values: Values, cache: TokenCache) -> bool:
            value = values.get(name)
            if value.__class__ is list:
                return not wanted.isdisjoint(value)  # an empty list is missing: false too
            return general(value)

        return codes_list

    if kind is FieldKind.NUMBER and operator in ("at_least", "at_most"):
        bound = operand

        # bool is not int here (`__class__ is int`): it takes the general path and raises.
        if operator == "at_least":

            def at_least(values: Values, cache: TokenCache) -> bool:
                value = values.get(name)
                cls = value.__class__
                if cls is int or cls is float:
                    return bool(value >= bound)
                return general(value)

            return at_least

        def at_most(values: Values, cache: TokenCache) -> bool:
            value = values.get(name)
            cls = value.__class__
            if cls is int or cls is float:
                return bool(value <= bound)
            return general(value)

        return at_most

    def test(values: Values, cache: TokenCache) -> bool:
        return general(values.get(name))

    return test


def _comparison(operator: str, operand: Any) -> Callable[[Any], bool]:
    """Return the test one operator applies to a present, type-checked value."""
    if operator == "equals":
        return lambda value: bool(value == operand)
    if operator == "one_of":
        return frozenset(operand).__contains__
    if operator == "includes_any":
        codes = frozenset(operand)
        return lambda value: not codes.isdisjoint(value)
    if operator == "at_least":
        return lambda value: bool(value >= operand)
    if operator == "at_most":
        return lambda value: bool(value <= operand)
    raise AssertionError(f"unknown operator {operator}")  # the schema admits no other


def _mentions(
    name: str, source: str, lexicon: str, context: str, reader: Reader, look: Explain
) -> Compiled:
    def reading_of(values: Values, cache: TokenCache) -> Reading | None:
        reading = cache.get(name)
        if reading is None:
            value = values.get(name)
            if is_missing(value):
                return None
            if not isinstance(value, str):
                raise _wrong(name, "text")
            # Several rules search the same text; read it against every list once per call.
            reading = cache[name] = reader.read(value)
        return reading

    def holds(reading: Reading) -> bool:
        if context == "plain":
            return lexicon in reading.lexicons
        if context == "only_in_context":
            return reading.named_only_in_context(lexicon)
        return lexicon in reading.named and reading.in_context(lexicon, context)

    def test(values: Values, cache: TokenCache) -> bool:
        reading = cache.get(name)
        if reading is None:
            reading = reading_of(values, cache)
            if reading is None:
                return False
        return holds(reading)

    def counts(match: Any) -> bool:
        if context == "plain":
            return bool(match.plain)
        if context == "only_in_context":
            return not match.plain
        return bool(match.context == context)

    def explain(values: Values, cache: TokenCache, out: Evidence) -> None:
        reading = reading_of(values, cache)
        if reading is None:
            return
        # One pass over the matches gives the terms named, how each was read, and the
        # mentions of the same list in context (nothing a patient wrote vanishes).
        matched: list[str] = []
        read: list[dict[str, Any]] = []
        also: list[dict[str, Any]] = []
        for match in reading.matches:
            if match.term.lexicon != lexicon:
                continue
            if counts(match):
                read.append(match.evidence())
                if match.term.written not in matched:
                    matched.append(match.term.written)
            elif not match.plain:
                also.append(match.evidence())
        entry: dict[str, Any] = {source: name, "matched": matched, "read": read}
        if also:
            entry["also_named"] = also
        _add(out, entry)

    return Compiled(test, explain, look)


def _type_check(name: str, kind: FieldKind) -> Callable[[Any], None]:
    # A value of an unexpected type would make a comparison quietly false (or raise);
    # raising here turns it into a rules_error finding, so the submission is reviewed by hand.
    def code(value: Any) -> None:
        if not isinstance(value, str):
            raise _wrong(name, "an answer code")

    def codes(value: Any) -> None:
        if not isinstance(value, list | tuple | set | frozenset):
            raise _wrong(name, "a list of answer codes")

    def number(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong(name, "a number")

    def text(value: Any) -> None:
        if not isinstance(value, str):
            raise _wrong(name, "text")

    def when(value: Any) -> None:
        if not isinstance(value, str | date):
            raise _wrong(name, "a date")

    def flag(value: Any) -> None:
        if not isinstance(value, bool):
            raise _wrong(name, "true or false")

    checks = {
        FieldKind.CODE: code,
        FieldKind.CODES: codes,
        FieldKind.NUMBER: number,
        FieldKind.TEXT: text,
        FieldKind.DATE: when,
        FieldKind.FLAG: flag,
    }
    return checks[kind]
