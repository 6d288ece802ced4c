"""The work queue's part of a discharge and of a step down or up (``patients.events``), inside the transition's
transaction.

The episode's open tasks are closed as no longer needed, with the note "Episode discharged" (outcome, closer and
time on the task, an audit row each), except the ones whose work outlives the stay:

- ``note_due`` and ``cosign_needed``: a session held before the discharge still needs its signed note (the record
  must be complete whatever happened next);
- ``follow_up``: the aftercare check-ins exist because of the discharge (discharge raises them after the transition).

A hold closes nothing: outreach and reviews raised before it are still the clinician's to decide on.

A change of level of care (``LevelOfCareChanged``) moves the episode's open tasks to the new program's work queue,
whose staff now care for the person, except the notes and co-signatures owed for sessions held in the old program.
"""

from __future__ import annotations

from openiop.patients import events
from openiop.worklist.actions import do_close_task_not_needed, do_move_open_tasks
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


# Work about sessions held in the old program stays with the old program's queue.
STAY_WITH_OLD_PROGRAM = frozenset({WorkTask.Kind.NOTE_DUE, WorkTask.Kind.COSIGN_NEEDED})


def on_level_of_care_changed(event: events.LevelOfCareChanged) -> None:
    moved = do_move_open_tasks(
        event.episode, acting_user=event.acting_user, program=event.episode.program, keep=STAY_WITH_OLD_PROGRAM
    )
    event.report(
        APP,
        "tasks_moved",
        moved,
        f"open tasks moved to {event.episode.program.name}",
        f"open task moved to {event.episode.program.name}",
    )
