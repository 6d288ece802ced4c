"""The dose watch (periodic): a work-queue task once per episode-week whose weekly dose is at risk.

The dose engine (``attendance.dose``) says, live, whether this week's minimum is still reachable; the at-risk
report shows it to whoever looks. Nothing raised it into anyone's queue, so this job does, every 15 minutes:

- this week at risk (out of reach, or needing every remaining session after something was lost) raises one
  ``dose_at_risk`` task, key ``dose:<episode>:<week start>``: once per episode-week however often it runs;
- a task of this week whose dose is no longer at risk (a make-up booked, a correction, the minimum met) is
  closed by the system as *not needed*; if the week falls at risk again the same task is reopened;
- a closed week (missed or not) is left as it is: a missed week is for staff to close with what they did.

Assigned like every rule's task (``worklist.actions.assignee_for``), due the program-local today plus the
attendance policy's ``outreach_due_days``. The reason gives hours only, never other patients.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from openiop.attendance.dose import DoseStatus, WeekDose, current_week_doses
from openiop.attendance.policy import policy_for
from openiop.patients.models import EpisodeOfCare
from openiop.worklist import actions
from openiop.worklist.models import WorkTask

KIND = WorkTask.Kind.DOSE_AT_RISK


def dose_key(episode: EpisodeOfCare, week: WeekDose) -> str:
    return f"dose:{episode.public_id}:{week.start.isoformat()}"


def _reason(week: WeekDose) -> str:
    what = "out of reach" if week.status == DoseStatus.UNREACHABLE else "needs every remaining session"
    return (
        f"Weekly dose at risk ({what}): {week.attended_hours} of {week.minimum_hours} h attended, "
        f"{week.remaining_hours} h still scheduled, week of {week.start:%a} {week.start.day} {week.start:%b}"
    )


def raise_dose_flags(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    episodes = EpisodeOfCare.objects.filter(status=EpisodeOfCare.Status.ACTIVE, program__is_active=True).select_related(
        "patient", "program__site", "track"
    )
    doses = current_week_doses(list(episodes), now=now)
    keys = {dose_key(d.episode, d.week): d for d in doses}
    existing = {t.trigger_key: t for t in WorkTask.objects.filter(kind=KIND, trigger_key__in=list(keys))}
    due_days: dict[int, int] = {}  # one policy read per program, not per episode
    raised = reopened = closed = 0
    for key, dose in keys.items():
        week, episode = dose.week, dose.episode
        task = existing.get(key)
        if episode.program_id not in due_days:
            due_days[episode.program_id] = policy_for(episode.program).outreach_due_days
        due_on = now.astimezone(episode.program.tz()).date() + timedelta(days=due_days[episode.program_id])
        if week.at_risk:
            if task is None:
                _, created = actions.do_raise_task(
                    acting_user=None, episode=episode, kind=KIND, trigger_key=key, reason=_reason(week), due_on=due_on
                )
                raised += int(created)
            elif actions.do_reopen_task(task, acting_user=None, due_on=due_on):
                reopened += 1
        elif task is not None and task.status == WorkTask.Status.OPEN and not week.closed:
            note = f"This week's dose is no longer at risk ({week.status_label.lower()})."
            closed += int(actions.do_close_task_not_needed(task, acting_user=None, note=note))
    return {"episodes": len(doses), "raised": raised, "reopened": reopened, "closed": closed}
