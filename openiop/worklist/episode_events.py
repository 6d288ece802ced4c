"""The work queue's part of a discharge (``patients.events.EpisodeDischarged``), inside the transition's transaction.

The episode's open tasks are closed as no longer needed, with the note "Episode discharged" (outcome, closer and
time on the task, an audit row each), except the ones whose work outlives the stay:

- ``note_due`` and ``cosign_needed``: a session held before the discharge still needs its signed note (the record
  must be complete whatever happened next);
- ``follow_up``: the aftercare check-ins exist because of the discharge (discharge raises them after the transition).

A hold closes nothing: outreach and reviews raised before it are still the clinician's to decide on.
"""

from __future__ import annotations

from openiop.patients import events
from openiop.worklist.actions import do_close_task_not_needed
from openiop.worklist.models import WorkTask

APP = "worklist"
DISCHARGE_NOTE = "Episode discharged"
SURVIVE_DISCHARGE = frozenset({WorkTask.Kind.NOTE_DUE, WorkTask.Kind.COSIGN_NEEDED, WorkTask.Kind.FOLLOW_UP})


def on_discharged(event: events.EpisodeDischarged) -> None:
    closed = 0
    for task in (
        WorkTask.objects.filter(episode=event.episode, status=WorkTask.Status.OPEN)
        .exclude(kind__in=SURVIVE_DISCHARGE)
        .order_by("pk")
    ):
        closed += do_close_task_not_needed(task, acting_user=event.acting_user, note=DISCHARGE_NOTE)
    event.report(APP, "tasks_closed", closed, "open tasks closed", "open task closed")
