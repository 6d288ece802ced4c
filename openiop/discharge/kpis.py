"""Program KPIs that follow from discharge and aftercare (docs/clinical-rules.md#discharge-kpis), aggregates only.

Over the episodes of one program discharged in [start, end]:
- completion rate: discharge reason 1 (completed) / discharges;
- discharge reasons: count per TEDS-D code; median length of stay in days (admission to discharge);
- stepped down: aftercare plans with a step-down level other than "no further treatment" / discharges;
- kept aftercare within 7 and within 30 days: discharges with a check-in at or before that day recorded
  "attending aftercare: yes" / discharges whose check-in of that day is already due (unreached or unrecorded
  check-ins count as not kept, as HEDIS counts a missing follow-up as not met); a death is excluded;
- readmitted within ``readmission_window_days`` (30): discharges with any check-in at or before that day recording
  a readmission to a higher level of care / discharges with such a check-in recorded.
Three queries whatever the number of discharges.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

from openiop.discharge.models import AftercarePlan, FollowUp, StepDownLevel
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program
from openiop.referrals.admission import readmission_window_days

# HEDIS FUH/FUI/FUM windows (docs/clinical-rules.md#discharge-kpis): fixed by the measure, not program policy.
AFTERCARE_WINDOWS = (7, 30)


def _percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Rate:
    label: str
    part: int
    whole: int

    @property
    def percent(self) -> Decimal | None:
        return _percent(self.part, self.whole)


@dataclass
class ProgramKpis:
    program: Program
    start: date
    end: date
    discharges: int = 0
    reasons: list[tuple[str, str, int]] = field(default_factory=list)  # code, label, count
    median_length_of_stay: float | None = None
    rates: list[Rate] = field(default_factory=list)


def program_kpis(program: Program, *, start: date, end: date, today: date) -> ProgramKpis:
    episodes = list(
        EpisodeOfCare.objects.filter(
            program=program,
            status=EpisodeOfCare.Status.DISCHARGED,
            discharged_on__gte=start,
            discharged_on__lte=end,
            admitted_on__isnull=False,
        ).only("pk", "admitted_on", "discharged_on", "discharge_reason")
    )
    report = ProgramKpis(program=program, start=start, end=end, discharges=len(episodes))
    ids = [e.pk for e in episodes]
    levels = dict(AftercarePlan.objects.filter(episode_id__in=ids).values_list("episode_id", "step_down_level"))
    checks: dict[int, list[FollowUp]] = defaultdict(list)
    for follow_up in FollowUp.objects.filter(episode_id__in=ids).only(
        "episode_id", "days_after", "due_on", "status", "attending_aftercare", "readmitted"
    ):
        checks[follow_up.episode_id].append(follow_up)
    counts = Counter(e.discharge_reason for e in episodes)
    report.reasons = [(code, label, counts.get(code, 0)) for code, label in EpisodeOfCare.DischargeReason.choices]
    stays = [(e.discharged_on - e.admitted_on).days for e in episodes if e.discharged_on and e.admitted_on]
    report.median_length_of_stay = float(median(stays)) if stays else None
    completed = counts.get(EpisodeOfCare.DischargeReason.COMPLETED, 0)
    report.rates.append(Rate("Completed treatment", completed, len(episodes)))
    stepped = sum(1 for e in episodes if levels.get(e.pk) not in (None, "", StepDownLevel.NONE))
    report.rates.append(Rate("Stepped down to a planned level of care", stepped, len(episodes)))
    living = [e for e in episodes if e.discharge_reason != EpisodeOfCare.DischargeReason.DEATH]
    for window in AFTERCARE_WINDOWS:
        due = kept = 0
        for episode in living:
            own = [f for f in checks[episode.pk] if f.days_after <= window]
            if not own or max(f.due_on for f in own) > today:
                continue  # that check-in is not due yet
            due += 1
            kept += any(f.attending_aftercare for f in own)
        report.rates.append(Rate(f"Attending aftercare within {window} days", kept, due))
    window = readmission_window_days()
    asked = readmitted = 0
    for episode in living:
        own = [f for f in checks[episode.pk] if f.days_after <= window and f.readmitted is not None]
        if own:
            asked += 1
            readmitted += any(f.readmitted for f in own)
    report.rates.append(Rate(f"Readmitted to a higher level of care within {window} days", readmitted, asked))
    return report
