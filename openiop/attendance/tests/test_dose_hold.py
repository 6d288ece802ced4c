"""The days an episode spends on hold owe no dose (docs/clinical-rules.md, "On hold")."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from openiop.attendance.dose import DoseStatus, episode_doses, prorated_minimum
from openiop.patients.actions import do_change_episode_status
from openiop.patients.models import EpisodeOfCare
from openiop.testing.attendance import admit_to_track, this_monday

S = EpisodeOfCare.Status


def _status(clinic, episode: EpisodeOfCare, status: str, on_date) -> EpisodeOfCare:
    return do_change_episode_status(episode, acting_user=clinic.clinician, status=status, on_date=on_date)


def test_a_hold_inside_a_week_takes_its_days_out_of_the_minimum():
    start = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    # Monday/Wednesday/Friday, on hold from Wednesday: only Monday is owed, a third of 9 hours.
    off = {start + timedelta(days=i) for i in range(2, 7)}
    assert (
        prorated_minimum(540, start, first_day=None, last_day=None, meeting_days=[0, 2, 4], off_days=off).minimum == 180
    )


def test_a_week_on_hold_owes_no_dose(clinic):
    monday = this_monday(clinic.mh)
    episode = admit_to_track(clinic, "Hana", admitted_on=monday - timedelta(days=21), track=clinic.day)
    episode = _status(clinic, episode, S.ON_HOLD, monday - timedelta(days=14))
    episode = _status(clinic, episode, S.ACTIVE, monday - timedelta(days=7))
    assert episode.holds == [[(monday - timedelta(days=14)).isoformat(), (monday - timedelta(days=8)).isoformat()]]
    (dose,) = episode_doses([episode], now=timezone.now())
    by_start = {w.start: w for w in dose.weeks}
    assert by_start[monday - timedelta(days=14)].status == DoseStatus.NOT_DUE
    assert by_start[monday - timedelta(days=21)].is_due and by_start[monday - timedelta(days=7)].is_due
    assert monday - timedelta(days=14) not in {w.start for w in dose.weeks_due}
