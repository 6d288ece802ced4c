"""Make-up suggestions on the database: which open sessions qualify, and booking them from the dose panel through
the real booking action really makes the week reachable again. Access and bad input for the Book button."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.attendance.dose import DoseStatus, episode_doses
from openiop.attendance.makeup import makeup_candidates, plan_makeup
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.scheduling.models import Booking, Session
from openiop.testing.attendance import (
    PRESENT,
    UNEXCUSED,
    admit_to_track,
    book,
    check_in_all,
    today,
    track_day,
)
from openiop.testing.scheduling import make_session_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def week_started_two_days_ago(clinic, settings):
    """A dose week from the day before yesterday, so this test has past and future days whatever today is."""
    start = today(clinic.mh) - timedelta(days=2)
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "week_starts_on": start.weekday()}
    return start


@pytest.fixture
def short_week(clinic, week_started_two_days_ago):
    """Three hours attended, three missed, three still booked: out of reach by three hours.

    Open sessions this week: an evening group of three 55-minute blocks and a 2-hour workshop qualify; an
    overlapping one, a full one, one that does not count, one after the week, one in another program and a
    cancelled one do not.
    """
    mh, d0 = clinic.mh, week_started_two_days_ago
    day = lambda n: d0 + timedelta(days=n)  # noqa: E731
    ep = admit_to_track(clinic, "Rae", track=clinic.day, admitted_on=d0 - timedelta(days=14))
    attended = track_day(mh, day(0), track=clinic.day)
    missed = track_day(mh, day(1), track=clinic.day)
    ahead = track_day(mh, day(3), track=clinic.day)
    book([*attended, *missed, *ahead], ep)
    check_in_all(attended, ep, PRESENT, clinic.clinician)
    check_in_all(missed, ep, UNEXCUSED, clinic.clinician)
    psych = make_session_type(mh, "Medication visit", kind="psychiatric", counts_toward_dose=False)
    other = admit_to_track(clinic, "Sol", track=clinic.day, admitted_on=d0 - timedelta(days=14))
    full = track_day(mh, day(5), hours=[9], capacity=1)
    book(full, other)
    s = {
        "evening": track_day(mh, day(4), hours=[18, 19, 20], track=clinic.evening),
        "workshop": track_day(mh, day(6), hours=[13], minutes=120, title="Skills workshop"),
        "overlapping": track_day(mh, day(3), hours=[9], minutes=30, title="Overlaps the booked 09:00"),
        "full": full,
        "not_counting": track_day(mh, day(5), hours=[14], session_type=psych),
        "after_week": track_day(mh, day(7), hours=[9]),
        "other_program": track_day(clinic.su, day(4), hours=[9]),
        "cancelled": track_day(mh, day(5), hours=[10], status=Session.Status.CANCELLED),
    }
    return ep, s


def _current(ep):
    (dose,) = episode_doses([ep], now=timezone.now())
    return dose.current


def test_the_week_is_out_of_reach_by_three_hours(short_week):
    ep, _ = short_week
    week = _current(ep)
    assert (week.minimum, week.attended, week.remaining, week.shortfall) == (540, 180, 180, 180)
    assert week.status == DoseStatus.UNREACHABLE


def test_only_open_counting_non_clashing_sessions_of_the_program_this_week_are_candidates(short_week):
    ep, s = short_week
    got = {c.session_id for c in makeup_candidates(ep, _current(ep), now=timezone.now())}
    assert got == {x.pk for x in (*s["evening"], *s["workshop"])}


def test_the_fewest_sessions_are_suggested(short_week):
    ep, s = short_week
    plan = plan_makeup(ep, _current(ep), now=timezone.now())
    assert plan.target == "reach"
    assert [c.session_id for c in plan.sessions or []] == [s["evening"][0].pk, s["workshop"][0].pk]
    assert plan.added_hours == "3"


def test_booking_the_suggestions_from_the_panel_makes_the_week_reachable(client, clinic, short_week):
    ep, _ = short_week
    plan = plan_makeup(ep, _current(ep), now=timezone.now())
    login(client, clinic.frontdesk)
    for c in plan.sessions or []:
        url = reverse("attendance:book_makeup", args=[ep.public_id, c.session.public_id])
        response = client.post(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert "Make-up booked" in response.content.decode()
    made = Booking.objects.filter(episode=ep, source=Booking.Source.MAKEUP, status=Booking.Status.BOOKED)
    assert {b.session_id for b in made} == {c.session_id for c in plan.sessions or []}
    week = _current(ep)
    assert week.reachable
    assert (week.attended, week.remaining) == (180, 360)
    # Still every remaining session needed after the misses; the panel now offers a margin.
    assert week.status == DoseStatus.AT_RISK
    assert plan_makeup(ep, week, now=timezone.now()).target == "cushion"
    # The booking action audited each seat; redrawing the panel is a chart read.
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, object_type="booking", patient=ep.patient).count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_type="attendance").count() == 2


def test_without_htmx_booking_redirects_to_the_attendance_tab(client, clinic, short_week):
    ep, s = short_week
    login(client, clinic.clinician)
    url = reverse("attendance:book_makeup", args=[ep.public_id, s["workshop"][0].public_id])
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == f"{ep.patient.get_absolute_url()}?tab=attendance"
    assert Booking.objects.filter(episode=ep, session=s["workshop"][0], source=Booking.Source.MAKEUP).exists()


@pytest.mark.parametrize("which", ["overlapping", "full", "not_counting", "after_week", "cancelled"])
def test_a_session_that_is_no_make_up_option_is_refused(client, clinic, short_week, which):
    ep, s = short_week
    login(client, clinic.frontdesk)
    url = reverse("attendance:book_makeup", args=[ep.public_id, s[which][0].public_id])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "no longer a make-up option" in response.content.decode()
    assert not Booking.objects.filter(episode=ep, session=s[which][0]).exists()


def test_a_session_of_another_program_is_not_found(client, clinic, short_week):
    ep, s = short_week
    login(client, clinic.director)  # a member of both programs
    url = reverse("attendance:book_makeup", args=[ep.public_id, s["other_program"][0].public_id])
    assert client.post(url).status_code == 404


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("stranger", 404), ("billing", 403), ("auditor", 403)])
def test_book_access(client, clinic, short_week, who, status):
    ep, s = short_week
    login(client, getattr(clinic, who))
    url = reverse("attendance:book_makeup", args=[ep.public_id, s["workshop"][0].public_id])
    assert client.post(url).status_code == status
    assert not Booking.objects.filter(session=s["workshop"][0]).exists()


def test_book_needs_post(client, clinic, short_week):
    ep, s = short_week
    login(client, clinic.frontdesk)
    url = reverse("attendance:book_makeup", args=[ep.public_id, s["workshop"][0].public_id])
    assert client.get(url).status_code == 405
