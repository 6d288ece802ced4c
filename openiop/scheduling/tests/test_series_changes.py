"""Changing a running series' rule, ending it from its page, and removing closures and time off."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.roles import Role
from openiop.scheduling.actions.booking import do_join_waitlist
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.scheduling.actions.series import do_change_recurrence, do_create_series
from openiop.scheduling.actions.setup import (
    do_add_closure,
    do_add_time_off,
    do_create_room,
    do_create_session_type,
    do_remove_closure,
    do_remove_time_off,
)
from openiop.scheduling.models import Booking, Closure, Session, SessionType, StaffTimeOff, WaitlistEntry
from openiop.testing.fixtures import staff
from openiop.testing.scheduling import admit, make_session

WEEKDAYS_ALL = "FREQ=DAILY"
MWF = "FREQ=WEEKLY;BYDAY=MO,WE,FR"


def local_day(session):
    return session.starts_at.astimezone(session.program.tz()).date()


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


@pytest.fixture
def daily(clinic, process, room):
    """A daily 09:00 Day-track series that began five days ago and runs ten more, with Ana enrolled in the track."""
    today = timezone.localdate()
    s = do_create_series(
        clinic.mh,
        acting_user=clinic.director,
        session_type=process,
        track=clinic.day,
        rrule=WEEKDAYS_ALL,
        starts_on=today - timedelta(days=5),
        until=today + timedelta(days=10),
        start_time=time(9),
        room=room,
        facilitators=[clinic.clinician],
    )
    ana = admit(clinic, "Ana")
    do_enroll(ana, acting_user=clinic.clinician, track=clinic.day, starts_on=today)
    return s, ana


def test_a_new_rule_cancels_days_it_drops_adds_new_ones_and_leaves_the_past(clinic, daily):
    s, ana = daily
    now = timezone.now()
    today = timezone.localdate()
    past = {x.pk: x.status for x in s.sessions.filter(ends_at__lte=now)}
    kept = {x.pk for x in s.sessions.filter(starts_at__gt=now) if local_day(x).weekday() in (0, 2, 4)}
    dropped = [x for x in s.sessions.filter(starts_at__gt=now) if local_day(x).weekday() not in (0, 2, 4)]
    wes = admit(clinic, "Wes")
    entry = do_join_waitlist(wes, acting_user=clinic.frontdesk, session=dropped[0])

    change = do_change_recurrence(s, acting_user=clinic.director, rrule=MWF, until=today + timedelta(days=20))

    assert {x.pk for x in change.cancelled} == {x.pk for x in dropped}
    for x in dropped:
        x.refresh_from_db()
        assert x.status == Session.Status.CANCELLED and x.booked_count == 0
    assert not Booking.objects.filter(session__in=dropped, status="booked").exists()
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WITHDRAWN  # as on any cancellation
    assert {x.pk: x.status for x in s.sessions.filter(ends_at__lte=now)} == past
    assert kept <= set(s.sessions.filter(status="scheduled").values_list("pk", flat=True))
    assert change.created and all(local_day(x) > today + timedelta(days=10) for x in change.created)
    assert all(local_day(x).weekday() in (0, 2, 4) for x in change.created)
    assert change.booked == len(change.created)  # the enrolled patient gets the new sessions
    assert set(Booking.objects.filter(episode=ana, status="booked").values_list("session_id", flat=True)) >= {
        x.pk for x in change.created
    }
    s.refresh_from_db()
    assert (s.rrule, s.until) == (MWF, today + timedelta(days=20))
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATED, object_type="sessionseries", changed_fields=["rrule", "until"]
    ).exists()


def test_a_rule_whose_new_day_would_clash_is_refused_and_nothing_changes(clinic, daily, room):
    s, _ = daily
    today = timezone.localdate()
    later = today + timedelta(days=12)
    make_session(
        clinic.mh, datetime.combine(later, time(9, 30), tzinfo=clinic.mh.tz()), room=room, title="Family night"
    )
    before = sorted(s.sessions.values_list("pk", "status"))

    with pytest.raises(ValidationError) as excinfo:
        do_change_recurrence(s, acting_user=clinic.director, rrule=WEEKDAYS_ALL, until=today + timedelta(days=14))

    assert "Family night" in excinfo.value.message_dict["room"][0]
    assert sorted(s.sessions.values_list("pk", "status")) == before
    s.refresh_from_db()
    assert s.until == today + timedelta(days=10)


@pytest.mark.parametrize(
    ("rrule", "until_days", "field"),
    [("FREQ=SOMETIMES", 10, "rrule"), (WEEKDAYS_ALL, -30, "until"), (WEEKDAYS_ALL, 10, "rrule")],
)
def test_bad_or_unchanged_rules_are_refused_naming_the_field(clinic, daily, rrule, until_days, field):
    s, _ = daily
    with pytest.raises(ValidationError) as excinfo:
        do_change_recurrence(
            s, acting_user=clinic.director, rrule=rrule, until=timezone.localdate() + timedelta(days=until_days)
        )
    assert field in excinfo.value.message_dict


# --- Closures and time off ------------------------------------------------------------------------------------


def test_removing_a_closure_keeps_its_cancellations_unless_restored(clinic, daily):
    s, _ana = daily
    day = timezone.localdate() + timedelta(days=3)
    closure = do_add_closure(clinic.org, acting_user=clinic.director, date=day, name="Snow", site=clinic.site)
    closed = s.sessions.get(occurrence__date=day)
    assert closed.status == Session.Status.CANCELLED

    do_remove_closure(closure, acting_user=clinic.director)

    closed.refresh_from_db()
    assert closed.status == Session.Status.CANCELLED and not Closure.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.DEACTIVATED, object_type="closure").count() == 1


def test_restoring_brings_the_cancelled_sessions_back_and_books_the_enrolled(clinic, daily):
    s, ana = daily
    day = timezone.localdate() + timedelta(days=3)
    closure = do_add_closure(clinic.org, acting_user=clinic.director, date=day, name="Snow", site=clinic.site)
    closed = s.sessions.get(occurrence__date=day)

    restored = do_remove_closure(closure, acting_user=clinic.director, restore=True)

    assert [x.pk for x in restored] == [closed.pk]
    closed.refresh_from_db()
    assert (closed.status, closed.cancel_reason, closed.detached) == (Session.Status.SCHEDULED, "", False)
    assert Booking.objects.filter(session=closed, episode=ana, status="booked").exists()


def test_a_restore_onto_a_taken_room_is_refused_and_the_closure_stays(clinic, daily, room):
    s, _ = daily
    day = timezone.localdate() + timedelta(days=3)
    closure = do_add_closure(clinic.org, acting_user=clinic.director, date=day, name="Snow", site=clinic.site)
    make_session(clinic.mh, datetime.combine(day, time(9), tzinfo=clinic.mh.tz()), room=room, title="Make-up")

    with pytest.raises(ValidationError) as excinfo:
        do_remove_closure(closure, acting_user=clinic.director, restore=True)

    assert "Make-up" in excinfo.value.message_dict["restore"][0]
    assert Closure.objects.filter(pk=closure.pk).exists()
    assert s.sessions.get(occurrence__date=day).status == Session.Status.CANCELLED


def test_removing_time_off_is_audited(clinic):
    start = timezone.now() + timedelta(days=2)
    off = do_add_time_off(
        clinic.clinician, acting_user=clinic.director, starts_at=start, ends_at=start + timedelta(hours=8)
    )
    do_remove_time_off(off, acting_user=clinic.director)
    assert not StaffTimeOff.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.DEACTIVATED, object_type="stafftimeoff").exists()


# --- Pages and access -----------------------------------------------------------------------------------------


@pytest.fixture
def pages(clinic, daily):
    s, _ = daily
    day = timezone.localdate() + timedelta(days=3)
    closure = do_add_closure(clinic.org, acting_user=clinic.director, date=day, name="Snow", site=clinic.site)
    start = timezone.now() + timedelta(days=2)
    off = do_add_time_off(
        clinic.clinician, acting_user=clinic.director, starts_at=start, ends_at=start + timedelta(hours=8)
    )
    clinic.people["teen_director"] = staff(clinic.org, "teendirector", Role.DIRECTOR, [clinic.teen])
    return {
        "series": s,
        "closure": closure,
        "off": off,
        "series_url": reverse("scheduling:config_series", args=[s.public_id]),
        "closure_url": reverse("scheduling:config_closure_remove", args=[closure.public_id]),
        "off_url": reverse(
            "scheduling:config_time_off_remove", args=[clinic.mh.public_id, clinic.clinician.public_id, off.public_id]
        ),
    }


def _writes(p):
    today = timezone.localdate()
    return [
        (p["series_url"], {"form": "rule", "rule-weekdays": ["0", "2"], "rule-until": str(today + timedelta(days=9))}),
        (p["series_url"], {"form": "end", "end-last_day": str(today + timedelta(days=4))}),
        (p["closure_url"], {}),
        (p["off_url"], {}),
    ]


def _untouched(p):
    p["series"].refresh_from_db()
    return (
        p["series"].rrule == WEEKDAYS_ALL
        and p["series"].until == timezone.localdate() + timedelta(days=10)
        and Closure.objects.filter(pk=p["closure"].pk).exists()
        and StaffTimeOff.objects.filter(pk=p["off"].pk).exists()
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("auditor", 403), ("clinician", 403), ("frontdesk", 403), ("teen_director", 404), ("stranger", 404)],
)
def test_writes_are_refused_outside_program_management(client, clinic, pages, who, status):
    login(client, getattr(clinic, who))
    for url, body in _writes(pages):
        assert client.post(url, body).status_code == status, url
    assert _untouched(pages)


def test_the_auditor_reads_the_series_page_without_the_forms(client, clinic, pages):
    response = login(client, clinic.auditor).get(pages["series_url"])
    assert response.status_code == 200 and "Change the schedule" not in response.content.decode()
    body = client.get(reverse("scheduling:config_closures")).content.decode()
    assert pages["closure_url"] not in body


def test_a_director_changes_the_schedule_from_the_series_page(client, clinic, pages):
    login(client, clinic.director)
    body = client.get(pages["series_url"]).content.decode()
    assert "Change the schedule" in body and "End the series" in body
    url, data = _writes(pages)[0]
    response = client.post(url, data, follow=True)
    assert "Schedule changed:" in response.content.decode()
    pages["series"].refresh_from_db()
    assert pages["series"].rrule == "FREQ=WEEKLY;BYDAY=MO,WE"


def test_a_bad_rule_on_the_series_page_keeps_the_input_and_names_the_field(client, clinic, pages):
    login(client, clinic.director)
    response = client.post(pages["series_url"], {"form": "rule", "rule-rrule": "FREQ=NEVER"})
    assert response.status_code == 200 and "rrule" in response.context["rule_form"].errors
    assert 'value="FREQ=NEVER"' in response.content.decode()
    assert _untouched(pages)


def test_a_director_ends_the_series_from_its_page(client, clinic, pages):
    login(client, clinic.director)
    url, data = _writes(pages)[1]
    assert client.post(url, data).status_code == 302
    pages["series"].refresh_from_db()
    last = timezone.localdate() + timedelta(days=4)
    assert pages["series"].until == last
    later = pages["series"].sessions.filter(occurrence__date__gt=last)
    assert later.exists() and not later.filter(status="scheduled").exists()
    before = client.post(url, {"form": "end", "end-last_day": "2000-01-01"})
    assert before.status_code == 200 and "last_day" in before.context["end_form"].errors


def test_a_director_removes_a_closure_and_time_off_from_the_pages(client, clinic, pages):
    login(client, clinic.director)
    body = client.get(reverse("scheduling:config_closures")).content.decode()
    assert pages["closure_url"] in body and "does not undo it on its own" in body
    assert client.post(pages["closure_url"], {"restore": "on"}).status_code == 302
    assert not Closure.objects.exists()
    assert pages["series"].sessions.filter(occurrence__date=pages["closure"].date, status="scheduled").exists()
    staff_page = reverse("scheduling:config_staff_detail", args=[clinic.mh.public_id, clinic.clinician.public_id])
    assert pages["off_url"] in client.get(staff_page).content.decode()
    assert client.post(pages["off_url"]).status_code == 302
    assert not StaffTimeOff.objects.exists()


def test_only_sysadmins_remove_closures_of_every_site(client, clinic, daily):
    closure = do_add_closure(
        clinic.org, acting_user=clinic.sysadmin, date=timezone.localdate() + timedelta(days=40), name="New Year"
    )
    url = reverse("scheduling:config_closure_remove", args=[closure.public_id])
    assert login(client, clinic.director).post(url).status_code == 404
    assert login(client, clinic.sysadmin).post(url).status_code == 302
    assert not Closure.objects.exists()
