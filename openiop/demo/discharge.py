"""The demo clinic's discharges: every discharged episode gets a signed summary written after the fact (the
episodes were discharged from the Episodes tab), an aftercare plan with invented providers (555-01xx numbers), and
its 7/30/90-day check-ins; those already past are recorded with varied outcomes except the most recent one, which
stays overdue so the follow-ups page has something to chase. Built through the real actions, deterministic, and
idempotent: an episode that already has a summary is left alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction

from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.discharge.actions import (
    FollowUpResult,
    do_record_follow_up,
    do_sign_discharge,
    do_start_discharge,
    do_update_aftercare,
    do_update_summary,
)
from openiop.discharge.models import AftercarePlan, DischargeSummary, FollowUp, StepDownLevel
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Organization

Reason = EpisodeOfCare.DischargeReason
Outcome = FollowUp.Outcome


@dataclass(frozen=True)
class DemoAftercare:
    step_down_level: str
    provider: str
    organization: str
    phone: str
    address: str
    groups: tuple[tuple[str, str], ...]


# Used in turn; the transferred episode steps up instead (see _aftercare).
AFTERCARE = [
    DemoAftercare(StepDownLevel.OUTPATIENT_THERAPY, "Dr. Alba Moreno", "Northside Counseling (fictional)",
                  "555-0142", "12 Mill Street, Suite 3", (("SMART Recovery", "Tuesdays 7 pm"),)),
    DemoAftercare(StepDownLevel.ASAM_1, "Lee Harmon, LPC", "Cedar Point Therapy Group (fictional)", "555-0157",
                  "400 Orchard Avenue", (("Alcoholics Anonymous, Riverside Home Group", "Mondays and Thursdays 8 pm"),
                                          ("Family support group", "Saturdays 10 am"))),
    DemoAftercare(StepDownLevel.OUTPATIENT_THERAPY, "Jo Patterson, LCSW", "Valley Family Practice (fictional)",
                  "555-0163", "88 Meadow Road", (("DBSA peer support", "Wednesdays 6 pm"),)),
]  # fmt: skip
TRANSFER_AFTERCARE = DemoAftercare(
    StepDownLevel.RESIDENTIAL, "Admissions team", "Lakeside Residential (fictional)", "555-0171", "1 Lakeside Drive", ()
)
COURSE = {
    Reason.COMPLETED: "Attended the group schedule with few absences; learned and practised DBT distress-tolerance "
    "and CBT skills; completed a relapse-prevention plan with the family.",
    Reason.DROPPED_OUT: "Attended the first weeks, then stopped coming; outreach calls went unanswered. Discharged "
    "against advice after the program's absence policy.",
    Reason.TRANSFERRED: "Symptoms and use escalated despite added individual sessions; referred to residential "
    "care with the patient's agreement.",
}
CONDITION = {
    Reason.COMPLETED: "Stable, engaged, mood improved; no current suicidal ideation.",
    Reason.DROPPED_OUT: "Not seen at discharge; last contact stable.",
    Reason.TRANSFERRED: "Needs a higher level of care; safe for transfer.",
}
SAFETY_PLAN: dict[str, list[str]] = {
    "warning_signs": ["Sleeping less than five hours", "Staying in my room and skipping meals"],
    "coping_strategies": ["Walk the dog around the block", "Paced breathing for five minutes"],
    "distractions": ["Coffee with my cousin", "The library on Main Street"],
    "help_contacts": ["Sister: 555-0188", "Sponsor: 555-0190"],
    "professionals": [
        "988 Suicide & Crisis Lifeline: call or text 988, or chat at 988lifeline.org (24/7)",
        "SAMHSA National Helpline (substance use, mental health): 1-800-662-4357 (24/7, free, confidential)",
    ],
    "safe_environment": ["Medications kept by my sister", "No alcohol in the house"],
    "reasons_for_living": ["My kids"],
}
RELAPSE_PLAN: dict[str, list[str]] = {
    "triggers": ["Payday Fridays", "Arguments at home"],
    "warning_signs": ["Skipping meetings"],
    "coping_strategies": ["Call my sponsor before going out"],
    "supports": ["Sponsor", "Sister"],
    "if_lapse": ["Tell my counselor at the next session; go to a meeting the same day"],
}
# Outcomes for the check-ins already past, used in turn.
OUTCOMES = [
    FollowUpResult(Outcome.REACHED_AFTERCARE, attending_aftercare=True, readmitted=False,
                   note="Seeing the outpatient therapist weekly."),
    FollowUpResult(Outcome.REACHED_WELL, attending_aftercare=True, readmitted=False),
    FollowUpResult(Outcome.UNABLE_TO_REACH, note="Two calls, voicemail left."),
    FollowUpResult(Outcome.REACHED_STRUGGLING, attending_aftercare=False, readmitted=False,
                   note="Missed the first appointment; rebooked and gave the crisis numbers again."),
    FollowUpResult(Outcome.REACHED_AFTERCARE, attending_aftercare=True, readmitted=False),
    FollowUpResult(Outcome.DECLINED),
]  # fmt: skip


def _aftercare(episode: EpisodeOfCare, index: int) -> dict[str, Any]:
    spec = TRANSFER_AFTERCARE if episode.discharge_reason == Reason.TRANSFERRED else AFTERCARE[index % len(AFTERCARE)]
    assert episode.discharged_on is not None
    # The first appointment is within a week of discharge, on a weekday at 10 am in the program's zone.
    day = episode.discharged_on + timedelta(days=3 + index % 4)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    fields: dict[str, Any] = {
        "step_down_level": spec.step_down_level,
        "appointment_provider": spec.provider,
        "appointment_organization": spec.organization,
        "appointment_phone": spec.phone,
        "appointment_address": spec.address,
        "appointment_at": datetime.combine(day, time(10), tzinfo=episode.program.tz()),
        "support_groups": [{"name": name, "schedule": when} for name, when in spec.groups],
        "safety_plan": SAFETY_PLAN,
        "family_supports": "Sister attended two family sessions and holds the medications.",
    }
    if episode.program.focus == episode.program.Focus.SUBSTANCE_USE:
        fields["relapse_prevention"] = RELAPSE_PLAN
    return fields


def _author(episode: EpisodeOfCare, director: User | None) -> User:
    author = episode.primary_clinician or director
    if author is None:
        raise ValueError("The demo clinic has no clinician to sign discharge summaries.")
    return author


@transaction.atomic
def ensure_demo_discharges(organization: Organization, today: date) -> int:
    """Sign summaries for discharged episodes that have none and record their past check-ins; the number signed."""
    episodes = list(
        EpisodeOfCare.objects.filter(
            patient__organization=organization,
            status=EpisodeOfCare.Status.DISCHARGED,
            discharged_on__isnull=False,
        )
        .exclude(pk__in=DischargeSummary.objects.values("episode_id"))
        .select_related("program__site", "patient", "primary_clinician")
        .order_by("discharged_on", "pk")
    )
    if not episodes:
        return 0
    director = User.objects.filter(organization=organization, role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    for index, episode in enumerate(episodes):
        author = _author(episode, director)
        summary = do_start_discharge(episode, acting_user=author, reason=episode.discharge_reason, discharge_on=None)
        reason = Reason(summary.reason)
        do_update_summary(
            summary,
            acting_user=author,
            course_of_treatment=COURSE.get(reason, COURSE[Reason.COMPLETED]),
            condition_at_discharge=CONDITION.get(reason, ""),
        )
        plan = AftercarePlan.objects.get(episode=episode)
        do_update_aftercare(plan, acting_user=author, **_aftercare(episode, index))
        do_sign_discharge(summary, acting_user=author)
    _record_past_check_ins([e.pk for e in episodes], today, director)
    return len(episodes)


def _record_past_check_ins(episode_ids: list[int], today: date, director: User | None) -> None:
    past = list(
        FollowUp.objects.filter(episode_id__in=episode_ids, status=FollowUp.Status.DUE, due_on__lt=today)
        .select_related("episode__primary_clinician")
        .order_by("due_on", "pk")
    )
    # The most recent one stays open: the overdue check-in the follow-ups page shows first.
    for index, follow_up in enumerate(past[:-1]):
        do_record_follow_up(
            follow_up, acting_user=_author(follow_up.episode, director), result=OUTCOMES[index % len(OUTCOMES)]
        )
