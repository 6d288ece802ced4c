"""Each week's minimum follows the level of care in force that week: weeks before a step up or down keep the old
level's dose (docs/clinical-rules.md#level-of-care)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openiop.attendance.dose import current_week_doses, episode_doses, minutes_from_hours
from openiop.patients.actions import do_change_level_of_care
from openiop.patients.models import EpisodeOfCare
from openiop.programs.actions import do_update_program
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.testing.levels import add_op, add_php
from openiop.testing.scheduling import admit


def _stepped_up(clinic, php, name: str) -> EpisodeOfCare:
    episode = admit(clinic, name, admitted_days_ago=15)
    starts_on = episode.admitted_on or timezone.localdate()
    do_enroll(episode, acting_user=clinic.clinician, track=clinic.day, starts_on=starts_on)
    return do_change_level_of_care(
        episode, acting_user=clinic.director, track=php.track, effective_on=timezone.localdate(), reason="Step up"
    )


def test_weeks_before_the_change_keep_the_old_dose_and_later_weeks_follow_the_new_level(clinic):
    php = add_php(clinic)
    episode = _stepped_up(clinic, php, "Ana")
    today = timezone.localdate()
    admitted = episode.admitted_on
    assert admitted is not None
    later = timezone.now() + timedelta(days=14)
    (dose,) = episode_doses([EpisodeOfCare.objects.get(pk=episode.pk)], now=later)
    assert len(dose.weeks) >= 4
    for week in dose.weeks:
        owed_from = max(week.start, admitted)
        expected = Decimal(9) if owed_from < today else Decimal(20)
        assert week.full_minimum == minutes_from_hours(expected), week.start
    # The current period reads the program live; the past one keeps what was recorded when it ended.
    do_update_program(php.program, acting_user=clinic.sysadmin, weekly_dose_hours=Decimal(22))
    do_update_program(clinic.mh, acting_user=clinic.sysadmin, weekly_dose_hours=Decimal(10))
    fresh = EpisodeOfCare.objects.select_related("program").get(pk=episode.pk)
    assert fresh.dose_hours_on(admitted) == Decimal(9)
    assert fresh.dose_hours_on(today + timedelta(days=7)) == Decimal(22)


def test_the_week_of_a_step_down_owes_the_lower_level(clinic):
    op = add_op(clinic, days_ahead=(1, 3, 8))
    episode = admit(clinic, "Bo", admitted_days_ago=15)
    assert episode.admitted_on is not None
    do_enroll(episode, acting_user=clinic.clinician, track=clinic.day, starts_on=episode.admitted_on)
    today = timezone.localdate()
    do_change_level_of_care(episode, acting_user=clinic.director, track=op.track, effective_on=today, reason="Down")
    (dose,) = episode_doses([EpisodeOfCare.objects.get(pk=episode.pk)], now=timezone.now() + timedelta(days=14))
    op_minimum = minutes_from_hours(op.program.weekly_dose_hours)
    assert op_minimum < minutes_from_hours(Decimal(9))
    for week in dose.weeks:
        changed_by_week_end = today <= week.start + timedelta(days=6)
        expected = op_minimum if changed_by_week_end else minutes_from_hours(Decimal(9))
        assert week.full_minimum == expected, week.start


def test_query_counts_do_not_grow_with_stepped_episodes(clinic):
    php = add_php(clinic, capacity=12)
    few = [_stepped_up(clinic, php, "Ana")]
    many = few + [_stepped_up(clinic, php, f"P{n}") for n in range(4)] + [admit(clinic, "Plain")]
    now = timezone.now() + timedelta(days=14)
    counts = []
    for episodes in (few, many):
        fresh = [EpisodeOfCare.objects.get(pk=e.pk) for e in episodes]
        with CaptureQueriesContext(connection) as ctx:
            current_week_doses(fresh, now=now)
            episode_doses(fresh, now=now)
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts
