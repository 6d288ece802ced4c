"""Recovery supports API: read a patient's or an episode's mutual-help meetings, recovery capital check-ins and
sponsor. The patient writes them in the portal (``portal.views_recovery``); there is no staff write here.

Access as on the chart tab (recovery.queries): VIEW_CLINICAL, scoped by the row's episode program (404 outside the
user's programs; a substance-use program's rows stay with its staff, 42 CFR Part 2). Every read is audited
``RECORD_VIEWED`` (object type ``recovery_supports``). ``since`` (a date) limits meetings and check-ins to that date
and after; a malformed one is a 422 problem naming ``since``.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from openiop.accounts.http import request_user
from openiop.api.schemas import ApiIn
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.roles import Cap
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_episode_for_user, get_patient_for_user
from openiop.recovery.actions import current_sponsor
from openiop.recovery.queries import patient_check_ins, patient_meetings

router = Router(tags=["recovery"])


class MeetingOut(Schema):
    id: UUID = Field(alias="public_id")
    episode: UUID = Field(alias="episode.public_id")
    met_on: date
    kind: str
    kind_other: str
    kind_label: str
    mode: str
    note: str


class CheckInOut(Schema):
    id: UUID = Field(alias="public_id")
    episode: UUID = Field(alias="episode.public_id")
    taken_on: date
    social: int
    physical: int
    human: int
    cultural: int


class SponsorOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    phone: str


class RecoverySupportsOut(Schema):
    patient: UUID
    meetings: list[MeetingOut]
    check_ins: list[CheckInOut]
    sponsor: SponsorOut | None


class SinceIn(ApiIn):
    since: date | None = None


def _read(request: HttpRequest, patient: Patient, since: date | None, episode: EpisodeOfCare | None) -> dict[str, Any]:
    user = request_user(request)
    meetings = patient_meetings(user, patient).select_related("episode")
    check_ins = patient_check_ins(user, patient).select_related("episode")
    if episode is not None:
        meetings, check_ins = meetings.filter(episode=episode), check_ins.filter(episode=episode)
    if since is not None:
        meetings, check_ins = meetings.filter(met_on__gte=since), check_ins.filter(taken_on__gte=since)
    body = {
        "patient": patient.public_id,
        "meetings": list(meetings),
        "check_ins": list(check_ins),
        "sponsor": current_sponsor(patient),
    }
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="recovery_supports")
    return body


@router.get("/patients/{patient_id}/recovery-supports", response=RecoverySupportsOut)
def patient_recovery(request: HttpRequest, patient_id: UUID, filters: Query[SinceIn]) -> dict[str, Any]:
    """The patient's meetings and check-ins in the caller's programs (newest first), and their sponsor."""
    patient = get_patient_for_user(request_user(request), patient_id, Cap.VIEW_CLINICAL)
    return _read(request, patient, filters.since, None)


@router.get("/episodes/{episode_id}/recovery-supports", response=RecoverySupportsOut)
def episode_recovery(request: HttpRequest, episode_id: UUID, filters: Query[SinceIn]) -> dict[str, Any]:
    """One episode's meetings and check-ins (newest first), and the patient's sponsor."""
    episode = get_episode_for_user(request_user(request), episode_id, Cap.VIEW_CLINICAL)
    return _read(request, episode.patient, filters.since, episode)
