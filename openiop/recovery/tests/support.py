"""Records the recovery tests read: meetings, a check-in and a sponsor, written through the actions."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from openiop.recovery.actions import do_check_in_capital, do_log_meeting, do_set_recovery_policy, do_set_sponsor


def log_meetings(patient, user, *, days=(0, 2, 9), kind="aa", note="Home group.", episode=None):
    episode = episode or patient.episodes.get()
    today = timezone.localdate()
    return [
        do_log_meeting(
            patient,
            acting_user=user,
            episode=episode,
            met_on=today - timedelta(days=d),
            kind=kind,
            mode="in_person",
            note=note,
        )
        for d in days
    ]


def with_supports(clinic, patient, user):
    """Three meetings, a sponsor and two check-ins (the program asks them) for ``patient``'s one episode."""
    log_meetings(patient, user)
    do_set_sponsor(patient, acting_user=user, name="Dana Whitfield", phone="555-0177")
    program = patient.episodes.get().program
    do_set_recovery_policy(program, acting_user=clinic.director, capital_check_ins=True, capital_every_days=14)
    episode = patient.episodes.get()
    for days, value in ((15, 2), (0, 4)):
        do_check_in_capital(patient, acting_user=user, episode=episode, now=timezone.now() - timedelta(days=days),
                            social=value, physical=3, human=value, cultural=1)  # fmt: skip
    return patient
