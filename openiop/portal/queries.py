"""Reads for the portal: always scoped to the signed-in account's own patient (404 for anything else), and for
staff, the chart's portal-access section.

The patient-facing words for dose and attendance live here too, so the templates only print them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404

from openiop.attendance.dose import CurrentDose, DoseStatus, WeekDose, current_week_doses
from openiop.attendance.makeup import plan_makeup
from openiop.attendance.models import AttendanceRecord
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.portal.models import AccountKind, Invitation, PortalAccount
from openiop.portal.policy import policies_for
from openiop.scheduling.models import Booking, Session, SessionType

UPCOMING_SHOWN_ON_HOME = 3
PAST_SHOWN = 30
INDIVIDUAL_OFFERS_SHOWN = 12

_SESSION_RELATED = ("session__program__site", "session__session_type")

# How a week's dose reads to the patient: encouraging, plain, never "non-compliant".
DOSE_WORDS = {
    DoseStatus.MET: "You have reached this week's goal. Well done.",
    DoseStatus.ON_TRACK: "You are on track for this week.",
    DoseStatus.TIGHT: "You are on track; every session left this week counts.",
    DoseStatus.AT_RISK: "To reach this week's goal you need every session left this week.",
    DoseStatus.UNREACHABLE: "This week is short of its goal. A make-up session can help you catch up.",
    DoseStatus.MISSED: "Last week's goal was not reached.",
    DoseStatus.NOT_DUE: "No hours are planned for you this week.",
}
DOSE_TONE = {
    DoseStatus.MET: "success",
    DoseStatus.ON_TRACK: "primary",
    DoseStatus.TIGHT: "info",
    DoseStatus.AT_RISK: "warning",
    DoseStatus.UNREACHABLE: "warning",
    DoseStatus.MISSED: "secondary",
    DoseStatus.NOT_DUE: "secondary",
}
ATTENDANCE_WORDS = {
    AttendanceRecord.Status.PRESENT: "Attended",
    AttendanceRecord.Status.LATE: "Attended (arrived late)",
    AttendanceRecord.Status.LEFT_EARLY: "Attended (left early)",
    AttendanceRecord.Status.ABSENT_EXCUSED: "Absent (excused)",
    AttendanceRecord.Status.ABSENT_UNEXCUSED: "Absent",
    AttendanceRecord.Status.CANCELLED: "Cancelled by the clinic",
}


# --- The patient's record -----------------------------------------------------------------------------------------


def open_episodes(patient: Patient) -> list[EpisodeOfCare]:
    """The patient's active episodes, with what the dose engine and the offers read (one query)."""
    return list(
        EpisodeOfCare.objects.filter(patient=patient, status=EpisodeOfCare.Status.ACTIVE, admitted_on__isnull=False)
        .select_related("program__site", "track", "patient")
        .order_by("admitted_on", "pk")
    )


@dataclass(frozen=True)
class DoseSummary:
    """This week's dose for one episode, in the patient's words."""

    dose: CurrentDose

    @property
    def week(self) -> WeekDose:
        return self.dose.week

    @property
    def program_name(self) -> str:
        return self.dose.episode.program.name

    @property
    def words(self) -> str:
        return DOSE_WORDS[self.week.status]

    @property
    def tone(self) -> str:
        return DOSE_TONE[self.week.status]

    @property
    def needs_makeup(self) -> bool:
        return self.week.status == DoseStatus.UNREACHABLE

    @property
    def percent(self) -> int:
        minimum = self.week.minimum
        return min(100, round(100 * self.week.attended / minimum)) if minimum else 100


def dose_summaries(episodes: list[EpisodeOfCare], *, now: datetime) -> list[DoseSummary]:
    return [DoseSummary(d) for d in current_week_doses(episodes, now=now)]


def _bookings(patient: Patient) -> QuerySet[Booking]:
    return Booking.objects.filter(patient=patient, status=Booking.Status.BOOKED).select_related(*_SESSION_RELATED)


def next_bookings(patient: Patient, *, now: datetime, limit: int = UPCOMING_SHOWN_ON_HOME) -> list[Booking]:
    """The sessions still to come or under way, in episodes still open: a discharge cancels what had not started,
    and the session under way when it was signed is no "next session" for someone whose program has ended."""
    return list(
        _bookings(patient)
        .filter(session__ends_at__gt=now, session__status=Session.Status.SCHEDULED)
        .exclude(episode__status=EpisodeOfCare.Status.DISCHARGED)
        .order_by("session__starts_at", "pk")[:limit]
    )


@dataclass
class PastRow:
    booking: Booking
    record: AttendanceRecord | None

    @property
    def words(self) -> str:
        if self.record is None:
            return "Not recorded yet"
        return ATTENDANCE_WORDS.get(AttendanceRecord.Status(self.record.status), self.record.get_status_display())

    @property
    def attended(self) -> bool:
        return self.record is not None and self.record.attended

    @property
    def missed(self) -> bool:
        return self.record is not None and self.record.missed


@dataclass
class Schedule:
    upcoming: list[Booking]
    past: list[PastRow]


def schedule_for(patient: Patient, *, now: datetime) -> Schedule:
    """Upcoming booked sessions and the most recent past ones with their attendance (three queries)."""
    upcoming = list(
        _bookings(patient)
        .filter(session__ends_at__gt=now, session__status=Session.Status.SCHEDULED)
        .order_by("session__starts_at", "pk")
    )
    past = list(
        _bookings(patient).filter(session__ends_at__lte=now).order_by("-session__starts_at", "-pk")[:PAST_SHOWN]
    )
    records = {
        r.session_id: r
        for r in AttendanceRecord.objects.filter(patient=patient, session_id__in=[b.session_id for b in past])
    }
    return Schedule(upcoming=upcoming, past=[PastRow(b, records.get(b.session_id)) for b in past])


def get_booking_for_account(account: PortalAccount, public_id: UUID | str) -> Booking:
    """One of the account's own patient's bookings; anyone else's is a 404."""
    return get_object_or_404(
        Booking.objects.filter(patient_id=account.patient_id).select_related(*_SESSION_RELATED, "patient"),
        public_id=public_id,
    )


# --- What the patient may book ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    session: Session
    episode: EpisodeOfCare
    kind: str  # "makeup" or "individual"
    hours: str = ""


@dataclass
class Offers:
    makeups: list[Offer] = field(default_factory=list)
    individual: list[Offer] = field(default_factory=list)
    # Programs whose week is short but where no open session can lift it (the page says to call).
    makeup_unavailable: list[EpisodeOfCare] = field(default_factory=list)

    def find(self, session_id: int) -> Offer | None:
        return next((o for o in [*self.makeups, *self.individual] if o.session.pk == session_id), None)

    def __bool__(self) -> bool:
        return bool(self.makeups or self.individual)


def portal_offers(
    account: PortalAccount,
    *,
    now: datetime,
    episodes: list[EpisodeOfCare] | None = None,
    doses: list[DoseSummary] | None = None,
) -> Offers:
    """Sessions this patient may book from the portal now, under each program's policy: the make-ups the make-up
    search suggests for a week short of its dose, and open individual sessions within the booking horizon."""
    offers = Offers()
    if account.kind != AccountKind.PATIENT:
        return offers
    if episodes is None:
        episodes = open_episodes(account.patient)
    if not episodes:
        return offers
    policies = policies_for([e.program for e in episodes])
    makeup_episodes = {e.pk for e in episodes if policies[e.program_id].makeup_booking}
    if makeup_episodes:
        if doses is None:
            doses = dose_summaries([e for e in episodes if e.pk in makeup_episodes], now=now)
        for summary in doses:
            episode = summary.dose.episode
            if episode.pk not in makeup_episodes or not summary.needs_makeup:
                continue
            horizon = now + timedelta(days=policies[episode.program_id].booking_horizon_days)
            plan = plan_makeup(episode, summary.week, now=now)
            chosen = [c for c in plan.sessions or [] if c.starts_at <= horizon]
            if not chosen:
                offers.makeup_unavailable.append(episode)
            offers.makeups += [Offer(c.session, episode, "makeup", c.hours) for c in chosen]
    self_booking = [e for e in episodes if policies[e.program_id].self_booking]
    if self_booking:
        offers.individual = _individual_offers(account.patient, self_booking, policies, now=now)
    return offers


def _individual_offers(
    patient: Patient, episodes: list[EpisodeOfCare], policies: dict[int, Any], *, now: datetime
) -> list[Offer]:
    """Open individual sessions in the episodes' programs, inside each episode's dates and the program's horizon,
    that do not clash with what the patient already holds (two queries)."""
    by_program = {e.program_id: e for e in episodes}
    furthest = max(now + timedelta(days=policies[pid].booking_horizon_days) for pid in by_program)
    held = Booking.objects.filter(patient=patient, status=Booking.Status.BOOKED)
    busy = list(
        held.filter(session__status=Session.Status.SCHEDULED, session__ends_at__gt=now).values_list(
            "session__starts_at", "session__ends_at"
        )
    )
    sessions = (
        Session.objects.filter(
            program_id__in=list(by_program),
            session_type__kind=SessionType.Kind.INDIVIDUAL,
            status=Session.Status.SCHEDULED,
            starts_at__gt=now,
            starts_at__lte=furthest,
            booked_count__lt=F("capacity"),
        )
        .exclude(pk__in=held.values("session_id"))
        .select_related("program__site", "session_type")
        .order_by("starts_at", "pk")
    )
    result = []
    for s in sessions:
        episode = by_program[s.program_id]
        if s.starts_at > now + timedelta(days=policies[s.program_id].booking_horizon_days):
            continue
        day = s.starts_at.astimezone(s.program.tz()).date()
        last_day = episode.discharged_on or episode.expected_discharge_on
        if (episode.admitted_on and day < episode.admitted_on) or (last_day is not None and day > last_day):
            continue
        if any(s.starts_at < end and start < s.ends_at for start, end in busy):
            continue
        result.append(Offer(s, episode, "individual"))
        if len(result) >= INDIVIDUAL_OFFERS_SHOWN:
            break
    return result


# --- Staff: the chart's portal-access section ---------------------------------------------------------------------


@dataclass
class ContactAccess:
    contact: Any
    account: PortalAccount | None
    invitation: Invitation | None


@dataclass
class PortalAccess:
    account: PortalAccount | None
    invitation: Invitation | None  # the latest patient invitation
    contacts: list[ContactAccess]


def portal_access(patient: Patient) -> PortalAccess:
    """The patient's own login and latest invitation, and each active support contact's (three queries)."""
    accounts = list(PortalAccount.objects.filter(patient=patient).select_related("user"))
    invitations = list(Invitation.objects.filter(patient=patient).select_related("invited_by").order_by("-created_at"))
    contacts = list(patient.support_contacts.filter(is_active=True).order_by("name"))
    own = next((a for a in accounts if a.kind == AccountKind.PATIENT), None)
    own_invitation = next((i for i in invitations if i.kind == AccountKind.PATIENT), None)
    rows = [
        ContactAccess(
            contact=c,
            account=next((a for a in accounts if a.contact_id == c.pk), None),
            invitation=next((i for i in invitations if i.contact_id == c.pk), None),
        )
        for c in contacts
    ]
    return PortalAccess(account=own, invitation=own_invitation, contacts=rows)
