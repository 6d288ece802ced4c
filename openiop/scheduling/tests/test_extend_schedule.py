from __future__ import annotations

from datetime import time, timedelta

from django.core.management import call_command
from django.utils import timezone

from openiop.scheduling.actions.enrollment import do_enroll
from openiop.scheduling.actions.groups import do_create_group
from openiop.scheduling.actions.series import do_create_series
from openiop.scheduling.actions.setup import do_create_session_type
from openiop.scheduling.models import Booking, Session, SessionType
from openiop.testing.fixtures import make_patient


def test_extending_the_horizon_books_current_enrollments_once(clinic, capsys):
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    st = do_create_session_type(
        clinic.mh,
        acting_user=clinic.director,
        name="Process group",
        kind=SessionType.Kind.PROCESS_GROUP,
        service_kind=SessionType.ServiceKind.GROUP_PSYCHOTHERAPY,
        default_duration_minutes=55,
    )
    group = do_create_group(clinic.day, acting_user=clinic.director, name="Day group")
    series = do_create_series(
        clinic.mh,
        acting_user=clinic.director,
        session_type=st,
        track=clinic.day,
        group=group,
        rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
        starts_on=monday,
        start_time=time(9),
        horizon=monday + timedelta(weeks=2),
        facilitators=[clinic.clinician],
    )
    patient = make_patient(clinic, admit=False)
    from openiop.patients.actions import do_open_episode

    episode = do_open_episode(
        patient,
        acting_user=None,
        program=clinic.mh,
        admitted_on=today,
        track=clinic.day,
        primary_clinician=clinic.clinician,
    )
    do_enroll(episode, acting_user=clinic.director, track=clinic.day, groups=[group], starts_on=today)
    before = Booking.objects.filter(episode=episode, status="booked").count()
    call_command("extend_schedule", "--weeks", "6")
    sessions = Session.objects.filter(series=series)
    assert sessions.count() > 6  # beyond the first two weeks
    after = Booking.objects.filter(episode=episode, status="booked").count()
    assert after > before
    future = sessions.filter(starts_at__gte=timezone.now())
    last_day = episode.expected_discharge_on
    assert last_day is not None  # twelve weeks from admission, from the program
    expected = [s for s in future if s.starts_at.astimezone(clinic.mh.tz()).date() <= last_day]
    assert after == len(expected)
    call_command("extend_schedule", "--weeks", "6")
    assert Booking.objects.filter(episode=episode, status="booked").count() == after
    assert sessions.count() == Session.objects.filter(series=series).count()
    assert "sessions created" in capsys.readouterr().out
