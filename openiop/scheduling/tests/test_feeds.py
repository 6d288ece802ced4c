"""iCalendar feeds: parsed with icalendar, private by default, revocable, and managed with access checks."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.scheduling import feeds
from openiop.scheduling.models import Booking, CalendarFeed
from openiop.testing.scheduling import make_booking, make_room, make_session, make_session_type

NY = zoneinfo.ZoneInfo("America/New_York")


def _soon(days: int, hour: int = 9) -> datetime:
    day = timezone.now().astimezone(NY).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=NY)


@pytest.fixture
def booked(clinic, patient):
    room = make_room(clinic.site, "Oak Room")
    skills = make_session_type(clinic.mh, "DBT skills", kind="skills_group")
    first = make_session(
        clinic.mh,
        _soon(2),
        session_type=skills,
        title="Distress tolerance",
        room=room,
        facilitators=(clinic.clinician,),
    )
    second = make_session(
        clinic.mh, _soon(4), session_type=skills, room=room, status="cancelled", facilitators=(clinic.clinician,)
    )
    make_booking(first, patient)
    make_booking(second, patient)
    return first, second


def _events(body: bytes) -> list:
    cal = Calendar.from_ical(body)
    return [c for c in cal.walk() if c.name == "VEVENT"]


def _fetch(client, token: str):
    return client.get(reverse("scheduling:feed", args=[token]))


def test_patient_feed_lists_booked_sessions_with_utc_times_and_stable_uids(client, clinic, patient, booked):
    first, second = booked
    _, token = feeds.do_create_feed(acting_user=clinic.clinician, patient=patient)
    client.logout()
    response = _fetch(client, token)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = {str(e["UID"]): e for e in _events(response.content)}
    assert set(events) == {f"{first.public_id}@openiop", f"{second.public_id}@openiop"}
    event = events[f"{first.public_id}@openiop"]
    assert event.decoded("DTSTART") == first.starts_at
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == first.ends_at
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(events[f"{second.public_id}@openiop"]["STATUS"]) == "CANCELLED"
    # Fetching again gives the same UIDs (calendar apps update, not duplicate).
    assert {str(e["UID"]) for e in _events(_fetch(client, token).content)} == set(events)


def test_default_events_say_only_session_at_site(client, clinic, patient, booked):
    _, token = feeds.do_create_feed(acting_user=clinic.clinician, patient=patient)
    body = _fetch(client, token).content
    for event in _events(body):
        assert str(event["SUMMARY"]) == "Session at Riverside"
        assert str(event["LOCATION"]) == "Riverside"
        assert "DESCRIPTION" not in event
    text = body.decode()
    for secret in ("Adult Mental Health", "DBT", "Distress tolerance", "Oak Room", "Clinician", "Jordan"):
        assert secret not in text


def test_a_substance_use_program_is_never_named_by_default(client, clinic):
    from openiop.testing.fixtures import make_patient

    person = make_patient(clinic, clinic.su)
    session = make_session(clinic.su, _soon(1), session_type=make_session_type(clinic.su, "Relapse prevention"))
    make_booking(session, person)
    _, token = feeds.do_create_feed(acting_user=clinic.director, patient=person)
    text = _fetch(client, token).content.decode()
    assert "Substance" not in text and "Relapse" not in text
    assert "Session at Riverside" in text


def test_detailed_feed_names_the_session(client, clinic, patient, booked):
    _, token = feeds.do_create_feed(acting_user=clinic.clinician, patient=patient, detailed=True)
    summaries = {str(e["SUMMARY"]) for e in _events(_fetch(client, token).content)}
    assert summaries == {"Distress tolerance", "DBT skills"}


def test_only_the_token_hash_is_stored(clinic, patient):
    feed, token = feeds.do_create_feed(acting_user=clinic.clinician, patient=patient)
    assert len(token) >= 43
    assert feed.token_hash == feeds.hash_token(token)
    assert token not in feed.token_hash
    assert not AuditEvent.objects.filter(object_id=token).exists()


def test_revoked_and_unknown_tokens_get_404(client, clinic, patient, booked):
    feed, token = feeds.do_create_feed(acting_user=clinic.clinician, patient=patient)
    assert _fetch(client, token).status_code == 200
    feeds.do_revoke_feed(feed, acting_user=clinic.clinician)
    assert _fetch(client, token).status_code == 404
    assert _fetch(client, feeds.new_token()).status_code == 404


def test_a_new_feed_replaces_the_old_one(client, clinic, patient):
    _, old = feeds.do_create_feed(acting_user=clinic.clinician, patient=patient)
    _, new = feeds.do_create_feed(acting_user=clinic.clinician, patient=patient)
    assert _fetch(client, old).status_code == 404
    assert _fetch(client, new).status_code == 200


def test_fetches_update_last_fetched_at_at_most_once_a_minute(clinic, patient):
    feed, _ = feeds.do_create_feed(acting_user=clinic.clinician, patient=patient)
    t0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
    feeds.record_fetch(feed, t0)
    feeds.record_fetch(feed, t0 + timedelta(seconds=30))
    feed.refresh_from_db()
    assert feed.last_fetched_at == t0
    feeds.record_fetch(feed, t0 + timedelta(seconds=61))
    feed.refresh_from_db()
    assert feed.last_fetched_at == t0 + timedelta(seconds=61)


def test_cancelled_bookings_drop_out_of_the_patient_feed(client, clinic, patient, booked):
    first, _ = booked
    Booking.objects.filter(session=first).update(status=Booking.Status.CANCELLED)
    _, token = feeds.do_create_feed(acting_user=clinic.clinician, patient=patient)
    uids = {str(e["UID"]) for e in _events(_fetch(client, token).content)}
    assert f"{first.public_id}@openiop" not in uids


def test_staff_feed_lists_the_sessions_they_facilitate(client, clinic, patient, booked):
    other = make_session(clinic.mh, _soon(3), facilitators=(clinic.intern,))
    _, token = feeds.do_create_feed(acting_user=clinic.clinician, user=clinic.clinician)
    uids = {str(e["UID"]) for e in _events(_fetch(client, token).content)}
    assert {f"{s.public_id}@openiop" for s in booked} == uids
    assert f"{other.public_id}@openiop" not in uids


def test_an_inactive_owner_makes_the_feed_404(client, clinic):
    _, token = feeds.do_create_feed(acting_user=clinic.intern, user=clinic.intern)
    type(clinic.intern).objects.filter(pk=clinic.intern.pk).update(is_active=False)
    assert _fetch(client, token).status_code == 404


# --- Managing feeds from the chart and the security page -----------------------------------------------------


def test_front_desk_makes_a_patient_feed_from_the_chart_and_sees_the_url_once(client, clinic, patient):
    login(client, clinic.frontdesk)
    url = reverse("scheduling:patient_feed_create", args=[patient.public_id])
    response = client.post(url, {"detailed": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    feed = CalendarFeed.objects.get(patient=patient)
    assert not feed.detailed
    html = response.content.decode()
    token = html.split("/schedule/feeds/")[1].split(".ics")[0]
    assert feeds.hash_token(token) == feed.token_hash
    event = AuditEvent.objects.get(action=AuditAction.CREATED, object_type="calendarfeed")
    assert event.patient == patient and event.actor == clinic.frontdesk
    # The schedule tab afterwards shows the feed, never the address.
    tab = client.get(
        reverse("patients:chart_tab", args=[patient.public_id, "schedule"]), headers={"HX-Request": "true"}
    )
    assert token not in tab.content.decode()
    assert "Active since" in tab.content.decode()


def test_clinician_revokes_a_patient_feed_and_it_is_audited(client, clinic, patient):
    feed, token = feeds.do_create_feed(acting_user=clinic.frontdesk, patient=patient)
    login(client, clinic.clinician)
    url = reverse("scheduling:patient_feed_revoke", args=[patient.public_id, feed.public_id])
    assert client.post(url).status_code == 200
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    assert AuditEvent.objects.filter(action=AuditAction.DEACTIVATED, object_id=str(feed.public_id)).exists()
    assert _fetch(client, token).status_code == 404


@pytest.mark.parametrize("name", ["billing", "auditor"])
def test_roles_without_edit_rights_get_403_for_patient_feeds(client, clinic, patient, name):
    feed, _ = feeds.do_create_feed(acting_user=clinic.frontdesk, patient=patient)
    login(client, getattr(clinic, name))
    assert client.post(reverse("scheduling:patient_feed_create", args=[patient.public_id])).status_code == 403
    revoke = reverse("scheduling:patient_feed_revoke", args=[patient.public_id, feed.public_id])
    assert client.post(revoke).status_code == 403


@pytest.mark.parametrize("name", ["outsider", "stranger"])
def test_outsiders_get_404_for_patient_feeds(client, clinic, patient, name):
    feed, _ = feeds.do_create_feed(acting_user=clinic.frontdesk, patient=patient)
    login(client, getattr(clinic, name))
    assert client.post(reverse("scheduling:patient_feed_create", args=[patient.public_id])).status_code == 404
    revoke = reverse("scheduling:patient_feed_revoke", args=[patient.public_id, feed.public_id])
    assert client.post(revoke).status_code == 404
    assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 1


def test_feed_pages_refuse_get_for_writes(client, clinic, patient):
    login(client, clinic.clinician)
    assert client.get(reverse("scheduling:patient_feed_create", args=[patient.public_id])).status_code == 405


def test_staff_make_and_revoke_their_own_feed_from_the_security_page(client, clinic):
    login(client, clinic.intern)
    security = client.get(reverse("accounts:security")).content.decode()
    assert reverse("scheduling:my_feed") in security
    panel = client.get(reverse("scheduling:my_feed"), headers={"HX-Request": "true"})
    assert "No active feed" in panel.content.decode()
    created = client.post(reverse("scheduling:my_feed_create"), {"detailed": "on"})
    assert created.status_code == 200
    feed = CalendarFeed.objects.get(user=clinic.intern)
    assert feed.detailed
    assert "/schedule/feeds/" in created.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, actor=clinic.intern, patient=None).exists()
    client.post(reverse("scheduling:my_feed_revoke", args=[feed.public_id]))
    feed.refresh_from_db()
    assert feed.revoked_at is not None


def test_nobody_can_revoke_someone_elses_staff_feed(client, clinic):
    feed, _ = feeds.do_create_feed(acting_user=clinic.intern, user=clinic.intern)
    login(client, clinic.director)
    assert client.post(reverse("scheduling:my_feed_revoke", args=[feed.public_id])).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None


def test_a_sysadmin_may_keep_a_feed_of_their_own(client, clinic):
    login(client, clinic.sysadmin)
    assert client.get(reverse("scheduling:my_feed")).status_code == 200


def test_anonymous_cannot_manage_feeds(client, clinic, patient):
    assert client.post(reverse("scheduling:my_feed_create")).status_code == 302
    assert client.post(reverse("scheduling:patient_feed_create", args=[patient.public_id])).status_code == 302


def test_fetching_the_feed_records_when(client, clinic, patient):
    feed, token = feeds.do_create_feed(acting_user=clinic.clinician, patient=patient)
    assert feed.last_fetched_at is None
    _fetch(client, token)
    feed.refresh_from_db()
    assert feed.last_fetched_at is not None
