"""Access-checked reads of patients: outsiders get 404, insufficient roles 403."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients.models import Coverage, EpisodeOfCare, Patient, SupportContact


def patients_for_user(user: User) -> QuerySet[Patient]:
    """Patients registered in, or with any episode in, one of the user's programs."""
    ids = program_ids_for(user)
    if not ids:
        return Patient.objects.none()
    in_programs = EpisodeOfCare.objects.filter(program_id__in=ids).values("patient_id")
    return Patient.objects.filter(organization_id=user.organization_id).filter(
        Q(home_program_id__in=ids) | Q(pk__in=in_programs)
    )


def get_patient_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_PATIENTS) -> Patient:
    require(user, cap)
    return get_object_or_404(patients_for_user(user).select_related("home_program"), public_id=public_id)


def search_patients(user: User, query: str = "", date_of_birth: date | None = None) -> QuerySet[Patient]:
    """Name (any part, preferred or legal), MRN or date of birth."""
    qs = patients_for_user(user)
    for term in query.split():
        t = term.strip().lower()
        qs = qs.filter(
            Q(search_first__startswith=t)
            | Q(search_last__startswith=t)
            | Q(preferred_name__istartswith=t)
            | Q(mrn__iexact=term)
        )
    if date_of_birth is not None:
        qs = qs.filter(date_of_birth=date_of_birth)
    return qs


def find_possible_duplicates(organization_id: int, first: str, last: str, dob: date) -> QuerySet[Patient]:
    """Same legal first and last name (case-insensitive) and date of birth, across the organization."""
    return Patient.objects.filter(
        organization_id=organization_id,
        search_first=first.strip().lower(),
        search_last=last.strip().lower(),
        date_of_birth=dob,
    )


def get_episode_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_PATIENTS) -> EpisodeOfCare:
    require(user, cap)
    return get_object_or_404(
        EpisodeOfCare.objects.select_related("patient", "program", "track", "primary_clinician").filter(
            program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
        ),
        public_id=public_id,
    )


def get_coverage_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.EDIT_COVERAGE) -> Coverage:
    require(user, cap)
    return get_object_or_404(
        Coverage.objects.select_related("patient").filter(patient__in=patients_for_user(user)), public_id=public_id
    )


def get_contact_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.EDIT_DEMOGRAPHICS) -> SupportContact:
    require(user, cap)
    return get_object_or_404(
        SupportContact.objects.select_related("patient").filter(patient__in=patients_for_user(user)),
        public_id=public_id,
    )
