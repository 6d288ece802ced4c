"""The daily testing job: a random schedule draws once a week from the program's active patients, stores the seed,
population and picks (and drawing again from them gives the same picks), and orders each pick's test; a fixed
schedule orders everyone on its weekdays; running twice orders nothing twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from openiop.labs import actions
from openiop.labs.jobs import order_scheduled_tests, reproduces, week_days
from openiop.labs.models import SchedulePick, TestOrder
from openiop.labs.tests.support import su_episode
from openiop.patients.models import EpisodeOfCare

MONDAY = date(2026, 11, 30)


@pytest.fixture
def su_patients(clinic) -> list[EpisodeOfCare]:
    episodes = [su_episode(clinic, name) for name in ("Avery", "Blake", "Casey", "Drew", "Emery", "Finley", "Gray")]
    EpisodeOfCare.objects.filter(pk=episodes[-1].pk).update(status=EpisodeOfCare.Status.ON_HOLD)  # not drawn
    return episodes


def test_a_random_schedule_draws_once_a_week_and_its_draw_can_be_checked(clinic, su_patients):
    actions.do_set_schedule(clinic.su, acting_user=clinic.director, mode="random", percent=50, weekdays=[],
                            kind="cup", is_active=True)  # fmt: skip
    assert order_scheduled_tests(MONDAY + timedelta(days=1)) == {"drawn": 1, "ordered": 3}  # half of 6, rounded up
    assert order_scheduled_tests(MONDAY + timedelta(days=2)) == {"drawn": 0, "ordered": 0}  # same week
    pick = SchedulePick.objects.get()
    assert pick.day == MONDAY and pick.seed is not None and len(pick.population) == 6
    assert str(su_patients[-1].public_id) not in pick.population
    assert reproduces(pick)
    orders = TestOrder.objects.filter(pick=pick)
    assert sorted(str(o.episode.public_id) for o in orders) == sorted(p["episode"] for p in pick.picks)
    assert all(o.reason == "random" and o.ordered_by is None for o in orders)
    assert all(MONDAY + timedelta(days=1) <= o.due_on <= MONDAY + timedelta(days=4) for o in orders)
    # A tampered record no longer reproduces from its seed.
    pick.picks = list(reversed(pick.picks))
    assert not reproduces(pick)
    assert order_scheduled_tests(MONDAY + timedelta(days=7))["drawn"] == 1  # the next week


def test_a_fixed_schedule_orders_everyone_on_its_weekdays(clinic, su_patients):
    actions.do_set_schedule(clinic.su, acting_user=clinic.director, mode="fixed", percent=100, weekdays=[0, 3],
                            kind="breath", is_active=True)  # fmt: skip
    assert order_scheduled_tests(MONDAY + timedelta(days=1))["drawn"] == 0  # Tuesday
    assert order_scheduled_tests(MONDAY) == {"drawn": 1, "ordered": 6}
    assert order_scheduled_tests(MONDAY) == {"drawn": 0, "ordered": 0}
    assert {(o.kind, o.reason, o.due_on, tuple(o.analytes)) for o in TestOrder.objects.all()} == {
        ("breath", "scheduled", MONDAY, ("BAC",))
    }
    assert reproduces(SchedulePick.objects.get())


def test_an_inactive_schedule_orders_nothing_and_bad_settings_name_the_field(clinic, su_patients):
    actions.do_set_schedule(clinic.su, acting_user=clinic.director, mode="random", percent=20, weekdays=[],
                            kind="cup", is_active=False)  # fmt: skip
    assert order_scheduled_tests(MONDAY)["drawn"] == 0
    with pytest.raises(ValidationError) as caught:
        actions.do_set_schedule(clinic.su, acting_user=clinic.director, mode="random", percent=0, weekdays=[],
                                kind="hair", is_active=True)  # fmt: skip
    assert set(caught.value.message_dict) == {"percent", "kind"}
    with pytest.raises(ValidationError) as caught:
        actions.do_set_schedule(clinic.su, acting_user=clinic.director, mode="fixed", percent=10, weekdays=[9],
                                kind="cup", is_active=True)  # fmt: skip
    assert set(caught.value.message_dict) == {"weekdays"}


def test_the_week_runs_to_friday_or_over_the_weekend_when_drawn_on_one():
    assert week_days(MONDAY) == [MONDAY + timedelta(days=i) for i in range(5)]
    assert week_days(MONDAY + timedelta(days=4)) == [MONDAY + timedelta(days=4)]
    saturday = MONDAY + timedelta(days=5)
    assert week_days(saturday) == [saturday, saturday + timedelta(days=1)]
