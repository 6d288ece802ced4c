"""Medications API: a patient's medication list, allergies, signed reconciliations, and the list as a FHIR Bundle of
MedicationStatements.

Access as on the chart's Medications tab: VIEW_CLINICAL reads (403 otherwise), EDIT_CLINICAL writes, the patient in
the user's programs (404 outside them), medications scoped by their episode's program so a substance-use program's
list stays with its staff. Every read is audited (``RECORD_VIEWED``; the FHIR Bundle ``EXPORTED``), which is also
what puts an outside system's token through the Part 2 consent gate (``api.disclosures``) before anything leaves.
Writes go through ``medications.actions``; a refusal is a problem body naming the field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.api.schemas import ApiIn
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.roles import Cap
from openiop.medications import actions, fhir, queries
from openiop.medications.models import Allergy, Medication, Reconciliation
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_episode_for_user, get_patient_for_user

router = Router(tags=["medications"])


class MedicationOut(Schema):
    id: UUID = Field(alias="public_id")
    patient: UUID = Field(alias="patient.public_id")
    episode: UUID | None = Field(default=None, alias="episode.public_id")
    formulary_key: str
    name: str
    ingredients: list[str]
    rxcuis: list[str]
    strength: str
    form: str
    dose: str
    route: str
    frequency: str
    prescriber: str
    source: str
    reason: str
    start_date: date | None
    stop_date: date | None
    stop_reason: str
    is_moud: bool


class MedicationIn(ApiIn):
    """``formulary_key`` (see the formulary) fills the name, ingredients, RxNorm codes, form, route and MOUD; without
    it, ``name`` is required and the entry has no code."""

    formulary_key: str = ""
    name: str = ""
    strength: str = ""
    form: str = ""
    dose: str = ""
    route: str = ""
    frequency: str = ""
    prescriber: str = ""
    source: str = Medication.Source.SELF_REPORT
    reason: str = ""
    start_date: date | None = None
    is_moud: bool = False


class MedicationPatch(ApiIn):
    formulary_key: str | None = None
    name: str | None = None
    strength: str | None = None
    form: str | None = None
    dose: str | None = None
    route: str | None = None
    frequency: str | None = None
    prescriber: str | None = None
    source: str | None = None
    reason: str | None = None
    start_date: date | None = None
    is_moud: bool | None = None


class StopIn(ApiIn):
    stop_date: date
    stop_reason: str


class AllergyOut(Schema):
    id: UUID = Field(alias="public_id")
    substance: str
    reaction: str
    severity: str
    noted_on: date | None


class AllergiesOut(Schema):
    """``no_known_allergies`` true only when someone asked and recorded it; false with an empty list means not asked."""

    no_known_allergies: bool
    stated_on: date | None
    allergies: list[AllergyOut]


class AllergyIn(ApiIn):
    substance: str
    reaction: str = ""
    severity: str = Allergy.Severity.UNKNOWN
    noted_on: date | None = None


class ReconciliationOut(Schema):
    id: UUID = Field(alias="public_id")
    episode: UUID = Field(alias="episode.public_id")
    occasion: str
    reconciled_on: date
    medications: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    note: str
    signed_by: str = Field(alias="signed_by.display_name")
    signed_at: datetime


class ReconciliationIn(ApiIn):
    episode: UUID
    occasion: str
    note: str = ""


def _read(request: HttpRequest, patient_id: UUID, object_type: str) -> Patient:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.VIEW_CLINICAL)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type=object_type)
    return patient


@router.get("/patients/{patient_id}/medications", response=list[MedicationOut])
def list_medications(request: HttpRequest, patient_id: UUID) -> list[Medication]:
    """Current and past medications in the caller's programs, by name."""
    patient = _read(request, patient_id, "medication")
    return list(queries.medications_for_user(request_user(request), patient).order_by("name", "pk"))


@router.post("/patients/{patient_id}/medications", response={201: MedicationOut})
def add_medication(request: HttpRequest, patient_id: UUID, payload: MedicationIn) -> Status[Medication]:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.EDIT_CLINICAL)
    medication = actions.do_add_medication(
        patient, acting_user=user, episode=actions.recording_episode(user, patient), **payload.dict()
    )
    return Status(201, medication)


@router.patch("/medications/{medication_id}", response=MedicationOut)
def update_medication(request: HttpRequest, medication_id: UUID, payload: MedicationPatch) -> Medication:
    """Correct a medication; the fields sent change, the others stay."""
    user = request_user(request)
    medication = queries.get_medication_for_user(user, medication_id)
    return actions.do_update_medication(medication, acting_user=user, **payload.dict(exclude_unset=True))


@router.post("/medications/{medication_id}/stop", response=MedicationOut)
def stop_medication(request: HttpRequest, medication_id: UUID, payload: StopIn) -> Medication:
    user = request_user(request)
    medication = queries.get_medication_for_user(user, medication_id)
    return actions.do_stop_medication(medication, acting_user=user, **payload.dict())


def _allergies(patient: Patient) -> dict[str, Any]:
    statement = queries.no_known_allergies(patient)
    return {
        "no_known_allergies": statement is not None,
        "stated_on": statement.stated_on if statement else None,
        "allergies": queries.allergies(patient),
    }


@router.get("/patients/{patient_id}/allergies", response=AllergiesOut)
def list_allergies(request: HttpRequest, patient_id: UUID) -> dict[str, Any]:
    return _allergies(_read(request, patient_id, "allergy"))


@router.post("/patients/{patient_id}/allergies", response={201: AllergiesOut})
def add_allergy(request: HttpRequest, patient_id: UUID, payload: AllergyIn) -> Status[dict[str, Any]]:
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.EDIT_CLINICAL)
    actions.do_add_allergy(patient, acting_user=user, **payload.dict())
    return Status(201, _allergies(patient))


@router.post("/patients/{patient_id}/allergies/none", response=AllergiesOut)
def state_no_known_allergies(request: HttpRequest, patient_id: UUID) -> dict[str, Any]:
    """The patient was asked and has no known allergies (refused while allergies are listed)."""
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.EDIT_CLINICAL)
    actions.do_state_no_known_allergies(patient, acting_user=user)
    return _allergies(patient)


@router.get("/patients/{patient_id}/medications/reconciliations", response=list[ReconciliationOut])
def list_reconciliations(request: HttpRequest, patient_id: UUID) -> list[Reconciliation]:
    """Signed reconciliations in the caller's programs, newest first."""
    patient = _read(request, patient_id, "reconciliation")
    return list(queries.reconciliations_for_user(request_user(request), patient))


@router.post("/patients/{patient_id}/medications/reconciliations", response={201: ReconciliationOut})
def sign_reconciliation(request: HttpRequest, patient_id: UUID, payload: ReconciliationIn) -> Any:
    """Sign the list as it stands for ``episode`` at ``occasion`` (intake, level_of_care, discharge): it records the
    list and what changed since the last reconciliation, and never changes afterwards."""
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.EDIT_CLINICAL)
    episode = _episode(user, patient, payload.episode)
    reconciliation = actions.do_sign_reconciliation(
        patient, acting_user=user, episode=episode, occasion=payload.occasion, note=payload.note
    )
    signed = Reconciliation.objects.select_related("episode", "signed_by")
    return Status(201, get_object_or_404(signed, pk=reconciliation.pk))


def _episode(user: User, patient: Patient, public_id: UUID) -> EpisodeOfCare:
    try:
        episode = get_episode_for_user(user, public_id, Cap.EDIT_CLINICAL)
    except Http404:
        raise ValidationError({"episode": "Unknown episode, or not in your programs."}) from None
    if episode.patient_id != patient.pk:
        raise ValidationError({"episode": "That episode is another patient's."})
    return episode


@router.get("/patients/{patient_id}/medications/fhir")
def medications_fhir(request: HttpRequest, patient_id: UUID) -> dict[str, Any]:
    """The medication list as a FHIR R4 Bundle (collection) of MedicationStatements, status as of today."""
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.VIEW_CLINICAL)
    rows = list(queries.medications_for_user(user, patient).select_related("patient").order_by("name", "pk"))
    audit.record(
        action=AuditAction.EXPORTED,
        acting_user=user,
        patient=patient,
        object_type="medication",
        changed_fields=["medication_statement"],
    )
    return fhir.medication_bundle(rows, on=timezone.localdate())
