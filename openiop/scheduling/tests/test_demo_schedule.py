from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from django.db.models import F

from openiop.core.audit import verify_chain
from openiop.demo.clinic import DemoClinic, build_demo_clinic
from openiop.demo.scheduling import WEEKS, ensure_demo_schedule
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Track
from openiop.scheduling.models import Booking, Enrollment, Session, SessionSeries
from openiop.testing.demo import seeded_once

TODAY = date(2026, 11, 26)  # a Thursday


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> Iterator[DemoClinic]:
    # Built once for both tests (seconds each); the second test's changes are rolled back after it.
    with seeded_once(django_db_blocker):
        yield build_demo_clinic(TODAY)


def test_demo_gains_twelve_weeks_of_sessions_and_enrollments_once(db, demo):
    assert ensure_demo_schedule(demo.organization, TODAY) is True
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
    assert ensure_demo_schedule(demo.organization, TODAY) is False
    assert (Session.objects.count(), Booking.objects.count(), SessionSeries.objects.count()) == before
