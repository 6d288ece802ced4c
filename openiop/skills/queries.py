"""Access-checked reads of the practice log.

Staff: the role first (``VIEW_CLINICAL``, 403), then the episode's program (404 outside the user's programs), so a
substance-use program's entries reach only that program's staff. The patient reads their own entries through the
portal (``own_entries``), scoped to their own patient record.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients.models import Patient
from openiop.skills.models import PracticeEntry


def entries_for_user(user: User) -> QuerySet[PracticeEntry]:
    require(user, Cap.VIEW_CLINICAL)
    if user.organization_id is None:
        return PracticeEntry.objects.none()
    return PracticeEntry.objects.filter(
        episode__program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
    )


def patient_entries(user: User, patient: Patient) -> QuerySet[PracticeEntry]:
    """The patient's entries in the user's programs, newest first, with their programs (one query)."""
    return entries_for_user(user).filter(patient=patient).select_related("episode__program").order_by("-practiced_at")


def own_entries(patient: Patient) -> QuerySet[PracticeEntry]:
    """Every entry of the patient's own log, newest first (the portal: their own record)."""
    return PracticeEntry.objects.filter(patient=patient).select_related("episode__program").order_by("-practiced_at")


def get_own_entry(patient: Patient, public_id: UUID | str) -> PracticeEntry:
    return get_object_or_404(own_entries(patient), public_id=public_id)
