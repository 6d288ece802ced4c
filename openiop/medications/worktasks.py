"""The work-queue task for a medication reconciliation owed (``med_reconciliation``), for the episode's primary
clinician (``worklist.actions.assignee_for``: else the program's director).

Owed means exactly what the Medications tab says (``queries.dues_for``): an admitted open episode with no
reconciliation signed yet (intake), or one whose level of care changed with no level-of-care reconciliation signed
since. The daily job (``openiop.jobs``, "med_reconciliations") raises the task once per occasion: its key names the
episode, the occasion and the day it became owed (``med_reconciliation:<episode>:<occasion>:<since>``), so a second
run raises nothing and a later step down or up is a new task. A daily job rather than the episode events because the
admission is where the primary clinician is named just after (referrals' admission), and because a step down or up
that the tab shows at once needs no second, earlier signal.

Signing the reconciliation closes the task in the signature's transaction (``close_settled``); the job closes, as no
longer needed, the open ones nothing owes any more (the episode discharged, or signed in a way the job alone saw).
"""

from __future__ import annotations

from typing import Any

from openiop.accounts.models import User
from openiop.medications.queries import Due, dues_for
from openiop.patients.models import EpisodeOfCare
from openiop.worklist import actions as worklist
from openiop.worklist.models import WorkTask

KIND = WorkTask.Kind.MED_RECONCILIATION
SIGNED_NOTE = "Reconciliation signed."
STALE_NOTE = "No reconciliation owed."


def trigger_key(due: Due) -> str:
    return f"{KIND}:{due.episode.public_id}:{due.occasion}:{due.since.isoformat()}"


def reason(due: Due) -> str:
    # The occasion and its day only: the queue never shows what the patient takes.
    return f"Medication reconciliation owed: {due.label.lower()} ({due.since:%a} {due.since.day} {due.since:%b})"


def close_settled(episode: EpisodeOfCare, *, acting_user: User | None, note: str = SIGNED_NOTE) -> int:
    """Close the episode's open reconciliation tasks the tab no longer shows as owed; how many were closed."""
    owed = {trigger_key(d) for d in dues_for(EpisodeOfCare.objects.filter(pk=episode.pk))}
    closed = 0
    for task in WorkTask.objects.filter(episode=episode, kind=KIND, status=WorkTask.Status.OPEN).order_by("pk"):
        if task.trigger_key not in owed:
            closed += int(worklist.do_close_task_not_needed(task, acting_user=acting_user, note=note))
    return closed


def raise_reconciliation_tasks() -> dict[str, Any]:
    """The periodic job: a task for each reconciliation owed in an active program, once; the stale ones closed."""
    wanted = {trigger_key(d): d for d in dues_for(EpisodeOfCare.objects.filter(program__is_active=True))}
    raised = closed = 0
    for key, due in wanted.items():
        _, created = worklist.do_raise_task(
            acting_user=None, episode=due.episode, kind=KIND, trigger_key=key, reason=reason(due),
            due_on=due.episode.program.now().date(),
        )  # fmt: skip
        raised += int(created)
    stale = WorkTask.objects.filter(kind=KIND, status=WorkTask.Status.OPEN).exclude(trigger_key__in=list(wanted))
    for task in stale.order_by("pk"):
        closed += int(worklist.do_close_task_not_needed(task, acting_user=None, note=STALE_NOTE))
    return {"owed": len(wanted), "raised": raised, "closed": closed}
