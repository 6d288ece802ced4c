"""Writes for discharge: draft, edit and sign the summary and aftercare plan, schedule and record follow-ups.

The episode's status is never written here: ``patients.actions.do_change_episode_status`` discharges it with the
TEDS-D coded reason and the date, inside the same transaction as the signing (or the unplanned discharge), the
follow-ups and their work-queue tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.actions import apply_changes, validate
from openiop.core.models import AuditAction
from openiop.discharge import policy
from openiop.discharge.models import (
    CRISIS_RESOURCES,
    RELAPSE_PLAN_HEADINGS,
    SAFETY_PLAN_HEADINGS,
    AftercarePlan,
    DischargeSummary,
    FollowUp,
    StepDownLevel,
)
from openiop.discharge.snapshot import attendance_snapshot, goals_snapshot, measures_snapshot
from openiop.medications.summary import aftercare_lines, discharge_snapshot
from openiop.patients import events
from openiop.patients.actions import do_change_episode_status
from openiop.patients.models import EpisodeOfCare
from openiop.worklist.actions import do_close_task, do_close_task_not_needed, do_raise_task
from openiop.worklist.models import WorkTask

SUMMARY_FIELDS = ("reason", "discharge_on", "course_of_treatment", "condition_at_discharge")
AFTERCARE_FIELDS = (
    "step_down_level", "step_down_other", "appointment_provider", "appointment_organization", "appointment_phone",
    "appointment_address", "appointment_at", "support_groups", "medications", "safety_plan", "relapse_prevention",
    "family_supports",
)  # fmt: skip
NOTE_MAX = 2000
_SAFETY_KEYS = {k for k, _ in SAFETY_PLAN_HEADINGS}
_RELAPSE_KEYS = {k for k, _ in RELAPSE_PLAN_HEADINGS}
# Reasons after which nobody is there to call.
NO_FOLLOW_UP_REASONS = frozenset({EpisodeOfCare.DischargeReason.DEATH})
_OPEN = (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD)


def _episode_today(episode: EpisodeOfCare) -> date:
    return episode.program.now().date()


def _check_reason(reason: str) -> None:
    if reason not in EpisodeOfCare.DischargeReason.values:
        raise ValidationError({"reason": "Pick the discharge reason (TEDS-D codes 1-7)."})


def _check_date(episode: EpisodeOfCare, discharge_on: date | None) -> date:
    if discharge_on is None:
        raise ValidationError({"discharge_on": "Give the discharge date."})
    if episode.admitted_on and discharge_on < episode.admitted_on:
        raise ValidationError({"discharge_on": "Discharge must be on or after admission."})
    return discharge_on


def _take_snapshots(summary: DischargeSummary) -> None:
    now = timezone.now()
    summary.attendance = attendance_snapshot(summary.episode, now=now)
    summary.goals = goals_snapshot(summary.episode)
    summary.measures = measures_snapshot(summary.episode)
    summary.medications = discharge_snapshot(summary.episode, summary.discharge_on)
    summary.snapshot_at = now


def _initial_safety_plan() -> dict[str, list[str]]:
    return {"professionals": list(CRISIS_RESOURCES[:2])}


def _locked_episode(episode: EpisodeOfCare) -> EpisodeOfCare:
    # The row lock serializes two people starting or signing the same discharge.
    return (
        EpisodeOfCare.objects.select_for_update(of=("self",))
        .select_related("program__site", "patient", "track")
        .get(pk=episode.pk)
    )


@transaction.atomic
def do_start_discharge(
    episode: EpisodeOfCare,
    *,
    acting_user: User,
    reason: str,
    discharge_on: date | None,
    discharge_now: bool = False,
    consequences: list[events.Consequence] | None = None,
) -> DischargeSummary:
    """Draft the summary and the aftercare plan.

    Planned: the episode stays open until the summary is signed. Unplanned (``discharge_now``, e.g. the patient
    left): the episode is discharged at once with the coded reason, follow-ups are scheduled, and the summary is
    still due within ``discharge_summary_due_days``. An episode already discharged elsewhere (the Episodes tab)
    gets its summary drafted with the episode's own reason and date, and its follow-ups scheduled.
    """
    episode = _locked_episode(episode)
    if DischargeSummary.objects.filter(episode=episode).exists():
        raise ValidationError("A discharge summary already exists for this episode; open it.")
    if episode.status == EpisodeOfCare.Status.WAITLIST:
        raise ValidationError({"reason": "A waitlisted episode was never admitted: close it from the Episodes tab."})
    already = episode.status == EpisodeOfCare.Status.DISCHARGED
    if already:
        reason = episode.discharge_reason
        discharge_on = episode.discharged_on
    _check_reason(reason)
    discharge_on = _check_date(episode, discharge_on)
    if discharge_now and not already:
        if discharge_on > _episode_today(episode):
            raise ValidationError({"discharge_on": "A discharge that has happened cannot be dated in the future."})
        episode = do_change_episode_status(
            episode, acting_user=acting_user, status=EpisodeOfCare.Status.DISCHARGED, on_date=discharge_on,
            discharge_reason=reason, consequences=consequences,
        )  # fmt: skip
    summary = DischargeSummary(
        episode=episode,
        patient=episode.patient,
        reason=reason,
        discharge_on=discharge_on,
        due_on=discharge_on + timedelta(days=policy.summary_due_days()),
        author=acting_user,
    )
    _take_snapshots(summary)
    validate(summary, exclude=["episode", "patient", "author"])
    summary.save()
    plan = AftercarePlan.objects.create(
        episode=episode,
        patient=episode.patient,
        safety_plan=_initial_safety_plan(),
        medications=aftercare_lines(episode, discharge_on),  # a first draft, edited on the aftercare plan
    )
    for obj in (summary, plan):
        audit.record(
            action=AuditAction.CREATED,
            acting_user=acting_user,
            patient=episode.patient,
            obj=obj,
            changed_fields=["reason", "discharge_on", "attendance", "goals", "measures"]
            if obj is summary
            else ["safety_plan"],
        )
    if episode.status == EpisodeOfCare.Status.DISCHARGED:
        schedule_follow_ups(episode, acting_user=acting_user)
    return summary


def _editable(summary: DischargeSummary) -> DischargeSummary:
    summary = (
        DischargeSummary.objects.select_for_update(of=("self",))
        .select_related("episode__program__site", "patient")
        .get(pk=summary.pk)
    )
    if summary.is_signed:
        raise ValidationError("The discharge summary is signed and can no longer change.")
    return summary


@transaction.atomic
def do_update_summary(summary: DischargeSummary, *, acting_user: User, **fields: Any) -> list[str]:
    """Edit a draft summary. After an unplanned discharge the reason and date mirror the episode and are fixed."""
    summary = _editable(summary)
    episode = summary.episode
    changed = apply_changes(summary, fields, SUMMARY_FIELDS)
    if not changed:
        return []
    if "reason" in changed:
        _check_reason(summary.reason)
    if "discharge_on" in changed:
        _check_date(episode, summary.discharge_on)
        summary.due_on = summary.discharge_on + timedelta(days=policy.summary_due_days())
    if episode.status == EpisodeOfCare.Status.DISCHARGED:
        if summary.reason != episode.discharge_reason:
            raise ValidationError({"reason": "The episode is discharged with this reason; the summary mirrors it."})
        if summary.discharge_on != episode.discharged_on:
            raise ValidationError({"discharge_on": "The episode is discharged on this date; the summary mirrors it."})
    validate(summary, exclude=["episode", "patient", "author"])
    summary.save()
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=acting_user,
        patient=summary.patient,
        obj=summary,
        changed_fields=changed,
    )
    return changed


def _lines(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError({field: "Give a list of lines."})
    return [v.strip() for v in value if v.strip()]


def _clean_sections(value: Any, field: str, keys: set[str]) -> dict[str, list[str]]:
    if not isinstance(value, dict) or set(value) - keys:
        raise ValidationError({field: f"Use the headings {', '.join(sorted(keys))}."})
    return {k: lines for k, v in value.items() if (lines := _lines(v, field))}


def _clean_groups(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise ValidationError({"support_groups": "Give a list of groups with a name and a schedule."})
    groups = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"name", "schedule"}:
            raise ValidationError({"support_groups": "Each group has a name and a schedule."})
        name, schedule = str(item.get("name", "")).strip(), str(item.get("schedule", "")).strip()
        if schedule and not name:
            raise ValidationError({"support_groups": "Name the group that meets then."})
        if name:
            groups.append({"name": name, "schedule": schedule})
    return groups


@transaction.atomic
def do_update_aftercare(plan: AftercarePlan, *, acting_user: User, **fields: Any) -> list[str]:
    """Edit the aftercare plan while the summary is a draft; lists and headings are checked and trimmed."""
    plan = AftercarePlan.objects.select_for_update(of=("self",)).select_related("patient").get(pk=plan.pk)
    if plan.locked_at is not None:
        raise ValidationError("The aftercare plan was signed with the discharge summary and can no longer change.")
    if "support_groups" in fields:
        fields["support_groups"] = _clean_groups(fields["support_groups"])
    if "medications" in fields:
        fields["medications"] = _lines(fields["medications"], "medications")
    if "safety_plan" in fields:
        fields["safety_plan"] = _clean_sections(fields["safety_plan"], "safety_plan", _SAFETY_KEYS)
    if "relapse_prevention" in fields:
        fields["relapse_prevention"] = _clean_sections(
            fields["relapse_prevention"], "relapse_prevention", _RELAPSE_KEYS
        )
    changed = apply_changes(plan, fields, AFTERCARE_FIELDS)
    if not changed:
        return []
    if plan.step_down_level == StepDownLevel.OTHER and not plan.step_down_other.strip():
        raise ValidationError({"step_down_other": "Say what the other level or service is."})
    validate(plan, exclude=["episode", "patient"])
    plan.save()
    audit.record(
        action=AuditAction.UPDATED, acting_user=acting_user, patient=plan.patient, obj=plan, changed_fields=changed
    )
    return changed


def signing_problems(summary: DischargeSummary, plan: AftercarePlan | None) -> dict[str, str]:
    """What must be filled in before the summary can be signed, by field (empty when ready)."""
    problems: dict[str, str] = {}
    if not summary.course_of_treatment.strip():
        problems["course_of_treatment"] = "Describe the course of treatment."
    if plan is None or not plan.step_down_level:
        problems["step_down_level"] = "Choose the step-down level (or no further treatment)."
    elif plan.step_down_level not in (StepDownLevel.NONE,) and not (
        plan.appointment_provider.strip() or plan.appointment_organization.strip()
    ):
        problems["appointment_provider"] = "Name the provider or organization of the next appointment."
    if plan is not None and summary.reason != EpisodeOfCare.DischargeReason.DEATH:
        safety = plan.safety_plan or {}
        if not safety.get("professionals"):
            problems["safety_plan"] = "List at least one professional or crisis line (988) on the safety plan."
    return problems


@transaction.atomic
def do_sign_discharge(
    summary: DischargeSummary, *, acting_user: User, consequences: list[events.Consequence] | None = None
) -> DischargeSummary:
    """Sign the summary and lock the aftercare plan; an open episode is discharged now (coded reason, date) and the
    follow-ups and their tasks are scheduled, all in this one transaction. The discharge's consequences in the other
    apps (bookings, waitlists, reminders, tasks, measures) are appended to ``consequences`` when given."""
    episode = _locked_episode(summary.episode)
    summary = _editable(summary)
    plan = AftercarePlan.objects.select_for_update(of=("self",)).filter(episode=episode).first()
    problems = signing_problems(summary, plan)
    if problems:
        raise ValidationError(problems)
    today = _episode_today(episode)
    if episode.status in _OPEN:
        if summary.discharge_on > today:
            raise ValidationError({"discharge_on": "Sign on or after the discharge date; change the date if needed."})
        episode = do_change_episode_status(
            episode, acting_user=acting_user, status=EpisodeOfCare.Status.DISCHARGED, on_date=summary.discharge_on,
            discharge_reason=summary.reason, consequences=consequences,
        )  # fmt: skip
    elif episode.status != EpisodeOfCare.Status.DISCHARGED:
        raise ValidationError("Only an admitted episode can be discharged.")
    summary.episode = episode
    _take_snapshots(summary)
    now = timezone.now()
    summary.status = DischargeSummary.Status.SIGNED
    summary.signed_by = acting_user
    summary.signed_at = now
    summary.save()
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=summary.patient,
        obj=summary,
        changed_fields=["status", "signed_by", "signed_at", "attendance", "goals", "measures"],
    )
    if plan is not None:
        plan.locked_at = now
        plan.save(update_fields=["locked_at", "updated_at"])
        audit.record(
            action=AuditAction.STATUS_CHANGED,
            acting_user=acting_user,
            patient=summary.patient,
            obj=plan,
            changed_fields=["locked_at"],
        )
    schedule_follow_ups(episode, acting_user=acting_user)
    return summary


def _task_reason(days: int, due_on: date) -> str:
    # Staff words, no clinical detail: the task list is seen by the whole program.
    return f"Aftercare check-in {days} days after discharge (due {due_on:%a %-d %b})."


def schedule_follow_ups(episode: EpisodeOfCare, *, acting_user: User | None) -> list[FollowUp]:
    """The 7/30/90-day check-ins (``follow_up_days``) for a discharged episode, each with its work-queue task.

    Idempotent: a check-in already scheduled is kept. None after a death. Called inside the discharging
    transaction.
    """
    if episode.discharged_on is None or episode.discharge_reason in NO_FOLLOW_UP_REASONS:
        return []
    existing = set(FollowUp.objects.filter(episode=episode).values_list("days_after", flat=True))
    made = []
    for days in policy.follow_up_days():
        if days in existing:
            continue
        due_on = episode.discharged_on + timedelta(days=days)
        task, _ = do_raise_task(
            acting_user=acting_user,
            episode=episode,
            kind=WorkTask.Kind.FOLLOW_UP,
            trigger_key=f"follow_up:{episode.public_id}:{days}",
            reason=_task_reason(days, due_on),
            due_on=due_on,
        )
        follow_up = FollowUp.objects.create(
            episode=episode, patient=episode.patient, days_after=days, due_on=due_on, task=task
        )
        audit.record(
            action=AuditAction.CREATED,
            acting_user=acting_user,
            patient=episode.patient,
            obj=follow_up,
            changed_fields=["days_after", "due_on"],
        )
        made.append(follow_up)
    return made


@dataclass(frozen=True)
class FollowUpResult:
    outcome: str
    attending_aftercare: bool | None = None
    readmitted: bool | None = None
    note: str = ""


_TASK_OUTCOMES = {
    FollowUp.Outcome.UNABLE_TO_REACH: WorkTask.Outcome.NO_ANSWER,
    FollowUp.Outcome.DECEASED: WorkTask.Outcome.PLAN_CHANGED,
}


@transaction.atomic
def do_record_follow_up(follow_up: FollowUp, *, acting_user: User, result: FollowUpResult) -> FollowUp:
    """Record what the check-in found and close its task. "Unable to reach" marks it missed; a death closes the
    check-ins still due as not needed."""
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("episode__program__site", "patient")
        .get(pk=follow_up.pk)
    )
    if not follow_up.is_open:
        raise ValidationError({"outcome": "This check-in is already recorded."})
    outcome = result.outcome
    if outcome not in FollowUp.Outcome.values:
        raise ValidationError({"outcome": "Choose what the check-in found."})
    reached = outcome in FollowUp.REACHED
    readmitted = True if outcome == FollowUp.Outcome.READMITTED else result.readmitted
    if reached and result.attending_aftercare is None:
        raise ValidationError({"attending_aftercare": "Say whether they are attending aftercare."})
    if reached and readmitted is None:
        raise ValidationError({"readmitted": "Say whether they were readmitted to a higher level of care."})
    note = (result.note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"Keep the note under {NOTE_MAX} characters."})
    if follow_up.episode.discharged_on and _episode_today(follow_up.episode) < follow_up.episode.discharged_on:
        raise ValidationError({"outcome": "The patient is not discharged yet."})
    follow_up.outcome = outcome
    follow_up.attending_aftercare = result.attending_aftercare if reached else None
    follow_up.readmitted = readmitted if reached else None
    follow_up.note = note
    follow_up.status = FollowUp.Status.MISSED if outcome == FollowUp.Outcome.UNABLE_TO_REACH else FollowUp.Status.DONE
    follow_up.done_by = acting_user
    follow_up.done_at = timezone.now()
    follow_up.save()
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=follow_up.patient,
        obj=follow_up,
        changed_fields=["status", "outcome", "attending_aftercare", "readmitted", *(["note"] if note else [])],
    )
    if follow_up.task_id is not None and follow_up.task.status == WorkTask.Status.OPEN:  # type: ignore[union-attr]
        do_close_task(
            follow_up.task,  # type: ignore[arg-type]
            acting_user=acting_user,
            outcome=_TASK_OUTCOMES.get(FollowUp.Outcome(outcome), WorkTask.Outcome.REACHED),
            note=f"Follow-up recorded: {FollowUp.Outcome(outcome).label}.",
        )
    if outcome == FollowUp.Outcome.DECEASED:
        _close_remaining(follow_up, acting_user=acting_user)
    return follow_up


def _close_remaining(follow_up: FollowUp, *, acting_user: User) -> None:
    later = FollowUp.objects.select_for_update(of=("self",)).filter(
        episode_id=follow_up.episode_id, status=FollowUp.Status.DUE
    )
    for other in later.select_related("task", "patient"):
        other.status = FollowUp.Status.MISSED
        other.note = "Not needed: the patient died."
        other.done_by = acting_user
        other.done_at = timezone.now()
        other.save(update_fields=["status", "note", "done_by", "done_at", "updated_at"])
        audit.record(
            action=AuditAction.STATUS_CHANGED,
            acting_user=acting_user,
            patient=other.patient,
            obj=other,
            changed_fields=["status", "note"],
        )
        if other.task is not None:
            do_close_task_not_needed(other.task, acting_user=acting_user, note="Not needed: an earlier check-in.")
