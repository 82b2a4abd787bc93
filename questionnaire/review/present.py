"""How a submission reads to a clinician: each flag's evidence in words, the flagged answers.

Words are written in English, marked (`N_`, `Phrase`), and put in the reader's
language by the `say` each function takes (`language.translate` on a page). The
rule table's own words (messages, sources, list and medicine names) and the
patient's typed words are shown as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from questionnaire.questions import catalogue
from questionnaire.questions.text import parse_iso_date
from questionnaire.questions.wording import N_, Phrase
from questionnaire.questions.words import answer_in_words
from questionnaire.records.models import Submission
from questionnaire.rules import How, RuleTable
from questionnaire.rules.lexicon import WordReading

#: The words a page shows for the codes of levels, statuses, outcomes and exports
#: (`|named`); the codes themselves stay in the database, the exports and the audit trail.
NAMES: dict[str, str] = {
    # C-SSRS screener tiers (cssrs_risk).
    "high": N_("high"),
    "moderate": N_("moderate"),
    "low": N_("low"),
    # Flag levels (the queue's filter says "none" for unflagged submissions).
    "urgent": N_("urgent"),
    "review": N_("review"),
    "info": N_("info"),
    "none": N_("none"),
    # Submission statuses and outcomes.
    "new": N_("new"),
    "in_review": N_("in review"),
    "reviewed": N_("reviewed"),
    "invite_to_consultation": N_("invite to consultation"),
    "needs_more_information": N_("needs more information"),
    "not_proceeding": N_("not proceeding"),
    # Unsent urgent intakes.
    "contacted": N_("contacted"),
    "could_not_reach": N_("could not reach"),
    # Export jobs: what they hold, and where they are.
    "submissions": N_("submissions"),
    "flags": N_("flags"),
    "pending": N_("pending"),
    "running": N_("running"),
    "done": N_("done"),
    "failed": N_("failed"),
    "expired": N_("expired"),
    # Why a patient asked for a submission to be deleted or hidden.
    "consent_withdrawn": N_("the patient withdrew their consent"),
    "sent_by_mistake": N_("sent by mistake"),
    "duplicate": N_("a duplicate of another submission"),
    "not_the_patient": N_("sent by someone else without the patient's consent"),
    "other": N_("another reason (kept on file by the privacy officer)"),
}
#: A submission that raised no flag, in its level tag.
NO_FLAG = N_("no flag")
NOT_GIVEN = N_("not given")
#: Beside an answer that raised its flag to a higher level (rules.yaml `escalate`).
ESCALATED = N_("%(answer)s: escalated the flag to %(level)s")
NOT_RECOGNISED = N_("not recognised")
NOT_ON_ANY_LIST = N_("not on any list")
#: How a word was read (rules.lexicon.How), in words (Phrases: they translate inside another).
HOW_NAMES: dict[str, str] = {
    How.EXACT: Phrase(N_("exact")),
    How.PREFIX: Phrase(N_("maker prefix")),
    How.NEAR: Phrase(N_("near match")),
    How.SOUND: Phrase(N_("sounds like")),
    How.CLASS: Phrase(N_("class word")),
    How.STREET: Phrase(N_("street name")),
    How.KNOWN: Phrase(N_("known")),
    How.UNKNOWN: Phrase(N_("unknown")),
}

#: The context a medicine was named in (rules.context), in words.
CONTEXT_NAMES: dict[str, str] = {
    "negated": Phrase(N_("not taken")),
    "historical": Phrase(N_("past use")),
    "other_person": Phrase(N_("someone else's")),
    "allergy": Phrase(N_("allergy or reaction")),
}

Say = Callable[[str], str]


def _same(text: str) -> str:
    return text


def named(code: str | None, say: Say = _same) -> str:
    """Return the words for a code (in_review -> in review), in the reader's language."""
    if code is None:
        return say(NO_FLAG)
    words = NAMES.get(code)
    return say(words) if words else code.replace("_", " ")


@dataclass(frozen=True)
class EvidenceRow:
    """One item or fact that made a rule match: what was asked and what was answered."""

    name: str
    question: str
    answer: str


def evidence_rows(
    evidence: list[dict[str, Any]], say: Say = _same, screener: bool = False
) -> list[EvidenceRow]:
    """Return a flag's evidence as question and answer rows, in the reader's language.

    `screener`: whether the submission was answered with the C-SSRS screener on, so each
    question reads as the patient was asked it (Q2 and Q5 have the screener's words).
    """
    rows = [_escalated(row, entry, say) for row, entry in _rows(evidence, say, screener)]
    return rows


def _escalated(row: EvidenceRow, entry: Mapping[str, Any], say: Say) -> EvidenceRow:
    level = entry.get("escalated")
    if not isinstance(level, str):
        return row
    answer = say(Phrase(ESCALATED, answer=row.answer, level=named(level, say)))
    return EvidenceRow(row.name, row.question, answer)


def _rows(
    evidence: list[dict[str, Any]], say: Say, screener: bool = False
) -> list[tuple[EvidenceRow, dict[str, Any]]]:
    rows: list[tuple[EvidenceRow, dict[str, Any]]] = []
    for entry in evidence:
        if "fact" in entry:
            fact = catalogue.FACTS.get(entry["fact"])
            label = fact.label if fact else entry["fact"]
            value = entry.get("value")
            rows.append(
                (
                    EvidenceRow(
                        entry["fact"],
                        say(label),
                        say(NOT_GIVEN)
                        if value is None
                        else f"{value:g}"
                        if isinstance(value, float)
                        else str(value),
                    ),
                    entry,
                )
            )
            continue
        item = catalogue.ITEMS.get(entry.get("item", ""))
        if item is None:
            continue
        item = catalogue.variant(item, screener)
        if "matched" in entry:
            names = say(Phrase(N_("names %(terms)s"), terms=_names(entry, say)))
            rows.append((EvidenceRow(item.id, say(item.label), names), entry))
        else:
            value = {item.id: entry.get("value")}
            english = answer_in_words(item, value)
            words = answer_in_words(item, value, say) or say(NOT_GIVEN)
            code = entry.get("value")
            # The code is shown beside words that are not the code itself (decided in English,
            # so a page in either language shows the same codes).
            shown = f"{words} ({code})" if isinstance(code, str) and code != english else words
            rows.append((EvidenceRow(item.id, say(item.label), shown), entry))
    return rows


def flagged_items(submission: Submission) -> dict[str, list[str]]:
    """Return, for each item that triggered a flag, the rules it triggered."""
    flagged: dict[str, list[str]] = {}
    for flag in submission.flags:
        for entry in flag.evidence:
            names: tuple[str, ...]
            if "fact" in entry:
                fact = catalogue.FACTS.get(entry["fact"])
                names = fact.derived_from if fact else ()
            else:
                names = (entry.get("item", ""),)
            for name in names:
                if flag.rule not in flagged.setdefault(name, []):
                    flagged[name].append(flag.rule)
    return flagged


def _names(entry: dict[str, Any], say: Say) -> str:
    """Return the terms a text named, each with the patient's word when it was not exact."""
    read = entry.get("read")
    if not read:  # raised before readings were recorded: the terms alone
        return ", ".join(entry["matched"])
    said: list[str] = []
    for match in read:
        term, written, how = match["term"], match["written"], match["how"]
        if how == How.EXACT:
            words = term
        elif how == How.NEAR:
            words = say(
                Phrase(
                    N_("'%(written)s' read as %(term)s (%(letters)s different)"),
                    written=written,
                    term=term,
                    letters=_letters(match["edits"]),
                )
            )
        else:
            words = say(
                Phrase(
                    N_("'%(written)s' read as %(term)s (%(how)s)"),
                    written=written,
                    term=term,
                    how=_how(how),
                )
            )
        if "context" in match:
            words = _in_context(words, match, say)
        if words not in said:
            said.append(words)
    also = [_in_context(named["term"], named, say) for named in entry.get("also_named", ())]
    if also:
        said.append(say(Phrase(N_("also named: %(terms)s"), terms="; ".join(also))))
    return "; ".join(said)


def _in_context(words: str, match: Mapping[str, Any], say: Say) -> str:
    """Return a mention's words with its context and the patient's own clause."""
    return say(
        Phrase(
            N_("%(words)s (%(context)s: '%(clause)s')"),
            words=words,
            context=CONTEXT_NAMES.get(match["context"], match["context"]),
            clause=match.get("clause") or match["written"],
        )
    )


@dataclass(frozen=True)
class WordRow:
    """How one word of a free-text answer was read, for the clinician's eye."""

    written: str
    reading: str
    #: Whether the word raised a flag: read as a flagged term and named as taken.
    flagged: bool


def text_readings(
    table: RuleTable, answers: dict[str, Any], say: Say = _same
) -> dict[str, list[WordRow]]:
    """Return, for each free-text answer the rules read, its telling words and how each read.

    Shown: flagged terms, near matches, known medicines that resemble a flagged
    name, and unrecognised words of 4 letters or more. Known words that resemble
    nothing, numbers and short words are left out: the answer itself is shown above.
    """
    shown: dict[str, list[WordRow]] = {}
    for name in sorted(table.text_fields):
        text = answers.get(name)
        if not isinstance(text, str) or not text.strip():
            continue
        rows = []
        reading = table.read(text)
        # Each flagged reading's context, in text order (a word may be named twice).
        contexts = {(m.written, m.term.written): m for m in reversed(reading.matches)}
        for word in reading.words:
            if word.how is How.KNOWN and not word.resembles:
                continue
            if word.how is How.UNKNOWN and (len(word.written) < 4 or not word.written.isalpha()):
                continue
            described = describe(word, say)
            match = contexts.get((word.written, word.term or ""))
            in_context = match is not None and not match.plain
            if match is not None and in_context:
                described = say(
                    Phrase(
                        N_("%(reading)s; %(context)s, set by '%(trigger)s'"),
                        reading=described,
                        context=CONTEXT_NAMES[match.context],
                        trigger=match.trigger,
                    )
                )
            flagged = word.how in FLAGGED_HOWS and not in_context
            rows.append(WordRow(word.written, described, flagged))
        if rows:
            shown[name] = rows
    return shown


#: The readings that name a flagged term.
FLAGGED_HOWS = frozenset({How.EXACT, How.PREFIX, How.NEAR, How.SOUND, How.CLASS, How.STREET})


def _letters(edits: int) -> str:
    """Return "1 letter" or "N letters" (a Phrase, so it translates inside another)."""
    return Phrase(N_("1 letter")) if edits == 1 else Phrase(N_("%(count)s letters"), count=edits)


def _how(how: str) -> str:
    return HOW_NAMES.get(how, how)


def describe(word: WordReading, say: Say = _same) -> str:
    """Return how a word was read, in the reader's words (WordReading.describe in English)."""
    if word.how is How.UNKNOWN:
        return say(NOT_RECOGNISED)
    where = f" ({word.lexicon.replace('_', ' ')})" if word.lexicon else ""
    detail: str
    if word.how in (How.EXACT, How.PREFIX, How.SOUND, How.CLASS, How.STREET):
        detail = f"{word.term}{where}"
    elif word.how is How.NEAR:
        detail = say(
            Phrase(
                N_("%(term)s, %(letters)s different%(where)s"),
                term=word.term,
                letters=_letters(word.edits),
                where=where,
            )
        )
    elif word.how is How.KNOWN:
        if word.edits:
            near = Phrase(
                N_("%(letters)s from %(term)s"), letters=_letters(word.edits), term=word.term
            )
            detail = say(
                Phrase(
                    N_("%(term)s%(where)s, %(near)s, not flagged"),
                    term=word.term,
                    where=where,
                    near=near,
                )
            )
        else:
            detail = say(Phrase(N_("%(term)s%(where)s, not flagged"), term=word.term, where=where))
        if word.resembles:
            detail = say(
                Phrase(
                    N_("%(reading)s; resembles %(terms)s"),
                    reading=detail,
                    terms=", ".join(word.resembles),
                )
            )
    else:
        detail = say(NOT_ON_ANY_LIST)
    if word.how is How.EXACT:
        return detail
    return say(Phrase(N_("%(how)s: %(detail)s"), how=_how(word.how), detail=detail))


@dataclass(frozen=True)
class Identity:
    """Who the patient is and how to reach them, for the top of a submission's page.

    Text is as the patient typed it (the page shows bidi marks as codes); None where
    there is no answer.
    """

    name: str | None
    born: date | None
    #: Whole years on the clinic's today (not on the day they sent it).
    age: int | None
    email: str | None
    phone: str | None
    #: The province, territory or state in the reader's words.
    region: str | None


def _typed(answers: Mapping[str, Any], name: str) -> str | None:
    value = answers.get(name)
    return value.strip() or None if isinstance(value, str) else None


def identity(answers: Mapping[str, Any], today: date, say: Say = _same) -> Identity:
    """Return the patient's name, birth date and age on `today`, contacts and region."""
    text = answers.get("date_of_birth")
    born = parse_iso_date(text) if isinstance(text, str) else None
    age = catalogue.age_on(born, today) if born is not None and born <= today else None
    return Identity(
        name=_typed(answers, "full_name"),
        born=born,
        age=age,
        email=_typed(answers, "email"),
        phone=_typed(answers, "phone"),
        region=answer_in_words(catalogue.ITEMS["region"], answers, say),
    )
