"""Access-checked reads of referrals, intake slots and documents: the role check first (403), then the lookup is
scoped to the user's programs (404 for anything outside them).

A referral belongs to a program once one is chosen; before that it sits in the organization's triage pool, which
only intake coordinators and directors see (a clinician of another program must not learn who called).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import Min, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap, Role
from openiop.referrals.models import (
    CLOSED_STAGES,
    OPEN_STAGES,
    IntakeAppointment,
    IntakeSlot,
    Referral,
    ReferralDocument,
    ReferralStageChange,
)

TRIAGE_ROLES = (Role.INTAKE, Role.DIRECTOR)
CLOSED_SHOWN_DAYS = 30
METRICS_WINDOW_DAYS = 180


def referrals_for_user(user: User) -> QuerySet[Referral]:
    ids = program_ids_for(user)
    if not ids or user.organization_id is None:
        return Referral.objects.none()
    scope = Q(program_id__in=ids)
    if user.role in TRIAGE_ROLES:
        scope |= Q(program__isnull=True)
    return Referral.objects.filter(scope, organization_id=user.organization_id)


def get_referral_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_PATIENTS) -> Referral:
    require(user, cap)
    return get_object_or_404(
        referrals_for_user(user).select_related("program__site", "patient", "episode", "organization"),
        public_id=public_id,
    )


def get_document_for_user(user: User, public_id: UUID | str) -> ReferralDocument:
    require(user, Cap.VIEW_PATIENTS)
    return get_object_or_404(
        ReferralDocument.objects.select_related("referral__patient").filter(
            referral__in=referrals_for_user(user), is_active=True
        ),
        public_id=public_id,
    )


def slots_for_user(user: User) -> QuerySet[IntakeSlot]:
    return IntakeSlot.objects.filter(program_id__in=program_ids_for(user)).select_related("program", "site", "assessor")


def get_slot_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.BOOK_SESSIONS) -> IntakeSlot:
    require(user, cap)
    return get_object_or_404(slots_for_user(user), public_id=public_id)


def get_appointment_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.BOOK_SESSIONS) -> IntakeAppointment:
    require(user, cap)
    return get_object_or_404(
        IntakeAppointment.objects.select_related("slot__program", "referral").filter(
            referral__in=referrals_for_user(user)
        ),
        public_id=public_id,
    )


def overdue_days() -> int:
    return int(settings.OPENIOP_DEFAULTS.get("referral_stage_overdue_days", 3))


@dataclass
class Column:
    stage: Referral.Stage
    referrals: list[Referral] = field(default_factory=list)
    total: int = 0

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


@dataclass(frozen=True)
class Metrics:
    admitted: int
    median_to_admission_days: float | None
    served: int
    median_to_first_service_days: float | None


def board(user: User, *, program_id: int | None = None, source: str = "", now: datetime | None = None) -> list[Column]:
    """Columns by stage: every open referral, and those closed in the last 30 days. One query whatever the count."""
    now = now or timezone.now()
    qs = _filtered(user, program_id, source)
    recent = Q(stage__in=OPEN_STAGES) | Q(
        stage__in=CLOSED_STAGES, stage_changed_at__gte=now - timedelta(days=CLOSED_SHOWN_DAYS)
    )
    columns = {stage: Column(stage) for stage in (*OPEN_STAGES, *CLOSED_STAGES)}
    for referral in qs.filter(recent).select_related("program").order_by("stage_changed_at", "pk"):
        column = columns[Referral.Stage(referral.stage)]
        column.referrals.append(referral)
        column.total += 1
    return list(columns.values())


def _filtered(user: User, program_id: int | None, source: str) -> QuerySet[Referral]:
    qs = referrals_for_user(user)
    if program_id is not None:
        qs = qs.filter(program_id=program_id)
    if source:
        qs = qs.filter(source=source)
    return qs


def metrics(user: User, *, program_id: int | None = None, source: str = "", now: datetime | None = None) -> Metrics:
    """Medians over the last 180 days, in days: referral received -> admitted (from the stage history), and
    referral received -> first service (the start of the first intake appointment that took place). Two queries."""
    now = now or timezone.now()
    since = now - timedelta(days=METRICS_WINDOW_DAYS)
    qs = _filtered(user, program_id, source)
    admissions = ReferralStageChange.objects.filter(
        referral__in=qs, to_stage=Referral.Stage.ADMITTED, changed_at__gte=since
    ).values_list("changed_at", "referral__received_at")
    to_admission = [(changed - received).total_seconds() / 86400 for changed, received in admissions]
    first_service = (
        IntakeAppointment.objects.filter(
            referral__in=qs,
            status__in=[IntakeAppointment.Status.ATTENDED, IntakeAppointment.Status.BOOKED],
            slot__starts_at__lte=now,
            slot__starts_at__gte=since,
        )
        .exclude(status=IntakeAppointment.Status.BOOKED, slot__ends_at__gt=now)
        .values("referral_id", "referral__received_at")
        .annotate(first=Min("slot__starts_at"))
    )
    to_service = [
        max((row["first"] - row["referral__received_at"]).total_seconds(), 0) / 86400 for row in first_service
    ]
    return Metrics(
        admitted=len(to_admission),
        median_to_admission_days=_median(to_admission),
        served=len(to_service),
        median_to_first_service_days=_median(to_service),
    )


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None
