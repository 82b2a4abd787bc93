"""A pure rules engine: load and check a rule table, then evaluate answers into findings.

No Flask, no database and no I/O during evaluation. The caller injects the field
catalogue and a prepare() function that validates answers the way the web does.
"""

from questionnaire.rules.cases import BASELINE, Case, CaseResult
from questionnaire.rules.engine import Rule, RuleTable, rules_error
from questionnaire.rules.errors import Problem, RuleTableError
from questionnaire.rules.findings import Finding, highest_level
from questionnaire.rules.lexicon import How, Lexicon, Reader, Reading, WordReading, tokenize
from questionnaire.rules.loader import check_table, compile_table, load_table
from questionnaire.rules.vocabulary import (
    LEVEL_RANK,
    LEVELS,
    RULES_ERROR,
    Field,
    FieldKind,
    Prepare,
)

__all__ = [
    "BASELINE",
    "LEVELS",
    "LEVEL_RANK",
    "RULES_ERROR",
    "Case",
    "CaseResult",
    "Field",
    "FieldKind",
    "Finding",
    "How",
    "Lexicon",
    "Prepare",
    "Problem",
    "Reader",
    "Reading",
    "Rule",
    "RuleTable",
    "RuleTableError",
    "WordReading",
    "check_table",
    "compile_table",
    "highest_level",
    "load_table",
    "rules_error",
    "tokenize",
]
