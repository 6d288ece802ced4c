"""Units used, counted live from billing's decisions: the window only, attendance corrections at once, sessions."""

from __future__ import annotations

from openiop.billing.models import BillableDay, PendingBillableDay
from openiop.utilization import flags, units
from openiop.utilization.models import Authorization
from openiop.utilization.policy import policy_for
from openiop.utilization.tests.conftest import UNEXCUSED


def test_days_count_billable_days_in_the_window_only(stay):
    stay.day(12)  # before the window
    stay.day(5)
    stay.day(3)
    stay.day(2, attend=2)  # in the window, not billable (2 of the 3 services the rule needs)
    auth = stay.authorize(start_ago=6, end_ahead=10, units=10)
    assert BillableDay.objects.filter(episode=stay.episode, is_billable=True).count() == 3
    assert units.units_used(auth) == 2
    assert units.refreshed(auth).remaining == 8


def test_a_correction_from_present_to_absent_lowers_the_count_with_no_manual_step(stay):
    sessions = stay.day(4)
    stay.day(3)
    auth = stay.authorize(start_ago=6, end_ahead=10, units=10)
    assert units.units_used(auth) == 2
    stay.correct(sessions[0], UNEXCUSED)  # its billable day's decision is left pending
    assert PendingBillableDay.objects.filter(episode=stay.episode).exists()
    assert units.units_used(auth) == 1
    assert not PendingBillableDay.objects.filter(episode=stay.episode).exists()
    assert BillableDay.objects.get(episode=stay.episode, date=stay.ago(4)).is_billable is False


def test_sessions_count_each_service_billing_counted_even_on_a_day_not_billable(stay):
    stay.day(5)  # 3 services, billable
    stay.day(2, attend=2)  # 2 services, not a billable day, still 2 sessions
    stay.day(20)  # outside
    auth = stay.authorize(start_ago=6, end_ahead=5, units=4, unit_kind=Authorization.UnitKind.SESSIONS)
    fresh = units.refreshed(auth)
    assert fresh.used == 5
    assert fresh.remaining == -1
    assert flags.OVER in flags.flags_for(fresh, policy_for(stay.episode.program), stay.today)


def test_remaining_and_over_authorization(stay):
    stay.day(3)
    stay.day(2)
    auth = units.refreshed(stay.authorize(start_ago=5, end_ahead=20, units=1))
    assert (auth.used, auth.remaining) == (2, -1)
    f = flags.flags_for(auth, policy_for(stay.episode.program), stay.today)
    assert flags.OVER in f and flags.UNITS_LOW not in f
    # Another episode's days never count.
    other = units.refreshed(stay.authorize(start_ago=5, end_ahead=20, units=1, number="B"))
    assert other.used == 2  # the same episode's window: the same days
