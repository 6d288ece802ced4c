"""The chart header's overdue-notes flag (registered in notes/apps.py): the patient's notes in the user's programs
still unsigned (draft or awaiting co-signature) after their due time. One count query."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.http import request_user
from openiop.notes.models import ProgressNote
from openiop.notes.queries import notes_for_user
from openiop.patients.models import Patient


def overdue_notes_flag(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    user = request_user(request)
    count = (
        notes_for_user(user)
        .filter(patient=patient, due_at__lt=timezone.now())
        .exclude(status=ProgressNote.Status.SIGNED)
        .count()
    )
    if not count:
        return None
    return {"count": count, "notes_url": f"{patient.get_absolute_url()}?tab=notes"}
