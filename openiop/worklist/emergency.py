"""Emergency access (break-the-glass, ``patients.emergency``): each director of the patient's programs gets a task
to review it, in that program's queue, due the program's today; signing the access off closes them all.

The task's reason names the staff member's username only: the stated reason may hold PHI and stays on the grant.
"""

from __future__ import annotations

from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.patients.emergency import EmergencyAccessGranted, EmergencyAccessReviewed
from openiop.programs.models import Program
from openiop.worklist.actions import do_close_task_not_needed, do_raise_task
from openiop.worklist.models import WorkTask

REVIEWED_NOTE = "Emergency access signed off"


def _key_prefix(event: EmergencyAccessGranted | EmergencyAccessReviewed) -> str:
    return f"emergency_review:{event.grant.public_id}:"


def on_emergency_access_granted(event: EmergencyAccessGranted) -> None:
    grant = event.grant
    programs = Program.objects.filter(pk__in=event.programs).select_related("site").order_by("pk")
    for program in programs:
        directors = User.objects.filter(is_active=True, role=Role.DIRECTOR, memberships__program=program).exclude(
            pk=grant.user_id
        )
        for director in directors.order_by("pk"):
            do_raise_task(
                acting_user=event.acting_user,
                episode=None,
                program=program,
                patient=grant.patient,
                kind=WorkTask.Kind.EMERGENCY_ACCESS_REVIEW,
                trigger_key=f"{_key_prefix(event)}{program.pk}:{director.pk}",
                reason=f"Emergency access by {event.acting_user.get_username()} needs review",
                due_on=program.now().date(),
                assigned_to=director,
            )


def on_emergency_access_reviewed(event: EmergencyAccessReviewed) -> None:
    for task in WorkTask.objects.filter(
        patient=event.grant.patient, trigger_key__startswith=_key_prefix(event), status=WorkTask.Status.OPEN
    ).order_by("pk"):
        do_close_task_not_needed(task, acting_user=event.acting_user, note=REVIEWED_NOTE)
