"""Access-checked reads built on the dose engine: a patient's dose weeks, this week's at-risk list for the user's
programs, the home page's at-risk counts, and a program's attendance report by track.

Report definitions (per track of the patient's episode; "No track" for episodes without one):
- scheduled sessions: counting patient-sessions (see ``dose.load_slots``) held on a program-local day in the
  range and already over;
- attendance rate: those with an attended record (present, late, left early) / scheduled sessions;
- no-show rate: those recorded absent, unexcused / scheduled sessions (excused absences and sessions not yet
  recorded are counted and shown, but are neither);
- dose share: closed patient-weeks overlapping the range that met their (prorated) minimum / closed patient-weeks
  with a minimum due. The open current week is not judged yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from openiop.accounts.models import User
from openiop.attendance.dose import (
    CurrentDose,
    DoseStatus,
    EpisodeDose,
    current_week_doses,
    episode_doses,
)
from openiop.attendance.models import AttendanceRecord
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import chart_program_ids
from openiop.programs.models import Program, Track

NO_TRACK = "No track"


def _percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- A patient's weeks --------------------------------------------------------------------------------------------


def patient_dose(
    user: User, patient: Patient, episodes: Iterable[EpisodeOfCare] | None, *, now: datetime
) -> list[EpisodeDose]:
    """Dose weeks of the patient's admitted episodes in the user's programs, or all of them under emergency access
    (open ones first, then newest)."""
    require(user, Cap.VIEW_PATIENTS)
    ids = set(chart_program_ids(user, patient))
    if episodes is None:
        episodes = EpisodeOfCare.objects.filter(patient=patient, program_id__in=ids).select_related(
            "program__site", "track"
        )
    own = [e for e in episodes if e.program_id in ids and e.patient_id == patient.pk and e.admitted_on is not None]
    own.sort(key=lambda e: (not e.is_open, -(e.admitted_on.toordinal() if e.admitted_on else 0)))
    return episode_doses(own, now=now)


# --- This week's at-risk list -----------------------------------------------------------------------------------------


@dataclass
class ProgramRisk:
    program: Program
    doses: list[CurrentDose] = field(default_factory=list)  # every active episode admitted by this week
    at_risk: list[CurrentDose] = field(default_factory=list)  # worst first

    @property
    def unreachable(self) -> int:
        return sum(1 for d in self.at_risk if d.week.status == DoseStatus.UNREACHABLE)

    @property
    def week_start(self) -> date | None:
        return self.doses[0].week.start if self.doses else None


def _risk_order(dose: CurrentDose) -> tuple[int, int, str, str]:
    patient = dose.episode.patient
    return (
        dose.week.status != DoseStatus.UNREACHABLE,
        -dose.week.shortfall,
        patient.legal_last_name.lower(),
        patient.legal_first_name.lower(),
    )


def dose_risk_by_program(user: User, *, now: datetime) -> list[ProgramRisk]:
    """This week's dose for every active episode of the user's active programs, in six queries whatever the
    number of programs or patients (episodes with their patients, then the engine's five)."""
    require(user, Cap.VIEW_CENSUS)
    ids = program_ids_for(user)
    episodes = list(
        EpisodeOfCare.objects.filter(
            program_id__in=ids, program__is_active=True, status=EpisodeOfCare.Status.ACTIVE
        ).select_related("patient", "program__site", "track")
    )
    by_program: dict[int, ProgramRisk] = {}
    for e in sorted(episodes, key=lambda e: (e.program.site.name, e.program.name)):
        by_program.setdefault(e.program_id, ProgramRisk(program=e.program))
    for dose in current_week_doses(episodes, now=now):
        entry = by_program[dose.episode.program_id]
        entry.doses.append(dose)
        if dose.week.at_risk:
            entry.at_risk.append(dose)
    for entry in by_program.values():
        entry.at_risk.sort(key=_risk_order)
    return [e for e in by_program.values() if e.doses]


# --- Program report -----------------------------------------------------------------------------------------------


@dataclass
class TrackRow:
    name: str
    track: Track | None = None
    scheduled: int = 0
    attended: int = 0
    unexcused: int = 0
    excused: int = 0
    unrecorded: int = 0
    weeks_due: int = 0
    weeks_met: int = 0
    patients: set[int] = field(default_factory=set)

    @property
    def patient_count(self) -> int:
        return len(self.patients)

    @property
    def attendance_rate(self) -> Decimal | None:
        return _percent(self.attended, self.scheduled)

    @property
    def no_show_rate(self) -> Decimal | None:
        return _percent(self.unexcused, self.scheduled)

    @property
    def dose_share(self) -> Decimal | None:
        return _percent(self.weeks_met, self.weeks_due)

    def add(self, other: TrackRow) -> None:
        for name in ("scheduled", "attended", "unexcused", "excused", "unrecorded", "weeks_due", "weeks_met"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.patients |= other.patients


@dataclass
class ProgramReport:
    program: Program
    start: date
    end: date
    rows: list[TrackRow]
    total: TrackRow


def program_report(program: Program, *, start: date, end: date, now: datetime) -> ProgramReport:
    """Attendance, no-shows and dose share by track over [start, end] (program-local days): seven queries."""
    episodes = list(
        EpisodeOfCare.objects.filter(program=program, admitted_on__isnull=False, admitted_on__lte=end)
        .exclude(status=EpisodeOfCare.Status.WAITLIST)
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=start))
        .select_related("program__site", "track")
    )
    tracks = list(Track.objects.filter(program=program).order_by("start_time", "name"))
    rows: dict[int | None, TrackRow] = {t.pk: TrackRow(name=t.name, track=t) for t in tracks}
    for dose in episode_doses(episodes, now=now, between=(start, end)):
        episode = dose.episode
        row = rows.setdefault(episode.track_id, TrackRow(name=NO_TRACK))
        seen: set[int] = set()
        for week in dose.weeks:
            if week.closed and week.is_due:
                row.weeks_due += 1
                row.weeks_met += week.met
                row.patients.add(episode.patient_id)
            for slot in week.slots:
                if not (start <= slot.local_day <= end) or slot.ends_at > now or slot.session_id in seen:
                    continue
                seen.add(slot.session_id)
                row.patients.add(episode.patient_id)
                row.scheduled += 1
                if slot.status in AttendanceRecord.ATTENDED:
                    row.attended += 1
                elif slot.status == AttendanceRecord.Status.ABSENT_UNEXCUSED:
                    row.unexcused += 1
                elif slot.status == AttendanceRecord.Status.ABSENT_EXCUSED:
                    row.excused += 1
                else:
                    row.unrecorded += 1
    ordered = [rows[t.pk] for t in tracks if t.is_active or rows[t.pk].scheduled or rows[t.pk].weeks_due]
    if None in rows:
        ordered.append(rows[None])
    total = TrackRow(name="All tracks")
    for row in ordered:
        total.add(row)
    return ProgramReport(program=program, start=start, end=end, rows=ordered, total=total)


def report_csv_rows(report: ProgramReport) -> list[list[str]]:
    """The report as CSV rows (aggregates only, no patient names)."""

    def fmt(value: Decimal | None) -> str:
        return "" if value is None else f"{value}"

    header = [
        "program",
        "track",
        "from",
        "to",
        "patients",
        "scheduled_sessions",
        "attended",
        "absent_unexcused",
        "absent_excused",
        "not_recorded",
        "attendance_rate_percent",
        "no_show_rate_percent",
        "patient_weeks_due",
        "patient_weeks_met",
        "dose_met_percent",
    ]
    out = [header]
    for row in [*report.rows, report.total]:
        out.append(
            [
                report.program.name,
                row.name,
                report.start.isoformat(),
                report.end.isoformat(),
                str(row.patient_count),
                str(row.scheduled),
                str(row.attended),
                str(row.unexcused),
                str(row.excused),
                str(row.unrecorded),
                fmt(row.attendance_rate),
                fmt(row.no_show_rate),
                str(row.weeks_due),
                str(row.weeks_met),
                fmt(row.dose_share),
            ]
        )
    return out
