"""Intake API: read, start, save sections, rate a framework, add diagnoses, sign, hand over for signing.

Access as in the HTML views (intake.queries): VIEW_CLINICAL reads, EDIT_CLINICAL writes, 404 outside the user's
programs. Every write goes through intake.actions, so a signed assessment refuses changes here too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.api.schemas import ApiIn, HandOverIn, HandoverOut, SignerOut, api_field_errors, signer_for
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.intake import actions
from openiop.intake.models import IntakeAssessment
from openiop.intake.queries import get_assessment_for_user, patient_assessments
from openiop.patients.models import EpisodeOfCare
from openiop.patients.queries import get_patient_for_user
from openiop.programs.models import Program, Track
from openiop.worklist import handover

router = Router(tags=["intake"])


class DimensionOut(Schema):
    dimension: str
    value: str
    note: str


class RatingOut(Schema):
    framework: str
    chosen_level: str
    modifiers: list[str]
    rationale: str
    dimensions: list[DimensionOut]

    @staticmethod
    def resolve_dimensions(obj: Any) -> list[Any]:
        return list(obj.dimensions.all())


class DiagnosisOut(Schema):
    id: UUID = Field(alias="public_id")
    code: str
    description: str
    is_primary: bool
    status: str


class AssessmentSummary(Schema):
    id: UUID = Field(alias="public_id")
    patient: UUID = Field(alias="patient.public_id")
    program: UUID = Field(alias="program.public_id")
    status: str
    assessed_on: date
    signed_at: datetime | None


class AssessmentOut(AssessmentSummary):
    episode: UUID | None = None
    referral: UUID | None = None
    presenting_problem: str
    substance_use_history: str
    substances: list[dict[str, Any]]
    mental_health_history: str
    medical_history: str
    medications: str
    trauma_history: str
    legal_history: str
    employment_education: str
    living_situation: str
    support_system: str
    strengths: str
    risk_suicidal_ideation: bool | None
    risk_suicidal_plan: bool | None
    risk_suicidal_intent: bool | None
    risk_suicide_attempt_history: bool | None
    risk_homicidal_ideation: bool | None
    risk_self_harm: bool | None
    risk_access_to_means: bool | None
    risk_narrative: str
    recommendation: str
    recommended_program: UUID | None = None
    recommended_track: UUID | None = None
    other_level_of_care: str
    recommendation_reason: str
    referral_to: str
    level_ratings: list[RatingOut]
    diagnoses: list[DiagnosisOut]
    # The open hand-over for signing (scope of practice), or null.
    handed_over: HandoverOut | None = None

    @staticmethod
    def resolve_episode(obj: IntakeAssessment) -> UUID | None:
        return obj.episode.public_id if obj.episode_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_referral(obj: IntakeAssessment) -> UUID | None:
        return obj.referral.public_id if obj.referral_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_recommended_program(obj: IntakeAssessment) -> UUID | None:
        return obj.recommended_program.public_id if obj.recommended_program_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_recommended_track(obj: IntakeAssessment) -> UUID | None:
        return obj.recommended_track.public_id if obj.recommended_track_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_level_ratings(obj: IntakeAssessment) -> list[Any]:
        return list(obj.level_ratings.all())

    @staticmethod
    def resolve_diagnoses(obj: IntakeAssessment) -> list[Any]:
        return list(obj.diagnoses.all())

    @staticmethod
    def resolve_handed_over(obj: IntakeAssessment) -> Any:
        return None if obj.is_signed else handover.current_handover(actions.HANDOVER_KIND, obj.public_id)


class IntakeStartIn(ApiIn):
    program: UUID
    episode: UUID | None = None
    referral: UUID | None = None
    assessed_on: date | None = None


class SectionsIn(ApiIn):
    """Any subset of the sections; programs and tracks by id."""

    assessed_on: date | None = None
    presenting_problem: str | None = None
    substance_use_history: str | None = None
    substances: list[dict[str, Any]] | None = None
    mental_health_history: str | None = None
    medical_history: str | None = None
    medications: str | None = None
    trauma_history: str | None = None
    legal_history: str | None = None
    employment_education: str | None = None
    living_situation: str | None = None
    support_system: str | None = None
    strengths: str | None = None
    risk_suicidal_ideation: bool | None = None
    risk_suicidal_plan: bool | None = None
    risk_suicidal_intent: bool | None = None
    risk_suicide_attempt_history: bool | None = None
    risk_homicidal_ideation: bool | None = None
    risk_self_harm: bool | None = None
    risk_access_to_means: bool | None = None
    risk_narrative: str | None = None
    recommendation: str | None = None
    recommended_program: UUID | None = None
    recommended_track: UUID | None = None
    other_level_of_care: str | None = None
    recommendation_reason: str | None = None
    referral_to: str | None = None


class RatingsIn(ApiIn):
    ratings: dict[str, str] = {}
    notes: dict[str, str] = {}
    chosen_level: str = ""
    modifiers: list[str] = []
    rationale: str = ""


class DiagnosisIn(ApiIn):
    code: str
    description: str
    is_primary: bool = False
    status: str = "confirmed"


def _fresh(user: User, assessment: IntakeAssessment) -> IntakeAssessment:
    return get_assessment_for_user(user, assessment.public_id, Cap.EDIT_CLINICAL)


@router.get("/patients/{patient_id}/intake", response=list[AssessmentSummary])
def list_assessments(request: HttpRequest, patient_id: UUID) -> Any:
    user = request_user(request)
    require(user, Cap.VIEW_CLINICAL)
    patient = get_patient_for_user(user, patient_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="intakeassessment")
    return patient_assessments(user, patient).select_related("patient")


@router.post("/patients/{patient_id}/intake", response={201: AssessmentOut})
def start_assessment(request: HttpRequest, patient_id: UUID, payload: IntakeStartIn) -> Any:
    user = request_user(request)
    require(user, Cap.EDIT_CLINICAL)
    patient = get_patient_for_user(user, patient_id)
    program = Program.objects.filter(pk__in=program_ids_for(user), public_id=payload.program).first()
    if program is None:
        raise ValidationError({"program": "Unknown program, or not one of yours."})
    episode = None
    if payload.episode is not None:
        episode = EpisodeOfCare.objects.filter(patient=patient, public_id=payload.episode).first()
        if episode is None:
            raise ValidationError({"episode": "Unknown episode of this patient."})
    referral = None
    if payload.referral is not None:
        from openiop.referrals.models import Referral

        referral = Referral.objects.filter(organization=user.organization, public_id=payload.referral).first()
        if referral is None:
            raise ValidationError({"referral": "Unknown referral."})
    assessment = actions.do_start_assessment(
        patient,
        acting_user=user,
        program=program,
        episode=episode,
        referral=referral,
        assessed_on=payload.assessed_on,
    )
    return Status(201, _fresh(user, assessment))


@router.get("/intake/{assessment_id}", response=AssessmentOut)
def get_assessment(request: HttpRequest, assessment_id: UUID) -> IntakeAssessment:
    user = request_user(request)
    assessment = get_assessment_for_user(user, assessment_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=assessment.patient, obj=assessment)
    return assessment


@router.patch("/intake/{assessment_id}", response=AssessmentOut)
def update_sections(request: HttpRequest, assessment_id: UUID, payload: SectionsIn) -> IntakeAssessment:
    user = request_user(request)
    assessment = get_assessment_for_user(user, assessment_id, Cap.EDIT_CLINICAL)
    fields = payload.dict(exclude_unset=True)
    if "recommended_program" in fields and fields["recommended_program"] is not None:
        program = Program.objects.filter(pk__in=program_ids_for(user), public_id=fields["recommended_program"]).first()
        if program is None:
            raise ValidationError({"recommended_program": "Unknown program, or not one of yours."})
        fields["recommended_program"] = program
    if "recommended_track" in fields and fields["recommended_track"] is not None:
        track = Track.objects.filter(
            program_id__in=program_ids_for(user), public_id=fields["recommended_track"]
        ).first()
        if track is None:
            raise ValidationError({"recommended_track": "Unknown track."})
        fields["recommended_track"] = track
    for text_field in ("recommendation", "other_level_of_care", "recommendation_reason", "referral_to"):
        if text_field in fields and fields[text_field] is None:
            fields[text_field] = ""
    if "assessed_on" in fields and fields["assessed_on"] is None:
        raise ValidationError({"assessed_on": "Give the assessment date."})
    actions.do_save_section(assessment, acting_user=user, **fields)
    return _fresh(user, assessment)


@router.put("/intake/{assessment_id}/ratings/{framework}", response=AssessmentOut)
def rate(request: HttpRequest, assessment_id: UUID, framework: str, payload: RatingsIn) -> IntakeAssessment:
    user = request_user(request)
    assessment = get_assessment_for_user(user, assessment_id, Cap.EDIT_CLINICAL)
    actions.do_rate_level_of_care(assessment, acting_user=user, framework=framework, **payload.dict())
    return _fresh(user, assessment)


@router.post("/intake/{assessment_id}/diagnoses", response={201: DiagnosisOut})
def add_diagnosis(request: HttpRequest, assessment_id: UUID, payload: DiagnosisIn) -> Any:
    user = request_user(request)
    assessment = get_assessment_for_user(user, assessment_id, Cap.EDIT_CLINICAL)
    return Status(201, actions.do_add_diagnosis(assessment, acting_user=user, **payload.dict()))


@router.post("/intake/{assessment_id}/sign", response=AssessmentOut)
def sign(request: HttpRequest, assessment_id: UUID) -> IntakeAssessment:
    user = request_user(request)
    assessment = get_assessment_for_user(user, assessment_id, Cap.EDIT_CLINICAL)
    actions.do_sign_assessment(assessment, acting_user=user)
    return get_assessment_for_user(user, assessment_id)


@router.get("/intake/{assessment_id}/signers", response=list[SignerOut])
def signers(request: HttpRequest, assessment_id: UUID) -> list[User]:
    """Who may sign the assessment: the assessing program's active staff within scope of practice."""
    user = request_user(request)
    assessment = get_assessment_for_user(user, assessment_id, Cap.EDIT_CLINICAL)
    return actions.assessment_signers(assessment)


@router.post("/intake/{assessment_id}/hand-over", response=AssessmentOut)
def hand_over(request: HttpRequest, assessment_id: UUID, payload: HandOverIn) -> IntakeAssessment:
    """Hand the draft to a clinician who may sign it: a work task for them, closed when it is signed."""
    user = request_user(request)
    assessment = get_assessment_for_user(user, assessment_id, Cap.EDIT_CLINICAL)
    try:
        actions.do_hand_over_assessment(assessment, acting_user=user, to=signer_for(user, payload.to))
    except ValidationError as exc:
        raise api_field_errors(exc, handed_to="to") from None
    return get_assessment_for_user(user, assessment_id)
