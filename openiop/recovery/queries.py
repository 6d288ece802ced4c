"""Access-checked reads of the recovery supports log.

Staff: the role first (``VIEW_CLINICAL``, 403), then the episode's program (404 outside the user's programs), so a
substance-use program's rows reach only that program's staff. The patient reads their own rows through the portal
(``own_meetings``, ``own_check_ins``), scoped to their own patient record.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients.models import Patient
from openiop.recovery.models import CapitalCheckIn, MeetingAttendance


def _scoped(user: User, model: type[MeetingAttendance] | type[CapitalCheckIn]) -> QuerySet:
    require(user, Cap.VIEW_CLINICAL)
    if user.organization_id is None:
        return model.objects.none()
    return model.objects.filter(
        episode__program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
    )


def patient_meetings(user: User, patient: Patient) -> QuerySet[MeetingAttendance]:
    """The patient's meetings in the user's programs, newest first, with their programs."""
    return _scoped(user, MeetingAttendance).filter(patient=patient).select_related("episode__program", "entered_by")


def patient_check_ins(user: User, patient: Patient) -> QuerySet[CapitalCheckIn]:
    return _scoped(user, CapitalCheckIn).filter(patient=patient).select_related("episode__program")


def own_meetings(patient: Patient) -> QuerySet[MeetingAttendance]:
    return MeetingAttendance.objects.filter(patient=patient).select_related("episode__program", "entered_by")


def get_own_meeting(patient: Patient, public_id: UUID | str) -> MeetingAttendance:
    return get_object_or_404(own_meetings(patient), public_id=public_id)


def own_check_ins(patient: Patient) -> QuerySet[CapitalCheckIn]:
    return CapitalCheckIn.objects.filter(patient=patient).select_related("episode__program")


# How far back the family page reaches (the same window as the family attendance page's default).
FAMILY_DAYS_BACK = 28


def family_meetings(patient: Patient, program_ids: list[int], today: date | None = None) -> list[MeetingAttendance]:
    """The meetings of the last four weeks in the programs whose consent allowed the family page, newest first.
    The caller shows only the date, kind and mode: the patient's note never leaves for a family page."""
    today = today or timezone.localdate()
    return list(
        MeetingAttendance.objects.filter(
            patient=patient, episode__program_id__in=program_ids, met_on__gte=today - timedelta(days=FAMILY_DAYS_BACK)
        ).only("met_on", "kind", "kind_other", "mode")
    )
