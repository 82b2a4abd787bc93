"""The standard instruments asked at intake: PHQ-9, GAD-7 and PCL-5, and how they are scored.

Pure data and arithmetic: no Flask, no database. The catalogue builds one page per
instrument from these definitions (item ids, exact published wording, answer scale);
the scores are derived facts, stored with the answers. A total exists only when every
item of its instrument is answered: a partial sum is never passed off as a score.

Scores and bands are for clinicians only: no patient page shows them.

Sources (see the README, "Standard instruments"):

- PHQ-9 and GAD-7: developed by Drs Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke
  and colleagues, with an educational grant from Pfizer Inc. "No permission required to
  reproduce, translate, display or distribute." Bands: Kroenke, Spitzer & Williams, J Gen
  Intern Med 2001 (PHQ-9); Spitzer, Kroenke, Williams & Löwe, Arch Intern Med 2006 (GAD-7).
- PCL-5: Weathers, Litz, Keane, Palmieri, Marx & Schnurr (2013), The PTSD Checklist for
  DSM-5 (PCL-5), National Center for PTSD (public domain). The National Center for PTSD
  gives 31 to 33 as the range of cut-points for probable PTSD.
- LOINC: 44249-1 PHQ-9 panel, 44261-6 PHQ-9 total score; 69737-5 GAD-7 panel, 70274-6
  GAD-7 total score; 101697-1 PCL-5 panel, 101698-9 PTSD PCL-5 score.
- LOINC answer codes (LA codes; docs/fhir.md, "Codes", says where each was read):
  PHQ-9 and GAD-7 share LOINC's answer list LL358-3 (Not at all LA6568-5, Several days
  LA6569-3, More than half the days LA6570-1, Nearly every day LA6571-9), as in LHC-Forms'
  published PHQ-9 (lhncbc/lforms test/data/R4/phq9.json, with ordinalValue 0 to 3) and HL7's
  GAD-7 example (HL7/personal-health-record-format-ig). The PCL-5's words carry LOINC's
  answer codes for the same words (Not at all LA6568-5, A little bit LA13863-8, Moderately
  LA13939-6, Quite a bit LA13902-4, Extremely LA14868-6); LOINC's item codes for the PCL-5's
  20 questions were not found in any source reachable here, so its items carry none.
  AUDIT-C: each item has its own LOINC answer list (LL2179-1, LL2180-9, LL2181-7), as in
  LOINC's own FHIR Questionnaire for panel 72109-2 (http://loinc.org/q/72109-2); the
  weights are WHO's scores 0 to 4 (Babor et al. 2001).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from questionnaire.questions.wording import N_

LOINC = "http://loinc.org"


@dataclass(frozen=True, slots=True)
class Band:
    """A published score range and the label clinicians use for it."""

    low: int
    high: int
    label: str


@dataclass(frozen=True, slots=True)
class Instrument:
    """One standard instrument: its items, answer scale, total, bands and codes."""

    #: The section id and the prefix of its item ids (phq9 -> phq9_1 ... phq9_9).
    id: str
    #: Its usual name, as clinicians write it.
    name: str
    #: The question stem every item answers, in the instrument's own words.
    stem: str
    #: The items' exact published wording, in order.
    items: tuple[str, ...]
    #: The answer scale, in order: each answer's code is its score ("0", "1", ...).
    scale: tuple[str, ...]
    #: The derived fact that holds the total.
    total_fact: str
    bands: tuple[Band, ...]
    #: LOINC code of the total score (the FHIR Observation's code).
    loinc_total: str
    loinc_total_display: str
    #: LOINC code of the instrument's panel (the FHIR Questionnaire group's code).
    loinc_panel: str
    #: LOINC codes of the items, in order, where LOINC has them (else empty).
    loinc_items: tuple[str, ...] = ()
    #: LOINC answer codes (LA codes) of the scale, in order, where LOINC has them (else empty).
    loinc_answers: tuple[str, ...] = ()
    #: Why the instrument stays in English on French pages, or "" when its French is official.
    french_exemption: str = ""
    #: Each item's own answer scale, when the items differ (AUDIT-C); else every item uses
    #: `scale`. Codes are still the scores "0", "1", ...
    item_scales: tuple[tuple[str, ...], ...] = ()
    #: Each item's own LOINC answer codes, in order, when the items' scales differ (AUDIT-C);
    #: else every item uses `loinc_answers`.
    item_loinc_answers: tuple[tuple[str, ...], ...] = ()
    #: Whether a first answer of "0" ends the instrument, the others counting 0 (AUDIT-C: a
    #: non-drinker is not asked items 2 and 3, and the AUDIT manual scores them 0).
    zero_first_ends: bool = False

    #: The ids of the instrument's items, in order (made once: a queue page reads them 50 times).
    item_ids: tuple[str, ...] = field(init=False)
    #: The answer codes, each the score it gives.
    codes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        ids = tuple(f"{self.id}_{number}" for number in range(1, len(self.items) + 1))
        object.__setattr__(self, "item_ids", ids)  # frozen: set once, here
        object.__setattr__(self, "codes", tuple(str(score) for score in range(len(self.scale))))
        if self.loinc_answers and len(self.loinc_answers) != len(self.scale):
            raise ValueError(f"{self.name}: one LOINC answer code per answer of the scale")
        if self.loinc_items and len(self.loinc_items) != len(self.items):
            raise ValueError(f"{self.name}: one LOINC item code per item")
        if self.item_loinc_answers and (
            len(self.item_loinc_answers) != len(self.items)
            or any(len(codes) != len(self.scale) for codes in self.item_loinc_answers)
        ):
            raise ValueError(f"{self.name}: one LOINC answer code per answer of each item")

    @property
    def has_loinc_answers(self) -> bool:
        """Return whether LOINC answer codes (LA codes) were looked up for every answer."""
        return bool(self.loinc_answers or self.item_loinc_answers)

    def scale_of(self, item_id: str) -> tuple[str, ...]:
        """Return the answer words of one item, in order (its own scale, or the shared one)."""
        if self.item_scales:
            return self.item_scales[self.item_ids.index(item_id)]
        return self.scale

    def loinc_answer(self, code: str, item_id: str | None = None) -> str | None:
        """Return the LOINC answer code (LA code) of one item's answer code, or None without one.

        `item_id` names the item when the items' answer lists differ (AUDIT-C); without it,
        the first item's list.
        """
        if code not in self.codes:
            return None
        if self.item_loinc_answers:
            number = self.item_ids.index(item_id) if item_id is not None else 0
            return self.item_loinc_answers[number][int(code)]
        return self.loinc_answers[int(code)] if self.loinc_answers else None

    @property
    def max_total(self) -> int:
        """Return the highest possible total."""
        return (len(self.scale) - 1) * len(self.items)

    def total(self, answers: Mapping[str, Any]) -> int | None:
        """Return the total when every item is answered with a score of the scale, else None."""
        if self.zero_first_ends and answers.get(self.item_ids[0]) == "0":
            return 0
        total = 0
        for item_id in self.item_ids:
            value = answers.get(item_id)
            if value not in self.codes:
                return None
            total += int(value)
        return total

    def answered(self, answers: Mapping[str, Any]) -> int:
        """Return how many of the instrument's items have an answer."""
        return sum(1 for item_id in self.item_ids if answers.get(item_id) in self.codes)

    def band(self, total: int) -> Band:
        """Return the published band a total falls in."""
        for band in self.bands:
            if band.low <= total <= band.high:
                return band
        raise ValueError(f"{total} is outside {self.name}'s range 0 to {self.max_total}")


FREQUENCY = ("Not at all", "Several days", "More than half the days", "Nearly every day")
BOTHER = ("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely")
#: LOINC's answer codes for FREQUENCY (answer list LL358-3) and for BOTHER's words.
FREQUENCY_LOINC = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")
BOTHER_LOINC = ("LA6568-5", "LA13863-8", "LA13939-6", "LA13902-4", "LA14868-6")

NO_OFFICIAL_FRENCH = (
    "official French text not available to the project: the page is left out for a patient "
    "answering in French, and the page before it says so (never English among French)"
)

PHQ9 = Instrument(
    id="phq9",
    name="PHQ-9",
    stem="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    items=(
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself — or that you are a failure or have let yourself or your "
        "family down",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
        "being so fidgety or restless that you have been moving around a lot more than usual",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
    ),
    scale=FREQUENCY,
    loinc_answers=FREQUENCY_LOINC,
    total_fact="phq9_total",
    bands=(
        Band(0, 4, N_("minimal")),
        Band(5, 9, N_("mild")),
        Band(10, 14, N_("moderate")),
        Band(15, 19, N_("moderately severe")),
        Band(20, 27, N_("severe")),
    ),
    loinc_total="44261-6",
    loinc_total_display="Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    loinc_panel="44249-1",
    loinc_items=(
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ),
)

GAD7 = Instrument(
    id="gad7",
    name="GAD-7",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=(
        "Feeling nervous, anxious, or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid as if something awful might happen",
    ),
    scale=FREQUENCY,
    loinc_answers=FREQUENCY_LOINC,
    total_fact="gad7_total",
    bands=(
        Band(0, 4, N_("minimal")),
        Band(5, 9, N_("mild")),
        Band(10, 14, N_("moderate")),
        Band(15, 21, N_("severe")),
    ),
    loinc_total="70274-6",
    loinc_total_display="Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
    loinc_panel="69737-5",
    loinc_items=(
        "69725-0",
        "68509-9",
        "69733-4",
        "69734-2",
        "69735-9",
        "69689-8",
        "69736-7",
    ),
    french_exemption=NO_OFFICIAL_FRENCH,
)

PCL5 = Instrument(
    id="pcl5",
    name="PCL-5",
    stem="In the past month, how much were you bothered by:",
    items=(
        "Repeated, disturbing, and unwanted memories of the stressful experience?",
        "Repeated, disturbing dreams of the stressful experience?",
        "Suddenly feeling or acting as if the stressful experience were actually happening "
        "again (as if you were actually back there reliving it)?",
        "Feeling very upset when something reminded you of the stressful experience?",
        "Having strong physical reactions when something reminded you of the stressful "
        "experience (for example, heart pounding, trouble breathing, sweating)?",
        "Avoiding memories, thoughts, or feelings related to the stressful experience?",
        "Avoiding external reminders of the stressful experience (for example, people, places, "
        "conversations, activities, objects, or situations)?",
        "Trouble remembering important parts of the stressful experience?",
        "Having strong negative beliefs about yourself, other people, or the world (for "
        "example, having thoughts such as: I am bad, there is something seriously wrong with "
        "me, no one can be trusted, the world is completely dangerous)?",
        "Blaming yourself or someone else for the stressful experience or what happened after it?",
        "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
        "Loss of interest in activities that you used to enjoy?",
        "Feeling distant or cut off from other people?",
        "Trouble experiencing positive feelings (for example, being unable to feel happiness or "
        "have loving feelings for people close to you)?",
        "Irritable behavior, angry outbursts, or acting aggressively?",
        "Taking too many risks or doing things that could cause you harm?",
        'Being "superalert" or watchful or on guard?',
        "Feeling jumpy or easily startled?",
        "Having difficulty concentrating?",
        "Trouble falling or staying asleep?",
    ),
    scale=BOTHER,
    loinc_answers=BOTHER_LOINC,
    total_fact="pcl5_total",
    bands=(
        Band(0, 30, N_("below the published cut-point range (31 to 33)")),
        Band(31, 33, N_("within the published cut-point range (31 to 33)")),
        Band(34, 80, N_("above the published cut-point range (31 to 33)")),
    ),
    loinc_total="101698-9",
    loinc_total_display="PTSD PCL-5 score [PCL-5]",
    loinc_panel="101697-1",
    french_exemption=NO_OFFICIAL_FRENCH,
)

#: AUDIT-C: the WHO AUDIT's items 1 to 3, each with its own answer scale (WHO 2001, Box 4).
AUDITC = Instrument(
    id="auditc",
    name="AUDIT-C",
    stem="",
    items=(
        "How often do you have a drink containing alcohol?",
        "How many drinks containing alcohol do you have on a typical day when you are drinking?",
        "How often do you have six or more drinks on one occasion?",
    ),
    scale=(
        "Never",
        "Monthly or less",
        "2 to 4 times a month",
        "2 to 3 times a week",
        "4 or more times a week",
    ),
    item_scales=(
        (
            "Never",
            "Monthly or less",
            "2 to 4 times a month",
            "2 to 3 times a week",
            "4 or more times a week",
        ),
        ("1 or 2", "3 or 4", "5 or 6", "7, 8, or 9", "10 or more"),
        ("Never", "Less than monthly", "Monthly", "Weekly", "Daily or almost daily"),
    ),
    # LOINC's own AUDIT-C form (http://loinc.org/q/72109-2, Regenstrief): answer lists
    # LL2179-1, LL2180-9 and LL2181-7, in score order (docs/fhir.md says where it was read).
    item_loinc_answers=(
        ("LA6270-8", "LA18926-8", "LA18927-6", "LA18928-4", "LA18929-2"),
        ("LA15694-5", "LA15695-2", "LA18930-0", "LA18931-8", "LA18932-6"),
        ("LA6270-8", "LA18933-4", "LA18876-5", "LA18891-4", "LA18934-2"),
    ),
    zero_first_ends=True,
    total_fact="auditc_total",
    bands=(
        Band(0, 2, N_("below the AUDIT-C cut-offs (3 or more for women, 4 or more for men)")),
        Band(3, 3, N_("at the cut-off for women (3 or more), below the one for men (4 or more)")),
        Band(
            4, 12, N_("at or above the AUDIT-C cut-offs (3 or more for women, 4 or more for men)")
        ),
    ),
    loinc_total="75626-2",
    loinc_total_display="Total score [AUDIT-C]",
    loinc_panel="72109-2",
    loinc_items=("68518-0", "68519-8", "68520-6"),
    french_exemption=NO_OFFICIAL_FRENCH,
)

#: Every instrument, in the order the questionnaire asks them.
INSTRUMENTS: tuple[Instrument, ...] = (PHQ9, GAD7, PCL5, AUDITC)
BY_ID: dict[str, Instrument] = {instrument.id: instrument for instrument in INSTRUMENTS}
#: The instrument each instrument item belongs to.
INSTRUMENT_OF: dict[str, Instrument] = {
    item_id: instrument for instrument in INSTRUMENTS for item_id in instrument.item_ids
}


def wording_fingerprint(instrument: Instrument) -> str:
    """Return a SHA-256 of an instrument's published parts: stem, items, scales, codes."""
    parts = {
        "stem": instrument.stem,
        "items": list(instrument.items),
        "scale": list(instrument.scale),
        "item_scales": [list(scale) for scale in instrument.item_scales],
        "codes": list(instrument.codes),
    }
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: Each instrument's published wording, locked: a definition that includes an instrument
#: whose words, items or scale differ from these is refused at start-up (definition.py).
LOCKED: dict[str, str] = {
    "phq9": "c5b20e159f3050dd87405875b054c3f86a827c4d8b4ba08b67481774ec9dc515",
    "gad7": "b348c60756bab77f8b821925ff61792a3b634f9efceb2372090499970372678b",
    "pcl5": "635ba7b6900bb303b8ba5c263d2256931d691e40a505258723475b0b05875823",
    "auditc": "1e02972269d385c16f1808e63d31a777ac032ea92280491e5621af71a0eeea7e",
}


def altered(instrument: Instrument) -> str:
    """Return how an instrument differs from its locked published wording ("" when it does not)."""
    locked = LOCKED.get(instrument.id)
    if locked is None:
        return "it is not one of the instruments the project has checked against its source"
    if wording_fingerprint(instrument) != locked:
        return (
            f"its stem, {len(instrument.items)} items or {len(instrument.scale)}-point scale "
            "differ from the published wording"
        )
    return ""


#: PHQ-9's item 9 (thoughts of being better off dead or of self-harm), as a fact of its own.
PHQ9_ITEM9 = "phq9_9"
PHQ9_ITEM9_FACT = "phq9_item9"


def scores(answers: Mapping[str, Any]) -> dict[str, int | None]:
    """Return every instrument's total (None when any item is unanswered) and PHQ-9 item 9."""
    found: dict[str, int | None] = {
        instrument.total_fact: instrument.total(answers) for instrument in INSTRUMENTS
    }
    item9 = answers.get(PHQ9_ITEM9)
    found[PHQ9_ITEM9_FACT] = int(item9) if item9 in PHQ9.codes else None
    return found


@dataclass(frozen=True, slots=True)
class Score:
    """One instrument's result for a clinician: total and band, or how much is missing."""

    instrument: Instrument
    total: int | None
    band: Band | None
    answered: int

    @property
    def asked(self) -> bool:
        """Return whether the patient answered any of its items."""
        return self.answered > 0


def score_of(instrument: Instrument, answers: Mapping[str, Any]) -> Score:
    """Return one instrument's result from stored answers."""
    total = instrument.total(answers)
    band = instrument.band(total) if total is not None else None
    return Score(instrument, total, band, instrument.answered(answers))


def all_scores(answers: Mapping[str, Any]) -> list[Score]:
    """Return each instrument's result, in order."""
    return [score_of(instrument, answers) for instrument in INSTRUMENTS]
