"""Tracks of a program: weekdays and times, the dose warning, switching off."""

from __future__ import annotations

from datetime import time

from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.programs.models import Track
from openiop.programs.tests.pages import is_checked, messages_of


def _data(**overrides):
    data = {"name": "Saturday", "kind": "weekend", "weekdays": ["5"], "start_time": "09:00", "end_time": "13:00"}
    data.update(overrides)
    return data


def _create(client, clinic, **overrides):
    return client.post(reverse("programs:track_create", args=[clinic.mh.public_id]), _data(**overrides))


def _warnings(response):
    return [str(m) for m in response.context["messages"] if m.level_tag == "warning"]


def test_director_adds_a_track_and_it_is_audited(client, clinic):
    login(client, clinic.director)
    response = _create(client, clinic, weekdays=["1", "3", "5"], start_time="09:00", end_time="12:00")
    assert response.status_code == 302
    assert response["Location"] == clinic.mh.get_absolute_url()
    track = Track.objects.get(program=clinic.mh, name="Saturday")
    assert track.weekdays == [1, 3, 5]
    assert (track.start_time, track.end_time) == (time(9), time(12))
    event = AuditEvent.objects.get(object_id=str(track.public_id))
    assert (event.action, event.actor) == (AuditAction.CREATED, clinic.director)


def test_end_before_start_is_an_end_time_error_and_the_typed_values_stay(client, clinic):
    login(client, clinic.director)
    response = _create(client, clinic, start_time="14:00", end_time="10:30", weekdays=["2", "5"])
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["end_time"]
    page = response.content.decode()
    assert 'value="14:00"' in page and 'value="10:30"' in page
    assert 'value="Saturday"' in page
    assert is_checked(page, "weekdays", 2) and is_checked(page, "weekdays", 5)
    assert not is_checked(page, "weekdays", 0)
    assert not Track.objects.filter(name="Saturday").exists()


def test_no_weekdays_is_a_weekdays_error(client, clinic):
    login(client, clinic.director)
    response = _create(client, clinic, weekdays=[])
    assert response.context["form"].errors["weekdays"] == ["Pick at least one weekday."]
    assert 'aria-describedby="id_weekdays_error"' in response.content.decode()


def test_a_track_below_the_dose_is_saved_with_a_warning(client, clinic):
    login(client, clinic.director)
    response = client.post(
        reverse("programs:track_create", args=[clinic.mh.public_id]),
        _data(weekdays=["5"], start_time="09:00", end_time="13:30"),
        follow=True,
    )
    assert Track.objects.filter(name="Saturday").exists()
    assert _warnings(response) == ["The Saturday track gives 4.5 hours a week, below the program's minimum dose of 9."]


def test_a_track_meeting_the_dose_has_no_warning(client, clinic):
    login(client, clinic.director)
    response = client.post(
        reverse("programs:track_create", args=[clinic.mh.public_id]),
        _data(weekdays=["0", "2", "4"], start_time="13:00", end_time="16:00"),
        follow=True,
    )
    assert _warnings(response) == []


def test_the_form_says_what_the_program_asks_for(client, clinic):
    page = login(client, clinic.director).get(reverse("programs:track_create", args=[clinic.mh.public_id]))
    assert "asks for at least 9 hours a week" in page.content.decode()


def test_edit_changes_days_and_times_and_is_audited(client, clinic):
    login(client, clinic.director)
    url = reverse("programs:track_edit", args=[clinic.day.public_id])
    response = client.post(
        url, _data(name="Day", kind="day", weekdays=["4", "0", "2"], start_time="09:30", end_time="12:30")
    )
    assert response.status_code == 302
    clinic.day.refresh_from_db()
    assert clinic.day.weekdays == [0, 2, 4]
    assert clinic.day.start_time == time(9, 30)
    event = AuditEvent.objects.filter(object_id=str(clinic.day.public_id)).latest("chain_index")
    assert event.changed_fields == ["end_time", "start_time"]


def test_edit_form_starts_with_the_current_schedule(client, clinic):
    login(client, clinic.director)
    form = client.get(reverse("programs:track_edit", args=[clinic.day.public_id])).context["form"]
    assert form.initial["weekdays"] == [0, 2, 4]
    assert form.initial["start_time"] == time(9)


def test_edit_shortening_below_the_dose_warns(client, clinic):
    login(client, clinic.director)
    response = client.post(
        reverse("programs:track_edit", args=[clinic.day.public_id]),
        _data(name="Day", kind="day", weekdays=["0", "2"], start_time="09:00", end_time="12:00"),
        follow=True,
    )
    assert _warnings(response) == ["The Day track gives 6 hours a week, below the program's minimum dose of 9."]


def test_duplicate_track_name_is_a_name_error(client, clinic):
    login(client, clinic.director)
    response = _create(client, clinic, name="EVENING")
    assert response.context["form"].errors["name"] == ["This program already has a track with this name."]


def test_a_track_with_patients_stays_on(client, clinic, patient):
    login(client, clinic.director)
    response = client.post(
        reverse("programs:track_set_active", args=[clinic.day.public_id]), {"active": "0"}, follow=True
    )
    clinic.day.refresh_from_db()
    assert clinic.day.is_active
    assert messages_of(response) == ["Move the patients on this track to another track first."]


def test_a_track_without_patients_is_switched_off_and_back_on(client, clinic):
    login(client, clinic.director)
    url = reverse("programs:track_set_active", args=[clinic.evening.public_id])
    client.post(url, {"active": "0"})
    clinic.evening.refresh_from_db()
    assert not clinic.evening.is_active
    client.post(url, {"active": "1"})
    clinic.evening.refresh_from_db()
    assert clinic.evening.is_active
    actions = AuditEvent.objects.filter(object_id=str(clinic.evening.public_id)).values_list("action", flat=True)
    assert list(actions)[-2:] == [AuditAction.DEACTIVATED, AuditAction.REACTIVATED]
