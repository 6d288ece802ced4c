"""Moves re-check the booked patients, and sessions of one batch are checked against each other."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.scheduling.actions.booking import do_book_seat
from openiop.scheduling.actions.clashes import Planned, find_clashes
from openiop.scheduling.actions.series import do_create_series, do_edit_session
from openiop.scheduling.actions.setup import do_add_closure, do_create_room, do_create_session_type
from openiop.scheduling.models import Closure, Session, SessionSeries, SessionType
from openiop.testing.scheduling import admit, make_session, make_session_type

MWF = "FREQ=WEEKLY;BYDAY=MO,WE,FR"


def next_monday(weeks_ahead: int = 1):
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday()) + timedelta(weeks=weeks_ahead - 1)


def at(program, day, hour, minute=0):
    from datetime import datetime

    return datetime.combine(day, time(hour, minute), tzinfo=program.tz())


@pytest.fixture
def process(clinic):
    return do_create_session_type(
        clinic.mh,
        acting_user=clinic.director,
        name="Process group",
        kind=SessionType.Kind.PROCESS_GROUP,
        service_kind=SessionType.ServiceKind.GROUP_PSYCHOTHERAPY,
        default_duration_minutes=55,
    )


@pytest.fixture
def room(clinic):
    return do_create_room(clinic.site, acting_user=clinic.director, name="Oak room", capacity=12)


def make_series(clinic, session_type, **overrides):
    values = {
        "acting_user": clinic.director,
        "session_type": session_type,
        "track": clinic.day,
        "rrule": MWF,
        "starts_on": next_monday(),
        "until": next_monday() + timedelta(days=13),
        "start_time": time(9),
        "facilitators": [clinic.clinician],
    }
    values.update(overrides)
    return do_create_series(clinic.mh, **values)


@pytest.fixture
def booked(clinic, process, room):
    """Ana and Ben in every session of a Monday/Wednesday/Friday 09:00 series; Ana also has a 10:00 workshop
    on the first Monday (and another on the first Tuesday at 09:30)."""
    s = make_series(clinic, process, room=room)
    ana, ben = admit(clinic, "Ana"), admit(clinic, "Ben")
    for session in s.sessions.all():
        for episode in (ana, ben):
            do_book_seat(session, episode=episode, acting_user=clinic.clinician)
    workshop_type = make_session_type(clinic.mh, "Workshop", kind="education", service_kind="psychoeducation")
    monday = next_monday()
    workshop = make_session(clinic.mh, at(clinic.mh, monday, 10), session_type=workshop_type, title="Coping skills")
    tuesday = make_session(
        clinic.mh, at(clinic.mh, monday + timedelta(days=1), 9, 30), session_type=workshop_type, title="Sleep"
    )
    do_book_seat(workshop, episode=ana, acting_user=clinic.clinician)
    do_book_seat(tuesday, episode=ana, acting_user=clinic.clinician)
    first = s.sessions.order_by("starts_at").first()
    return {"series": s, "first": first, "workshop": workshop, "tuesday": tuesday}


def _state(series):
    return sorted(
        (x.pk, x.starts_at, x.ends_at, x.series_id, x.detached)
        for x in Session.objects.filter(series__program=series.program)
    )


def _refused(excinfo, field):
    messages = excinfo.value.message_dict[field]
    text = " ".join(messages)
    assert "Ana Rivera" in text  # the patient whose booking clashes, by display name
    assert "Ben" not in text  # never anyone else
    return text


@pytest.mark.parametrize("scope", ["this", "following", "all"])
def test_a_move_that_would_double_book_a_patient_is_refused_as_a_whole(clinic, booked, scope):
    s = booked["series"]
    before = _state(s)
    series_count = SessionSeries.objects.count()
    # "all" starts from a later session: the first Monday is still among the sessions it moves.
    target = booked["first"] if scope != "all" else s.sessions.order_by("starts_at")[2]

    with pytest.raises(ValidationError) as excinfo:
        do_edit_session(target, scope, acting_user=clinic.director, start_time=time(9, 30))

    text = _refused(excinfo, "start_time")
    assert "“Coping skills” on Mon" in text and "10:00" in text
    assert _state(s) == before
    assert SessionSeries.objects.count() == series_count


def test_a_longer_session_is_checked_too_and_names_the_duration(clinic, booked):
    with pytest.raises(ValidationError) as excinfo:
        do_edit_session(booked["first"], "this", acting_user=clinic.director, duration_minutes=90)
    assert "Coping skills" in _refused(excinfo, "duration_minutes")


def test_a_move_clear_of_the_patients_other_sessions_goes_ahead(clinic, booked):
    changed = do_edit_session(booked["first"], "following", acting_user=clinic.director, start_time=time(8))
    assert len(changed) == 6
    assert all(x.starts_at.astimezone(clinic.mh.tz()).time() == time(8) for x in changed)
    assert all(x.bookings.filter(status="booked").count() == 2 for x in changed)


def test_a_closure_move_that_would_double_book_a_patient_is_refused(clinic, booked):
    monday = next_monday()
    before = _state(booked["series"])

    with pytest.raises(ValidationError) as excinfo:
        do_add_closure(
            clinic.org,
            acting_user=clinic.director,
            date=monday,
            name="Holiday",
            action=Closure.Action.MOVE,
            move_to=monday + timedelta(days=1),
        )

    text = _refused(excinfo, "move_to")
    assert "“Sleep” on Tue" in text
    assert not Closure.objects.exists()
    assert _state(booked["series"]) == before


def test_sessions_moving_together_keep_their_patients_apart(clinic, booked):
    """A closure moves Monday's 09:00 group and 10:00 workshop together: both keep their times, no clash."""
    monday = next_monday()
    do_add_closure(
        clinic.org,
        acting_user=clinic.director,
        date=monday,
        name="Holiday",
        action=Closure.Action.MOVE,
        move_to=monday + timedelta(days=3),
    )
    booked["workshop"].refresh_from_db()
    assert booked["workshop"].starts_at == at(clinic.mh, monday + timedelta(days=3), 10)


# --- Clashes inside one batch -----------------------------------------------------------------------------


def test_a_series_whose_moved_day_lands_on_its_own_session_is_refused_naming_both(clinic, process, room):
    monday = next_monday()
    do_add_closure(
        clinic.org,
        acting_user=clinic.director,
        date=monday,
        name="Holiday",
        site=clinic.site,
        action=Closure.Action.MOVE,
        move_to=monday + timedelta(days=2),
    )

    with pytest.raises(ValidationError) as excinfo:
        make_series(clinic, process, room=room)

    errors = excinfo.value.message_dict
    wednesday = f"{monday + timedelta(days=2):%Y-%m-%d} 09:00"
    both = (
        f"“Process group” on Wed {wednesday} (moved from Mon {monday:%Y-%m-%d}) and “Process group” on Wed {wednesday}"
    )
    assert errors["room"] == [f"The room would be booked twice: {both} overlap."]
    assert errors["facilitators"] == [f"Clinician Tester, LCSW would facilitate two sessions at once: {both} overlap."]
    assert not SessionSeries.objects.exists() and not Session.objects.exists()


def test_find_clashes_compares_the_planned_sessions_with_each_other(clinic, room):
    start = at(clinic.mh, next_monday(), 9)
    first = Planned(start, start + timedelta(minutes=60), room.pk, [clinic.clinician.pk], name="Group A")
    second = Planned(
        start + timedelta(minutes=30), start + timedelta(minutes=90), room.pk, [clinic.director.pk], name="Group B"
    )
    third = Planned(start + timedelta(minutes=60), start + timedelta(minutes=120), room.pk, [clinic.clinician.pk])
    users = {u.pk: u for u in (clinic.clinician, clinic.director)}

    errors = find_clashes([first, second, third], clinic.mh.time_zone, users)

    day = f"{next_monday():%Y-%m-%d}"
    assert errors == {
        "room": [
            f"The room would be booked twice: “Group A” on Mon {day} 09:00 and “Group B” on Mon {day} 09:30 overlap.",
            f"The room would be booked twice: “Group B” on Mon {day} 09:30 and “Session” on Mon {day} 10:00 overlap.",
        ]
    }


def test_a_facilitator_shared_by_two_planned_sessions_is_named(clinic):
    start = at(clinic.mh, next_monday(), 9)
    a = Planned(start, start + timedelta(minutes=60), None, [clinic.clinician.pk], name="Group A")
    b = Planned(start, start + timedelta(minutes=60), None, [clinic.clinician.pk], name="Group B")
    errors = find_clashes([a, b], clinic.mh.time_zone, {clinic.clinician.pk: clinic.clinician})
    assert list(errors) == ["facilitators"]
    assert "“Group A”" in errors["facilitators"][0] and "“Group B”" in errors["facilitators"][0]


def test_two_moved_sessions_of_one_patient_are_compared_with_each_other(clinic, booked):
    from openiop.scheduling.actions.clashes import patient_clashes

    first, workshop = booked["first"], booked["workshop"]
    start = first.starts_at + timedelta(minutes=30)  # the group moves onto the workshop's new slot
    plans = [
        Planned(start, start + first.duration, first.room_id, [], session=first),
        Planned(start, start + workshop.duration, None, [], session=workshop),
    ]
    errors = patient_clashes(plans, clinic.mh.time_zone, "start_time")
    assert len(errors["start_time"]) == 1
    assert errors["start_time"][0].startswith("Ana Rivera is booked in both “Process group” on Mon")
