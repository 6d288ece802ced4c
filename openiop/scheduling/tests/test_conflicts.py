from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.scheduling.actions.clashes import availability_warnings
from openiop.scheduling.actions.series import do_create_series, do_edit_session
from openiop.scheduling.actions.setup import (
    do_add_availability,
    do_add_time_off,
    do_create_room,
    do_create_session_type,
)
from openiop.scheduling.models import Session, SessionSeries, SessionType


def next_monday():
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture
def skills(clinic):
    return do_create_session_type(
        clinic.mh,
        acting_user=clinic.director,
        name="DBT skills",
        kind=SessionType.Kind.SKILLS_GROUP,
        service_kind=SessionType.ServiceKind.GROUP_PSYCHOTHERAPY,
        default_duration_minutes=60,
    )


@pytest.fixture
def room(clinic):
    return do_create_room(clinic.site, acting_user=clinic.director, name="Maple", capacity=12)


def make(clinic, session_type, **overrides):
    values = {
        "acting_user": clinic.director,
        "session_type": session_type,
        "rrule": "FREQ=WEEKLY;BYDAY=MO,WE",
        "starts_on": next_monday(),
        "until": next_monday() + timedelta(days=13),
        "start_time": time(9),
    }
    values.update(overrides)
    return do_create_series(clinic.mh, **values)


def test_a_double_booked_facilitator_refuses_the_series_naming_the_session(clinic, skills):
    make(clinic, skills, title="Monday skills", track=clinic.day, facilitators=[clinic.clinician])

    with pytest.raises(ValidationError) as excinfo:
        make(
            clinic, skills, title="Clash", track=clinic.evening, start_time=time(9, 30), facilitators=[clinic.clinician]
        )

    messages = excinfo.value.message_dict["facilitators"]
    assert "Clinician Tester" in messages[0] and "“Monday skills”" in messages[0]
    assert len(messages) == 4  # every clashing day is listed
    assert not SessionSeries.objects.filter(title="Clash").exists()
    assert not Session.objects.filter(title="Clash").exists()


def test_a_double_booked_room_refuses_the_series(clinic, skills, room):
    make(clinic, skills, title="In Maple", track=clinic.day, room=room)

    with pytest.raises(ValidationError) as excinfo:
        make(clinic, skills, title="Also Maple", track=clinic.evening, room=room, start_time=time(9, 45))

    assert "“In Maple”" in excinfo.value.message_dict["room"][0]
    assert not Session.objects.filter(title="Also Maple").exists()


def test_a_session_ending_as_another_starts_is_no_clash(clinic, skills, room):
    make(clinic, skills, title="First", track=clinic.day, room=room, facilitators=[clinic.clinician])
    make(
        clinic,
        skills,
        title="Second",
        track=clinic.evening,
        room=room,
        facilitators=[clinic.clinician],
        start_time=time(10),
    )

    assert Session.objects.count() == 8


def test_a_facilitator_on_time_off_refuses_the_series(clinic, skills):
    tz = clinic.mh.tz()
    wednesday = next_monday() + timedelta(days=2)
    do_add_time_off(
        clinic.clinician,
        acting_user=clinic.director,
        reason="Conference",
        starts_at=datetime.combine(wednesday, time(0), tzinfo=tz),
        ends_at=datetime.combine(wednesday + timedelta(days=1), time(0), tzinfo=tz),
    )

    with pytest.raises(ValidationError) as excinfo:
        make(clinic, skills, track=clinic.day, facilitators=[clinic.clinician])

    assert "time off" in excinfo.value.message_dict["facilitators"][0]
    assert "Conference" in excinfo.value.message_dict["facilitators"][0]
    assert not Session.objects.exists()


def test_time_off_must_end_after_it_starts(clinic):
    now = timezone.now()
    with pytest.raises(ValidationError) as excinfo:
        do_add_time_off(clinic.clinician, acting_user=clinic.director, starts_at=now, ends_at=now)

    assert "ends_at" in excinfo.value.message_dict


def test_outside_weekly_availability_is_a_warning_not_a_refusal(clinic, skills):
    do_add_availability(
        clinic.clinician,
        acting_user=clinic.director,
        site=clinic.site,
        weekday=0,
        start_time=time(8),
        end_time=time(12),
    )
    s = make(clinic, skills, track=clinic.day, facilitators=[clinic.clinician])

    warnings = availability_warnings(s.sessions.select_related("program").prefetch_related("facilitators"))

    assert s.sessions.count() == 4
    assert len(warnings) == 2  # the Wednesdays
    assert all("Wed" in w and "not usually available" in w for w in warnings)


def test_without_availability_on_file_there_is_no_warning(clinic, skills):
    s = make(clinic, skills, track=clinic.day, facilitators=[clinic.clinician])

    assert availability_warnings(s.sessions.all()) == []


def test_moving_one_session_onto_a_busy_room_is_refused_and_nothing_changes(clinic, skills, room):
    other_room = do_create_room(clinic.site, acting_user=clinic.director, name="Birch", capacity=12)
    make(clinic, skills, title="Maple group", track=clinic.day, room=room)
    moving = make(
        clinic, skills, title="Birch group", track=clinic.evening, room=other_room, start_time=time(14)
    ).sessions.first()

    with pytest.raises(ValidationError) as excinfo:
        do_edit_session(moving, "this", acting_user=clinic.director, room=room, start_time=time(9))

    assert "“Maple group”" in excinfo.value.message_dict["room"][0]
    moving.refresh_from_db()
    assert moving.room == other_room and not moving.detached


def test_giving_a_whole_series_a_busy_facilitator_is_refused(clinic, skills):
    make(clinic, skills, title="Director's group", track=clinic.day, facilitators=[clinic.director])
    target = make(clinic, skills, title="Other", track=clinic.evening, facilitators=[clinic.clinician])

    with pytest.raises(ValidationError) as excinfo:
        do_edit_session(target.sessions.first(), "all", acting_user=clinic.director, facilitators=[clinic.director])

    assert "Director Tester" in excinfo.value.message_dict["facilitators"][0]
    assert list(target.facilitators.all()) == [clinic.clinician]


def test_a_cancelled_session_is_not_a_conflict(clinic, skills, room):
    from openiop.scheduling.actions.series import do_cancel_session

    first = make(clinic, skills, title="Cancelled one", track=clinic.day, room=room, until=next_monday())
    do_cancel_session(first.sessions.get(), acting_user=clinic.director, reason="Closed")

    s = make(clinic, skills, title="Takes the room", track=clinic.evening, room=room, until=next_monday())

    assert s.sessions.count() == 1
