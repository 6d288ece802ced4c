"""The daily utilization watch (``openiop.jobs`` runs it once a day): work-queue tasks for what the flags say.

For the approved authorizations of open episodes (active or on hold) in active programs, and for those episodes'
billable days outside any approved authorization:

- ``auth_expiring`` (flag ``expiring``), key ``auth_expiring:<authorization>:<end date>``, due on the end date;
- ``auth_units_low`` (flags ``units_low`` or ``over``), key ``auth_units_low:<authorization>:<units authorized>``,
  due today;
- ``ur_due`` (flag ``review_due``), key ``ur_due:<authorization>:<review date, or the units when it depends on
  them>``, due on the review date (today when past or by units);
- ``days_unauthorized``, per episode, key ``auth_days:<episode>:<first such day>``, due today.

The key names the cycle (an extension moves the end date and the units), so a new cycle gets a new task even after
staff closed the last one; within a cycle a task is raised once however often the job runs. An open task whose
condition no longer holds (or whose cycle has passed) is closed by the system as not needed; if the condition comes
back in the same cycle, that task is reopened. Assigned like every rule's task (``worklist.actions.assignee_for``:
the episode's primary clinician, else the program's director), who writes the clinical update the review needs;
billing staff work the same conditions from /utilization/ (the work queue is a clinical page they do not read).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program
from openiop.utilization import flags
from openiop.utilization.models import Authorization
from openiop.utilization.queries import rows, unauthorized_episodes
from openiop.worklist import actions
from openiop.worklist.models import WorkTask

Kind = WorkTask.Kind
KINDS = (Kind.AUTH_EXPIRING, Kind.AUTH_UNITS_LOW, Kind.UR_DUE, Kind.DAYS_UNAUTHORIZED)
OPEN_EPISODE = (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD)


@dataclass(frozen=True)
class Wanted:
    kind: str
    episode: EpisodeOfCare
    reason: str
    due_on: date


def _units(n: int, kind: str) -> str:
    word = "day" if kind == Authorization.UnitKind.DAYS else "session"
    return f"{n} {word}" if abs(n) == 1 else f"{n} {word}s"


def _number(auth: Authorization) -> str:
    return f"authorization {auth.number}" if auth.number else "authorization"


def wanted_for(auth: Authorization) -> dict[str, Wanted]:
    """The tasks one flagged authorization (``queries.rows``) calls for, by trigger key."""
    f: flags.Flags = auth.flags  # type: ignore[attr-defined]
    today: date = auth.today  # type: ignore[attr-defined]
    ep, pid, out = auth.episode, auth.public_id, {}
    if flags.EXPIRING in f:
        days = (auth.end_date - today).days
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        out[f"auth_expiring:{pid}:{auth.end_date.isoformat()}"] = Wanted(
            Kind.AUTH_EXPIRING, ep, f"Payer {_number(auth)} ends {when} ({auth.end_date:%a} {auth.end_date.day} "
            f"{auth.end_date:%b})", auth.end_date,
        )  # fmt: skip
    if flags.UNITS_LOW in f or flags.OVER in f:
        used = f"{auth.used} of {_units(auth.units_authorized, auth.unit_kind)} used"
        what = (
            f"Over authorization by {_units(-auth.remaining, auth.unit_kind)}"
            if auth.remaining < 0
            else f"{_units(auth.remaining, auth.unit_kind)} left"
        )
        out[f"auth_units_low:{pid}:{auth.units_authorized}"] = Wanted(
            Kind.AUTH_UNITS_LOW, ep, f"{what} on {_number(auth)} ({used})", today
        )
    if flags.REVIEW_DUE in f and f.review_on is not None:
        by_units = auth.review_due_on is None and auth.review_at_units_left is not None
        cycle = f"units{auth.units_authorized}" if by_units else f.review_on.isoformat()
        out[f"ur_due:{pid}:{cycle}"] = Wanted(
            Kind.UR_DUE, ep, f"Concurrent review due {f.review_on:%a} {f.review_on.day} {f.review_on:%b} for "
            f"{_number(auth)} ({_units(auth.remaining, auth.unit_kind)} left)", max(f.review_on, today),
        )  # fmt: skip
    return out


def wanted_tasks() -> dict[str, Wanted]:
    live = Authorization.objects.filter(
        status=Authorization.Status.APPROVED, episode__status__in=OPEN_EPISODE, episode__program__is_active=True
    ).order_by("pk")
    wanted: dict[str, Wanted] = {}
    for auth in rows(live):
        wanted.update(wanted_for(auth))
    program_ids = list(Program.objects.filter(is_active=True).values_list("pk", flat=True))
    for found in unauthorized_episodes(program_ids, open_only=True):
        day = "day" if found.days == 1 else "days"
        today = found.episode.program.now().date()
        wanted[f"auth_days:{found.episode.public_id}:{found.first.isoformat()}"] = Wanted(
            Kind.DAYS_UNAUTHORIZED, found.episode, f"{found.days} billable {day} without an approved authorization "
            f"({found.first:%b} {found.first.day} to {found.last:%b} {found.last.day})", today,
        )  # fmt: skip
    return wanted


def raise_authorization_flags() -> dict[str, Any]:
    """The periodic job: raise, reopen and close the tasks; counts of each. Idempotent and safe to run twice."""
    wanted = wanted_tasks()
    tasks = {t.trigger_key: t for t in WorkTask.objects.filter(trigger_key__in=list(wanted))}
    raised = reopened = closed = 0
    for key, w in wanted.items():
        task = tasks.get(key)
        if task is None:
            _, created = actions.do_raise_task(
                acting_user=None, episode=w.episode, kind=w.kind, trigger_key=key, reason=w.reason, due_on=w.due_on
            )
            raised += int(created)
        elif actions.do_reopen_task(task, acting_user=None, due_on=w.due_on):
            reopened += 1
    stale = WorkTask.objects.filter(kind__in=KINDS, status=WorkTask.Status.OPEN).exclude(trigger_key__in=list(wanted))
    for task in stale.order_by("pk"):
        closed += int(actions.do_close_task_not_needed(task, acting_user=None, note="No longer flagged."))
    return {"flagged": len(wanted), "raised": raised, "reopened": reopened, "closed": closed}
