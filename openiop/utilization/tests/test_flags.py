"""Each flag's boundary, on unsaved rows (pure: ``flags_for`` reads the row, the policy and today)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from openiop.utilization import flags
from openiop.utilization.models import Authorization, UtilizationPolicy

TODAY = date(2026, 12, 7)
POLICY = UtilizationPolicy(
    expiring_within_days=7, units_low_at=3, review_due_within_days=3, review_lead_days=3, unauthorized_lookback_days=30
)


def auth(*, end_ahead: int = 30, units: int = 20, used: int = 0, **fields) -> Authorization:
    row = Authorization(
        start_date=TODAY - timedelta(days=10),
        end_date=TODAY + timedelta(days=end_ahead),
        units_authorized=units,
        status=fields.pop("status", Authorization.Status.APPROVED),
        **fields,
    )
    row.units_used = used  # type: ignore[attr-defined]
    return row


def codes(row: Authorization, **kw) -> tuple[str, ...]:
    return flags.flags_for(row, POLICY, TODAY, **kw).codes


@pytest.mark.parametrize(("ahead", "flagged"), [(8, False), (7, True), (0, True), (-1, False)])
def test_expiring_exactly_n_days_ahead_is_flagged(ahead, flagged):
    assert (flags.EXPIRING in codes(auth(end_ahead=ahead, review_due_on=TODAY + timedelta(days=99)))) is flagged


@pytest.mark.parametrize(("used", "flagged"), [(16, False), (17, True), (20, True), (21, False)])
def test_units_low_at_exactly_n_remaining(used, flagged):
    assert (flags.UNITS_LOW in codes(auth(used=used))) is flagged


def test_over_authorization_below_zero_even_after_the_end():
    assert flags.OVER in codes(auth(units=5, used=6))
    assert flags.OVER in codes(auth(units=5, used=6, end_ahead=-3))
    assert flags.OVER not in codes(auth(units=5, used=5))


@pytest.mark.parametrize(("due_ahead", "flagged"), [(4, False), (3, True), (-2, True)])
def test_review_due_on_the_payers_date(due_ahead, flagged):
    row = auth(review_due_on=TODAY + timedelta(days=due_ahead))
    assert (flags.REVIEW_DUE in codes(row)) is flagged


def test_review_due_by_default_lead_days_before_the_end():
    # Due on end - 3 days; flagged 3 days before that, so an end 6 days ahead is flagged and 7 is not.
    assert flags.REVIEW_DUE in codes(auth(end_ahead=6))
    assert flags.REVIEW_DUE not in codes(auth(end_ahead=7))
    assert flags.flags_for(auth(end_ahead=7), POLICY, TODAY).review_on == TODAY + timedelta(days=4)


def test_review_due_when_n_units_remain():
    assert flags.REVIEW_DUE not in codes(auth(units=10, used=5, review_at_units_left=4))
    assert flags.REVIEW_DUE in codes(auth(units=10, used=6, review_at_units_left=4))


def test_a_pending_review_quiets_the_review_flag_and_only_approved_rows_flag():
    row = auth(end_ahead=2, used=19)
    assert flags.REVIEW_DUE not in codes(row, review_pending=True)
    assert codes(auth(end_ahead=2, used=19, status=Authorization.Status.REQUESTED)) == ()
    assert codes(auth(end_ahead=2, used=19, status=Authorization.Status.DENIED)) == ()
