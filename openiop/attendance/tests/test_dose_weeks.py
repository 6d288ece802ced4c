"""The dose engine on the database: bookings and check-ins made through the real actions, what counts and what
does not, payer minimums, proration for a mid-week joiner, DST bucketing, and query counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.attendance.dose import DoseStatus, current_week_doses, episode_doses, week_bounds
from openiop.billing.actions import do_create_payer_rule
from openiop.billing.rules import Minimums, weekly_minimum_hours
from openiop.patients.actions import do_add_coverage
from openiop.scheduling.actions.booking import do_cancel_booking
from openiop.scheduling.models import Session
from openiop.testing.attendance import (
    EXCUSED,
    LATE,
    PRESENT,
    UNEXCUSED,
    admit_to_track,
    at,
    book,
    check_in,
    check_in_all,
    this_monday,
    track_day,
)
from openiop.testing.scheduling import make_session_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def last_week(clinic):
    return this_monday(clinic.mh) - timedelta(days=7)


def _week(episode, start, now):
    (dose,) = episode_doses([episode], now=now)
    return next(w for w in dose.weeks if w.start == start)


def test_a_missed_wednesday_puts_last_week_out_of_reach_on_wednesday_afternoon(clinic, last_week):
    mh = clinic.mh
    ep = admit_to_track(clinic, "Ana", track=clinic.day, admitted_on=last_week - timedelta(days=14))
    mon, wed, fri = (track_day(mh, last_week + timedelta(days=d), track=clinic.day) for d in (0, 2, 4))
    book([*mon, *wed, *fri], ep)
    check_in(mon[0], ep, LATE, clinic.clinician, late_minutes=10)  # 45 of 55 minutes: 0.75 h
    check_in_all(mon[1:], ep, PRESENT, clinic.clinician)
    check_in_all(wed, ep, UNEXCUSED, clinic.clinician)

    week = _week(ep, last_week, now=at(mh, last_week + timedelta(days=2), 13))
    assert (week.minimum, week.scheduled, week.attended, week.remaining) == (540, 540, 165, 180)
    assert week.status == DoseStatus.UNREACHABLE
    assert week.shortfall_hours == "3.25"

    # Friday was never recorded; once the week has closed it is simply missed.
    closed = _week(ep, last_week, now=at(mh, last_week + timedelta(days=7), 9))
    assert closed.closed and closed.status == DoseStatus.MISSED
    assert closed.unrecorded == 180


def test_the_last_session_of_the_week_decides_it(clinic, last_week):
    mh = clinic.mh
    ep = admit_to_track(clinic, "Bo", track=clinic.day, admitted_on=last_week - timedelta(days=14))
    individual = make_session_type(mh, "Individual", kind="individual", service_kind="individual_psychotherapy")
    mon, wed, fri = (track_day(mh, last_week + timedelta(days=d), track=clinic.day) for d in (0, 2, 4))
    tue = track_day(mh, last_week + timedelta(days=1), hours=[14], session_type=individual, capacity=1)
    book([*mon, *tue, *wed, *fri], ep)
    check_in(mon[0], ep, EXCUSED, clinic.clinician)
    check_in_all([*mon[1:], *tue, *wed, *fri[:2]], ep, PRESENT, clinic.clinician)

    friday_11 = at(mh, last_week + timedelta(days=4), 11, 5)
    week = _week(ep, last_week, now=friday_11)
    assert (week.attended, week.remaining, week.lost) == (480, 60, 60)
    assert week.status == DoseStatus.AT_RISK

    check_in(fri[2], ep, PRESENT, clinic.clinician)
    assert _week(ep, last_week, now=at(mh, last_week + timedelta(days=4), 12)).status == DoseStatus.MET


def test_only_counting_bookings_of_scheduled_sessions_count(clinic, last_week):
    mh = clinic.mh
    ep = admit_to_track(clinic, "Cy", track=clinic.day, admitted_on=last_week - timedelta(days=14))
    mon = track_day(mh, last_week, track=clinic.day)
    book(mon, ep)
    check_in_all(mon, ep, PRESENT, clinic.clinician)
    psych = make_session_type(mh, "Medication visit", kind="psychiatric", counts_toward_dose=False)
    not_counting = track_day(mh, last_week + timedelta(days=1), hours=[9], session_type=psych)
    cancelled = track_day(mh, last_week + timedelta(days=2), hours=[9], status=Session.Status.CANCELLED)
    dropped = track_day(mh, last_week + timedelta(days=3), hours=[9])
    book([*not_counting, *cancelled, *dropped], ep)
    (booking,) = dropped[0].bookings.all()
    do_cancel_booking(booking, acting_user=clinic.frontdesk, reason="Work shift")

    week = _week(ep, last_week, now=at(mh, last_week + timedelta(days=7), 9))
    assert [s.session_id for s in week.slots] == [s.pk for s in mon]
    assert (week.scheduled, week.attended) == (180, 180)


def test_a_record_whose_booking_was_cancelled_afterwards_still_counts_what_was_attended(clinic):
    mh = clinic.mh
    monday = this_monday(mh) - timedelta(days=7)
    ep = admit_to_track(clinic, "Di", track=clinic.day, admitted_on=monday - timedelta(days=7))
    came, stayed_away = track_day(mh, monday, hours=[9, 10], track=clinic.day)
    bookings = book([came, stayed_away], ep)
    check_in(came, ep, PRESENT, clinic.clinician)
    check_in(stayed_away, ep, UNEXCUSED, clinic.clinician)
    for b in bookings:
        do_cancel_booking(b, acting_user=clinic.frontdesk)
    week = _week(ep, monday, now=at(mh, monday + timedelta(days=7), 9))
    # The attended one is a walk-in now; an absence without a seat is nothing.
    assert [(s.session_id, s.attended) for s in week.slots] == [(came.pk, 60)]


def test_a_mid_week_joiner_owes_the_prorated_minimum(clinic, last_week):
    mh = clinic.mh
    wednesday = last_week + timedelta(days=2)
    ep = admit_to_track(clinic, "Eli", track=clinic.day, admitted_on=wednesday)
    wed, fri = (track_day(mh, last_week + timedelta(days=d), track=clinic.day) for d in (2, 4))
    book([*wed, *fri], ep)
    check_in_all(wed, ep, PRESENT, clinic.clinician)

    (dose,) = episode_doses([ep], now=at(mh, wednesday, 13))
    assert [w.start for w in dose.weeks] == [last_week]
    week = dose.weeks[0]
    assert (week.full_minimum, week.minimum) == (540, 360)
    assert (week.proration.due_days, week.proration.week_days) == (2, 3)
    assert week.status == DoseStatus.TIGHT
    check_in_all(fri, ep, PRESENT, clinic.clinician)
    assert _week(ep, last_week, now=at(mh, last_week + timedelta(days=7), 9)).status == DoseStatus.MET


def test_the_payer_rule_overrides_the_program_minimum(clinic, last_week):
    ep = admit_to_track(clinic, "Fay", track=clinic.day, admitted_on=last_week - timedelta(days=7))
    do_add_coverage(ep.patient, acting_user=None, priority=1, payer_kind="medicaid", payer_name="State Medicaid",
                    member_id="M-1", effective_from=date(2020, 1, 1))  # fmt: skip
    do_create_payer_rule(acting_user=None, organization=clinic.org, name="Medicaid IOP", payer_kind="medicaid",
                         weekly_dose_hours=Decimal("12"))  # fmt: skip
    week = _week(ep, last_week, now=at(clinic.mh, last_week, 8))
    assert (week.minimum, week.minimum_source) == (720, "Medicaid IOP")


def test_batch_minimums_agree_with_the_billing_lookup(clinic, last_week):
    day = last_week
    people = {
        kind: admit_to_track(clinic, kind.title() or "Uninsured", program=program, admitted_on=day - timedelta(days=7))
        for kind, program in (("medicaid", clinic.mh), ("medicare", clinic.mh), ("commercial", clinic.su),
                              ("", clinic.su))
    }  # fmt: skip
    for kind, ep in people.items():
        if kind:
            do_add_coverage(ep.patient, acting_user=None, priority=1, payer_kind=kind, payer_name=kind, member_id="X",
                            effective_from=date(2020, 1, 1))  # fmt: skip
    rule = do_create_payer_rule
    rule(acting_user=None, organization=clinic.org, name="Org default", weekly_dose_hours=Decimal("10"))
    rule(
        acting_user=None,
        organization=clinic.org,
        name="Medicaid",
        payer_kind="medicaid",
        weekly_dose_hours=Decimal("12"),
    )
    rule(
        acting_user=None,
        organization=clinic.org,
        name="SUD program",
        program=clinic.su,
        weekly_dose_hours=Decimal("11"),
    )
    rule(acting_user=None, organization=clinic.org, name="Medicare (no minimum)", payer_kind="medicare")
    rule(acting_user=None, organization=clinic.org, name="SUD commercial", program=clinic.su, payer_kind="commercial",
         weekly_dose_hours=Decimal("9.5"))  # fmt: skip
    episodes = list(people.values())
    minimums = Minimums(episodes)
    got = {kind: minimums.hours(ep, day) for kind, ep in people.items()}
    assert got == {kind: weekly_minimum_hours(ep, day) for kind, ep in people.items()}
    assert got == {
        "medicaid": Decimal("12"),
        "medicare": Decimal("9.0"),
        "commercial": Decimal("9.5"),
        "": Decimal("11"),
    }


def test_a_spring_forward_week_in_new_york_buckets_by_local_day(clinic):
    mh = clinic.mh  # America/New_York; DST began Sunday 8 March 2026
    ep = admit_to_track(clinic, "Gil", track=clinic.day, admitted_on=date(2026, 2, 23))
    sunday_late = track_day(mh, date(2026, 3, 8), hours=[23])
    monday_early = track_day(mh, date(2026, 3, 9), hours=[0])
    book([*sunday_late, *monday_early], ep)
    (dose,) = episode_doses([ep], now=datetime(2026, 3, 20, 12, tzinfo=mh.tz()))
    weeks = {w.start: [s.session_id for s in w.slots] for w in dose.weeks}
    assert weeks[date(2026, 3, 2)] == [sunday_late[0].pk]
    assert weeks[date(2026, 3, 9)] == [monday_early[0].pk]
    spring = next(w for w in dose.weeks if w.start == date(2026, 3, 2))
    assert spring.ends_at - week_bounds(spring.start, mh.tz())[0] == timedelta(hours=167)


def test_a_sunday_week_policy_moves_the_boundary(clinic, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "week_starts_on": 6}
    mh = clinic.mh
    ep = admit_to_track(clinic, "Hal", track=clinic.day, admitted_on=date(2026, 10, 1))
    sunday = track_day(mh, date(2026, 11, 1), hours=[10])  # fall-back Sunday
    saturday = track_day(mh, date(2026, 11, 7), hours=[10])
    book([*sunday, *saturday], ep)
    (dose,) = episode_doses([ep], now=datetime(2026, 11, 20, 12, tzinfo=mh.tz()))
    week = next(w for w in dose.weeks if w.start == date(2026, 11, 1))
    assert [s.session_id for s in week.slots] == [sunday[0].pk, saturday[0].pk]
    assert all(w.start.weekday() == 6 for w in dose.weeks)


def _people(clinic, count, monday, offset=0):
    episodes = []
    for n in range(count):
        ep = admit_to_track(clinic, f"Q{offset + n}", track=clinic.day, admitted_on=monday - timedelta(days=14))
        sessions = track_day(clinic.mh, monday, track=clinic.day)
        book(sessions, ep)
        check_in_all(sessions, ep, PRESENT, clinic.clinician)
        episodes.append(ep)
    return episodes


def test_query_counts_do_not_grow_with_episodes(clinic, last_week):
    few = _people(clinic, 1, last_week)
    many = few + _people(clinic, 6, last_week, offset=10)
    now = at(clinic.mh, last_week + timedelta(days=2), 13)
    counts = []
    for episodes in (few, many):
        fresh = [type(e).objects.get(pk=e.pk) for e in episodes]
        with CaptureQueriesContext(connection) as ctx:
            current_week_doses(fresh, now=now)
            episode_doses(fresh, now=now)
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts
