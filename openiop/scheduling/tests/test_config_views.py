from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.roles import Role
from openiop.scheduling.actions.series import do_create_series
from openiop.scheduling.actions.setup import (
    do_add_availability,
    do_add_closure,
    do_add_time_off,
    do_create_room,
    do_create_session_type,
)
from openiop.scheduling.models import (
    Closure,
    Room,
    Session,
    SessionSeries,
    SessionType,
    StaffAvailability,
    StaffTimeOff,
)
from openiop.testing.fixtures import staff


def next_monday():
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture
def setup(clinic):
    """A session type, a room and a running series in the Day track, plus a director of another program."""
    st = do_create_session_type(
        clinic.mh,
        acting_user=clinic.director,
        name="Process group",
        kind=SessionType.Kind.PROCESS_GROUP,
        service_kind=SessionType.ServiceKind.GROUP_PSYCHOTHERAPY,
        default_duration_minutes=55,
    )
    room = do_create_room(clinic.site, acting_user=clinic.director, name="Oak", capacity=12)
    series = do_create_series(
        clinic.mh,
        acting_user=clinic.director,
        session_type=st,
        track=clinic.day,
        rrule="FREQ=WEEKLY;BYDAY=MO,WE",
        starts_on=next_monday(),
        until=next_monday() + timedelta(days=13),
        start_time=time(9),
        room=room,
        facilitators=[clinic.clinician],
    )
    clinic.people["teen_director"] = staff(clinic.org, "teendirector", Role.DIRECTOR, [clinic.teen])
    return {"type": st, "room": room, "series": series, "session": series.sessions.order_by("starts_at").first()}


def urls(clinic, s):
    """Every configuration page, with whether auditors may read it."""
    return [
        (reverse("scheduling:config_index"), True),
        (reverse("scheduling:config_session_types", args=[clinic.mh.public_id]), True),
        (reverse("scheduling:config_session_type_create", args=[clinic.mh.public_id]), False),
        (reverse("scheduling:config_session_type_edit", args=[clinic.mh.public_id, s["type"].public_id]), False),
        (reverse("scheduling:config_rooms", args=[clinic.site.public_id]), True),
        (reverse("scheduling:config_room_create", args=[clinic.site.public_id]), False),
        (reverse("scheduling:config_room_edit", args=[clinic.site.public_id, s["room"].public_id]), False),
        (reverse("scheduling:config_closures"), True),
        (reverse("scheduling:config_staff", args=[clinic.mh.public_id]), True),
        (reverse("scheduling:config_staff_detail", args=[clinic.mh.public_id, clinic.clinician.public_id]), True),
        (reverse("scheduling:config_track", args=[clinic.day.public_id]), True),
        (reverse("scheduling:config_series", args=[s["series"].public_id]), True),
        (reverse("scheduling:config_session_edit", args=[s["session"].public_id]), False),
    ]


SCOPED = slice(1, None)  # all but the index, which names no record


@pytest.mark.parametrize("who", ["director", "sysadmin"])
def test_managers_can_open_every_page(client, clinic, setup, who):
    login(client, getattr(clinic, who))
    for url, _ in urls(clinic, setup):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["clinician", "intern", "intake", "frontdesk", "billing", "outsider"])
def test_roles_without_program_management_get_403(client, clinic, setup, who):
    login(client, getattr(clinic, who))
    for url, _ in urls(clinic, setup):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {}).status_code in (403, 405), url


def test_the_auditor_reads_but_cannot_write(client, clinic, setup):
    login(client, clinic.auditor)
    for url, readable in urls(clinic, setup):
        assert client.get(url).status_code == (200 if readable else 403), url
        assert client.post(url, {"name": "x"}).status_code == 403, url
    remove = reverse("scheduling:config_availability_remove", args=[clinic.mh.public_id, clinic.clinician.public_id])
    assert client.post(remove, {"window": "1"}).status_code == 403
    cancel = reverse("scheduling:config_session_cancel", args=[setup["session"].public_id])
    assert client.post(cancel, {"reason": "x"}).status_code == 403
    assert not Session.objects.filter(status=Session.Status.CANCELLED).exists()


@pytest.mark.parametrize("who", ["teen_director", "stranger"])
def test_managers_of_other_programs_get_404(client, clinic, setup, who):
    login(client, getattr(clinic, who))
    for url, _ in urls(clinic, setup)[SCOPED]:
        if url == reverse("scheduling:config_closures"):
            continue
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}).status_code == 404, url
    cancel = reverse("scheduling:config_session_cancel", args=[setup["session"].public_id])
    assert client.post(cancel, {"reason": "x"}).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, clinic, setup):
    for url, _ in urls(clinic, setup):
        assert client.get(url).status_code == 302


# --- Session types and rooms ------------------------------------------------------------------------------


def test_creating_a_session_type(client, clinic):
    login(client, clinic.director)
    url = reverse("scheduling:config_session_type_create", args=[clinic.mh.public_id])

    response = client.post(
        url,
        {
            "name": "CBT skills",
            "kind": "skills_group",
            "service_kind": "group_psychotherapy",
            "default_duration_minutes": "60",
            "required_credentials": "lcsw, lpc",
            "capacity": "",
            "mode": "in_person",
            "counts_toward_dose": "on",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    st = SessionType.objects.get(name="CBT skills")
    assert st.required_credentials == ["LCSW", "LPC"] and st.capacity is None
    assert st.effective_capacity() == clinic.mh.group_size_cap


def test_a_zero_duration_comes_back_with_a_field_error_and_the_typed_input(client, clinic):
    login(client, clinic.director)
    url = reverse("scheduling:config_session_type_create", args=[clinic.mh.public_id])

    response = client.post(
        url,
        {
            "name": "Typed name",
            "kind": "skills_group",
            "service_kind": "group_psychotherapy",
            "default_duration_minutes": "0",
            "mode": "in_person",
        },
    )

    assert response.status_code == 200
    assert "more than zero minutes" in response.text
    assert 'value="Typed name"' in response.text
    assert 'aria-describedby="id_default_duration_minutes_error"' in response.text
    assert not SessionType.objects.filter(name="Typed name").exists()


def test_editing_a_room(client, clinic, setup):
    login(client, clinic.director)
    url = reverse("scheduling:config_room_edit", args=[clinic.site.public_id, setup["room"].public_id])

    response = client.post(url, {"name": "Oak (large)", "capacity": "20", "is_active": "on"})

    assert response.status_code == 302
    setup["room"].refresh_from_db()
    assert setup["room"].name == "Oak (large)" and setup["room"].capacity == 20
    assert AuditEvent.objects.filter(action=AuditAction.UPDATED, object_type="room").exists()


def test_a_duplicate_room_name_is_a_field_error(client, clinic, setup):
    login(client, clinic.director)

    response = client.post(
        reverse("scheduling:config_room_create", args=[clinic.site.public_id]),
        {"name": "oak", "capacity": "5", "is_active": "on"},
    )

    assert response.status_code == 200 and "already has a room" in response.text
    assert Room.objects.filter(site=clinic.site).count() == 1


# --- Closures and staff -----------------------------------------------------------------------------------


def test_a_director_adds_a_closure_for_their_site(client, clinic):
    login(client, clinic.director)
    day = next_monday()

    response = client.post(
        reverse("scheduling:config_closures"),
        {
            "date": day.isoformat(),
            "name": "Staff training",
            "site": clinic.site.pk,
            "action": "skip",
        },
    )

    assert response.status_code == 302
    assert Closure.objects.get().site == clinic.site


def test_a_director_cannot_close_every_site(client, clinic):
    login(client, clinic.director)

    response = client.post(
        reverse("scheduling:config_closures"),
        {
            "date": next_monday().isoformat(),
            "name": "All closed",
            "site": "",
            "action": "skip",
        },
    )

    assert response.status_code == 200
    assert not Closure.objects.exists()


def test_a_move_without_a_day_keeps_the_input_and_names_the_field(client, clinic):
    login(client, clinic.sysadmin)

    response = client.post(
        reverse("scheduling:config_closures"),
        {
            "date": next_monday().isoformat(),
            "name": "Holiday",
            "site": "",
            "action": "move",
        },
    )

    assert response.status_code == 200
    assert "Pick the day the sessions move to." in response.text and 'value="Holiday"' in response.text


def test_availability_and_time_off_are_added_and_removed(client, clinic, setup):
    login(client, clinic.director)
    url = reverse("scheduling:config_staff_detail", args=[clinic.mh.public_id, clinic.clinician.public_id])

    assert (
        client.post(
            url, {"form": "availability", "av-weekday": "0", "av-start_time": "08:00", "av-end_time": "12:00"}
        ).status_code
        == 302
    )
    response = client.post(
        url,
        {
            "form": "time_off",
            "off-starts_at": "2030-01-02T00:00",
            "off-ends_at": "2030-01-03T00:00",
            "off-reason": "Leave",
        },
    )
    assert response.status_code == 302

    off = StaffTimeOff.objects.get(user=clinic.clinician)
    assert off.starts_at.astimezone(clinic.mh.tz()).hour == 0  # the program's zone, not the server's
    window = StaffAvailability.objects.get(user=clinic.clinician)
    remove = reverse("scheduling:config_availability_remove", args=[clinic.mh.public_id, clinic.clinician.public_id])
    assert client.post(remove, {"window": str(window.pk)}).status_code == 302
    assert not StaffAvailability.objects.exists()


def test_time_off_ending_before_it_starts_is_a_field_error(client, clinic, setup):
    login(client, clinic.director)
    url = reverse("scheduling:config_staff_detail", args=[clinic.mh.public_id, clinic.clinician.public_id])

    response = client.post(
        url, {"form": "time_off", "off-starts_at": "2030-01-03T00:00", "off-ends_at": "2030-01-02T00:00"}
    )

    assert response.status_code == 200 and "must end after it starts" in response.text


def test_removing_another_programs_window_is_404(client, clinic, setup):
    window = do_add_availability(
        clinic.outsider,
        acting_user=clinic.sysadmin,
        site=clinic.other_site,
        weekday=1,
        start_time=time(9),
        end_time=time(10),
    )
    login(client, clinic.director)
    remove = reverse("scheduling:config_availability_remove", args=[clinic.mh.public_id, clinic.clinician.public_id])

    assert client.post(remove, {"window": str(window.pk)}).status_code == 404
    assert client.post(remove, {"window": "nope"}).status_code == 404
    assert StaffAvailability.objects.count() == 1


# --- Track template and session edits ---------------------------------------------------------------------


def _series_post(clinic, setup, **overrides):
    data = {
        "session_type": setup["type"].pk,
        "title": "Skills block",
        "weekdays": ["1", "3"],
        "start_time": "10:30",
        "duration_minutes": "50",
        "starts_on": next_monday().isoformat(),
        "until": (next_monday() + timedelta(days=6)).isoformat(),
        "room": "",
        "capacity": "",
        "mode": "",
        "video_link": "",
        "facilitators": [clinic.director.pk],
    }
    data.update(overrides)
    return data


def test_adding_a_series_from_weekday_checkboxes(client, clinic, setup):
    login(client, clinic.director)
    url = reverse("scheduling:config_track", args=[clinic.day.public_id])

    response = client.post(url, _series_post(clinic, setup))

    assert response.status_code == 302
    series = SessionSeries.objects.get(title="Skills block")
    assert series.rrule == "FREQ=WEEKLY;BYDAY=TU,TH" and series.track == clinic.day
    assert series.sessions.count() == 2
    page = client.get(url).text
    assert "Skills block" in page and "10:30" in page and "11:20" in page


def test_an_advanced_rule_replaces_the_weekdays(client, clinic, setup):
    login(client, clinic.director)

    client.post(
        reverse("scheduling:config_track", args=[clinic.day.public_id]),
        _series_post(clinic, setup, weekdays=[], rrule="FREQ=DAILY;INTERVAL=3"),
    )

    assert SessionSeries.objects.get(title="Skills block").rrule == "FREQ=DAILY;INTERVAL=3"


def test_a_bad_rule_and_no_weekdays_are_field_errors_with_input_kept(client, clinic, setup):
    login(client, clinic.director)
    url = reverse("scheduling:config_track", args=[clinic.day.public_id])

    bad = client.post(url, _series_post(clinic, setup, weekdays=[], rrule="FREQ=NEVER"))
    empty = client.post(url, _series_post(clinic, setup, weekdays=[]))

    assert bad.status_code == 200 and "FREQ=NEVER" in bad.text and 'value="Skills block"' in bad.text
    assert empty.status_code == 200 and "Pick at least one weekday" in empty.text
    assert not SessionSeries.objects.filter(title="Skills block").exists()


def test_a_clash_on_the_template_page_names_the_other_session(client, clinic, setup):
    login(client, clinic.director)

    response = client.post(
        reverse("scheduling:config_track", args=[clinic.evening.public_id]),
        _series_post(
            clinic,
            setup,
            weekdays=["0"],
            start_time="09:15",
            room=setup["room"].pk,
            until=(next_monday() + timedelta(days=1)).isoformat(),
        ),
    )

    assert response.status_code == 200
    assert "The room is already booked" in response.text and "Process group" in response.text


def test_editing_all_sessions_from_the_edit_page(client, clinic, setup):
    login(client, clinic.director)
    session = setup["session"]
    url = reverse("scheduling:config_session_edit", args=[session.public_id])
    form = client.get(url).context["form"]
    data = {**{k: v for k, v in form.initial.items() if v is not None}, "scope": "all", "start_time": "11:00"}
    data["room"] = setup["room"].pk
    data["facilitators"] = [clinic.clinician.pk]
    data["start_time"] = "11:00"

    response = client.post(url, data)

    assert response.status_code == 302
    tz = clinic.mh.tz()
    assert {s.starts_at.astimezone(tz).time() for s in setup["series"].sessions.all()} == {time(11)}


def test_a_capacity_below_bookings_is_shown_on_the_field(client, clinic, setup):
    login(client, clinic.director)
    session = setup["session"]
    Session.objects.filter(pk=session.pk).update(booked_count=5)
    url = reverse("scheduling:config_session_edit", args=[session.public_id])

    response = client.post(
        url,
        {
            "scope": "this",
            "start_time": "09:00",
            "duration_minutes": "55",
            "room": setup["room"].pk,
            "facilitators": [clinic.clinician.pk],
            "capacity": "3",
            "mode": "in_person",
            "title": "",
        },
    )

    assert response.status_code == 200
    assert "capacity: 5 seats already booked" in response.text


def test_cancelling_from_the_edit_page(client, clinic, setup):
    login(client, clinic.director)
    session = setup["session"]

    response = client.post(
        reverse("scheduling:config_session_cancel", args=[session.public_id]), {"reason": "Snow day"}
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED and session.cancel_reason == "Snow day"


# --- Query counts -----------------------------------------------------------------------------------------


def _grow(clinic, setup, n):
    for i in range(n):
        st = do_create_session_type(
            clinic.mh,
            acting_user=clinic.director,
            name=f"Type {i}",
            kind="skills_group",
            service_kind="group_psychotherapy",
            default_duration_minutes=30,
        )
        do_create_room(clinic.site, acting_user=clinic.director, name=f"Room {i}", capacity=10)
        do_add_closure(
            clinic.org, acting_user=clinic.director, date=next_monday() + timedelta(days=30 + i), name=f"Closed {i}"
        )
        do_add_time_off(
            clinic.director,
            acting_user=clinic.director,
            starts_at=timezone.now() + timedelta(days=i + 1),
            ends_at=timezone.now() + timedelta(days=i + 1, hours=2),
        )
        do_add_availability(
            clinic.clinician,
            acting_user=clinic.director,
            site=clinic.site,
            weekday=i % 7,
            start_time=time(8),
            end_time=time(9),
        )
        do_create_series(
            clinic.mh,
            acting_user=clinic.director,
            session_type=st,
            track=clinic.day,
            title=f"Block {i}",
            rrule="FREQ=WEEKLY;BYDAY=SA",
            starts_on=next_monday(),
            until=next_monday() + timedelta(days=13),
            start_time=time(8 + i),
            duration_minutes=30,
            facilitators=[clinic.director],
        )


@pytest.mark.parametrize(
    "name",
    [
        "config_index",
        "config_session_types",
        "config_rooms",
        "config_closures",
        "config_staff",
        "config_track",
        "config_series",
    ],
)
def test_list_pages_keep_a_constant_number_of_queries(client, clinic, setup, django_assert_max_num_queries, name):
    login(client, clinic.director)
    args = {
        "config_index": [],
        "config_closures": [],
        "config_session_types": [clinic.mh.public_id],
        "config_staff": [clinic.mh.public_id],
        "config_rooms": [clinic.site.public_id],
        "config_track": [clinic.day.public_id],
        "config_series": [setup["series"].public_id],
    }[name]
    url = reverse(f"scheduling:{name}", args=args)
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _grow(clinic, setup, 4)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
