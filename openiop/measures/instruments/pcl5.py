"""PCL-5, the PTSD Checklist for DSM-5 (Weathers, Litz, Keane, Palmieri, Marx & Schnurr 2013; National Center for PTSD).

Wording: the standard PCL-5 (past month version, without criterion A), public domain from the VA National Center for
PTSD; cross-checked against several public copies. Items 0-4 (Not at all .. Extremely); total 0-80.

Clusters (DSM-5): B intrusion 1-5, C avoidance 6-7, D negative alterations in cognition and mood 8-14, E arousal and
reactivity 15-20. Provisional diagnosis (the NCPTSD "DSM-5 rule"): an item rated 2 ("Moderately") or higher counts as
an endorsed symptom, and the pattern needs at least 1 B, 1 C, 2 D and 2 E symptoms. Cut-off: NCPTSD gives 31-33 as a
provisional-PTSD cut-point; 33 is the default and ``cutoff=`` overrides it.

Missing items: the NCPTSD scoring guidance publishes no proration, so a total, clusters' sums and the provisional
diagnosis are given only when all 20 items are answered. Partial cluster sums are still given for complete clusters.
No LOINC code is attached: we could not confirm one for the PCL-5 total, so the FHIR Observation uses OpenIOP's own
code system.
"""

from __future__ import annotations

from .base import Answers, Band, Instrument, Item, Option, Score, missing_codes, unanswered_reason

OPTIONS = (
    Option(0, "Not at all"),
    Option(1, "A little bit"),
    Option(2, "Moderately"),
    Option(3, "Quite a bit"),
    Option(4, "Extremely"),
)

_ITEMS = (
    "Repeated, disturbing, and unwanted memories of the stressful experience?",
    "Repeated, disturbing dreams of the stressful experience?",
    "Suddenly feeling or acting as if the stressful experience were actually happening again (as if you were "
    "actually back there reliving it)?",
    "Feeling very upset when something reminded you of the stressful experience?",
    "Having strong physical reactions when something reminded you of the stressful experience (for example, heart "
    "pounding, trouble breathing, sweating)?",
    "Avoiding memories, thoughts, or feelings related to the stressful experience?",
    "Avoiding external reminders of the stressful experience (for example, people, places, conversations, "
    "activities, objects, or situations)?",
    "Trouble remembering important parts of the stressful experience?",
    "Having strong negative beliefs about yourself, other people, or the world (for example, having thoughts such "
    "as: I am bad, there is something seriously wrong with me, no one can be trusted, the world is completely "
    "dangerous)?",
    "Blaming yourself or someone else for the stressful experience or what happened after it?",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
    "Loss of interest in activities that you used to enjoy?",
    "Feeling distant or cut off from other people?",
    "Trouble experiencing positive feelings (for example, being unable to feel happiness or have loving feelings "
    "for people close to you)?",
    "Irritable behavior, angry outbursts, or acting aggressively?",
    "Taking too many risks or doing things that could cause you harm?",
    'Being "superalert" or watchful or on guard?',
    "Feeling jumpy or easily startled?",
    "Having difficulty concentrating?",
    "Trouble falling or staying asleep?",
)

CLUSTERS: dict[str, tuple[int, ...]] = {
    "B": (1, 2, 3, 4, 5),
    "C": (6, 7),
    "D": (8, 9, 10, 11, 12, 13, 14),
    "E": (15, 16, 17, 18, 19, 20),
}
# Symptoms (items rated >= ENDORSED) each cluster needs for a provisional diagnosis.
NEEDED = {"B": 1, "C": 1, "D": 2, "E": 2}
ENDORSED = 2
DEFAULT_CUTOFF = 33

INSTRUCTIONS = (
    "Below is a list of problems that people sometimes have in response to a very stressful experience. Please read "
    "each problem carefully and then circle one of the numbers to the right to indicate how much you have been "
    "bothered by that problem in the past month."
)

ITEMS = tuple(
    Item(
        code=f"pcl5_{n}",
        number=n,
        text=text,
        options=OPTIONS,
        stem="In the past month, how much were you bothered by:" if n == 1 else "",
    )
    for n, text in enumerate(_ITEMS, start=1)
)


def bands_for(cutoff: int) -> tuple[Band, Band]:
    return (
        Band(0, cutoff - 1, "below_cutoff", "Below cut-off", 0),
        Band(cutoff, 80, "probable_ptsd", "At or above cut-off: probable PTSD", 3),
    )


def provisional_diagnosis(answers: Answers) -> bool:
    return all(
        sum(1 for n in CLUSTERS[cluster] if (answers.get(f"pcl5_{n}") or 0) >= ENDORSED) >= needed
        for cluster, needed in NEEDED.items()
    )


def score(instrument: Instrument, answers: Answers, *, cutoff: int = DEFAULT_CUTOFF) -> Score:
    if not 1 <= cutoff <= 80:
        raise ValueError(f"PCL-5 cut-off must be between 1 and 80, not {cutoff!r}.")
    clusters: dict[str, int | None] = {}
    for cluster, numbers in CLUSTERS.items():
        values = [answers.get(f"pcl5_{n}") for n in numbers]
        clusters[cluster] = None if any(v is None for v in values) else sum(v or 0 for v in values)
    missing = missing_codes(instrument, answers)
    if missing:
        return Score(
            total=None,
            prorated=False,
            band=None,
            subscores=clusters,
            missing=missing,
            missing_reason=unanswered_reason(instrument, len(missing), len(instrument.items), 0),
            critical_items=(),
            risk="",
            flags=(),
            complete=False,
        )
    total = sum(answers.get(item.code) or 0 for item in instrument.items)
    band = next(b for b in bands_for(cutoff) if b.contains(total))
    flags = []
    if total >= cutoff:
        flags.append("positive screen")
    if provisional_diagnosis(answers):
        flags.append("provisional PTSD")
    return Score(
        total=total,
        prorated=False,
        band=band,
        subscores=clusters,
        missing=(),
        missing_reason="",
        critical_items=(),
        risk="",
        flags=tuple(flags),
        complete=True,
    )


PCL5 = Instrument(
    code="pcl5",
    name="PTSD Checklist for DSM-5",
    short_name="PCL-5",
    lookback="In the past month",
    instructions=INSTRUCTIONS,
    items=ITEMS,
    bands=bands_for(DEFAULT_CUTOFF),
    max_total=80,
    loinc_panel="",
    loinc_total="",
    licence="Public domain (U.S. Department of Veterans Affairs, National Center for PTSD).",
    notice="PCL-5 (Weathers, Litz, Keane, Palmieri, Marx & Schnurr, 2013), National Center for PTSD. Public domain.",
    enabled_by_default=True,
    focus=frozenset({"mental_health", "substance_use"}),
    reliable_change=10,
    remission_below=None,
    scorer=score,
    positive_at=DEFAULT_CUTOFF,
    source=(
        "PCL-5 (Weathers et al. 2013), www.ptsd.va.gov; scoring and cut-offs: NCPTSD 'Using the PTSD Checklist for "
        "DSM-5 (PCL-5)'; Bovin et al., Psychol Assess 2016;28:1379-91."
    ),
)
