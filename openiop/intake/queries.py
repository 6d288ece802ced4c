"""Access-checked reads of intake assessments: the role first (403), then the user's programs (404 outside them).

An assessment is scoped by its assessing program, so a substance-use program's intake is visible only to that
program's staff, even to colleagues who see the same patient through another program.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.intake.models import Diagnosis, IntakeAssessment, LevelOfCareRating
from openiop.patients import emergency
from openiop.patients.models import Patient
from openiop.patients.queries import chart_program_ids


def assessments_for_user(user: User) -> QuerySet[IntakeAssessment]:
    if user.organization_id is None:
        return IntakeAssessment.objects.none()
    return IntakeAssessment.objects.filter(
        program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
    )


def with_details(qs: QuerySet[IntakeAssessment]) -> QuerySet[IntakeAssessment]:
    """Everything the read view shows, in a fixed number of queries."""
    related = ("patient", "program__site", "episode", "assessor", "signed_by", "recommended_program",
               "recommended_track", "referral")  # fmt: skip
    return qs.select_related(*related).prefetch_related(
        Prefetch("diagnoses", queryset=Diagnosis.objects.filter(is_active=True).order_by("-is_primary", "code")),
        Prefetch("level_ratings", queryset=LevelOfCareRating.objects.prefetch_related("dimensions")),
        "addenda__author",
    )


def get_assessment_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> IntakeAssessment:
    require(user, cap)
    found = with_details(assessments_for_user(user)).filter(public_id=public_id).first()
    if found is None:
        found = emergency.record_under_grant(user, with_details(IntakeAssessment.objects.all()), public_id, (cap,))
    if found is None:
        raise Http404
    return found


def get_diagnosis_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.EDIT_CLINICAL) -> Diagnosis:
    require(user, cap)
    return get_object_or_404(
        Diagnosis.objects.select_related("assessment__patient").filter(assessment__in=assessments_for_user(user)),
        public_id=public_id,
    )


def patient_assessments(user: User, patient: Patient) -> QuerySet[IntakeAssessment]:
    """The patient's assessments in the user's programs (all of them under emergency access), newest first (a list:
    two queries whatever its length)."""
    if user.organization_id is None:
        return IntakeAssessment.objects.none()
    return (
        IntakeAssessment.objects.filter(patient=patient, program_id__in=chart_program_ids(user, patient))
        .select_related("program", "assessor", "signed_by")
        .prefetch_related(Prefetch("diagnoses", queryset=Diagnosis.objects.filter(is_active=True, is_primary=True)))
        .order_by("-assessed_on", "-created_at")
    )
