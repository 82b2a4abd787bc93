"""Load a rule table fail-closed: parse, validate, check against the catalogue, run the cases."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from questionnaire.rules.cases import (
    BASELINE,
    Case,
    CaseResult,
    describe_mismatch,
    make_case,
    run_case,
)
from questionnaire.rules.conditions import check_condition, compile_condition, mentioned_lists
from questionnaire.rules.context import ContextRules, Phrase, phrase_problem, phrase_tokens
from questionnaire.rules.engine import Rule, RuleTable, Step
from questionnaire.rules.errors import Problem, RuleTableError
from questionnaire.rules.lexicon import (
    Collision,
    Lexicon,
    Reader,
    collisions,
    term_problem,
    tokenize,
)
from questionnaire.rules.phones import PLACEHOLDERS, find_phone_number
from questionnaire.rules.schema import (
    CONDITION_HELP,
    KNOWN_KEYS,
    BaselineSpec,
    CaseSpec,
    ContextSpec,
    ExactTerm,
    KindTerm,
    RetiredSpec,
    RuleSpec,
    TableSpec,
    TermEntry,
    term_text,
)
from questionnaire.rules.vocabulary import LEVEL_RANK, Field, Prepare
from questionnaire.rules.yamlload import Document, parse

YamlPath = tuple[str | int, ...]

#: The known lists of ordinary words (the hand-kept one and the generated one): they guard
#: words written exactly, but never win a sound-alike over a medicine.
EVERYDAY_LISTS = frozenset({"everyday_words", "dictionary_words"})

# Whole words only: a flag is an observation for a clinician, never a verdict.
_VERDICT = re.compile(
    r"\b(?:ineligible|contraindicated|contraindications?|diagnosis|diagnose|"
    r"not\s+a\s+candidate|rejected|denied)\b",
    re.IGNORECASE,
)

_LEXICONS = TypeAdapter(dict[str, list[TermEntry]])
_KNOWN = TypeAdapter(list[str])


def load_table(path: Path | str, fields: Mapping[str, Field], prepare: Prepare) -> RuleTable:
    """Load, check and compile a rule table; raise RuleTableError listing every problem."""
    table, problems = _load(Path(path), fields, prepare)
    if problems or table is None:
        raise RuleTableError(problems)
    return table


def check_table(path: Path | str, fields: Mapping[str, Field], prepare: Prepare) -> list[Problem]:
    """Return every problem load_table would raise for this file ([] when the table is sound)."""
    return _load(Path(path), fields, prepare)[1]


def compile_table(
    path: Path | str, fields: Mapping[str, Field], prepare: Prepare
) -> tuple[RuleTable, list[Problem]]:
    """Compile a table without running its cases, so each case can be run and reported.

    Raises RuleTableError when the rules themselves do not compile; returns the
    table with the problems found in the cases block (e.g. a rule no case raises).
    """
    table, problems = _load(Path(path), fields, prepare, run_cases=False)
    if table is None:
        raise RuleTableError(problems)
    return table, problems


@dataclass
class _Reporter:
    """Collects problems, placing each on its line and naming its rule or case."""

    file: str
    document: Document | None = None
    problems: list[Problem] = field(default_factory=list)

    def at(self, path: YamlPath, message: str, line: int | None = None) -> None:
        if line is None and self.document is not None:
            line = self.document.line_of(path)
        self.problems.append(Problem(self.file, line, self.subject(path), message))

    def line_of(self, path: YamlPath) -> int | None:
        return self.document.line_of(path) if self.document is not None else None

    def whole_file(self, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.file, line, None, message))

    def subject(self, path: YamlPath) -> str | None:
        data = self.document.data if self.document else None
        if not path or not isinstance(data, dict):
            return None
        head = path[0]
        if head == "baseline":
            return "baseline"
        if head == "lexicons" and len(path) > 1:
            return f"lexicon '{path[1]}'"
        if head in ("rules", "cases") and len(path) > 1 and isinstance(path[1], int):
            entries = data.get(head)
            entry = entries[path[1]] if isinstance(entries, list) else None
            key, noun = ("id", "rule") if head == "rules" else ("name", "case")
            label = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(label, str) and label.strip():
                return f"{noun} '{label}'"
            return f"{noun} {path[1] + 1}"
        return None


#: Shared with the questionnaire definition's loader, which names its own subjects.
Reporter = _Reporter


@dataclass
class _Parts:
    """The parts of a table that passed schema validation (all of them when it is sound)."""

    version: str | None = None
    lexicons: dict[str, list[TermEntry]] | None = None
    known: list[str] = field(default_factory=list)
    context: ContextSpec | None = None
    rules: list[tuple[int, RuleSpec]] = field(default_factory=list)
    retired: list[tuple[int, RetiredSpec]] = field(default_factory=list)
    baseline: BaselineSpec | None = None
    cases: list[tuple[int, CaseSpec]] = field(default_factory=list)
    complete: bool = False


def _load(
    path: Path, fields: Mapping[str, Field], prepare: Prepare, run_cases: bool = True
) -> tuple[RuleTable | None, list[Problem]]:
    reporter = _Reporter(str(path))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        reporter.whole_file(
            "the rule table file does not exist; set RULES_PATH to the rule table's path, "
            "or create the file"
        )
        return None, reporter.problems
    except OSError as error:
        reporter.whole_file(f"the file cannot be read ({error.strerror}); check its path")
        return None, reporter.problems
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        reporter.whole_file("the file is not UTF-8 text; save it as UTF-8")
        return None, reporter.problems
    try:
        document = parse(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        what = error.problem or error.context or "invalid YAML"
        reporter.whole_file(
            f"the YAML cannot be read: {what}; check the indentation, colons and quotes "
            "on this line and the one above",
            mark.line + 1 if mark else None,
        )
        return None, reporter.problems
    except yaml.YAMLError as error:
        reporter.whole_file(f"the YAML cannot be read ({type(error).__name__}); check its syntax")
        return None, reporter.problems
    reporter.document = document
    if not isinstance(document.data, dict):
        reporter.whole_file(
            "the file must be a YAML mapping with version:, lexicons:, rules:, baseline: "
            "and cases:",
            document.lines.get(()),
        )
        return None, reporter.problems
    for key_path, first, again in document.duplicates:
        reporter.at(
            key_path,
            f"key '{key_path[-1]}' appears twice (first on line {first}); YAML would keep only "
            "the last one, so merge or rename them",
            again,
        )

    _share_term_lists(path, document.data, reporter)
    parts = _validate(document.data, reporter)
    lexicons = _check_lexicons(parts, reporter)
    context = _check_context(parts, reporter)
    reader, confusable = _check_collisions(parts, lexicons, context, reporter)
    compiled = _check_rules(parts, fields, lexicons, reader, document, reporter)
    # Any problem so far means the rules are not sound: running cases would only add noise.
    sound = parts.complete and compiled is not None and not reporter.problems
    cases = _check_cases(parts, fields, compiled, document, reporter)
    if not sound or compiled is None or parts.version is None or cases is None:
        return None, _in_file_order(reporter.problems)

    baseline, case_list = cases
    table = RuleTable(
        path=path,
        version=parts.version,
        sha256=hashlib.sha256(raw).hexdigest(),
        rules=tuple(compiled),
        lexicons=MappingProxyType(lexicons),
        cases=tuple(case_list),
        baseline=baseline,
        reader=reader,
        collisions=tuple(confusable),
        text_fields=frozenset(
            name
            for _index, spec in parts.rules
            for when in (spec.when, *(step.when for step in spec.escalate or ()))
            for name, _list in mentioned_lists(when)
        ),
        retired=MappingProxyType(
            {spec.id: (spec.retired, spec.replaced_by) for _index, spec in parts.retired}
        ),
    )
    if not run_cases:
        return table, _in_file_order(reporter.problems)
    _run_cases(table, prepare, reporter)
    if reporter.problems:
        return None, _in_file_order(reporter.problems)
    return table, []


#: What a table may take from another (`lexicons_from: rules.yaml`): how free text is read.
SHARED_KEYS = ("lexicons", "known", "context")


def _share_term_lists(path: Path, data: dict[str, Any], reporter: _Reporter) -> None:
    """Fill a table's term lists, guards and contexts from the table `lexicons_from` names.

    The check-in's table reads its medicines answer with the intake's lists, so a list is
    kept in one place. The other file is read as data only (its rules and cases are its
    own table's business, checked when that table loads); a key the table writes itself
    wins. Problems found in the shared parts are reported against this file.
    """
    source = data.pop("lexicons_from", None)
    if source is None:
        return
    if not isinstance(source, str) or not source.strip():
        reporter.at(
            ("lexicons_from",), "lexicons_from must name a rule table file, like rules.yaml"
        )
        return
    shared_path = (path.parent / source).resolve()
    try:
        shared = parse(shared_path.read_text(encoding="utf-8-sig")).data
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        reporter.at(
            ("lexicons_from",),
            f"lexicons_from names {source}, which cannot be read ({type(error).__name__}); "
            "check the path (relative to this file) and that the file is sound",
        )
        return
    if not isinstance(shared, dict):
        reporter.at(("lexicons_from",), f"{source} is not a rule table; name one like rules.yaml")
        return
    for key in SHARED_KEYS:
        if key in shared and key not in data:
            data[key] = shared[key]


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda problem: problem.line or 0)


# --- schema --------------------------------------------------------------------------


def _validate(data: dict[str, Any], reporter: _Reporter) -> _Parts:
    try:
        spec = TableSpec.model_validate(data)
    except ValidationError as error:
        for details in error.errors():
            path = data_path(data, details["loc"])
            reporter.at(path, schema_message(details, path))
        return _salvage(data)
    return _Parts(
        version=spec.version,
        lexicons=spec.lexicons,
        known=spec.known,
        context=spec.context,
        rules=list(enumerate(spec.rules)),
        retired=list(enumerate(spec.retired)),
        baseline=spec.baseline,
        cases=list(enumerate(spec.cases)),
        complete=True,
    )


def _salvage(data: dict[str, Any]) -> _Parts:
    # Validate the pieces one by one so the semantic checks still cover the sound ones:
    # an author fixing one typo should not meet a second wave of problems afterwards.
    parts = _Parts()
    version = data.get("version")
    parts.version = version if isinstance(version, str) and version.strip() else None
    try:
        parts.lexicons = _LEXICONS.validate_python(data.get("lexicons") or {})
    except ValidationError:
        parts.lexicons = None
    try:
        parts.known = _KNOWN.validate_python(data.get("known") or [])
    except ValidationError:
        parts.known = []
    try:
        raw_context = data.get("context")
        parts.context = None if raw_context is None else ContextSpec.model_validate(raw_context)
    except ValidationError:
        parts.context = None
    for index, entry in _entries(data, "rules"):
        try:
            parts.rules.append((index, RuleSpec.model_validate(entry)))
        except ValidationError:
            continue
    for index, entry in _entries(data, "cases"):
        try:
            parts.cases.append((index, CaseSpec.model_validate(entry)))
        except ValidationError:
            continue
    for index, entry in _entries(data, "retired"):
        try:
            parts.retired.append((index, RetiredSpec.model_validate(entry)))
        except ValidationError:
            continue
    try:
        parts.baseline = BaselineSpec.model_validate(data.get("baseline"))
    except ValidationError:
        parts.baseline = None
    return parts


def _entries(data: dict[str, Any], key: str) -> list[tuple[int, Any]]:
    entries = data.get(key)
    return list(enumerate(entries)) if isinstance(entries, list) else []


def data_path(data: Any, loc: tuple[str | int, ...]) -> YamlPath:
    """Map a pydantic error location onto the YAML, dropping union tags and model names."""
    path: list[str | int] = []
    current = data
    for part in loc:
        in_mapping = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_mapping or in_list:
            current = current[part]
            path.append(part)
    return tuple(path)


def schema_message(
    details: ErrorDetails, path: YamlPath, known_keys: frozenset[str] = KNOWN_KEYS
) -> str:
    """Return a pydantic error as the file's author needs it: what is wrong, what to do.

    Shared with the questionnaire definition's loader (questions/definition.py), which
    passes its own known keys for "did you mean" suggestions.
    """
    kind = details["type"]
    loc = details["loc"]
    key = loc[-1] if kind == "missing" and loc else (path[-1] if path else None)
    name = f"'{key}'" if isinstance(key, str) else "this entry"
    message = details["msg"].removeprefix("Value error, ")
    if kind == "missing":
        return f"{name} is missing; add it"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(key), sorted(known_keys), n=1, cutoff=0.6)
        if close:
            return f"unexpected key {name}; did you mean '{close[0]}'? Otherwise remove it"
        return f"unexpected key {name}; remove it or fix its spelling"
    if kind == "condition":
        return CONDITION_HELP
    if kind == "string_type":
        return f"{name} must be text; put the value in quotes"
    if kind == "literal_error":
        return f"{name} must be one of {details.get('ctx', {}).get('expected', '')}"
    if kind == "too_short":
        return f"{name} must not be empty; add at least one entry"
    if kind == "list_type":
        return f"{name} must be a list, e.g. [first, second]"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{name} must be a mapping of keys to values (key: value lines)"
    if kind.startswith("date"):
        return f"{name} must be a date written YYYY-MM-DD"
    if kind.startswith("bool"):
        return f"{name} must be true or false"
    if kind == "value_error" and message.startswith("must"):
        return f"{name} {message}"
    if kind == "value_error":
        return message
    return f"{name}: {message}"


# --- lexicons and rules --------------------------------------------------------------


def _check_lexicons(parts: _Parts, reporter: _Reporter) -> dict[str, Lexicon]:
    compiled: dict[str, Lexicon] = {}
    for name, entries in (parts.lexicons or {}).items():
        if not entries:
            reporter.at(
                ("lexicons", name),
                "this lexicon has no terms, so it would never match; add terms or remove it",
            )
        terms = [term_text(entry) for entry in entries]
        exact = [entry.exact for entry in entries if isinstance(entry, ExactTerm)]
        kinds = {entry.term: entry.kind for entry in entries if isinstance(entry, KindTerm)}
        first_of: dict[tuple[str, ...], int] = {}
        for index, term in enumerate(terms):
            problem = term_problem(term)
            if problem:
                reporter.at(("lexicons", name, index), problem)
                continue
            tokens = tokenize(term)
            if tokens in first_of:
                earlier = first_of[tokens]
                same = "is" if terms[earlier] == term else "reads the same as"
                reporter.at(
                    ("lexicons", name, index),
                    f"term {term!r} {same} {terms[earlier]!r} (line "
                    f"{reporter.line_of(('lexicons', name, earlier))}); keep one of them",
                )
            else:
                first_of[tokens] = index
        compiled[name] = Lexicon.compile(name, terms, exact, kinds)
    for index, name in enumerate(parts.known):
        if name not in compiled and parts.lexicons is not None:
            close = difflib.get_close_matches(name, list(compiled), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else "; add it under lexicons:"
            reporter.at(("known", index), f"there is no lexicon '{name}'{hint}")
    return compiled


def _check_context(parts: _Parts, reporter: _Reporter) -> ContextRules | None:
    """Compile the context lists; report empty, repeated and contradictory phrases."""
    spec = parts.context
    if spec is None:
        return None
    phrases: list[tuple[YamlPath, Phrase]] = []
    for name in ("negated", "historical", "other_person", "allergy"):
        lists = getattr(spec, name)
        for role in ("pre", "post"):
            for index, written in enumerate(getattr(lists, role)):
                phrases.append(
                    (("context", name, role, index), _phrase(written, role, frozenset({name})))
                )
    for index, written in enumerate(spec.pseudo):
        phrases.append((("context", "pseudo", index), _phrase(written, "pseudo", frozenset())))
    for index, written in enumerate(spec.negators):
        phrases.append((("context", "negators", index), _phrase(written, "negator", frozenset())))
    for group, terminator in enumerate(spec.terminators):
        ends = frozenset(terminator.ends)
        for index, written in enumerate(terminator.words):
            phrases.append(
                (
                    ("context", "terminators", group, "words", index),
                    _phrase(written, "terminator", ends),
                )
            )
    seen: dict[tuple[tuple[str, ...], bool, bool], tuple[YamlPath, Phrase]] = {}
    usable: list[Phrase] = []
    for path, phrase in phrases:
        problem = phrase_problem(phrase.written)
        if problem:
            reporter.at(path, problem)
            continue
        key = (phrase.tokens, phrase.clause_start, phrase.header)
        earlier = seen.get(key)
        if earlier is None:
            seen[key] = (path, phrase)
        else:
            first_path, first = earlier
            line = reporter.line_of(first_path)
            same_role = first.role == phrase.role and first.contexts == phrase.contexts
            both_ways = {first.role, phrase.role} == {"pre", "post"}
            if same_role:
                reporter.at(
                    path,
                    f"phrase {phrase.written!r} reads the same as {first.written!r} (line {line}) "
                    "in the same list; keep one of them",
                )
                continue
            if not (both_ways and first.contexts == phrase.contexts):
                reporter.at(
                    path,
                    f"phrase {phrase.written!r} is also {_role_words(first)} (line {line}), so "
                    "the same words would mean two things; keep it in one list",
                )
                continue
        usable.append(phrase)
    return ContextRules.compile(usable, spec.precedence)


def _phrase(written: str, role: str, contexts: frozenset[str]) -> Phrase:
    tokens, clause_start, header = phrase_tokens(written)
    return Phrase(written, tokens, role, contexts, clause_start, header)


def _role_words(phrase: Phrase) -> str:
    if phrase.role in ("pre", "post"):
        (context,) = phrase.contexts
        return f"a {phrase.role}-trigger of {context}"
    if phrase.role == "terminator":
        return f"a terminator of {', '.join(sorted(phrase.contexts))}"
    return "a pseudo-trigger" if phrase.role == "pseudo" else "a negator"


def _check_collisions(
    parts: _Parts,
    lexicons: dict[str, Lexicon],
    context: ContextRules | None,
    reporter: _Reporter,
) -> tuple[Reader, list[Collision]]:
    """Compile every list together; report terms the tolerance would confuse, and known lists used
    as flags."""
    known_names = set(parts.known)
    outcomes: dict[str, set[str]] = {}
    for index, spec in parts.rules:
        for _field, name in mentioned_lists(spec.when):
            outcomes.setdefault(name, set()).add(spec.id)
            if name in known_names:
                reporter.at(
                    ("rules", index, "when"),
                    f"lexicon '{name}' is listed under known: (medicines no rule flags), so a "
                    "rule cannot mention it; mention a flagged list, or take it out of known:",
                )
    flagged = [lexicon for name, lexicon in lexicons.items() if name not in known_names]
    known = [lexicon for name, lexicon in lexicons.items() if name in known_names]
    reader = Reader.compile(flagged, known, context, everyday=EVERYDAY_LISTS)
    frozen = {name: frozenset(rules) for name, rules in outcomes.items()}
    found = collisions(flagged, known, frozen, EVERYDAY_LISTS)
    for collision in found:
        if collision.resolved_by is None:
            second = collision.second
            what = (
                "appears in both lists"
                if collision.edits == 0
                else f"sounds like '{collision.first.written}' ({collision.first.lexicon})"
                if collision.sound
                else f"is {collision.edits} letter(s) from '{collision.first.written}' "
                f"({collision.first.lexicon})"
            )
            reporter.at(
                _term_path(parts, second.lexicon, second.written),
                f"term '{second.written}' {what}, whose rules differ, so a misspelling of one "
                f"could be read as the other; mark one exact (- {{exact: {second.written}}}), "
                "or add the right one to a known list",
            )
    for lexicon in known:
        for term in lexicon.entries:
            inside = reader.read(term.written).matches
            for match in inside:
                if match.term.tokens == term.tokens:
                    continue  # the same words in both lists: reported as a collision above
                reporter.at(
                    _term_path(parts, lexicon.name, term.written),
                    f"known medicine '{term.written}' contains the flagged term "
                    f"'{match.term.written}' ({match.term.lexicon}), so writing it would raise "
                    "a flag; remove it from the known list or reword one of them",
                )
    return reader, found


def _term_path(parts: _Parts, lexicon: str, written: str) -> YamlPath:
    entries = (parts.lexicons or {}).get(lexicon, [])
    for index, entry in enumerate(entries):
        if term_text(entry) == written:
            return ("lexicons", lexicon, index)
    return ("lexicons", lexicon)


def _check_phone_numbers(message: str, path: YamlPath, reporter: _Reporter) -> None:
    """Refuse a phone number written into a message: it would not follow the clinic's settings."""
    number = find_phone_number(message)
    if number:
        reporter.at(
            path,
            f"the message writes the phone number '{number}'; write "
            f"{' or '.join(PLACEHOLDERS)} instead, which the app fills from its settings",
        )


def _check_rules(
    parts: _Parts,
    fields: Mapping[str, Field],
    lexicons: dict[str, Lexicon],
    reader: Reader,
    document: Document,
    reporter: _Reporter,
) -> list[Rule] | None:
    first_line: dict[str, int | None] = {}
    # When the lexicons themselves failed validation, judge names against what was written.
    raw_lexicons = document.data.get("lexicons")
    known_lexicons = lexicons if parts.lexicons is not None else (raw_lexicons or {})
    before = len(reporter.problems)
    for index, spec in parts.rules:
        here: YamlPath = ("rules", index)
        if spec.id in first_line:
            where = first_line[spec.id]
            reporter.at(
                (*here, "id"),
                f"rule id '{spec.id}' is already used (first on line {where}); "
                "give each rule its own id",
            )
        else:
            first_line[spec.id] = document.line_of((*here, "id"))
        verdict = _VERDICT.search(spec.message)
        if verdict:
            reporter.at(
                (*here, "message"),
                f"the message says '{verdict.group(0)}', which reads as a verdict; write what "
                "the patient reports, e.g. 'Reports …'",
            )
        _check_phone_numbers(spec.message, (*here, "message"), reporter)

        def report(path: YamlPath, message: str, prefix: YamlPath = (*here, "when")) -> None:
            reporter.at(prefix + path, message)

        check_condition(spec.when, (), fields, known_lexicons, report)
        _check_steps(spec, here, fields, known_lexicons, reporter)
    _check_retired(parts, first_line, reporter)
    if len(reporter.problems) > before or not parts.complete:
        return None
    return [
        Rule(
            spec.id,
            spec.level,
            spec.message,
            spec.source,
            document.line_of(("rules", index)),
            compile_condition(spec.when, fields, reader),
            spec.when,
            spec.short,
            tuple(
                Step(
                    step.level,
                    step.message or spec.message,
                    step.short or spec.short,
                    compile_condition(step.when, fields, reader),
                    step.when,
                )
                for step in spec.escalate or ()
            ),
        )
        for index, spec in parts.rules
    ]


def _check_steps(
    spec: RuleSpec,
    here: YamlPath,
    fields: Mapping[str, Field],
    lexicons: Mapping[str, Any],
    reporter: _Reporter,
) -> None:
    """Check a rule's escalate steps: each strictly above the one before, each condition sound."""
    below = spec.level
    for position, step in enumerate(spec.escalate or ()):
        at: YamlPath = (*here, "escalate", position)
        if LEVEL_RANK[step.level] >= LEVEL_RANK[below]:
            reporter.at(
                (*at, "level"),
                f"an escalate step must raise the level: '{step.level}' is not above "
                f"'{below}' (info < review < urgent); raise it or remove the step",
            )
        below = step.level
        if step.message is not None:
            verdict = _VERDICT.search(step.message)
            if verdict:
                reporter.at(
                    (*at, "message"),
                    f"the message says '{verdict.group(0)}', which reads as a verdict; write "
                    "what the patient reports, e.g. 'Reports …'",
                )
            _check_phone_numbers(step.message, (*at, "message"), reporter)

        def report(path: YamlPath, message: str, prefix: YamlPath = (*at, "when")) -> None:
            reporter.at(prefix + path, message)

        check_condition(step.when, (), fields, lexicons, report)


def _check_retired(
    parts: _Parts, first_line: Mapping[str, int | None], reporter: _Reporter
) -> None:
    """Refuse a rule that takes a retired id: stored flags keep that id and its old meaning."""
    seen: set[str] = set()
    for index, spec in parts.retired:
        if spec.id in seen:
            reporter.at(("retired", index, "id"), f"'{spec.id}' is retired twice; keep one entry")
        seen.add(spec.id)
        if spec.id in first_line:
            reporter.at(
                ("retired", index, "id"),
                f"rule id '{spec.id}' is retired (version {spec.retired}) but a rule on line "
                f"{first_line[spec.id]} uses it again; stored flags keep the retired meaning, "
                "so give the rule a new id",
            )


# --- cases ---------------------------------------------------------------------------


def _check_cases(
    parts: _Parts,
    fields: Mapping[str, Field],
    compiled: list[Rule] | None,
    document: Document,
    reporter: _Reporter,
) -> tuple[Case, list[Case]] | None:
    # Ids written in rules that failed validation still count: that rule's own problem says why.
    rule_ids = [
        entry["id"]
        for _index, entry in _entries(document.data, "rules")
        if isinstance(entry, dict) and isinstance(entry.get("id"), str)
    ]
    expected_somewhere: set[str] = set()
    #: (rule id, level) pairs some case names, to show each escalate step is reached.
    levels_named: set[tuple[str, str]] = set()
    specs = {spec.id: spec for _index, spec in parts.rules}
    first_line: dict[str, int | None] = {}
    cases: list[Case] = []
    baseline = parts.baseline
    if baseline is not None:
        _check_answer_names(baseline.answers, ("baseline", "answers"), fields, reporter)
    for index, case_spec in parts.cases:
        here: YamlPath = ("cases", index)
        if case_spec.name in first_line:
            reporter.at(
                (*here, "name"),
                f"case name '{case_spec.name}' is already used (first on line "
                f"{first_line[case_spec.name]}); give each case its own name",
            )
        else:
            first_line[case_spec.name] = document.line_of((*here, "name"))
        expected = case_spec.expected()
        for position, entry in enumerate(case_spec.expect):
            for rule_id in [entry] if isinstance(entry, str) else list(entry):
                expected_somewhere.add(rule_id)
                if rule_id not in rule_ids:
                    close = difflib.get_close_matches(rule_id, rule_ids, n=1, cutoff=0.6)
                    hint = (
                        f"; did you mean '{close[0]}'?" if close else "; use a rule id from rules:"
                    )
                    reporter.at((*here, "expect", position), f"there is no rule '{rule_id}'{hint}")
                    continue
                rule_spec = specs.get(rule_id)
                level = expected[rule_id]
                if rule_spec is None or level is None:
                    continue
                offered = [rule_spec.level, *(step.level for step in rule_spec.escalate or ())]
                if level not in offered:
                    reporter.at(
                        (*here, "expect", position),
                        f"rule '{rule_id}' is never raised at '{level}' (its levels: "
                        f"{', '.join(offered)}); name one of those",
                    )
                levels_named.add((rule_id, level))
        _check_answer_names(case_spec.answers, (*here, "answers"), fields, reporter)
        if baseline is not None:
            cases.append(
                make_case(
                    case_spec.name,
                    document.line_of(here),
                    case_spec.as_of or baseline.as_of,
                    baseline.answers,
                    case_spec.answers,
                    frozenset(expected),
                    {rule: level for rule, level in expected.items() if level is not None},
                )
            )
    for index, rule_spec in parts.rules:
        if rule_spec.id not in expected_somewhere:
            reporter.at(
                ("rules", index),
                "no case raises this rule, so nothing shows it works; "
                "add a case that raises it (expect: [" + rule_spec.id + "])",
            )
        for position, step in enumerate(rule_spec.escalate or ()):
            if (rule_spec.id, step.level) not in levels_named:
                reporter.at(
                    ("rules", index, "escalate", position),
                    f"no case reaches this step, so nothing shows it works; add a case with "
                    f"expect: [{{{rule_spec.id}: {step.level}}}]",
                )
    if baseline is None:
        return None
    # The baseline's own answers count as its overrides, so its errors point at the answer.
    base = make_case(
        BASELINE, document.line_of(("baseline",)), baseline.as_of, {}, baseline.answers, frozenset()
    )
    return base, cases


def _check_answer_names(
    answers: Mapping[str, Any], path: YamlPath, fields: Mapping[str, Field], reporter: _Reporter
) -> None:
    # prepare() may ignore names it does not know, so a misspelt answer would test nothing.
    items = [name for name, found in fields.items() if found.source == "item"]
    for name in answers:
        found = fields.get(name)
        if found is not None and found.source == "item":
            continue
        if found is not None:
            message = f"'{name}' is a derived fact; give the answers it is derived from instead"
        else:
            close = difflib.get_close_matches(name, items, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            message = f"there is no item '{name}'{hint}"
        reporter.at((*path, name), message)


def _run_cases(table: RuleTable, prepare: Prepare, reporter: _Reporter) -> None:
    baseline_result = _run_one(table, table.baseline, prepare, reporter, ("baseline",))
    if baseline_result is None or baseline_result.errors:
        # Every case inherits the baseline's answers: its errors would repeat in each case.
        return
    if baseline_result.actual:
        reporter.at(
            ("baseline", "answers"),
            f"the baseline raises {', '.join(sorted(baseline_result.actual))}; it must raise no "
            "flag, so change its answers until none is raised",
        )
    known = frozenset(rule.id for rule in table.rules)
    for index, case in enumerate(table.cases):
        result = _run_one(table, case, prepare, reporter, ("cases", index))
        if result is None or result.errors:
            continue
        # An expected id that names no rule was reported already; do not report it twice.
        result = dataclasses.replace(result, expected=result.expected & known)
        if not result.passed:
            reporter.at(("cases", index, "expect"), describe_mismatch(result))


def _run_one(
    table: RuleTable, case: Case, prepare: Prepare, reporter: _Reporter, here: YamlPath
) -> CaseResult | None:
    try:
        result = run_case(case, prepare, table.evaluate, table.base_levels())
    except Exception as error:
        reporter.at(
            here,
            f"prepare() failed on these answers ({type(error).__name__}: {error}); "
            "fix the answers or the form code",
        )
        return None
    for item, messages in result.errors.items():
        # Point at the answer when this case wrote it; else at the case (a cross-item check).
        target = (*here, "answers", item) if item in case.overrides else here
        for message in messages:
            reporter.at(
                target, f"the answer to '{item}' is rejected: {message}; change the answers"
            )
    return result
