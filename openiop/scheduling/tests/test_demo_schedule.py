from __future__ import annotations

from datetime import date, time, timedelta

from django.db.models import F

from openiop.core.audit import verify_chain
from openiop.demo.clinic import build_demo_clinic, local_moment
from openiop.demo.scheduling import ensure_demo_schedule
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Track
from openiop.scheduling.models import Booking, Enrollment, Session, SessionSeries
from openiop.testing.clock import moving_clock

TODAY = date(2026, 11, 26)  # a Thursday
# Two weeks, not the twelve `openiop demo` builds: every week is built alike, and each costs seconds of bookings.
WEEKS = 2


def test_demo_gains_its_weeks_of_sessions_and_enrollments_once(db, monkeypatch):
    # The calendar added to a clinic built without one (`openiop demo --skip-schedule`, then `openiop demo`); the
    # whole demo builds it with its history instead (the shared seeded_demo, attendance's demo test). On TODAY's
    # clock: enrollments book only the sessions still ahead.
    moving_clock(monkeypatch, local_moment(TODAY, time(11), "America/New_York"))
    demo = build_demo_clinic(TODAY)
    assert ensure_demo_schedule(demo.organization, TODAY, weeks=WEEKS) is True
    monday = TODAY - timedelta(days=TODAY.weekday())
    sessions = Session.objects.filter(program__site__organization=demo.organization)
    for track in Track.objects.filter(program__site__organization=demo.organization):
        mine = sessions.filter(track=track)
        blocks = SessionSeries.objects.filter(track=track).count()
        # Every meeting day of every week of the horizon, one session per block.
        assert mine.count() == blocks * len(track.weekdays) * WEEKS
        assert mine.earliest("starts_at").starts_at.astimezone(track.program.tz()).date() >= monday
    active = EpisodeOfCare.objects.filter(patient__organization=demo.organization, status="active")
    assert Enrollment.objects.filter(episode__in=active, ends_on__isnull=True).count() == active.count() == 45
    assert not sessions.filter(booked_count__gt=F("capacity")).exists()
    booked = Booking.objects.filter(session__in=sessions, status=Booking.Status.BOOKED)
    assert booked.count() == sum(s.booked_count for s in sessions) > 0
    assert verify_chain() == []
    # A second run (the next `openiop demo`) adds nothing; checked on the same build, as building it takes a while.
    before = (Session.objects.count(), Booking.objects.count(), SessionSeries.objects.count())
    assert ensure_demo_schedule(demo.organization, TODAY, weeks=WEEKS) is False
    assert (Session.objects.count(), Booking.objects.count(), SessionSeries.objects.count()) == before
