"""Referrals API: list and record referrals, move them between stages, list free intake slots, book one for a
referral, and admit. Access works as in the HTML views (403 for the role, then 404 outside one's programs) and
every write goes through the referrals actions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.api.problems import Conflict
from openiop.api.schemas import ApiIn
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients.queries import programs_for_user, staff_of_program
from openiop.programs.models import Program, Track
from openiop.referrals import queries
from openiop.referrals.actions import do_change_stage, do_create_referral
from openiop.referrals.admission import admission_summary, do_admit
from openiop.referrals.booking import SlotTaken, do_book_intake, free_slots
from openiop.referrals.models import IntakeAppointment, IntakeSlot, Referral

router = Router(tags=["referrals"])
LIST_LIMIT = 500


class ReferralOut(Schema):
    id: UUID = Field(alias="public_id")
    program: UUID | None = None
    source: str
    stage: str
    stage_changed_at: datetime
    days_in_stage: int
    first_name: str
    last_name: str
    date_of_birth: date | None
    phone: str
    email: str
    preferred_contact: str
    payer_kind: str
    payer_name: str
    member_id: str
    prescreen_result: str
    referrer_name: str
    referrer_organization: str
    referrer_phone: str
    emergency_name: str
    emergency_relationship: str
    emergency_phone: str
    patient: UUID | None = None
    episode: UUID | None = None
    outcome_reason: str
    is_readmission: bool
    received_at: datetime
    admitted_at: datetime | None

    @staticmethod
    def resolve_program(obj: Referral) -> UUID | None:
        return obj.program.public_id if obj.program_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_patient(obj: Referral) -> UUID | None:
        return obj.patient.public_id if obj.patient_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_episode(obj: Referral) -> UUID | None:
        return obj.episode.public_id if obj.episode_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_days_in_stage(obj: Referral) -> int:
        return obj.days_in_stage()


class ReferralIn(ApiIn):
    source: str
    program: UUID | None = None
    first_name: str
    last_name: str
    date_of_birth: date | None = None
    phone: str = ""
    email: str = ""
    preferred_contact: str = Referral.Contact.PHONE
    payer_kind: str = ""
    payer_name: str = ""
    member_id: str = ""
    referrer_name: str = ""
    referrer_organization: str = ""
    referrer_phone: str = ""
    emergency_name: str = ""
    emergency_relationship: str = ""
    emergency_phone: str = ""
    notes: str = ""


class ReferralFilter(ApiIn):
    stage: str | None = None
    program: UUID | None = None
    source: str | None = None


class StageIn(ApiIn):
    stage: str
    reason: str = ""


class SlotOut(Schema):
    id: UUID = Field(alias="public_id")
    program: UUID = Field(alias="program.public_id")
    site: str = Field(alias="site.name")
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked_count: int
    free: int


class SlotFilter(ApiIn):
    program: UUID | None = None


class AppointmentIn(ApiIn):
    slot: UUID
    send_email: bool = True


class AppointmentOut(Schema):
    id: UUID = Field(alias="public_id")
    slot: UUID = Field(alias="slot.public_id")
    referral: UUID = Field(alias="referral.public_id")
    status: str
    source: str
    starts_at: datetime = Field(alias="slot.starts_at")


class AdmitIn(ApiIn):
    program: UUID
    track: UUID | None = None
    primary_clinician: UUID
    admitted_on: date
    expected_discharge_on: date | None = None


class AdmitOut(Schema):
    referral: UUID
    episode: UUID
    patient: UUID
    is_readmission: bool
    previous_episode: UUID | None
    sessions_booked: int
    groups: list[str]


def _referral_out(referral: Referral) -> Referral:
    return Referral.objects.select_related("program", "patient", "episode").get(pk=referral.pk)


def _own_program(user: User, public_id: UUID | None, field: str = "program") -> Program | None:
    if public_id is None:
        return None
    program = programs_for_user(user).filter(public_id=public_id).first()
    if program is None:
        raise ValidationError({field: "Unknown program, or not one of yours."})
    return program


@router.get("/referrals", response=list[ReferralOut])
def list_referrals(request: HttpRequest, filters: Query[ReferralFilter]) -> Any:
    user = request_user(request)
    require(user, Cap.VIEW_PATIENTS)
    qs = queries.referrals_for_user(user).select_related("program", "patient", "episode")
    if filters.stage:
        if filters.stage not in Referral.Stage.values:
            raise ValidationError({"stage": "Unknown stage."})
        qs = qs.filter(stage=filters.stage)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.program is not None:
        qs = qs.filter(program__public_id=filters.program)
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="referral")
    return list(qs.order_by("-received_at", "pk")[:LIST_LIMIT])


@router.post("/referrals", response={201: ReferralOut})
def create_referral(request: HttpRequest, payload: ReferralIn) -> Any:
    user = request_user(request)
    require(user, Cap.EDIT_CLINICAL)
    data = payload.dict()
    data["program"] = _own_program(user, payload.program)
    if data["source"] not in Referral.Source.values or data["source"] == Referral.Source.BOOK_NOW:
        raise ValidationError({"source": "Pick a referral source (Book Now referrals come from the public pages)."})
    referral = do_create_referral(acting_user=user, organization=user.organization, **data)  # type: ignore[arg-type]
    return Status(201, _referral_out(referral))


@router.get("/referrals/{referral_id}", response=ReferralOut)
def get_referral(request: HttpRequest, referral_id: UUID) -> Any:
    user = request_user(request)
    referral = queries.get_referral_for_user(user, referral_id)
    audit.record(
        action=AuditAction.RECORD_VIEWED,
        acting_user=user,
        patient=referral.patient,
        obj=referral,
        organization_id=referral.organization_id,
    )
    return referral


@router.post("/referrals/{referral_id}/stage", response=ReferralOut)
def change_stage(request: HttpRequest, referral_id: UUID, payload: StageIn) -> Any:
    user = request_user(request)
    referral = queries.get_referral_for_user(user, referral_id, Cap.EDIT_CLINICAL)
    do_change_stage(referral, acting_user=user, stage=payload.stage, reason=payload.reason)
    return _referral_out(referral)


@router.get("/intake-slots", response=list[SlotOut])
def list_slots(request: HttpRequest, filters: Query[SlotFilter]) -> Any:
    """Published upcoming slots with a free seat, of the user's programs."""
    user = request_user(request)
    require(user, Cap.BOOK_SESSIONS)
    programs = programs_for_user(user)
    if filters.program is not None:
        programs = programs.filter(public_id=filters.program)
    slots: list[IntakeSlot] = []
    for program in programs:
        slots.extend(free_slots(program)[:LIST_LIMIT])
    return sorted(slots, key=lambda s: (s.starts_at, s.pk))


@router.post("/referrals/{referral_id}/appointments", response={201: AppointmentOut})
def book_slot(request: HttpRequest, referral_id: UUID, payload: AppointmentIn) -> Any:
    user = request_user(request)
    referral = queries.get_referral_for_user(user, referral_id, Cap.BOOK_SESSIONS)
    slot = (
        IntakeSlot.objects.filter(program_id__in=program_ids_for(user), public_id=payload.slot)
        .select_related("program", "site")
        .first()
    )
    if slot is None:
        raise ValidationError({"slot": "Unknown slot, or not one of your programs'."})
    try:
        appointment, _ = do_book_intake(slot, referral=referral, acting_user=user, send_email=payload.send_email)
    except SlotTaken as exc:
        raise Conflict(
            "Slot taken",
            "That intake slot has no free seat.",
            next_slots=[
                {"id": str(s.public_id), "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat()}
                for s in exc.next_slots
            ],
        ) from None
    return Status(201, IntakeAppointment.objects.select_related("slot", "referral").get(pk=appointment.pk))


@router.post("/referrals/{referral_id}/admit", response={201: AdmitOut})
def admit(request: HttpRequest, referral_id: UUID, payload: AdmitIn) -> Any:
    user = request_user(request)
    referral = queries.get_referral_for_user(user, referral_id, Cap.EDIT_CLINICAL)
    program = _own_program(user, payload.program)
    assert program is not None
    track = None
    if payload.track is not None:
        track = Track.objects.filter(program=program, public_id=payload.track, is_active=True).first()
        if track is None:
            raise ValidationError({"track": "Unknown track of this program."})
    clinician = staff_of_program(program).filter(public_id=payload.primary_clinician).first()
    if clinician is None:
        raise ValidationError({"primary_clinician": "Pick a clinician of this program."})
    episode = do_admit(
        referral,
        acting_user=user,
        program=program,
        track=track,
        primary_clinician=clinician,
        admitted_on=payload.admitted_on,
        expected_discharge_on=payload.expected_discharge_on,
    )
    referral.refresh_from_db()
    booked, groups = admission_summary(episode)
    return Status(
        201,
        {
            "referral": referral.public_id,
            "episode": episode.public_id,
            "patient": episode.patient.public_id,
            "is_readmission": referral.is_readmission,
            "previous_episode": episode.previous_episode.public_id if episode.previous_episode else None,
            "sessions_booked": booked,
            "groups": groups,
        },
    )
