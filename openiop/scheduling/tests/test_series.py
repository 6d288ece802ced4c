from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.programs.actions import do_update_program
from openiop.programs.models import Program
from openiop.scheduling.actions.booking import do_book_seat
from openiop.scheduling.actions.series import do_cancel_session, do_create_series, do_edit_session, expand_series
from openiop.scheduling.actions.setup import (
    do_add_closure,
    do_create_room,
    do_create_session_type,
    do_update_session_type,
)
from openiop.scheduling.models import Booking, Closure, Session, SessionSeries, SessionType
from openiop.testing.scheduling import make_booking, make_topic

MWF = "FREQ=WEEKLY;BYDAY=MO,WE,FR"


def next_monday(weeks_ahead: int = 1) -> date:
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday()) + timedelta(weeks=weeks_ahead - 1)


def local(session: Session) -> datetime:
    return session.starts_at.astimezone(session.program.tz())


@pytest.fixture
def process(clinic):
    return do_create_session_type(
        clinic.mh,
        acting_user=clinic.director,
        name="Process group",
        kind=SessionType.Kind.PROCESS_GROUP,
        service_kind=SessionType.ServiceKind.GROUP_PSYCHOTHERAPY,
        default_duration_minutes=55,
        required_credentials=["LCSW", "PhD"],
    )


@pytest.fixture
def room(clinic):
    return do_create_room(clinic.site, acting_user=clinic.director, name="Oak room", capacity=12)


def series(clinic, session_type, **overrides):
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


# --- Session types ----------------------------------------------------------------------------------------


def test_a_group_type_defaults_to_the_program_cap_and_an_individual_one_to_one(clinic, process):
    individual = do_create_session_type(
        clinic.mh,
        acting_user=clinic.director,
        name="Individual",
        kind=SessionType.Kind.INDIVIDUAL,
        service_kind=SessionType.ServiceKind.INDIVIDUAL_PSYCHOTHERAPY,
        default_duration_minutes=50,
    )

    assert process.effective_capacity() == clinic.mh.group_size_cap
    assert individual.effective_capacity() == 1
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, object_type="sessiontype").count() == 2


@pytest.mark.parametrize("minutes", [0, -15])
def test_a_session_type_needs_a_positive_duration(clinic, minutes):
    with pytest.raises(ValidationError) as excinfo:
        do_create_session_type(
            clinic.mh,
            acting_user=clinic.director,
            name="Broken",
            kind=SessionType.Kind.SKILLS_GROUP,
            service_kind=SessionType.ServiceKind.GROUP_PSYCHOTHERAPY,
            default_duration_minutes=minutes,
        )

    assert "default_duration_minutes" in excinfo.value.message_dict
    assert not SessionType.objects.filter(name="Broken").exists()


def test_updating_a_session_type_to_a_zero_duration_is_refused(clinic, process):
    with pytest.raises(ValidationError) as excinfo:
        do_update_session_type(process, acting_user=clinic.director, default_duration_minutes=0)

    assert "default_duration_minutes" in excinfo.value.message_dict
    process.refresh_from_db()
    assert process.default_duration_minutes == 55


# --- Creating and expanding series ------------------------------------------------------------------------


def test_a_series_expands_into_sessions_at_the_local_start(clinic, process, room):
    s = series(clinic, process, room=room)

    sessions = list(s.sessions.order_by("starts_at"))
    assert len(sessions) == 6
    assert {local(x).time() for x in sessions} == {time(9)}
    assert {local(x).weekday() for x in sessions} == {0, 2, 4}
    assert all(x.duration == timedelta(minutes=55) and x.room == room for x in sessions)
    assert all(list(x.facilitators.all()) == [clinic.clinician] for x in sessions)
    assert all(x.capacity == clinic.mh.group_size_cap and x.track == clinic.day for x in sessions)
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, object_type="sessionseries").count() == 1


def test_expanding_again_creates_nothing_new(clinic, process):
    s = series(clinic, process)
    ids = set(s.sessions.values_list("pk", flat=True))

    assert expand_series(s, acting_user=clinic.director) == []
    assert set(s.sessions.values_list("pk", flat=True)) == ids


def test_a_longer_horizon_adds_only_the_missing_occurrences(clinic, process):
    s = series(clinic, process, until=None, horizon=next_monday() + timedelta(days=6))
    assert s.sessions.count() == 3

    added = expand_series(s, acting_user=clinic.director, horizon=next_monday() + timedelta(days=13))

    assert len(added) == 3
    assert s.sessions.count() == 6


@pytest.mark.parametrize(
    ("tz", "monday"),
    [
        ("America/New_York", date(2027, 3, 8)),  # clocks go forward Sunday 14 March 2027
        ("America/New_York", date(2027, 11, 1)),  # back on Sunday 7 November 2027
        ("Europe/London", date(2027, 3, 22)),  # forward on Sunday 28 March 2027
        ("Europe/London", date(2027, 10, 25)),  # back on Sunday 31 October 2027
    ],
)
def test_sessions_stay_at_nine_local_across_daylight_saving_weeks(clinic, process, tz, monday):
    do_update_program(clinic.mh, acting_user=clinic.director, time_zone=tz)
    clinic.mh.refresh_from_db()
    s = series(clinic, process, rrule="FREQ=DAILY", starts_on=monday, until=monday + timedelta(days=13))

    sessions = list(s.sessions.order_by("starts_at"))
    assert len(sessions) == 14
    assert {x.starts_at.astimezone(clinic.mh.tz()).time() for x in sessions} == {time(9)}
    offsets = {x.starts_at.astimezone(clinic.mh.tz()).utcoffset() for x in sessions}
    assert len(offsets) == 2  # the week really crosses a change


def test_a_skip_closure_leaves_the_day_empty(clinic, process):
    wednesday = next_monday() + timedelta(days=2)
    do_add_closure(clinic.org, acting_user=clinic.director, date=wednesday, name="Staff training")

    s = series(clinic, process)

    assert wednesday not in {local(x).date() for x in s.sessions.all()}
    assert s.sessions.count() == 5


def test_a_move_closure_puts_the_session_on_the_other_day_at_the_same_time(clinic, process):
    wednesday = next_monday() + timedelta(days=2)
    thursday = wednesday + timedelta(days=1)
    do_add_closure(
        clinic.org,
        acting_user=clinic.director,
        date=wednesday,
        name="Holiday",
        site=clinic.site,
        action=Closure.Action.MOVE,
        move_to=thursday,
    )

    s = series(clinic, process)

    moved = s.sessions.get(starts_at__date__gte=thursday, starts_at__date__lt=thursday + timedelta(days=1))
    assert local(moved).time() == time(9)
    assert moved.occurrence.astimezone(clinic.mh.tz()).date() == wednesday
    assert s.sessions.count() == 6
    assert expand_series(s, acting_user=clinic.director) == []


def test_a_closure_at_another_site_does_not_touch_the_program(clinic, process):
    wednesday = next_monday() + timedelta(days=2)
    do_add_closure(
        clinic.org, acting_user=clinic.director, date=wednesday, name="Hillcrest closed", site=clinic.other_site
    )

    assert series(clinic, process).sessions.count() == 6


def test_a_move_closure_needs_another_day(clinic):
    day = next_monday()
    with pytest.raises(ValidationError) as excinfo:
        do_add_closure(clinic.org, acting_user=clinic.director, date=day, name="x", action="move", move_to=day)

    assert "move_to" in excinfo.value.message_dict


def test_rotating_workshops_go_round_the_topics_in_order_and_keep_going(clinic):
    education = do_create_session_type(
        clinic.mh,
        acting_user=clinic.director,
        name="Education",
        kind=SessionType.Kind.EDUCATION,
        service_kind=SessionType.ServiceKind.PSYCHOEDUCATION,
        default_duration_minutes=55,
    )
    topics = [make_topic(clinic.mh, name, seq) for seq, name in enumerate(["Coping", "Sleep", "Relapse"], 1)]
    retired = make_topic(clinic.mh, "Retired", 9)
    retired.is_active = False
    retired.save()
    s = series(clinic, education, rotates_curriculum=True, until=None, horizon=next_monday() + timedelta(days=9))

    first = [x.topic for x in s.sessions.order_by("starts_at")]
    assert first == [topics[0], topics[1], topics[2], topics[0], topics[1]]

    expand_series(s, acting_user=clinic.director, horizon=next_monday() + timedelta(days=13))
    assert [x.topic for x in s.sessions.order_by("starts_at")][5:] == [topics[2]]


def test_a_series_with_a_zero_or_negative_duration_is_refused(clinic, process):
    for minutes in (0, -30):
        with pytest.raises(ValidationError) as excinfo:
            series(clinic, process, duration_minutes=minutes)
        assert "duration_minutes" in excinfo.value.message_dict
    assert not SessionSeries.objects.exists()


def test_an_invalid_rule_is_refused_naming_it(clinic, process):
    with pytest.raises(ValidationError) as excinfo:
        series(clinic, process, rrule="FREQ=SOMETIMES")

    assert "FREQ=SOMETIMES" in excinfo.value.message_dict["rrule"][0]


def test_an_unknown_time_zone_is_refused_and_nothing_is_created(clinic, process):
    Program.objects.filter(pk=clinic.mh.pk).update(time_zone="Atlantis/Lost")  # legacy row: the form forbids it
    clinic.mh.refresh_from_db()

    with pytest.raises(ValidationError) as excinfo:
        series(clinic, process)

    assert "Atlantis/Lost" in excinfo.value.message_dict["time_zone"][0]
    assert not Session.objects.exists()


def test_overlapping_templates_in_one_track_are_refused_naming_the_other(clinic, process):
    series(clinic, process, title="Morning process")

    with pytest.raises(ValidationError) as excinfo:
        series(
            clinic,
            process,
            title="Overlapping",
            rrule="FREQ=WEEKLY;BYDAY=WE",
            start_time=time(9, 30),
            facilitators=[clinic.director],
        )

    assert "Morning process" in excinfo.value.message_dict["rrule"][0]
    assert not SessionSeries.objects.filter(title="Overlapping").exists()


def test_back_to_back_blocks_and_other_tracks_are_not_overlaps(clinic, process):
    series(clinic, process, title="Block 1")
    series(clinic, process, title="Block 2", start_time=time(10), facilitators=[clinic.director])
    series(clinic, process, title="Evening", track=clinic.evening, start_time=time(9, 30), facilitators=[])

    assert SessionSeries.objects.count() == 3


def test_facilitators_must_hold_a_required_credential(clinic, process):
    with pytest.raises(ValidationError) as excinfo:
        series(clinic, process, facilitators=[clinic.intern])

    assert "LCSW" in excinfo.value.message_dict["facilitators"][0]


def test_the_room_must_hold_the_series(clinic, process):
    small = do_create_room(clinic.site, acting_user=clinic.director, name="Closet", capacity=4)

    with pytest.raises(ValidationError) as excinfo:
        series(clinic, process, room=small, capacity=8)

    assert "Closet holds 4" in excinfo.value.message_dict["room"][0]


def test_telehealth_needs_a_video_link(clinic, process):
    with pytest.raises(ValidationError) as excinfo:
        series(clinic, process, mode=SessionType.Mode.TELEHEALTH)

    assert "video_link" in excinfo.value.message_dict


# --- Edits ------------------------------------------------------------------------------------------------


@pytest.fixture
def running(clinic, process, patient):
    """A daily series that started ten days ago, with a past session attended and a future one booked."""
    today = timezone.localdate()
    s = series(
        clinic,
        process,
        rrule="FREQ=DAILY",
        starts_on=today - timedelta(days=10),
        until=today + timedelta(days=10),
        capacity=8,
    )
    now = timezone.now()
    past = s.sessions.filter(ends_at__lt=now).order_by("starts_at").first()
    make_booking(past, patient)
    future = s.sessions.filter(starts_at__gt=now + timedelta(days=2)).order_by("starts_at").first()
    do_book_seat(future, episode=patient.episodes.get(), acting_user=clinic.clinician)
    return s, past, future


def _snapshot(session):
    session.refresh_from_db()
    return (
        session.starts_at,
        session.ends_at,
        session.room_id,
        session.capacity,
        session.series_id,
        list(session.bookings.values_list("pk", "status")),
    )


def test_editing_all_moves_the_future_and_leaves_the_past_and_bookings_alone(clinic, running):
    s, past, future = running
    before_past = _snapshot(past)
    booking = future.bookings.get()

    do_edit_session(future, "all", acting_user=clinic.director, start_time=time(10), duration_minutes=45)

    assert _snapshot(past) == before_past
    now = timezone.now()
    for x in s.sessions.filter(starts_at__gt=now):
        assert local(x).time() == time(10)
        assert x.duration == timedelta(minutes=45)
    future.refresh_from_db()
    assert future.bookings.get() == booking and future.booked_count == 1
    s.refresh_from_db()
    assert s.start_time == time(10)


def test_editing_this_and_following_splits_the_series(clinic, running):
    s, past, future = running
    before_past = _snapshot(past)
    earlier = s.sessions.filter(starts_at__gt=timezone.now(), starts_at__lt=future.starts_at).order_by("starts_at")
    earlier_times = [x.starts_at for x in earlier]

    do_edit_session(future, "following", acting_user=clinic.director, start_time=time(11), title="Later")

    s.refresh_from_db()
    future.refresh_from_db()
    follower = SessionSeries.objects.get(previous=s)
    assert s.until == local(future).date() - timedelta(days=1)
    assert follower.starts_on == local(future).date() and follower.start_time == time(11)
    assert future.series == follower and local(future).time() == time(11) and future.title == "Later"
    assert future.bookings.get().status == Booking.Status.BOOKED
    assert [x.starts_at for x in earlier] == earlier_times
    assert _snapshot(past) == before_past
    assert follower.sessions.count() == 10 - (local(future).date() - timezone.localdate()).days + 1


def test_editing_this_detaches_it_and_later_series_edits_leave_it_alone(clinic, running, room):
    s, _past, future = running

    do_edit_session(future, "this", acting_user=clinic.director, room=room, start_time=time(13))
    do_edit_session(
        s.sessions.filter(starts_at__gt=timezone.now()).exclude(pk=future.pk).first(),
        "all",
        acting_user=clinic.director,
        start_time=time(8),
    )

    future.refresh_from_db()
    assert future.detached and future.room == room and local(future).time() == time(13)
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATED, object_type="session", object_id=str(future.public_id)
    ).exists()


def test_a_past_session_cannot_be_edited(clinic, running):
    _s, past, _future = running

    with pytest.raises(ValidationError, match="in the past"):
        do_edit_session(past, "this", acting_user=clinic.director, title="Rewritten")

    past.refresh_from_db()
    assert past.title == ""


def test_capacity_below_current_bookings_is_refused(clinic, running):
    _s, _past, future = running

    with pytest.raises(ValidationError) as excinfo:
        do_edit_session(future, "all", acting_user=clinic.director, capacity=0)
    assert "capacity" in excinfo.value.message_dict

    Session.objects.filter(pk=future.pk).update(booked_count=3)
    with pytest.raises(ValidationError) as excinfo:
        do_edit_session(future, "all", acting_user=clinic.director, capacity=2)

    assert excinfo.value.message_dict["capacity"][0].startswith("capacity: 3 seats already booked")
    future.refresh_from_db()
    assert future.capacity == 8


def test_an_unknown_scope_is_refused(clinic, running):
    with pytest.raises(ValidationError):
        do_edit_session(running[2], "some", acting_user=clinic.director, title="x")


def test_cancelling_a_session_releases_its_bookings(clinic, running):
    _s, _past, future = running

    do_cancel_session(future, acting_user=clinic.director, reason="Facilitator ill")

    future.refresh_from_db()
    assert future.status == Session.Status.CANCELLED and future.cancel_reason == "Facilitator ill"
    assert future.booked_count == 0
    assert not future.bookings.filter(status=Booking.Status.BOOKED).exists()
    assert AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED, object_type="session").exists()


def test_a_cancelled_session_is_not_brought_back_by_series_edits(clinic, running):
    s, _past, future = running
    do_cancel_session(future, acting_user=clinic.director, reason="Holiday")
    other = s.sessions.filter(starts_at__gt=timezone.now(), status=Session.Status.SCHEDULED).first()

    do_edit_session(other, "all", acting_user=clinic.director, start_time=time(15))

    future.refresh_from_db()
    assert future.status == Session.Status.CANCELLED
    assert future.starts_at.astimezone(UTC) == future.starts_at


def test_a_closure_added_later_cancels_that_days_sessions_and_frees_their_seats(clinic, process, patient):
    s = series(clinic, process)
    wednesday = next_monday() + timedelta(days=2)
    on_the_day = s.sessions.get(occurrence__date=wednesday)
    do_book_seat(on_the_day, episode=patient.episodes.get(), acting_user=clinic.clinician)

    do_add_closure(clinic.org, acting_user=clinic.director, date=wednesday, name="Snow")

    on_the_day.refresh_from_db()
    assert on_the_day.status == Session.Status.CANCELLED and on_the_day.cancel_reason == "Closed: Snow"
    assert on_the_day.booked_count == 0
    assert s.sessions.filter(status=Session.Status.SCHEDULED).count() == 5


def test_a_move_closure_added_later_moves_the_sessions_with_their_bookings(clinic, process, patient):
    s = series(clinic, process)
    wednesday = next_monday() + timedelta(days=2)
    on_the_day = s.sessions.get(occurrence__date=wednesday)
    booking = do_book_seat(on_the_day, episode=patient.episodes.get(), acting_user=clinic.clinician)

    do_add_closure(
        clinic.org,
        acting_user=clinic.director,
        date=wednesday,
        name="Holiday",
        action=Closure.Action.MOVE,
        move_to=wednesday + timedelta(days=1),
    )

    on_the_day.refresh_from_db()
    assert local(on_the_day).date() == wednesday + timedelta(days=1) and local(on_the_day).time() == time(9)
    assert on_the_day.bookings.get() == booking and on_the_day.detached


def test_a_move_closure_onto_a_busy_day_is_refused_and_nothing_changes(clinic, process):
    s = series(clinic, process)
    monday = next_monday()

    with pytest.raises(ValidationError) as excinfo:
        do_add_closure(
            clinic.org,
            acting_user=clinic.director,
            date=monday,
            name="Holiday",
            action=Closure.Action.MOVE,
            move_to=monday + timedelta(days=2),
        )

    assert "already facilitating" in excinfo.value.message_dict["move_to"][0]
    assert not Closure.objects.exists()
    assert s.sessions.filter(detached=True).count() == 0


def test_ending_a_series_cancels_only_its_later_future_sessions(clinic, running):
    from openiop.scheduling.actions.series import do_end_series

    s, past, future = running
    last_day = local(future).date()

    do_end_series(s, acting_user=clinic.director, last_day=last_day)

    s.refresh_from_db()
    assert s.until == last_day
    later = s.sessions.filter(occurrence__gt=future.occurrence)
    assert later.exists() and all(x.status == Session.Status.CANCELLED for x in later)
    past.refresh_from_db()
    future.refresh_from_db()
    assert past.status == future.status == Session.Status.SCHEDULED
    assert expand_series(s, acting_user=clinic.director) == []


def test_a_session_outside_any_series_can_be_edited_on_its_own(clinic, process):
    from openiop.testing.scheduling import make_session

    session = make_session(clinic.mh, timezone.now() + timedelta(days=3), session_type=process)

    do_edit_session(session, "this", acting_user=clinic.director, start_time=time(14), capacity=4)

    session.refresh_from_db()
    assert local(session).time() == time(14) and session.capacity == 4 and session.detached
    with pytest.raises(ValidationError) as excinfo:
        do_edit_session(session, "all", acting_user=clinic.director, title="x")
    assert "scope" in excinfo.value.message_dict
