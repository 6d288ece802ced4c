"""`openiop note_deadlines`: raise the work-queue tasks of notes due today or overdue, and of notes waiting for a
co-signature (idempotent: each trigger key raises one task, so running it every hour raises nothing twice)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from openiop.attendance.models import AttendanceRecord
from openiop.notes.models import ProgressNote
from openiop.notes.queries import DueItem, due_items
from openiop.notes.tasks import note_due_key, raise_cosign_needed, raise_note_due
from openiop.programs.models import Program


def _targets(item: DueItem) -> list[tuple[Any, Any, Any]]:
    """(episode, patient, who must write it) for each person the owed note is about."""
    if item.note is not None:
        return [(item.note.episode, item.note.patient, item.note.author)]
    assert item.session is not None
    records = AttendanceRecord.objects.filter(
        session=item.session, status__in=AttendanceRecord.ATTENDED
    ).select_related("episode__program__site", "patient")
    if item.patient is not None:
        records = records.filter(patient=item.patient)
    facilitator = item.session.facilitators.order_by("pk").first()
    return [(r.episode, r.patient, facilitator) for r in records]


class Command(BaseCommand):
    help = "Raise NOTE_DUE tasks for notes due today or overdue and COSIGN_NEEDED tasks for notes awaiting one."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        raised = 0
        programs = [p.pk for p in Program.objects.filter(is_active=True)]
        for item in due_items(programs, now=now):
            tz = item.program.tz()
            due_on = item.due_at.astimezone(tz).date()
            if due_on > now.astimezone(tz).date():
                continue
            if item.session is not None:
                what = f"{item.session.starts_at.astimezone(tz):%a %-d %b} {item.session.session_type.name}"
            else:
                what = f"note of {item.note.service_date:%a %-d %b}" if item.note else "note"
            label = "Group note" if item.kind == "group" else "Progress note"
            for episode, patient, responsible in _targets(item):
                key = note_due_key(session=item.session, patient_public_id=patient.public_id, note=item.note)
                _, created = raise_note_due(
                    episode=episode,
                    key=key,
                    reason=f"{label} due {due_on:%a %-d %b}: {what}",
                    due_on=due_on,
                    responsible=responsible,
                    acting_user=None,
                )
                raised += int(created)
        waiting = list(
            ProgressNote.objects.filter(status=ProgressNote.Status.AWAITING_COSIGN).select_related(
                "episode__program__site", "author__supervisor", "patient"
            )
        )
        for note in waiting:
            raise_cosign_needed(note, acting_user=None)
        self.stdout.write(f"Note deadlines: {raised} task(s) raised; {len(waiting)} note(s) awaiting co-signature.")
