"""The C-SSRS Screen Version (Recent): its published wording, read from its own data file,
and the screener's triage as a derived fact (`cssrs_risk`).

The wording sits in licensed/cssrs_screen_recent.yaml with its own notice, outside the
project's licence (README, "C-SSRS screener: licence"). Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent / "licensed" / "cssrs_screen_recent.yaml"

#: Answers that count as positive (ITEMS.md: prefer_not raises what yes raises).
POSITIVE = frozenset({"yes", "prefer_not"})

#: The tiers of cssrs_risk, highest first; `no_positive` only when Q1, Q2 and Q6 are all "no".
TIERS: tuple[str, ...] = ("high", "moderate", "low", "no_positive")


@dataclass(frozen=True, slots=True)
class ScreenItem:
    """One screener question: its number on the form, its LOINC code and its exact words."""

    id: str
    question: int
    loinc: str
    text: str
    examples: str = ""


def _load() -> tuple[str, dict[str, ScreenItem], str, str]:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    items = {
        item_id: ScreenItem(
            item_id,
            int(entry["question"]),
            str(entry["loinc"]),
            str(entry["text"]),
            str(entry.get("examples", "")),
        )
        for item_id, entry in data["items"].items()
    }
    return str(data["notice"]), items, str(data["panel_loinc"]), str(data["risk_loinc"])


NOTICE, ITEMS, PANEL_LOINC, RISK_LOINC = _load()

#: The screener's items by role (ids fixed by ITEMS.md, section 11).
Q1 = "wish_dead_past_month"
Q2 = "suicidal_thoughts_past_month"
Q3 = "suicidal_thoughts_method"
Q4 = "suicidal_intent"
Q5 = "suicide_plan"
Q6 = "suicidal_behaviour_ever"
Q6_RECENT = "suicidal_behaviour_past_3_months"
#: The fact's name.
RISK_FACT = "cssrs_risk"


@dataclass(frozen=True, slots=True)
class Risk:
    """The screener's triage for a clinician: the tier, the questions that reached it."""

    tier: str
    #: The question labels that reached the tier, e.g. ("Q5",) or ("Q6 within 3 months",).
    because: tuple[str, ...]
    #: Whether an "I'd rather not say" counted toward the tier.
    includes_prefer_not: bool


def risk(answers: Mapping[str, Any]) -> Risk | None:
    """Return the screener's triage, or None when the screener was not answered enough.

    The highest tier any answer reaches (Columbia's triage): high for Q4, Q5, or Q6 within
    the past 3 months; moderate for Q3, or Q6 longer ago; low for Q1 or Q2. `no_positive`
    only when Q1, Q2 and Q6 were all answered no. None when the screener was not asked (the
    clinic's plain items alone never make a C-SSRS tier) or is incomplete with nothing positive.
    """
    if answers.get(Q1) is None and answers.get(Q6) is None:
        return None  # the screener was off: suicide_plan alone is the clinic's item
    reached: dict[str, list[tuple[str, Any]]] = {tier: [] for tier in TIERS}
    for item_id, label, tier in (
        (Q4, "Q4", "high"),
        (Q5, "Q5", "high"),
        (Q3, "Q3", "moderate"),
        (Q1, "Q1", "low"),
        (Q2, "Q2", "low"),
    ):
        if answers.get(item_id) in POSITIVE:
            reached[tier].append((label, answers[item_id]))
    if answers.get(Q6) in POSITIVE:
        recent = answers.get(Q6_RECENT)
        if recent in POSITIVE:
            reached["high"].append(
                (
                    "Q6 within 3 months",
                    "prefer_not" if "prefer_not" in (recent, answers[Q6]) else "yes",
                )
            )
        else:
            reached["moderate"].append(("Q6", answers[Q6]))
    for tier in TIERS[:3]:
        if reached[tier]:
            return Risk(
                tier,
                tuple(label for label, _value in reached[tier]),
                any(value == "prefer_not" for _label, value in reached[tier]),
            )
    if all(answers.get(item_id) == "no" for item_id in (Q1, Q2, Q6)):
        return Risk("no_positive", (), False)
    return None


def risk_tier(answers: Mapping[str, Any]) -> str | None:
    """Return cssrs_risk: the tier of risk(), or None."""
    found = risk(answers)
    return found.tier if found else None
