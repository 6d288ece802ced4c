"""Factories for discharge tests: an admitted episode with attendance, and a discharge drafted or signed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from openiop.accounts.models import User
from openiop.attendance.actions import do_check_in
from openiop.discharge.actions import do_sign_discharge, do_start_discharge, do_update_aftercare, do_update_summary
from openiop.discharge.models import AftercarePlan, DischargeSummary
from openiop.patients.models import EpisodeOfCare
from openiop.testing.scheduling import local_at, make_booking, make_session


def today(episode: EpisodeOfCare) -> date:
    return episode.program.now().date()


def attend(episode: EpisodeOfCare, user: User, statuses: list[str], *, start_days_ago: int = 20) -> None:
    """One 3-hour group every other day from ``start_days_ago`` days ago, recorded with ``statuses`` in turn
    (a late arrival is five minutes late)."""
    for index, status in enumerate(statuses):
        starts = local_at(episode.program, -start_days_ago + 2 * index, 9)
        session = make_session(episode.program, starts, minutes=180, capacity=12)
        make_booking(session, episode.patient, episode=episode)
        extra: dict[str, Any] = {"late_minutes": 5} if status == "late" else {}
        do_check_in(session, episode.patient, acting_user=user, status=status, **extra)


FILLED_AFTERCARE: dict[str, Any] = {
    "step_down_level": "asam_1",
    "appointment_provider": "Dr. Ana Lee",
    "appointment_organization": "Lakeside Counseling",
    "appointment_phone": "555-0199",
    "support_groups": [{"name": "SMART Recovery", "schedule": "Tuesdays 7 pm"}],
    "medications": ["Sertraline 100 mg daily"],
    "safety_plan": {
        "warning_signs": ["Not sleeping", "Skipping meals"],
        "coping_strategies": ["Walk the dog"],
        "professionals": ["988 Suicide & Crisis Lifeline: call or text 988"],
    },
    "relapse_prevention": {"triggers": ["Payday Fridays"], "supports": ["Sponsor Sam"]},
    "family_supports": "Sister attends the family group.",
}


def drafted(
    episode: EpisodeOfCare, user: User, *, reason: str = "1", days_ago: int = 0, **start: Any
) -> DischargeSummary:
    summary = do_start_discharge(
        episode, acting_user=user, reason=reason, discharge_on=today(episode) - timedelta(days=days_ago), **start
    )
    do_update_summary(summary, acting_user=user, course_of_treatment="Attended groups; learned DBT skills.")
    plan = AftercarePlan.objects.get(episode=episode)
    do_update_aftercare(plan, acting_user=user, **FILLED_AFTERCARE)
    return DischargeSummary.objects.get(pk=summary.pk)


def signed(episode: EpisodeOfCare, user: User, **kwargs: Any) -> DischargeSummary:
    return do_sign_discharge(drafted(episode, user, **kwargs), acting_user=user)
