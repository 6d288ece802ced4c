"""Discharge API: read an episode's discharge (summary, aftercare plan, follow-ups), start it, update the summary and
the aftercare plan, sign, list follow-ups due, record a follow-up's outcome.

Access as in the pages (discharge.queries): VIEW_CLINICAL reads, EDIT_CLINICAL writes, 404 outside the episode's
program (a substance-use program's discharges stay with its staff). Errors are problem bodies naming the field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.api.schemas import ApiIn, ConsequenceOut
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import require
from openiop.core.roles import Cap
from openiop.discharge import actions
from openiop.discharge.fhir import summary_to_fhir
from openiop.discharge.models import AftercarePlan, DischargeSummary, FollowUp
from openiop.discharge.queries import (
    aftercare_for,
    follow_up_worklist,
    follow_ups_for,
    get_follow_up_for_user,
    get_summary_for_user,
)
from openiop.patients import events
from openiop.patients.queries import get_episode_for_user

router = Router(tags=["discharge"])


class FollowUpOut(Schema):
    id: UUID = Field(alias="public_id")
    episode: UUID = Field(alias="episode.public_id")
    days_after: int
    due_on: date
    status: str
    outcome: str
    attending_aftercare: bool | None
    readmitted: bool | None
    note: str
    done_at: datetime | None


class AftercareOut(Schema):
    step_down_level: str
    step_down_other: str
    appointment_provider: str
    appointment_organization: str
    appointment_phone: str
    appointment_address: str
    appointment_at: datetime | None
    support_groups: list[dict[str, str]]
    medications: list[str]
    safety_plan: dict[str, list[str]]
    relapse_prevention: dict[str, list[str]]
    family_supports: str
    locked_at: datetime | None


class DischargeOut(Schema):
    id: UUID
    episode: UUID
    patient: UUID
    status: str
    reason: str
    discharge_on: date
    due_on: date
    course_of_treatment: str
    condition_at_discharge: str
    attendance: dict[str, Any]
    measures: list[dict[str, Any]]
    goals: list[dict[str, Any]]
    signed_at: datetime | None
    aftercare: AftercareOut | None
    follow_ups: list[FollowUpOut]
    signing_problems: dict[str, str]
    # Filled only by the request that discharged the episode (signing, or starting with discharge_now).
    consequences: list[ConsequenceOut] = []


class DischargeStartIn(ApiIn):
    reason: str = ""
    discharge_on: date | None = None
    discharge_now: bool = False


class SummaryIn(ApiIn):
    reason: str | None = None
    discharge_on: date | None = None
    course_of_treatment: str | None = None
    condition_at_discharge: str | None = None


class AftercareIn(ApiIn):
    step_down_level: str | None = None
    step_down_other: str | None = None
    appointment_provider: str | None = None
    appointment_organization: str | None = None
    appointment_phone: str | None = None
    appointment_address: str | None = None
    appointment_at: datetime | None = None
    support_groups: list[dict[str, str]] | None = None
    medications: list[str] | None = None
    safety_plan: dict[str, list[str]] | None = None
    relapse_prevention: dict[str, list[str]] | None = None
    family_supports: str | None = None


class OutcomeIn(ApiIn):
    outcome: str
    attending_aftercare: bool | None = None
    readmitted: bool | None = None
    note: str = ""


def _out(summary: DischargeSummary) -> dict[str, Any]:
    plan: AftercarePlan | None = aftercare_for(summary)
    return {
        "id": summary.public_id,
        "episode": summary.episode.public_id,
        "patient": summary.patient.public_id,
        **{
            name: getattr(summary, name)
            for name in (
                "status",
                "reason",
                "discharge_on",
                "due_on",
                "course_of_treatment",
                "condition_at_discharge",
                "attendance",
                "measures",
                "goals",
                "signed_at",
            )
        },
        "aftercare": plan,
        "follow_ups": follow_ups_for(summary),
        "signing_problems": actions.signing_problems(summary, plan) if not summary.is_signed else {},
    }


def _read(request: HttpRequest, summary: DischargeSummary) -> dict[str, Any]:
    audit.record(
        action=AuditAction.RECORD_VIEWED, acting_user=request_user(request), patient=summary.patient, obj=summary
    )
    return _out(summary)


@router.get("/episodes/{episode_id}/discharge", response=DischargeOut)
def get_discharge(request: HttpRequest, episode_id: UUID) -> dict[str, Any]:
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id, Cap.VIEW_CLINICAL)
    summary = DischargeSummary.objects.filter(episode=episode).first()
    if summary is None:
        raise Http404
    return _read(request, get_summary_for_user(user, summary.public_id))


@router.post("/episodes/{episode_id}/discharge", response={201: DischargeOut})
def start_discharge(request: HttpRequest, episode_id: UUID, payload: DischargeStartIn) -> Any:
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id, Cap.EDIT_CLINICAL)
    done: list[events.Consequence] = []
    summary = actions.do_start_discharge(episode, acting_user=user, consequences=done, **payload.dict())
    return Status(201, {**_out(get_summary_for_user(user, summary.public_id)), "consequences": done})


@router.patch("/discharge/{summary_id}/summary", response=DischargeOut)
def update_summary(request: HttpRequest, summary_id: UUID, payload: SummaryIn) -> dict[str, Any]:
    user = request_user(request)
    summary = get_summary_for_user(user, summary_id, Cap.EDIT_CLINICAL)
    actions.do_update_summary(summary, acting_user=user, **payload.dict(exclude_unset=True))
    return _out(get_summary_for_user(user, summary_id))


@router.patch("/discharge/{summary_id}/aftercare", response=DischargeOut)
def update_aftercare(request: HttpRequest, summary_id: UUID, payload: AftercareIn) -> dict[str, Any]:
    user = request_user(request)
    summary = get_summary_for_user(user, summary_id, Cap.EDIT_CLINICAL)
    plan = aftercare_for(summary)
    if plan is None:
        raise Http404
    actions.do_update_aftercare(plan, acting_user=user, **payload.dict(exclude_unset=True))
    return _out(get_summary_for_user(user, summary_id))


@router.post("/discharge/{summary_id}/sign", response=DischargeOut)
def sign_discharge(request: HttpRequest, summary_id: UUID) -> dict[str, Any]:
    user = request_user(request)
    summary = get_summary_for_user(user, summary_id, Cap.EDIT_CLINICAL)
    done: list[events.Consequence] = []
    actions.do_sign_discharge(summary, acting_user=user, consequences=done)
    return {**_out(get_summary_for_user(user, summary_id)), "consequences": done}


@router.get("/discharge/follow-ups", response=list[FollowUpOut])
def list_follow_ups(request: HttpRequest) -> list[FollowUp]:
    """Open check-ins overdue or due in the next seven days, across the user's programs."""
    user = request_user(request)
    require(user, Cap.VIEW_CLINICAL)
    rows = follow_up_worklist(user)
    items = [f for row in rows for f in (*row.overdue, *row.this_week)]
    if items:
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="discharge_follow_ups")
    return items


@router.post("/follow-ups/{follow_up_id}/outcome", response=FollowUpOut)
def record_outcome(request: HttpRequest, follow_up_id: UUID, payload: OutcomeIn) -> FollowUp:
    user = request_user(request)
    follow_up = get_follow_up_for_user(user, follow_up_id)
    actions.do_record_follow_up(follow_up, acting_user=user, result=actions.FollowUpResult(**payload.dict()))
    return get_follow_up_for_user(user, follow_up_id)


@router.get("/discharge/{summary_id}/fhir")
def discharge_fhir(request: HttpRequest, summary_id: UUID) -> dict[str, Any]:
    """The summary as a FHIR R4 DocumentReference (LOINC 18842-5) whose attachment links the summary PDF."""
    user = request_user(request)
    summary = get_summary_for_user(user, summary_id)
    audit.record(
        action=AuditAction.EXPORTED,
        acting_user=user,
        patient=summary.patient,
        obj=summary,
        changed_fields=["document_reference"],
    )
    return summary_to_fhir(summary, base_url=request.build_absolute_uri("/").rstrip("/"))
