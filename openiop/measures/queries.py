"""Access-checked reads of administrations, scores and safety alerts.

Role first (403), then scoped to the user's programs (404 outside them). Scope is by the *episode's* program, not
the patient's: scores from a substance-use program (42 CFR Part 2) are seen only by that program's staff, even when
the patient is also in a program the user belongs to.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from openiop.accounts.models import ProgramMembership, User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap, Role
from openiop.measures.models import Administration, SafetyAlert
from openiop.patients.models import CareTeamMember, Patient
from openiop.patients.queries import chart_program_ids


def administrations_for_user(user: User) -> QuerySet[Administration]:
    if user.organization_id is None:
        return Administration.objects.none()
    return Administration.objects.filter(
        episode__program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
    )


def get_administration_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> Administration:
    require(user, cap)
    return get_object_or_404(
        administrations_for_user(user).select_related("patient", "episode__program__site", "entered_by"),
        public_id=public_id,
    )


def patient_administrations(user: User, patient: Patient) -> QuerySet[Administration]:
    """The patient's administrations in the user's programs (all of them under emergency access), oldest first (the
    caller checked VIEW_CLINICAL and found ``patient`` with ``get_patient_for_user``)."""
    return (
        Administration.objects.filter(patient=patient, episode__program_id__in=chart_program_ids(user, patient))
        .select_related("episode__program", "entered_by")
        .order_by("due_on", "created_at")
    )


def alerts_for_user(user: User) -> QuerySet[SafetyAlert]:
    require(user, Cap.VIEW_CLINICAL)
    if user.organization_id is None:
        return SafetyAlert.objects.none()
    return SafetyAlert.objects.filter(
        episode__program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
    )


def get_alert_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> SafetyAlert:
    require(user, cap)
    return get_object_or_404(
        alerts_for_user(user).select_related(
            "patient", "episode__program", "administration", "acknowledged_by", "resolved_by"
        ),
        public_id=public_id,
    )


def banner_alerts(user: User) -> QuerySet[SafetyAlert]:
    """Open alerts this person must see on every page: their care-team patients', their on-call programs', and
    every one in a program they direct."""
    if not user.is_authenticated or not user.can(Cap.EDIT_CLINICAL) or user.organization_id is None:
        return SafetyAlert.objects.none()
    mine = Q(episode__primary_clinician=user) | Q(
        episode_id__in=CareTeamMember.objects.filter(user=user).values("episode_id")
    )
    mine |= Q(episode__program__measures_config__on_call=user)
    if user.role == Role.DIRECTOR:
        mine = Q()
    # One query on every page: the membership lookup rides along as a subquery unless the request already has it.
    programs = getattr(user, "_openiop_program_ids", None)
    if programs is None:
        programs = ProgramMembership.objects.filter(
            user=user, program__site__organization_id=user.organization_id
        ).values("program_id")
    return SafetyAlert.objects.filter(
        mine,
        status=SafetyAlert.Status.OPEN,
        episode__program_id__in=programs,
        patient__organization_id=user.organization_id,
    )


def banner_alert_count(user: User) -> int:
    return banner_alerts(user).count()
