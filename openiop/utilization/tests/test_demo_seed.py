"""The demo's authorizations on the small test clinic (the whole demo is core's demo tests): each case once, in
admission order, and a second run adds nothing."""

from __future__ import annotations

from openiop.demo.utilization import ensure_demo_authorizations
from openiop.utilization import units
from openiop.utilization.models import Authorization, UtilizationReview
from openiop.utilization.tests.conftest import make_stay


def test_the_demo_shapes_and_is_idempotent(clinic, payer_rule):
    stays = [make_stay(clinic, name) for name in ("Ann", "Ben", "Cal", "Dee", "Eve")]
    make_stay(clinic, "Sam", payer_kind="self_pay")
    stays[1].day(2)
    today = stays[0].today
    assert ensure_demo_authorizations(clinic.org, today) == 5
    by_episode = {a.episode_id: a for a in Authorization.objects.all()}
    first, second, third, fourth, fifth = (by_episode[s.episode.pk] for s in stays)
    assert (first.end_date - today).days == 3
    assert units.refreshed(second).remaining == 2
    assert third.reviews.get().outcome == UtilizationReview.Outcome.DENIED and third.units_authorized > 3
    assert fourth.reviews.get().outcome == UtilizationReview.Outcome.EXTENDED and fourth.end_date > today
    assert fifth.status == Authorization.Status.REQUESTED and fifth.reviews.get().outcome == "pending"
    assert ensure_demo_authorizations(clinic.org, today) == 0
    assert Authorization.objects.count() == 5
