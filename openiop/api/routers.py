"""API endpoints. Each one checks access the same way as the HTML views and calls the same actions."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.api.problems import Conflict
from openiop.api.schemas import (
    MAX_OFFSET,
    ApiIn,
    CoverageIn,
    CoverageOut,
    EpisodeIn,
    EpisodeOut,
    EpisodeStatusIn,
    EpisodeStatusOut,
    MeOut,
    PatientIn,
    PatientOut,
    PatientPatch,
    PatientSummary,
    ProgramOut,
    SupportContactOut,
)
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients import actions as patient_actions
from openiop.patients.events import Consequence
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import (
    find_possible_duplicates,
    get_episode_for_user,
    get_patient_for_user,
    patients_for_user,
    payer_choices,
    search_patients,
)
from openiop.programs import signing
from openiop.programs.actions import do_update_program
from openiop.programs.models import Program, Track
from openiop.programs.queries import get_program_for_user

router = Router()
MAX_LIMIT = 200


def _program_for(user: User, public_id: UUID, field: str = "program") -> Program:
    program = (
        Program.objects.select_related("site__organization")
        .filter(pk__in=program_ids_for(user), public_id=public_id)
        .first()
    )
    if program is None:
        raise ValidationError({field: "Unknown program, or not one of yours."})
    return program


@router.get("/me", response=MeOut, tags=["account"])
def me(request: HttpRequest) -> dict[str, Any]:
    user = request_user(request)
    return {
        "public_id": user.public_id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "credentials": user.credentials,
        "programs": list(Program.objects.filter(pk__in=program_ids_for(user)).values_list("public_id", flat=True)),
        "capabilities": sorted(c.value for c in user.capabilities),
    }


@router.get("/programs", response=list[ProgramOut], tags=["programs"])
def list_programs(request: HttpRequest) -> Any:
    user = request_user(request)
    return Program.objects.filter(pk__in=program_ids_for(user)).select_related("site").prefetch_related("tracks")


class SigningOut(Schema):
    """Who may sign the program's clinical documents (scope of practice). ``own_*`` is what the program keeps
    (empty: the organization's default), ``signing_credentials`` and ``supervised_signing_credentials`` what
    applies, ``known`` what may be chosen."""

    own_signing_credentials: list[str]
    own_supervised_signing_credentials: list[str]
    signing_credentials: list[str]
    supervised_signing_credentials: list[str]
    known: list[str]


class SigningIn(ApiIn):
    signing_credentials: list[str] | None = None
    supervised_signing_credentials: list[str] | None = None


def _signing(program: Program) -> dict[str, Any]:
    return {
        "own_signing_credentials": list(program.signing_credentials or []),
        "own_supervised_signing_credentials": list(program.supervised_signing_credentials or []),
        "signing_credentials": signing.accepted_credentials(program),
        "supervised_signing_credentials": signing.supervised_credentials(program),
        "known": signing.known_credentials(program),
    }


@router.get("/programs/{program_id}/signing", response=SigningOut, tags=["programs"])
def get_signing(request: HttpRequest, program_id: UUID) -> Any:
    """The program's signing credentials: program admins (MANAGE_PROGRAMS) of the programs they configure."""
    program = get_program_for_user(request_user(request), program_id, Cap.MANAGE_PROGRAMS)
    return _signing(program)


@router.put("/programs/{program_id}/signing", response=SigningOut, tags=["programs"])
def set_signing(request: HttpRequest, program_id: UUID, payload: SigningIn) -> Any:
    """Change either list (a field left out is kept; an empty list follows the organization's default). Audited as
    a configuration change, field names only."""
    user = request_user(request)
    program = get_program_for_user(user, program_id, Cap.MANAGE_PROGRAMS)
    fields = {
        name: signing.checked_list(program, name, value) for name, value in payload.dict().items() if value is not None
    }
    do_update_program(program, acting_user=user, **fields)
    return _signing(program)


class PatientPaging(ApiIn):
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class PatientSearchIn(PatientPaging):
    """The search terms travel in the body, never the URL: a name, birth date or MRN in a query string would be
    written to every access log and proxy on the way (api/README.md)."""

    q: str = ""
    date_of_birth: date | None = None


class PatientPage(Schema):
    count: int
    results: list[PatientSummary]


# GET parameters that used to search; they are refused (422) rather than ignored, so an old client does not take
# the whole list for its search result.
SEARCH_PARAMS_MOVED = ("q", "date_of_birth")


@router.get("/patients", response=PatientPage, tags=["patients"])
def list_patients(request: HttpRequest, paging: Query[PatientPaging]) -> dict[str, Any]:
    """The patients of the user's programs, by legal name. To search, POST /patients/search."""
    moved = [name for name in SEARCH_PARAMS_MOVED if name in request.GET]
    if moved:
        raise ValidationError(
            dict.fromkeys(moved, "Search terms never go in a URL: POST them to /api/v1/patients/search.")
        )
    return _patient_page(request, PatientSearchIn(limit=paging.limit, offset=paging.offset))


@router.post("/patients/search", response=PatientPage, tags=["patients"])
def search_patients_endpoint(request: HttpRequest, payload: PatientSearchIn) -> dict[str, Any]:
    """Search by name parts, MRN (``q``) and ``date_of_birth``; paged by ``limit`` and ``offset`` in the body."""
    return _patient_page(request, payload)


def _patient_page(request: HttpRequest, filters: PatientSearchIn) -> dict[str, Any]:
    user = request_user(request)
    require(user, Cap.VIEW_PATIENTS)
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise ValidationError({"limit": f"Use a limit from 1 to {MAX_LIMIT}."})
    if filters.offset < 0:
        raise ValidationError({"offset": "Offset cannot be negative."})
    qs = search_patients(user, filters.q, filters.date_of_birth).order_by("legal_last_name", "legal_first_name", "id")
    searched = bool(filters.q or filters.date_of_birth)
    audit.record(
        action=AuditAction.PATIENTS_SEARCHED if searched else AuditAction.PATIENTS_LISTED,
        acting_user=user,
        object_type="patient",
    )
    return {"count": qs.count(), "results": list(qs[filters.offset : filters.offset + filters.limit])}


@router.post("/patients", response={201: PatientOut}, tags=["patients"])
def create_patient(request: HttpRequest, payload: PatientIn) -> Status[Patient]:
    user = request_user(request)
    require(user, Cap.EDIT_DEMOGRAPHICS)
    program = _program_for(user, payload.home_program, "home_program")
    data = payload.dict(exclude={"home_program", "confirm_not_duplicate"})
    with transaction.atomic():
        if not payload.confirm_not_duplicate:
            matches = find_possible_duplicates(
                user.organization_id,  # type: ignore[arg-type]
                payload.legal_first_name,
                payload.legal_last_name,
                payload.date_of_birth,
            )
            if matches.exists():
                visible = list(matches.filter(pk__in=patients_for_user(user)).values("public_id", "mrn"))
                raise Conflict(
                    "Possible duplicate",
                    "A patient with this legal name and date of birth already exists. Use the existing record, "
                    "or send confirm_not_duplicate=true if this is a different person.",
                    duplicates=[{"id": str(m["public_id"]), "mrn": m["mrn"]} for m in visible],
                    hidden_duplicates=matches.count() - len(visible),
                )
        patient = patient_actions.do_create_patient(acting_user=user, home_program=program, **data)
    return Status(201, patient)


@router.get("/patients/{patient_id}", response=PatientOut, tags=["patients"])
def get_patient(request: HttpRequest, patient_id: UUID) -> Patient:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, obj=patient)
    return patient


@router.patch("/patients/{patient_id}", response=PatientOut, tags=["patients"])
def update_patient(request: HttpRequest, patient_id: UUID, payload: PatientPatch) -> Patient:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.EDIT_DEMOGRAPHICS)
    patient_actions.do_update_patient(patient, acting_user=user, **payload.dict(exclude_unset=True))
    return patient


@router.get("/patients/{patient_id}/coverages", response=list[CoverageOut], tags=["patients"])
def list_coverages(request: HttpRequest, patient_id: UUID) -> Any:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="coverage")
    return patient.coverages.select_related("payer")


@router.post("/patients/{patient_id}/coverages", response={201: CoverageOut}, tags=["patients"])
def add_coverage(request: HttpRequest, patient_id: UUID, payload: CoverageIn) -> Any:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.EDIT_COVERAGE)
    fields = payload.dict()
    if fields["payer"] is not None:
        payer = payer_choices(patient.organization).filter(public_id=fields["payer"]).first()
        if payer is None:
            raise ValidationError({"payer": "No active payer of this organization has this id."})
        fields["payer"] = payer
    return Status(201, patient_actions.do_add_coverage(patient, acting_user=user, **fields))


@router.get("/patients/{patient_id}/contacts", response=list[SupportContactOut], tags=["patients"])
def list_contacts(request: HttpRequest, patient_id: UUID) -> Any:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="supportcontact")
    return patient.support_contacts.all()


@router.get("/patients/{patient_id}/episodes", response=list[EpisodeOut], tags=["episodes"])
def list_episodes(request: HttpRequest, patient_id: UUID) -> Any:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="episodeofcare")
    return patient.episodes.select_related("patient", "program", "track", "primary_clinician")


@router.post("/patients/{patient_id}/episodes", response={201: EpisodeOut}, tags=["episodes"])
def open_episode(request: HttpRequest, patient_id: UUID, payload: EpisodeIn) -> Any:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.EDIT_CLINICAL)
    program = _program_for(user, payload.program)
    track = None
    if payload.track is not None:
        track = Track.objects.filter(program=program, public_id=payload.track).first()
        if track is None:
            raise ValidationError({"track": "Unknown track for this program."})
    clinician = None
    if payload.primary_clinician is not None:
        clinician = User.objects.filter(organization=user.organization, public_id=payload.primary_clinician).first()
        if clinician is None:
            raise ValidationError({"primary_clinician": "Unknown staff member."})
    episode = patient_actions.do_open_episode(
        patient,
        acting_user=user,
        program=program,
        status=payload.status,
        track=track,
        admitted_on=payload.admitted_on,
        waitlisted_on=payload.waitlisted_on,
        expected_discharge_on=payload.expected_discharge_on,
        primary_clinician=clinician,
    )
    return Status(201, episode)


@router.get("/episodes/{episode_id}", response=EpisodeOut, tags=["episodes"])
def get_episode(request: HttpRequest, episode_id: UUID) -> EpisodeOfCare:
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=episode.patient, obj=episode)
    return episode


@router.post("/episodes/{episode_id}/status", response=EpisodeStatusOut, tags=["episodes"])
def change_episode_status(request: HttpRequest, episode_id: UUID, payload: EpisodeStatusIn) -> Any:
    """Admit from the waitlist, hold, resume or discharge; ``consequences`` lists what the other apps did (future
    sessions cancelled, seats offered, tasks closed...), as the Episodes tab's confirmation does."""
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id, Cap.EDIT_CLINICAL)
    if payload.status not in EpisodeOfCare.Status.values:
        raise ValidationError({"status": f"Use one of {', '.join(EpisodeOfCare.Status.values)}."})
    if payload.discharge_reason and payload.discharge_reason not in EpisodeOfCare.DischargeReason.values:
        raise ValidationError({"discharge_reason": "Use a TEDS-D discharge reason code 1-7."})
    done: list[Consequence] = []
    patient_actions.do_change_episode_status(
        episode,
        acting_user=user,
        status=payload.status,
        on_date=payload.on_date,
        discharge_reason=payload.discharge_reason,
        consequences=done,
    )
    fresh = get_object_or_404(
        EpisodeOfCare.objects.select_related("patient", "program", "track", "primary_clinician"), pk=episode.pk
    )
    fresh.consequences = done  # type: ignore[attr-defined]
    return fresh
