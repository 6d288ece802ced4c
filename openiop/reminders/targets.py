"""Where reminders come from, whether each is still wanted, and the facts its text may use.

- **Sessions**: the patient's own bookings (booked, in a scheduled session), ``session_offsets_hours`` before the
  start; a booking cancelled (or its session cancelled) drops the reminder, a moved session moves it.
- **Questionnaires**: one reminder per episode and due date however many questionnaires fall due that day, at the
  policy's ``day_time`` on the due date, until they expire (``measures_due_window_days`` after); dropped once none of
  that day's questionnaires is still open.
- **Plan signature**: a plan version waiting for the patient's signature, ``plan_signature_delay_hours`` after it
  started waiting; dropped once signed or sent back to draft.
- **Follow-up check-ins**: the day before a discharge follow-up falls due, at ``day_time``; dropped once recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings

from openiop.discharge.models import FollowUp
from openiop.measures.models import Administration
from openiop.patients.models import EpisodeOfCare
from openiop.plans.models import PlanVersion
from openiop.programs.models import Program
from openiop.reminders import policy
from openiop.reminders.content import Facts
from openiop.reminders.models import Kind, Reminder
from openiop.scheduling.models import Booking, Session

BOOKING = "booking"
EPISODE_DAY = "episode_day"
PLAN_VERSION = "plan_version"
FOLLOW_UP = "follow_up"

R = Reminder.DropReason
_OPEN_EPISODE = (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD)


@dataclass(frozen=True)
class Candidate:
    patient_id: int
    program: Program
    kind: str
    object_type: str
    object_id: int
    send_at: datetime
    event_at: datetime | None
    object_date: date | None = None
    offset_minutes: int = 0
    # Session reminders are skipped once their time is well past (a later offset covers them); the others are
    # still worth sending late, up to what they remind about.
    limited_catch_up: bool = False

    def key(self, channel: str) -> str:
        day = self.object_date.isoformat() if self.object_date else ""
        return f"{self.kind}:{self.object_type}:{self.object_id}:{day}:{channel}:{self.offset_minutes}"


def _window_days() -> int:
    return int(settings.OPENIOP_DEFAULTS["measures_due_window_days"])


def questionnaire_deadline(due_on: date, program: Program) -> datetime:
    """A due questionnaire expires at the end of its window (``measures.actions.do_expire_overdue``)."""
    return policy.local_at(due_on + timedelta(days=_window_days() + 1), datetime.min.time(), program.tz())


def follow_up_deadline(due_on: date, program: Program) -> datetime:
    return policy.local_at(due_on + timedelta(days=1), datetime.min.time(), program.tz())


def session_candidates(now: datetime, patient_ids: Iterable[int]) -> list[Candidate]:
    ids = list(patient_ids)
    if not ids:
        return []
    horizon = now + policy.plan_ahead() + timedelta(hours=24 * 14)
    bookings = Booking.objects.filter(
        patient_id__in=ids,
        patient__is_active=True,
        status=Booking.Status.BOOKED,
        session__status=Session.Status.SCHEDULED,
        session__starts_at__gt=now,
        session__starts_at__lte=horizon,
    ).select_related("session__program__site")
    out: list[Candidate] = []
    ahead = now + policy.plan_ahead()
    for booking in bookings:
        program = booking.session.program
        starts = booking.session.starts_at
        for hours in policy.session_offsets(policy.policy_for(program)):
            send_at = starts - timedelta(hours=hours)
            if send_at > ahead:
                continue
            out.append(
                Candidate(
                    patient_id=booking.patient_id, program=program, kind=Kind.SESSION, object_type=BOOKING,
                    object_id=booking.pk, send_at=send_at, event_at=starts, offset_minutes=hours * 60,
                    limited_catch_up=True,
                )
            )  # fmt: skip
    return out


def questionnaire_candidates(now: datetime, patient_ids: Iterable[int]) -> list[Candidate]:
    ids = list(patient_ids)
    if not ids:
        return []
    today = now.date()
    rows = (
        Administration.objects.filter(
            patient_id__in=ids,
            patient__is_active=True,
            status__in=Administration.OPEN,
            episode__status__in=_OPEN_EPISODE,
            due_on__gte=today - timedelta(days=_window_days() + 1),
            due_on__lte=today + timedelta(days=2),
        )
        .select_related("episode__program__site")
        .order_by("episode_id", "due_on")
    )
    seen: set[tuple[int, date]] = set()
    out: list[Candidate] = []
    ahead = now + policy.plan_ahead()
    for row in rows:
        if (row.episode_id, row.due_on) in seen:
            continue
        seen.add((row.episode_id, row.due_on))
        program = row.episode.program
        send_at = policy.local_at(row.due_on, policy.policy_for(program).day_time, program.tz())
        if send_at > ahead:
            continue
        out.append(
            Candidate(
                patient_id=row.patient_id, program=program, kind=Kind.QUESTIONNAIRE, object_type=EPISODE_DAY,
                object_id=row.episode_id, object_date=row.due_on, send_at=send_at,
                event_at=questionnaire_deadline(row.due_on, program),
            )
        )  # fmt: skip
    return out


def plan_candidates(now: datetime, patient_ids: Iterable[int]) -> list[Candidate]:
    ids = list(patient_ids)
    if not ids:
        return []
    versions = PlanVersion.objects.filter(
        status=PlanVersion.Status.AWAITING_PATIENT,
        plan__patient_id__in=ids,
        plan__patient__is_active=True,
        plan__episode__status__in=_OPEN_EPISODE,
    ).select_related("plan__episode__program__site")
    out: list[Candidate] = []
    ahead = now + policy.plan_ahead()
    for version in versions:
        program = version.plan.episode.program
        waiting_since = version.cosigned_at or version.clinician_signed_at or version.updated_at
        delay = timedelta(hours=policy.policy_for(program).plan_signature_delay_hours)
        send_at = waiting_since + delay
        if send_at > ahead:
            continue
        out.append(
            Candidate(
                patient_id=version.plan.patient_id, program=program, kind=Kind.PLAN_SIGNATURE,
                object_type=PLAN_VERSION, object_id=version.pk, send_at=send_at, event_at=None,
            )
        )  # fmt: skip
    return out


def follow_up_candidates(now: datetime, patient_ids: Iterable[int]) -> list[Candidate]:
    ids = list(patient_ids)
    if not ids:
        return []
    today = now.date()
    rows = FollowUp.objects.filter(
        patient_id__in=ids,
        patient__is_active=True,
        status=FollowUp.Status.DUE,
        due_on__gte=today - timedelta(days=1),
        due_on__lte=today + timedelta(days=3),
    ).select_related("episode__program__site")
    out: list[Candidate] = []
    ahead = now + policy.plan_ahead()
    for row in rows:
        program = row.episode.program
        send_at = policy.local_at(row.due_on - timedelta(days=1), policy.policy_for(program).day_time, program.tz())
        if send_at > ahead:
            continue
        out.append(
            Candidate(
                patient_id=row.patient_id, program=program, kind=Kind.FOLLOW_UP, object_type=FOLLOW_UP,
                object_id=row.pk, object_date=row.due_on, send_at=send_at,
                event_at=follow_up_deadline(row.due_on, program),
            )
        )  # fmt: skip
    return out


def all_candidates(now: datetime, patient_ids: Iterable[int]) -> list[Candidate]:
    ids = list(patient_ids)
    return [
        *session_candidates(now, ids),
        *questionnaire_candidates(now, ids),
        *plan_candidates(now, ids),
        *follow_up_candidates(now, ids),
    ]


# --- Still wanted? ---------------------------------------------------------------------------------------------


def drop_reasons(rows: list[Reminder], now: datetime) -> dict[int, str]:
    """For each reminder no longer wanted, why (keyed by the reminder's pk). A few queries per kind, not per row."""
    by_kind: dict[str, list[Reminder]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    reasons: dict[int, str] = {}
    sessions = by_kind.get(Kind.SESSION, [])
    if sessions:
        live = dict(
            Booking.objects.filter(
                pk__in=[r.object_id for r in sessions],
                status=Booking.Status.BOOKED,
                session__status=Session.Status.SCHEDULED,
            ).values_list("pk", "session__starts_at")
        )
        for r in sessions:
            if r.object_id not in live:
                reasons[r.pk] = R.CANCELLED
            elif live[r.object_id] <= now:
                reasons[r.pk] = R.TOO_LATE
    questionnaires = by_kind.get(Kind.QUESTIONNAIRE, [])
    if questionnaires:
        open_days = set(
            Administration.objects.filter(
                episode_id__in=[r.object_id for r in questionnaires], status__in=Administration.OPEN
            ).values_list("episode_id", "due_on")
        )
        for r in questionnaires:
            if (r.object_id, r.object_date) not in open_days:
                reasons[r.pk] = R.DONE
    plans = by_kind.get(Kind.PLAN_SIGNATURE, [])
    if plans:
        waiting = set(
            PlanVersion.objects.filter(
                pk__in=[r.object_id for r in plans], status=PlanVersion.Status.AWAITING_PATIENT
            ).values_list("pk", flat=True)
        )
        for r in plans:
            if r.object_id not in waiting:
                reasons[r.pk] = R.DONE
    follow_ups = by_kind.get(Kind.FOLLOW_UP, [])
    if follow_ups:
        due = set(
            FollowUp.objects.filter(pk__in=[r.object_id for r in follow_ups], status=FollowUp.Status.DUE).values_list(
                "pk", flat=True
            )
        )
        for r in follow_ups:
            if r.object_id not in due:
                reasons[r.pk] = R.DONE
    for r in rows:
        if r.pk not in reasons and r.event_at is not None and r.event_at <= now:
            reasons[r.pk] = R.TOO_LATE
    return reasons


def facts_for(reminder: Reminder) -> Facts:
    """The facts the text may use, read fresh at send time (a moved session is announced at its new time)."""
    program = reminder.program
    site_name = program.site.name
    tz = program.tz()
    if reminder.kind == Kind.SESSION:
        starts = Booking.objects.filter(pk=reminder.object_id).values_list("session__starts_at", flat=True).get()
        return Facts(kind=reminder.kind, site_name=site_name, tz=tz, starts_at=starts)
    return Facts(kind=reminder.kind, site_name=site_name, tz=tz, on_date=reminder.object_date)


def current_event_at(reminder: Reminder) -> datetime | None:
    """The session's start as it is now (it may have moved since the reminder was planned)."""
    if reminder.kind != Kind.SESSION:
        return reminder.event_at
    return Booking.objects.filter(pk=reminder.object_id).values_list("session__starts_at", flat=True).first()
