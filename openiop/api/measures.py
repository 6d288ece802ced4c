"""Measures API: the instruments, a patient's administrations and scores, staff entry of answers, FHIR R4
QuestionnaireResponse + Observations for a completed administration, and safety alerts (list, acknowledge, resolve).

Access as in the HTML views: the capability first (403), then the episode's program among the user's (404), so
substance-use scores (42 CFR Part 2) reach only that program's staff; their FHIR carries the Part 2 security label
and the short redisclosure notice. Writes go through ``measures.actions``; errors name the field
(``answers.<item code>`` for a bad answer).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from openiop.accounts.http import request_user
from openiop.api.problems import Conflict
from openiop.api.schemas import ApiIn
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.measures import actions, fhir, instruments
from openiop.measures.models import Administration, SafetyAlert
from openiop.measures.queries import (
    alerts_for_user,
    get_administration_for_user,
    get_alert_for_user,
    patient_administrations,
)
from openiop.patients.models import EpisodeOfCare
from openiop.patients.queries import get_patient_for_user

router = Router(tags=["measures"])

PART2_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
PART2_LABEL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}
MAX_ALERTS = 200


# --- Instruments -----------------------------------------------------------------------------------------------


class OptionOut(Schema):
    value: int
    label: str


class ItemOut(Schema):
    code: str
    number: str = Field(alias="display_number")
    text: str
    scored: bool
    options: list[OptionOut]


class BandOut(Schema):
    low: int
    high: int
    key: str
    label: str


class InstrumentOut(Schema):
    code: str
    name: str
    short_name: str
    lookback: str
    instructions: str
    max_total: int
    has_total: bool
    enabled_by_default: bool
    licence: str
    notice: str
    loinc_panel: str
    loinc_total: str
    reliable_change: int | None
    remission_below: int | None
    bands: list[BandOut]
    items: list[ItemOut]


@router.get("/instruments", response=list[InstrumentOut])
def list_instruments(request: HttpRequest) -> Any:
    require(request_user(request), Cap.VIEW_CLINICAL)
    return list(instruments.REGISTRY.values())


# --- Administrations -------------------------------------------------------------------------------------------


class AdministrationOut(Schema):
    id: UUID = Field(alias="public_id")
    patient: UUID = Field(alias="patient.public_id")
    episode: UUID = Field(alias="episode.public_id")
    program: UUID = Field(alias="episode.program.public_id")
    instrument: str = Field(alias="instrument_code")
    occasion: str
    due_on: date
    status: str
    answers: dict[str, int]
    started_at: datetime | None
    completed_at: datetime | None
    channel: str
    total: int | None
    prorated: bool
    band: str = Field(alias="band_key")
    subscores: dict[str, int | None]
    missing_reason: str
    risk: str
    flags: list[str]
    safety_alert: UUID | None = None

    @staticmethod
    def resolve_safety_alert(obj: Administration) -> UUID | None:
        alert = getattr(obj, "safety_alert", None)
        return alert.public_id if alert is not None else None


def _administration(pk: int) -> Administration:
    return Administration.objects.select_related("patient", "episode__program", "safety_alert").get(pk=pk)


@router.get("/patients/{patient_id}/administrations", response=list[AdministrationOut])
def list_administrations(request: HttpRequest, patient_id: UUID) -> Any:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.VIEW_CLINICAL)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="administration")
    return patient_administrations(user, patient).select_related("patient", "episode__program", "safety_alert")


class AdministrationStartIn(ApiIn):
    episode: UUID
    instrument: str


@router.post("/patients/{patient_id}/administrations", response={201: AdministrationOut})
def start_administration(request: HttpRequest, patient_id: UUID, payload: AdministrationStartIn) -> Any:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.EDIT_CLINICAL)
    episode = EpisodeOfCare.objects.filter(
        patient=patient, program_id__in=program_ids_for(user), public_id=payload.episode
    ).first()
    if episode is None:
        raise ValidationError({"episode": "Unknown episode, or not in your programs."})
    try:
        administration = actions.do_start_administration(episode, acting_user=user, instrument_code=payload.instrument)
    except ValidationError as exc:
        raise _renamed(exc, {"instrument_code": "instrument"}) from None
    return Status(201, _administration(administration.pk))


@router.get("/administrations/{administration_id}", response=AdministrationOut)
def get_administration(request: HttpRequest, administration_id: UUID) -> Any:
    user = request_user(request)
    administration = get_administration_for_user(user, administration_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=administration.patient, obj=administration)
    return _administration(administration.pk)


class AnswersIn(ApiIn):
    # Strict: a clinical answer is the number sent, never a string that happens to parse as one ("3").
    answers: dict[str, Annotated[StrictInt, Field(ge=-1000, le=1000)] | None] = Field(max_length=500)
    complete: StrictBool = False


@router.post("/administrations/{administration_id}/answers", response=AdministrationOut)
def submit_answers(request: HttpRequest, administration_id: UUID, payload: AnswersIn) -> Any:
    """Staff entry: save answers (partial is fine; null clears one); ``complete`` scores and closes it."""
    user = request_user(request)
    administration = get_administration_for_user(user, administration_id, Cap.EDIT_CLINICAL)
    try:
        if payload.complete:
            actions.do_complete(
                administration, acting_user=user, channel=Administration.Channel.STAFF, answers=payload.answers
            )
        else:
            actions.do_save_answers(
                administration, payload.answers, acting_user=user, channel=Administration.Channel.STAFF
            )
    except ValidationError as exc:
        raise _renamed(exc, {}, answers=True) from None
    return _administration(administration.pk)


NOT_ANSWERS = frozenset({"administration", "channel", "completed_at", "__all__"})


def _renamed(exc: ValidationError, names: dict[str, str], *, answers: bool = False) -> ValidationError:
    """The action's field names as the API spells them; with ``answers`` item codes go under ``answers.``."""
    if not hasattr(exc, "error_dict"):
        return exc
    out: dict[str, list[str]] = {}
    for field, messages in exc.message_dict.items():
        name = f"answers.{field}" if answers and field not in NOT_ANSWERS else names.get(field, field)
        out[name] = messages
    return ValidationError(out)


@router.get("/administrations/{administration_id}/fhir")
def administration_fhir(request: HttpRequest, administration_id: UUID) -> dict[str, Any]:
    """A completed administration as FHIR R4: the QuestionnaireResponse, its Observations and, for a critical
    answer, the risk Flag."""
    user = request_user(request)
    administration = get_administration_for_user(user, administration_id)
    if administration.status != Administration.Status.COMPLETED or administration.completed_at is None:
        raise Conflict("Not completed", "Only a completed questionnaire has a FHIR QuestionnaireResponse.")
    audit.record(
        action=AuditAction.EXPORTED,
        acting_user=user,
        patient=administration.patient,
        obj=administration,
        changed_fields=["questionnaire_response", "observations"],
    )
    instrument = instruments.get(administration.instrument_code)
    answers = administration.answers or {}
    patient_ref = f"Patient/{administration.patient.public_id}"
    qr_id = str(administration.public_id)
    response = fhir.questionnaire_response(
        instrument, answers, patient_ref=patient_ref, authored=administration.completed_at, resource_id=qr_id
    )
    score = instrument.score(answers)
    observations = fhir.observations(
        instrument,
        score,
        patient_ref=patient_ref,
        effective=administration.completed_at,
        qr_ref=f"QuestionnaireResponse/{qr_id}",
    )
    flag = fhir.risk_flag(instrument, score, patient_ref=patient_ref, start=administration.completed_at)
    body: dict[str, Any] = {"questionnaireResponse": response, "observations": observations, "flag": flag}
    if administration.episode.program.is_substance_use:
        for resource in [response, *observations, *([flag] if flag else [])]:
            resource.setdefault("meta", {}).setdefault("security", []).append(dict(PART2_LABEL))
        body["notice"] = PART2_NOTICE
    return body


# --- Safety alerts ---------------------------------------------------------------------------------------------


class AlertOut(Schema):
    id: UUID = Field(alias="public_id")
    patient: UUID = Field(alias="patient.public_id")
    episode: UUID = Field(alias="episode.public_id")
    administration: UUID = Field(alias="administration.public_id")
    instrument: str = Field(alias="administration.instrument_code")
    reason: str
    items: list[str]
    risk: str
    status: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: UUID | None = None
    escalated_at: datetime | None
    resolved_at: datetime | None
    resolution_action: str

    @staticmethod
    def resolve_acknowledged_by(obj: SafetyAlert) -> UUID | None:
        return obj.acknowledged_by.public_id if obj.acknowledged_by is not None else None


class AlertFilter(ApiIn):
    status: str = ""


def _alert(pk: int) -> SafetyAlert:
    return SafetyAlert.objects.select_related("patient", "episode", "administration", "acknowledged_by").get(pk=pk)


@router.get("/alerts", response=list[AlertOut])
def list_alerts(request: HttpRequest, filters: Query[AlertFilter]) -> Any:
    user = request_user(request)
    qs = alerts_for_user(user).select_related("patient", "episode", "administration", "acknowledged_by")
    if filters.status:
        if filters.status not in SafetyAlert.Status.values:
            raise ValidationError({"status": f"Use one of {', '.join(SafetyAlert.Status.values)}."})
        qs = qs.filter(status=filters.status)
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="safetyalert")
    return list(qs.order_by("-created_at")[:MAX_ALERTS])


@router.post("/alerts/{alert_id}/acknowledge", response=AlertOut)
def acknowledge_alert(request: HttpRequest, alert_id: UUID) -> Any:
    user = request_user(request)
    alert = get_alert_for_user(user, alert_id, Cap.EDIT_CLINICAL)
    try:
        actions.do_acknowledge_alert(alert, acting_user=user)
    except ValidationError as exc:
        raise Conflict("Already acknowledged", "; ".join(exc.messages), errors=[{"field": "alert"}]) from None
    return _alert(alert.pk)


class ResolveIn(ApiIn):
    action: str = ""
    note: str = ""


@router.post("/alerts/{alert_id}/resolve", response=AlertOut)
def resolve_alert(request: HttpRequest, alert_id: UUID, payload: ResolveIn) -> Any:
    user = request_user(request)
    alert = get_alert_for_user(user, alert_id, Cap.EDIT_CLINICAL)
    actions.do_resolve_alert(alert, acting_user=user, action=payload.action, note=payload.note)
    return _alert(alert.pk)
