"""Due and overdue: the first plan counts calendar days; reviews are pulled back to a working day (weekends and the
site's closures), configurable per program."""

from __future__ import annotations

from datetime import date

from openiop.plans import policy
from openiop.plans.models import PlanPolicy
from openiop.scheduling.models import Closure


def test_the_first_plan_counts_calendar_days_through_weekends_and_holidays(clinic, patient, settings):
    episode = patient.episodes.get()
    Closure.objects.create(organization=clinic.org, date=date(2026, 11, 5), name="Closed")
    assert policy.plan_due_on(episode) == date(2026, 11, 9)  # Nov 2 + 7, Saturday and a closure in between
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "treatment_plan_due_days": 5}
    assert policy.plan_due_on(episode) == date(2026, 11, 7)  # a Saturday: calendar days, not moved


def test_a_review_due_on_a_weekend_is_pulled_back_to_friday(clinic):
    # Oct 1 2026 + 30 = Oct 31, a Saturday.
    assert policy.review_due_on(clinic.mh, date(2026, 10, 1)) == date(2026, 10, 30)


def test_a_review_due_on_a_holiday_moves_to_the_working_day_before(clinic):
    # Oct 27 + 30 = Nov 26 2026 (Thanksgiving, a Thursday); the site is closed, so Wednesday.
    Closure.objects.create(organization=clinic.org, site=clinic.site, date=date(2026, 11, 26), name="Thanksgiving")
    assert policy.review_due_on(clinic.mh, date(2026, 10, 27)) == date(2026, 11, 25)
    # A closure of another site does not move this program's review.
    assert policy.review_due_on(clinic.teen, date(2026, 10, 27)) == date(2026, 11, 26)


def test_a_holiday_friday_before_a_weekend_goes_back_to_thursday(clinic):
    Closure.objects.create(organization=clinic.org, date=date(2026, 10, 30), name="Closed")
    assert policy.review_due_on(clinic.mh, date(2026, 10, 1)) == date(2026, 10, 29)


def test_the_program_policy_overrides_the_interval(clinic):
    PlanPolicy.objects.create(program=clinic.mh, plan_review_interval_days=14)
    assert policy.review_due_on(clinic.mh, date(2026, 11, 2)) == date(2026, 11, 16)
    assert policy.review_due_on(clinic.su, date(2026, 11, 2)) == date(2026, 12, 2)


def test_due_states():
    today = date(2026, 11, 10)
    assert policy.due_state(date(2026, 11, 9), today) == "overdue"
    assert policy.due_state(date(2026, 11, 10), today) == "due_today"
    assert policy.due_state(date(2026, 11, 11), today) == "due"
    assert policy.due_state(date(2026, 11, 9), today, done=True) == ""
