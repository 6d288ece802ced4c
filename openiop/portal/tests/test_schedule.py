"""The patient's home and My schedule: next sessions, the week's hours in plain words, past sessions with
attendance, make-up and individual sessions to book under the program's policy, cancelling inside the notice
rules, the calendar feed, and query counts that do not grow with the rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.portal.actions import PORTAL_CANCEL_REASON, do_set_portal_policy
from openiop.scheduling import feeds
from openiop.scheduling.models import Booking, Session
from openiop.testing.attendance import (
    PRESENT,
    UNEXCUSED,
    admit_to_track,
    book,
    check_in,
    check_in_all,
    today,
    track_day,
)
from openiop.testing.scheduling import local_at, make_booking, make_session, make_session_type

from .conftest import portal_login

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def week_started_two_days_ago(clinic, settings):
    """A dose week from the day before yesterday, so the test has past and future days whatever today is."""
    start = today(clinic.mh) - timedelta(days=2)
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "week_starts_on": start.weekday()}
    return start


@pytest.fixture
def short_week(clinic, week_started_two_days_ago):
    """Three hours attended, three missed, three still booked: the week is out of reach by three hours. An evening
    of three open blocks in four days' time would lift it."""
    mh, d0 = clinic.mh, week_started_two_days_ago
    day = lambda n: d0 + timedelta(days=n)  # noqa: E731
    ep = admit_to_track(clinic, "Jordan", track=clinic.day, last_name="Rivera", admitted_on=d0 - timedelta(days=14))
    attended = track_day(mh, day(0), track=clinic.day)
    missed = track_day(mh, day(1), track=clinic.day)
    ahead = track_day(mh, day(5), track=clinic.day)
    book([*attended, *missed, *ahead], ep)
    check_in_all(attended, ep, PRESENT, clinic.clinician)
    check_in_all(missed, ep, UNEXCUSED, clinic.clinician)
    evening = track_day(mh, day(4), hours=[18, 19, 20], track=clinic.evening)
    account = portal_login(ep.patient, by=clinic.frontdesk, username="jordan")
    return account, {"attended": attended, "missed": missed, "ahead": ahead, "evening": evening}


def _fragment(client, url, **data):
    return client.post(url, data, **HX)


# --- Home ---------------------------------------------------------------------------------------------------------


def test_home_shows_the_next_sessions_and_the_week_in_plain_words(client, short_week):
    account, _ = short_week
    client.force_login(account.user)
    response = client.get(reverse("portal:home"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Hello, Jordan" in body
    assert "Your next sessions" in body
    assert "3 of 9 hours" in body
    assert "This week is short of its goal" in body
    assert "Find a make-up session" in body
    assert "Call or text 988" in body  # the crisis resources are on every portal page
    assert AuditEvent.objects.filter(
        action=AuditAction.RECORD_VIEWED, object_type="portal_home", actor=account.user, patient=account.patient
    ).exists()


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _more_rows(clinic, account):
    """Five more upcoming and five more past sessions, with attendance on the past ones; all outside this week, so
    the week's dose (and so what the page offers) stays the same."""
    for n in range(5):
        make_booking(make_session(clinic.mh, local_at(clinic.mh, 8 + n, 13)), account.patient)
        past = make_session(clinic.mh, timezone.now() - timedelta(days=9, hours=n * 2), minutes=50)
        make_booking(past, account.patient)
        check_in(past, account.patient.episodes.get(), PRESENT, clinic.clinician)


@pytest.mark.parametrize("name", ["portal:home", "portal:schedule"])
def test_the_pages_cost_the_same_queries_however_many_sessions(client, clinic, short_week, name):
    account, _ = short_week
    client.force_login(account.user)
    url = reverse(name)
    client.get(url)  # warm the session and content-type caches
    few = _count(client, url)
    _more_rows(clinic, account)
    assert _count(client, url) == few


# Measured: the request's own (session, user, second-factor check, portal account), the dose engine's five, the
# page's reads and its audit row. A rise means a new query per page; look for an N+1 first.
@pytest.mark.parametrize("name,budget", [("portal:home", 17), ("portal:schedule", 28)])
def test_the_pages_query_budget(client, short_week, monkeypatch, name, budget):
    account, _ = short_week
    # The care cards are the care pages' own budget (portal/care.py); this one is the account and schedule part.
    monkeypatch.setattr("openiop.portal.views.home_cards", lambda account: {})
    client.force_login(account.user)
    client.get(reverse(name))
    assert _count(client, reverse(name)) <= budget


# --- My schedule --------------------------------------------------------------------------------------------------


def test_the_schedule_lists_upcoming_and_past_sessions_with_attendance(client, short_week):
    account, _ = short_week
    client.force_login(account.user)
    body = client.get(reverse("portal:schedule")).content.decode()
    assert body.count('data-booking="') == 3  # the three sessions still ahead
    assert body.count(">Attended<") == 3
    assert body.count(">Absent<") == 3


def test_a_long_episode_folds_later_and_earlier_sessions_away(client, clinic, short_week):
    """Nine upcoming and nine past sessions show; the rest are in closed <details> so a phone page stays short."""
    account, _ = short_week
    episode = account.patient.episodes.get()
    later = today(clinic.mh) + timedelta(days=7)
    book([s for n in range(3) for s in track_day(clinic.mh, later + timedelta(days=n), track=clinic.day)], episode)
    client.force_login(account.user)
    body = client.get(reverse("portal:schedule")).content.decode()
    assert body.count('data-booking="') == 12  # all of them are on the page
    assert "3 later sessions</summary>" in body
    assert "Earlier sessions</summary>" not in body  # six past sessions: nothing to fold
    _more_rows(clinic, account)
    body = client.get(reverse("portal:schedule")).content.decode()
    assert "Earlier sessions</summary>" in body


def test_a_short_week_offers_the_make_up_the_search_suggests_and_booking_it_lifts_the_week(client, short_week):
    account, s = short_week
    client.force_login(account.user)
    body = client.get(reverse("portal:schedule")).content.decode()
    assert "Make-up sessions" in body
    for session in s["evening"]:
        assert reverse("portal:book", args=[session.public_id]) in body
    for session in s["evening"]:
        response = _fragment(client, reverse("portal:book", args=[session.public_id]), idempotency_key=session.pk)
        assert response.status_code == 200
        assert "Booked:" in response.content.decode()
    made = Booking.objects.filter(patient=account.patient, source=Booking.Source.MAKEUP, status="booked")
    assert {b.session_id for b in made} == {x.pk for x in s["evening"]}
    assert {b.booked_by_id for b in made} == {account.user.pk}
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, object_type="booking", actor=account.user).count() == 3
    body = client.get(reverse("portal:schedule")).content.decode()
    assert "Make-up sessions" not in body


def test_a_repeated_click_books_once(client, short_week):
    account, s = short_week
    client.force_login(account.user)
    url = reverse("portal:book", args=[s["evening"][0].public_id])
    for _ in range(2):
        assert "Booked:" in _fragment(client, url, idempotency_key="same-click").content.decode()
    assert Booking.objects.filter(session=s["evening"][0], patient=account.patient).count() == 1


def test_a_seat_gone_keeps_the_page_usable_with_a_clear_message(client, clinic, short_week):
    account, s = short_week
    session = s["evening"][0]
    Session.objects.filter(pk=session.pk).update(capacity=1)
    client.force_login(account.user)
    other = admit_to_track(clinic, "Sol", track=clinic.evening, admitted_on=today(clinic.mh) - timedelta(days=3))
    make_booking(session, other.patient, episode=other)
    response = _fragment(client, reverse("portal:book", args=[session.public_id]), idempotency_key="k1")
    body = response.content.decode()
    assert response.status_code == 200
    assert "no longer open to book" in body
    assert 'id="portal-schedule-body"' in body and 'id="upcoming-list"' in body
    assert not Booking.objects.filter(session=session, patient=account.patient).exists()


def test_without_htmx_booking_redirects_with_a_message(client, short_week):
    account, s = short_week
    client.force_login(account.user)
    response = client.post(reverse("portal:book", args=[s["evening"][0].public_id]), {"idempotency_key": "k"})
    assert response["Location"] == reverse("portal:schedule")
    assert "Booked:" in client.get(response["Location"]).content.decode()


def test_make_ups_are_not_offered_when_the_program_turns_them_off(client, clinic, short_week):
    account, s = short_week
    do_set_portal_policy(clinic.mh, acting_user=clinic.director, makeup_booking=False)
    client.force_login(account.user)
    assert "Make-up sessions" not in client.get(reverse("portal:schedule")).content.decode()
    response = _fragment(client, reverse("portal:book", args=[s["evening"][0].public_id]), idempotency_key="k")
    assert "no longer open to book" in response.content.decode()


@pytest.fixture
def individual(clinic, account):
    kind = make_session_type(
        clinic.mh, "Individual counseling", kind="individual", service_kind="individual_psychotherapy"
    )
    return {
        "soon": make_session(clinic.mh, local_at(clinic.mh, 3, 15), session_type=kind, capacity=1),
        "far": make_session(clinic.mh, local_at(clinic.mh, 30, 15), session_type=kind, capacity=1),
    }


def test_open_individual_sessions_are_offered_only_when_the_program_allows_self_booking(
    client, clinic, account, individual
):
    client.force_login(account.user)
    book_soon = reverse("portal:book", args=[individual["soon"].public_id])
    assert book_soon not in client.get(reverse("portal:schedule")).content.decode()
    do_set_portal_policy(clinic.mh, acting_user=clinic.director, self_booking=True, booking_horizon_days=14)
    body = client.get(reverse("portal:schedule")).content.decode()
    assert "Open individual sessions" in body
    assert book_soon in body
    # Outside the horizon: not offered, and refused when posted anyway.
    assert reverse("portal:book", args=[individual["far"].public_id]) not in body
    far = _fragment(client, reverse("portal:book", args=[individual["far"].public_id]), idempotency_key="far")
    assert "no longer open to book" in far.content.decode()
    response = _fragment(client, book_soon, idempotency_key="soon")
    assert "Booked:" in response.content.decode()
    booking = Booking.objects.get(session=individual["soon"])
    assert booking.source == Booking.Source.PORTAL


def test_a_clashing_individual_session_is_refused(client, clinic, account, individual):
    do_set_portal_policy(clinic.mh, acting_user=clinic.director, self_booking=True)
    client.force_login(account.user)
    client.get(reverse("portal:schedule"))
    # Staff book an overlapping group meanwhile.
    group = make_session(clinic.mh, individual["soon"].starts_at - timedelta(minutes=15))
    make_booking(group, account.patient)
    response = _fragment(client, reverse("portal:book", args=[individual["soon"].public_id]), idempotency_key="x")
    assert "no longer open to book" in response.content.decode()


# --- Cancelling ---------------------------------------------------------------------------------------------------


@pytest.fixture
def booked(clinic, account):
    now = timezone.now()
    return {
        "later": make_booking(make_session(clinic.mh, now + timedelta(days=3)), account.patient),
        "soon": make_booking(make_session(clinic.mh, now + timedelta(hours=5)), account.patient),
    }


def test_cancelling_outside_the_notice_window_frees_the_seat(client, account, booked):
    client.force_login(account.user)
    booking = booked["later"]
    response = _fragment(client, reverse("portal:cancel", args=[booking.public_id]))
    assert "Cancelled:" in response.content.decode()
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", PORTAL_CANCEL_REASON)
    booking.session.refresh_from_db()
    assert booking.session.booked_count == 0
    assert AuditEvent.objects.filter(
        action=AuditAction.STATUS_CHANGED, object_type="booking", actor=account.user
    ).exists()


def test_inside_the_notice_window_the_patient_is_told_to_call(client, clinic, account, booked):
    client.force_login(account.user)
    page = client.get(reverse("portal:schedule")).content.decode()
    assert reverse("portal:cancel", args=[booked["soon"].public_id]) not in page
    assert reverse("portal:cancel", args=[booked["later"].public_id]) in page
    assert "please call the clinic" in page and "555-0100" in page
    response = _fragment(client, reverse("portal:cancel", args=[booked["soon"].public_id]))
    assert "Less than 24 hours to go" in response.content.decode()
    booked["soon"].refresh_from_db()
    assert booked["soon"].status == "booked"


def test_the_notice_window_is_the_programs(client, clinic, account, booked):
    do_set_portal_policy(clinic.mh, acting_user=clinic.director, cancel_notice_hours=2)
    client.force_login(account.user)
    assert "Cancelled:" in _fragment(client, reverse("portal:cancel", args=[booked["soon"].public_id])).content.decode()


# --- Calendar feed ------------------------------------------------------------------------------------------------


def test_the_patient_makes_rotates_and_revokes_their_calendar_feed(client, account):
    client.force_login(account.user)
    response = client.post(reverse("portal:feed_create"), **HX)
    body = response.content.decode()
    assert "shown only once" in body
    first = body.split("/schedule/feeds/")[1].split(".ics")[0]
    assert feeds.find_feed(first) is not None
    response = client.post(reverse("portal:feed_create"), **HX)
    second = response.content.decode().split("/schedule/feeds/")[1].split(".ics")[0]
    assert feeds.find_feed(first) is None and feeds.find_feed(second) is not None
    feed = feeds.active_feed_for(patient=account.patient)
    assert feed is not None
    assert client.get(reverse("scheduling:feed", args=[second])).status_code == 200
    client.post(reverse("portal:feed_revoke", args=[feed.public_id]), **HX)
    assert feeds.find_feed(second) is None
    assert AuditEvent.objects.filter(object_type="calendarfeed", actor=account.user).count() == 4
