"""Skills-practice API: read a patient's or an episode's practice log.

Access as on the chart tab (skills.queries): VIEW_CLINICAL, scoped by the entry's episode program (404 outside the
user's programs; a substance-use program's entries stay with its staff). Reads are audited ``RECORD_VIEWED``.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema

from openiop.accounts.http import request_user
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.roles import Cap
from openiop.patients.models import Patient
from openiop.patients.queries import get_episode_for_user, get_patient_for_user
from openiop.skills.models import PracticeEntry
from openiop.skills.queries import patient_entries

router = Router(tags=["skills"])


class PracticeEntryOut(Schema):
    id: UUID = Field(alias="public_id")
    patient: UUID = Field(alias="patient.public_id")
    episode: UUID = Field(alias="episode.public_id")
    skill: str
    skill_other: str
    skill_label: str
    practiced_at: datetime
    how_it_went: str
    mood: int | None
    craving: int | None
    created_at: datetime
    updated_at: datetime


def _read(request: HttpRequest, patient: Patient, entries: QuerySet[PracticeEntry]) -> list[PracticeEntry]:
    rows = list(entries.select_related("patient", "episode"))
    audit.record(
        action=AuditAction.RECORD_VIEWED, acting_user=request_user(request), patient=patient, object_type="practice_log"
    )
    return rows


@router.get("/patients/{patient_id}/skills-practice", response=list[PracticeEntryOut])
def patient_practice(request: HttpRequest, patient_id: UUID) -> list[PracticeEntry]:
    """The patient's practice entries in the caller's programs, newest first."""
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.VIEW_CLINICAL)
    return _read(request, patient, patient_entries(user, patient))


@router.get("/episodes/{episode_id}/skills-practice", response=list[PracticeEntryOut])
def episode_practice(request: HttpRequest, episode_id: UUID) -> list[PracticeEntry]:
    """One episode's practice entries, newest first."""
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id, Cap.VIEW_CLINICAL)
    return _read(request, episode.patient, patient_entries(user, episode.patient).filter(episode=episode))
