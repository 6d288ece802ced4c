"""The demo clinic's past attendance, replayed through the real actions, and `build_demo`, the whole demo on one
timeline (clinic, calendar, history).

Every past session (a program-local day before today) is checked in by the front desk a few minutes after it ends
(``do_check_in``), a few records are corrected a day later with a reason (``do_correct_attendance``), and staff work
the queue each morning, closing the tasks the absence policy raised once they are due (``do_close_task``). The
hook-driven parts (work-queue tasks, billable days) and the audit trail therefore come out as in real use.

Most people come to most sessions; a few arrive late or leave early (a few minutes, which the clinical hour still
credits, or enough to cost the week its dose) and a few miss a day. A handful of patients are cast so each feature
has something to show (see ``_cast``): two missed sessions in a row (an outreach task), three unexcused absences
in 14 days (a discharge review), a week at risk now (with make-up suggestions while sessions are left this week),
corrections with reasons, and a day that is not billable because a session was missed. Today's sessions are left
unrecorded, for whoever tries the demo to check in. Outcomes are drawn from generators seeded by the patient's name
and the session's date, so two builds on the same day give the same records whatever order they run in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from openiop.accounts.models import User
from openiop.attendance.actions import do_check_in, do_correct_attendance
from openiop.attendance.models import AttendanceRecord
from openiop.billing.days import decided_on_exit
from openiop.core.clock import Timeline
from openiop.demo.clinic import SEED, DemoClinic, PlannedPatient, local_moment, plan_demo_clinic
from openiop.demo.scheduling import HISTORY_WEEKS, WEEKS, DemoCalendar, monday_of
from openiop.demo.specs import TRACKS
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling.actions.booking import do_cancel_booking
from openiop.scheduling.models import Booking, Session
from openiop.worklist.actions import do_close_task
from openiop.worklist.models import WorkTask

Status = AttendanceRecord.Status
Participation = AttendanceRecord.Participation
Outcome = WorkTask.Outcome

# Chances per patient-day and per session, for everyone not cast in a scenario.
DAY_ABSENT_EXCUSED = 0.025
DAY_ABSENT_UNEXCUSED = 0.006
LATE = 0.05  # first session of the day
LEFT_EARLY = 0.03  # last session of the day
# Up to 10 minutes late still earns the hour-long group its clinical hour (50 minutes); more costs the week.
LATE_MINUTES = (2, 3, 4, 5, 5, 8, 10, 12, 15, 20)
LEFT_EARLY_MINUTES = (10, 15, 20, 25, 30)
PARTICIPATION_RECORDED = 0.85
PARTICIPATION = ((Participation.ENGAGED, 70), (Participation.PASSIVE, 18), (Participation.DISTRACTED, 8),
                 (Participation.WITHDRAWN, 4))  # fmt: skip
CORRECTED_AT = time(10)  # local, the day after the session
QUEUE_WORKED_AT = time(11)  # local: staff close the tasks that have come due
QUEUE_OUTCOMES = {
    WorkTask.Kind.OUTREACH: [
        (Outcome.REACHED, "Reached by phone; coming to the next session."),
        (Outcome.LEFT_MESSAGE, "Left a voicemail asking them to call the front desk."),
        (Outcome.REACHED, "Reached; was unwell, back this week."),
        (Outcome.NO_ANSWER, "No answer; will try again after the next session."),
    ],
    WorkTask.Kind.DISCHARGE_REVIEW: [
        (Outcome.PLAN_CHANGED, "Reviewed with the team: staying, with an attendance plan."),
        (Outcome.REACHED, "Talked it through; transport problems now solved."),
    ],
}
ADULT_TRACKS = {t.name for t in TRACKS if t.program in ("mh", "su")}  # three blocks a day
WEEKDAYS = {t.name: t.weekdays for t in TRACKS}
KEPT_OPEN = {"at risk this week", "outreach", "discharge review"}


@dataclass(frozen=True)
class Mark:
    """How one person attended one session, and a correction to make a day later (reason and changes)."""

    status: str = Status.PRESENT
    late_minutes: int = 0
    left_early_minutes: int = 0
    correction: tuple[str, dict[str, Any]] | None = None


@dataclass
class Role:
    """A patient cast to show something: what happens to them on which days (by program-local date and block)."""

    name: str
    planned: PlannedPatient
    marks: dict[tuple[date, int], Mark] = field(default_factory=dict)
    cancel_on: date | None = None  # this week: seats given up (the at-risk week when no day is over yet)
    keeps_tasks_open: bool = True  # staff leave this person's tasks in the queue, to be seen


@dataclass
class HistoryCounts:
    checked_in: int = 0
    corrected: int = 0
    tasks_closed: int = 0
    seats_cancelled: int = 0


class DemoHistory:
    def __init__(self, timeline: Timeline, today: date, patients: list[PlannedPatient]) -> None:
        self.timeline = timeline
        self.today = today
        # The replay ends at today's first minute: today's sessions are left for the person trying the demo.
        self.end = local_moment(today, time(0), settings.TIME_ZONE)
        self.roles = _cast(today, patients)
        self.by_name = {(r.planned.first_name, r.planned.last_name): r for r in self.roles}
        self.counts = HistoryCounts()
        self.staff: dict[str, User] = {}

    def plan(self, clinic: DemoClinic, start: date) -> None:
        self.staff = {u.username: u for u in clinic.staff}
        zone = settings.TIME_ZONE
        day = start + timedelta(days=1)
        while day < self.today:
            self.timeline.at(local_moment(day, QUEUE_WORKED_AT, zone), lambda d=day: self._work_queue(d))  # type: ignore[misc]
            day += timedelta(days=1)
        self.timeline.at(self.end, self._this_week)

    # --- steps --------------------------------------------------------------------------------------------------

    def session_over(self, session: Session) -> None:
        """Check in everyone booked on a session that ended a few minutes ago."""
        track = session.track
        if track is None:
            return
        zone = session.program.tz()
        local_start = session.starts_at.astimezone(zone)
        day = local_start.date()
        block = int(
            (datetime.combine(day, local_start.time()) - datetime.combine(day, track.start_time)).seconds // 3600
        )
        last_block = len(_blocks(track.name)) - 1
        bookings = (
            Booking.objects.filter(session=session, status=Booking.Status.BOOKED)
            .select_related("patient")
            .order_by("patient__legal_last_name", "patient__legal_first_name", "pk")
        )
        for booking in bookings:
            patient = booking.patient
            key = (patient.legal_first_name, patient.legal_last_name)
            role = self.by_name.get(key)
            mark = role.marks.get((day, block)) if role is not None else None
            if mark is None:
                mark = _random_mark(key, day, block, last_block, scripted=role is not None)
            fields: dict[str, Any] = {}
            if mark.late_minutes:
                fields["late_minutes"] = mark.late_minutes
            if mark.left_early_minutes:
                fields["left_early_minutes"] = mark.left_early_minutes
            if mark.status in AttendanceRecord.ATTENDED:
                participation = _participation(key, day, block)
                if participation:
                    fields["participation"] = participation
            # Its billable day decided right after it, as a worker would, without a task queued for each of the
            # replay's thousands of check-ins (the replay commits once, at its end).
            with decided_on_exit():
                record = do_check_in(
                    session, patient, acting_user=self.staff["frontdesk"], status=mark.status, **fields
                )
            self.counts.checked_in += 1
            if mark.correction is not None:
                when = local_moment(day + timedelta(days=1), CORRECTED_AT, session.program.time_zone)
                if when < self.end:
                    reason, changes = mark.correction
                    self.timeline.at(when, lambda r=record, why=reason, c=changes: self._correct(r, why, c))  # type: ignore[misc]

    def _correct(self, record: AttendanceRecord, reason: str, changes: dict[str, Any]) -> None:
        episode = EpisodeOfCare.objects.select_related("primary_clinician").get(pk=record.episode_id)
        corrector = episode.primary_clinician or self.staff["director"]
        with decided_on_exit():
            do_correct_attendance(record, acting_user=corrector, reason=reason, **changes)
        self.counts.corrected += 1

    def _work_queue(self, day: date) -> None:
        """Staff close the absence tasks that came due before today (the cast's own tasks stay open to be seen)."""
        cast = [r.planned.episode.pk for r in self.roles if r.keeps_tasks_open and r.planned.episode is not None]
        due = (
            WorkTask.objects.filter(
                status=WorkTask.Status.OPEN, kind__in=list(QUEUE_OUTCOMES), due_on__lt=day, episode__isnull=False
            )
            .exclude(episode_id__in=cast)
            .select_related("assigned_to", "patient")
            .order_by("due_on", "pk")
        )
        for task in due:
            outcomes = QUEUE_OUTCOMES[WorkTask.Kind(task.kind)]
            outcome, note = outcomes[task.pk % len(outcomes)]
            do_close_task(task, acting_user=task.assigned_to or self.staff["director"], outcome=outcome, note=note)
            self.counts.tasks_closed += 1

    def _this_week(self) -> None:
        """This morning: the at-risk patient's call to give up a later day this week, when no day is over yet."""
        for role in self.roles:
            if role.cancel_on is None or role.planned.episode is None:
                continue
            zone = role.planned.episode.program.tz()
            bookings = Booking.objects.filter(
                episode=role.planned.episode, status=Booking.Status.BOOKED
            ).select_related("session")
            for booking in bookings.order_by("session__starts_at"):
                if booking.session.starts_at.astimezone(zone).date() == role.cancel_on:
                    do_cancel_booking(
                        booking, acting_user=self.staff["frontdesk"], reason="Called: a medical appointment that day."
                    )
                    self.counts.seats_cancelled += 1


# --- outcomes ---------------------------------------------------------------------------------------------------


def _rng(*parts: object) -> random.Random:
    # A string seed is hashed with SHA-512, not Python's per-process hash, so it is the same in every run.
    return random.Random(":".join([str(SEED), *map(str, parts)]))  # noqa: S311  (invented data, not secrets)


def _random_mark(name: tuple[str, str], day: date, block: int, last_block: int, *, scripted: bool) -> Mark:
    today_draw = _rng(*name, day).random()
    if not scripted and today_draw < DAY_ABSENT_UNEXCUSED:
        return Mark(Status.ABSENT_UNEXCUSED)
    if not scripted and today_draw < DAY_ABSENT_UNEXCUSED + DAY_ABSENT_EXCUSED:
        return Mark(Status.ABSENT_EXCUSED)
    rng = _rng(*name, day, block)
    if block == 0 and rng.random() < LATE:
        return Mark(Status.LATE, late_minutes=rng.choice(LATE_MINUTES))
    if block == last_block and rng.random() < LEFT_EARLY:
        return Mark(Status.LEFT_EARLY, left_early_minutes=rng.choice(LEFT_EARLY_MINUTES))
    return Mark()


def _participation(name: tuple[str, str], day: date, block: int) -> str:
    rng = _rng(*name, day, block, "participation")
    if rng.random() >= PARTICIPATION_RECORDED:
        return ""
    return str(rng.choices([k for k, _ in PARTICIPATION], weights=[w for _, w in PARTICIPATION])[0])


def _blocks(track_name: str) -> range:
    return range(3) if track_name in ADULT_TRACKS else range(2)


def _meeting_days(planned: PlannedPatient, first: date, before: date) -> list[date]:
    """The track's meeting days from ``first`` (and the admission) up to the day before ``before``, oldest first."""
    assert planned.track_name is not None and planned.admitted_on is not None
    weekdays = WEEKDAYS[planned.track_name]
    day = max(first, planned.admitted_on)
    days = []
    while day < before:
        if day.weekday() in weekdays:
            days.append(day)
        day += timedelta(days=1)
    return days


def _cast(today: date, patients: list[PlannedPatient]) -> list[Role]:
    """Pick, in a fixed order, the adult-track patients admitted at least three weeks ago who show each scenario."""
    monday = monday_of(today)
    pool = sorted(
        (
            p
            for p in patients
            if p.status == EpisodeOfCare.Status.ACTIVE
            and p.track_name in ADULT_TRACKS
            and p.admitted_on is not None
            and p.admitted_on <= today - timedelta(weeks=3)
        ),
        # The lead clinician's own patients first, so logging in as `clinician` shows the tasks in their queue.
        key=lambda p: (p.primary_clinician != "clinician", p.admitted_on, p.last_name, p.first_name),
    )
    roles: list[Role] = []

    def take(name: str, fits: Any) -> Role | None:
        for planned in pool:
            if any(r.planned is planned for r in roles):
                continue
            role = fits(planned)
            if role is not None:
                role.name = name
                role.keeps_tasks_open = name in KEPT_OPEN
                roles.append(role)
                return role
        return None

    def at_risk_by_absence(planned: PlannedPatient) -> Role | None:
        # A day missed this week, with another track of the program still meeting this week for make-ups.
        days = _meeting_days(planned, monday, today)
        others = [t for t in TRACKS if t.program == planned.program_key and t.name != planned.track_name]
        if not days or not any(wd >= today.weekday() for t in others for wd in t.weekdays):
            return None
        role = Role("", planned)
        for block in _blocks(planned.track_name or ""):
            role.marks[(days[-1], block)] = Mark(Status.ABSENT_EXCUSED)
        return role

    def at_risk_by_cancelling(planned: PlannedPatient) -> Role | None:
        # No day of this week is over yet: the person gives up a later day of it instead.
        weekdays = WEEKDAYS[planned.track_name or ""]
        later = [monday + timedelta(days=wd) for wd in sorted(weekdays) if monday + timedelta(days=wd) > today]
        return Role("", planned, cancel_on=later[0]) if later else None

    if take("at risk this week", at_risk_by_absence) is None:
        take("at risk this week", at_risk_by_cancelling)

    def outreach(planned: PlannedPatient) -> Role | None:
        days = _meeting_days(planned, today - timedelta(days=7), today)
        if not days:
            return None
        role = Role("", planned)
        # Came to the first group, then missed the next two: two missed sessions in a row.
        role.marks[(days[-1], 1)] = Mark(Status.ABSENT_UNEXCUSED)
        role.marks[(days[-1], 2)] = Mark(Status.ABSENT_UNEXCUSED)
        return role

    take("outreach", outreach)

    def review(planned: PlannedPatient) -> Role | None:
        days = _meeting_days(planned, today - timedelta(days=13), today)
        if len(days) < 3:
            return None
        role = Role("", planned)
        # The middle group of three days (there before and after it), so never two misses in a row.
        for day in days[-3:]:
            role.marks[(day, 1)] = Mark(Status.ABSENT_UNEXCUSED)
        return role

    take("discharge review", review)

    def corrected(block: int, mark: Mark) -> Any:
        def fits(planned: PlannedPatient) -> Role | None:
            days = _meeting_days(planned, today - timedelta(days=21), today - timedelta(days=7))
            if not days:
                return None
            role = Role("", planned)
            role.marks[(days[-1], block)] = mark
            return role

        return fits

    take(
        "corrected: late, not absent",
        corrected(
            0,
            Mark(
                Status.ABSENT_UNEXCUSED,
                correction=(
                    "Arrived 25 minutes late, after the roster was taken; the facilitator confirmed it.",
                    {"status": Status.LATE, "late_minutes": 25, "participation": Participation.ENGAGED},
                ),
            ),
        ),
    )
    take(
        "corrected: left early",
        corrected(
            2,
            Mark(
                correction=(
                    "Left 30 minutes early for a medical appointment; the roster showed the whole session.",
                    {"status": Status.LEFT_EARLY, "left_early_minutes": 30},
                ),
            ),
        ),
    )

    def excused_day(planned: PlannedPatient) -> Role | None:
        # A whole day missed and excused the next morning: the review its three absences raised closes itself.
        days = _meeting_days(planned, today - timedelta(days=28), today - timedelta(days=14))
        if not days:
            return None
        role = Role("", planned)
        fix = ("Doctor's note received for the day.", {"status": Status.ABSENT_EXCUSED})
        for block in _blocks(planned.track_name or ""):
            role.marks[(days[-1], block)] = Mark(Status.ABSENT_UNEXCUSED, correction=fix)
        return role

    take("corrected: excused day", excused_day)

    def short_day(planned: PlannedPatient) -> Role | None:
        days = _meeting_days(planned, today - timedelta(days=14), today - timedelta(days=5))
        if not days:
            return None
        role = Role("", planned)
        role.marks[(days[0], 2)] = Mark(Status.ABSENT_EXCUSED)  # left before the last group: two services that day
        return role

    take("non-billable day", short_day)
    return roles


# --- the whole demo ---------------------------------------------------------------------------------------------


@dataclass
class DemoBuild:
    clinic: DemoClinic
    calendar: DemoCalendar
    history: DemoHistory


@transaction.atomic
def build_demo(today: date, *, history_weeks: int = HISTORY_WEEKS, weeks: int = WEEKS) -> DemoBuild:
    """Clinic, calendar from ``history_weeks`` back (at most) to ``weeks`` weeks from this Monday, and its history,
    replayed in time order on one timeline under the simulated clock. The caller checks that the demo does not
    exist yet. Tests pass fewer weeks ahead: each costs seconds of bookings, and the weeks ahead are all alike."""
    timeline = Timeline()
    calendar = DemoCalendar(timeline, today, history_weeks, weeks=weeks)
    clinic = plan_demo_clinic(today, timeline, on_admitted=calendar.admitted)
    history = DemoHistory(timeline, today, clinic.patients)
    calendar.on_session_over = history.session_over
    calendar.plan(clinic.organization, clinic.patients)
    history.plan(clinic, calendar.start)
    timeline.run()
    return DemoBuild(clinic=clinic, calendar=calendar, history=history)
