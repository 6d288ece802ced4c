"""The demo's attendance history: replayed through the actions, and showing each feature.

Read from the shared demo (``seeded_demo``: a fixed Thursday with two weeks of history; `make demo` replays twelve).
A second `openiop demo` over it adding nothing is core's demo test. That two builds on one day agree is checked there
too, on the parts without the calendar that draw random numbers: the history draws every choice from the same seeded
generator.
"""

from __future__ import annotations

from datetime import time, timedelta

from django.db.models import F
from django.utils import timezone

from openiop.attendance.dose import DoseStatus, current_week_doses, episode_doses
from openiop.attendance.makeup import plan_makeup
from openiop.attendance.models import AttendanceCorrection, AttendanceRecord
from openiop.billing.models import BillableDay
from openiop.core.audit import verify_chain
from openiop.core.models import AuditAction, AuditEvent
from openiop.demo.clinic import local_moment
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Organization
from openiop.scheduling.models import Booking, Session
from openiop.testing.demo import DEMO_DAY, DEMO_HISTORY_WEEKS
from openiop.worklist.models import WorkTask

TODAY = DEMO_DAY  # a Thursday
MONDAY = TODAY - timedelta(days=TODAY.weekday())
WEEKS = DEMO_HISTORY_WEEKS


def history_rows(org: Organization) -> list[tuple]:
    return list(
        AttendanceRecord.objects.filter(session__program__site__organization=org)
        .order_by("session__starts_at", "patient__mrn")
        .values_list("session__starts_at", "patient__mrn", "status", "minutes_attended", "participation", "version")
    )


def test_the_demo_history(seeded_demo):
    demo = seeded_demo.organization
    assert history_rows(demo)
    check_the_calendar_starts_with_the_history_and_every_past_seat_is_recorded(demo)
    check_the_history_goes_through_the_actions_in_time_order(demo, seeded_demo.history_events)
    check_the_history_is_mostly_present_with_some_late_early_and_absent(demo)
    check_it_shows_outreach_discharge_review_corrections_and_a_non_billable_day(demo)
    check_someones_week_is_at_risk_with_make_up_suggestions(demo)
    check_most_patients_meet_the_dose_most_weeks(demo)


def check_the_calendar_starts_with_the_history_and_every_past_seat_is_recorded(demo):
    sessions = Session.objects.filter(program__site__organization=demo).select_related("program")
    first = min(s.starts_at.astimezone(s.program.tz()).date() for s in sessions)
    assert first == MONDAY - timedelta(weeks=WEEKS)
    start_of_today = local_moment(TODAY, time(0), "America/New_York")
    past = sessions.filter(starts_at__lt=start_of_today - timedelta(hours=2))
    seats = Booking.objects.filter(session__in=past, status=Booking.Status.BOOKED)
    records = AttendanceRecord.objects.filter(session__program__site__organization=demo)
    assert seats.count() == records.count() > 500
    # Today's sessions are left for the person trying the demo, and nothing is recorded ahead of time.
    assert not records.filter(session__starts_at__gte=start_of_today).exists()
    assert not records.filter(session__ends_at__gt=F("created_at")).exists()
    assert not records.filter(created_at__gt=timezone.now()).exists()
    active = EpisodeOfCare.objects.filter(patient__organization=demo, status="active")
    booked_from = {b.episode_id for b in Booking.objects.filter(session__in=past)}
    assert booked_from == set(active.values_list("pk", flat=True))


def check_the_history_goes_through_the_actions_in_time_order(demo, history_events):
    assert verify_chain() == []
    times = list(AuditEvent.objects.order_by("chain_index").values_list("occurred_at", flat=True))
    assert times == sorted(times)
    # The clinic, calendar and history are all in the past; the other apps' seeders write after them, today.
    assert times[history_events - 1] < local_moment(TODAY, time(0, 1), "America/New_York")
    records = AttendanceRecord.objects.filter(session__program__site__organization=demo)
    created = AuditEvent.objects.filter(object_type="attendancerecord", action=AuditAction.CREATED)
    assert created.count() == records.count()
    # Each record was written a few minutes after its session ended, as a roster taken at the end.
    for record in records.select_related("session")[:50]:
        assert timedelta(0) < record.created_at - record.session.ends_at < timedelta(minutes=10)


def check_the_history_is_mostly_present_with_some_late_early_and_absent(demo):
    records = AttendanceRecord.objects.filter(session__program__site__organization=demo)
    total = records.count()
    by_status = {s: records.filter(status=s).count() for s in AttendanceRecord.Status.values}
    assert by_status["present"] > 0.85 * total
    assert by_status["late"] and by_status["left_early"]
    assert by_status["absent_excused"] and by_status["absent_unexcused"]
    assert not by_status["cancelled"]
    assert records.filter(status="late", late_minutes__gt=0).count() == by_status["late"]
    attended = records.filter(status__in=AttendanceRecord.ATTENDED)
    assert attended.exclude(participation="").count() > 0.7 * attended.count()


def check_it_shows_outreach_discharge_review_corrections_and_a_non_billable_day(demo):
    tasks = WorkTask.objects.filter(organization=demo)
    open_tasks = tasks.filter(status=WorkTask.Status.OPEN)
    assert open_tasks.filter(kind=WorkTask.Kind.OUTREACH).exists()
    assert open_tasks.filter(kind=WorkTask.Kind.DISCHARGE_REVIEW).exists()
    # Staff worked the queue: older tasks are closed with an outcome; a corrected absence closed its own review.
    assert tasks.filter(status=WorkTask.Status.DONE).exclude(outcome="not_needed").exists()
    assert tasks.filter(status=WorkTask.Status.DONE, outcome="not_needed").exists()
    corrections = AttendanceCorrection.objects.filter(record__session__program__site__organization=demo)
    assert corrections.count() >= 2
    assert all(c.reason and c.corrected_at > c.record.session.ends_at + timedelta(hours=12) for c in corrections)
    days = BillableDay.objects.filter(program__site__organization=demo)
    assert (
        days.filter(is_billable=True).count()
        > days.filter(is_billable=False, program__name__startswith="Adult").count()
    )
    assert days.filter(is_billable=False, program__name__startswith="Adult", reason__contains="2 services").exists()
    # The after-school program bills under its own shorter day (two groups), not the adults' 180 minutes.
    teen = days.filter(program__population="adolescent")
    assert teen.filter(is_billable=True).count() > teen.count() / 2


def check_someones_week_is_at_risk_with_make_up_suggestions(demo):
    now = local_moment(TODAY, time(8), "America/New_York")
    active = EpisodeOfCare.objects.filter(patient__organization=demo, status="active")
    at_risk = [d for d in current_week_doses(active, now=now) if d.week.at_risk]
    assert at_risk
    plans = [plan_makeup(d.episode, d.week, now=now) for d in at_risk]
    assert any(p.sessions for p in plans)


def check_most_patients_meet_the_dose_most_weeks(demo):
    # Weeks before the calendar's first (admissions before the replayed history) have no sessions to count.
    now = local_moment(TODAY, time(8), "America/New_York")
    active = EpisodeOfCare.objects.filter(patient__organization=demo, status="active")
    closed = [
        w
        for e in episode_doses(active, now=now)
        for w in e.weeks
        if w.status in (DoseStatus.MET, DoseStatus.MISSED) and w.start >= MONDAY - timedelta(weeks=WEEKS)
    ]
    assert closed
    assert sum(w.status == DoseStatus.MET for w in closed) > 0.6 * len(closed)
