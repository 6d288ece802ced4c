"""Reads for the family pages (scoped to the account's patient and to the programs whose consent allowed the
section) and for staff (education materials of their programs, who has family access to a chart and what they
opened). Family reads take ``share.program_ids`` from ``access.family_page``: nothing outside them is read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from openiop.accounts.models import User
from openiop.attendance.models import AttendanceRecord
from openiop.consents.checks import part2_programs
from openiop.consents.models import Consent
from openiop.consents.queries import consents_for_user
from openiop.core.models import AuditEvent
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.family.access import NOT_SHARED, SECTIONS_BY_SLUG, Share, shares_for
from openiop.family.models import EducationMaterial
from openiop.measures import instruments
from openiop.measures.models import Administration
from openiop.patients.models import Patient
from openiop.plans.models import Goal, Objective, PlanVersion, TreatmentPlan
from openiop.portal.models import AccountKind, PortalAccount
from openiop.scheduling.models import Booking, SessionType
from openiop.scheduling.queries import patient_schedule


def _setting(name: str) -> int:
    return int(settings.OPENIOP_DEFAULTS[name])


# --- Family pages ---------------------------------------------------------------------------------------------


def family_sessions(patient: Patient, share: Share, now: datetime | None = None) -> list[Booking]:
    """The patient's coming family sessions in the allowed programs (booked seats; a session the program cancelled
    stays listed as cancelled). One query."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    end = today + timedelta(days=_setting("family_schedule_days_ahead"))
    rows = patient_schedule(patient, today, end, program_ids=share.program_ids)
    return [
        b
        for b in rows
        if b.status == Booking.Status.BOOKED
        and b.session.session_type.kind == SessionType.Kind.FAMILY
        and b.session.ends_at > now
    ]


@dataclass(frozen=True)
class AttendanceRow:
    starts_at: datetime
    ends_at: datetime
    attended: bool


def family_attendance(patient: Patient, share: Share, now: datetime | None = None) -> list[AttendanceRow]:
    """Attended yes / no for each past session in the allowed programs, newest first. Nothing else of the record
    (status detail, minutes, participation, remark, the session's name or group) leaves this function. One query."""
    now = now or timezone.now()
    since = now - timedelta(days=_setting("family_attendance_days_back"))
    records = (
        AttendanceRecord.objects.filter(
            patient=patient, session__program_id__in=share.program_ids, session__starts_at__gte=since
        )
        .exclude(status=AttendanceRecord.Status.CANCELLED)  # the program cancelled it: not the patient's absence
        .filter(session__starts_at__lt=now)
        .order_by("-session__starts_at")
        .values_list("session__starts_at", "session__ends_at", "status")
    )
    return [AttendanceRow(start, end, status in AttendanceRecord.ATTENDED) for start, end, status in records]


def family_materials(share: Share) -> QuerySet[EducationMaterial]:
    return EducationMaterial.objects.filter(program_id__in=share.program_ids, is_active=True).order_by(
        "sequence", "title"
    )


def get_family_material(share: Share, public_id: UUID) -> EducationMaterial:
    """404 for a material of any other program, or one taken off the list."""
    return get_object_or_404(family_materials(share), public_id=public_id)


def family_plan(patient: Patient, share: Share) -> PlanVersion | None:
    """The active version of the patient's latest plan in the allowed programs, with its goals and objectives."""
    plan = (
        TreatmentPlan.objects.filter(
            patient=patient,
            episode__program_id__in=share.program_ids,
            current_version__status=PlanVersion.Status.ACTIVE,
        )
        .order_by("-created_at")
        .first()
    )
    if plan is None or plan.current_version_id is None:
        return None
    objectives = Objective.objects.order_by("order", "id")
    goals = Goal.objects.order_by("order", "id").prefetch_related(Prefetch("objectives", queryset=objectives))
    return (
        PlanVersion.objects.filter(pk=plan.current_version_id)
        .prefetch_related(Prefetch("problems__goals", queryset=goals))
        .first()
    )


@dataclass(frozen=True)
class ScoreRow:
    name: str
    completed_at: datetime | None
    total: int | None
    band: str


def family_scores(patient: Patient, share: Share) -> list[ScoreRow]:
    """Completed questionnaires in the allowed programs: instrument, date, total and band. Never the answers."""
    rows = (
        Administration.objects.filter(
            patient=patient, episode__program_id__in=share.program_ids, status=Administration.Status.COMPLETED
        )
        .order_by("-completed_at")
        .values_list("instrument_code", "completed_at", "total", "band_key")
    )
    out = []
    for code, completed_at, total, band_key in rows:
        instrument = instruments.REGISTRY.get(code)
        if instrument is None:
            continue
        band = next((b.label for b in instrument.bands if b.key == band_key), "")
        out.append(ScoreRow(instrument.short_name, completed_at, total, band))
    return out


# --- Staff: education materials ---------------------------------------------------------------------------------


def materials_for_user(user: User) -> QuerySet[EducationMaterial]:
    """Materials of the user's programs (the caller checked the capability)."""
    return EducationMaterial.objects.filter(program_id__in=program_ids_for(user)).select_related("program")


def get_material_for_user(user: User, public_id: UUID, cap: Cap = Cap.EDIT_CLINICAL) -> EducationMaterial:
    require(user, cap)
    return get_object_or_404(materials_for_user(user).select_related("program__site"), public_id=public_id)


# --- Staff: the chart's Family access tab -------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffShare:
    title: str
    allowed: bool
    reason: str
    consent: Consent | None  # only when the user may see that consent


@dataclass(frozen=True)
class AccessRow:
    account: PortalAccount
    shares: list[StaffShare]

    @property
    def sees_anything(self) -> bool:
        return any(s.allowed for s in self.shares)


HIDDEN_REASON = "Decided by consents of a program you are not part of."


def family_access(user: User, patient: Patient) -> list[AccessRow]:
    """Each family login of the patient and what it may see now, from the same check its pages make. A decision
    that rests on another program's consent (a Part 2 consent says the patient is in substance use treatment) is
    shown without its consent or reason to staff outside that program."""
    require(user, Cap.VIEW_PATIENTS)
    visible = set(consents_for_user(user).filter(patient=patient).values_list("pk", flat=True))
    mine = set(program_ids_for(user))
    sud_ids = {p.pk for p in part2_programs(patient)}
    accounts = (
        PortalAccount.objects.filter(patient=patient, kind=AccountKind.FAMILY)
        .select_related("contact", "patient__organization", "user")
        .order_by("contact__name")
    )
    rows = []
    for account in accounts:
        shares = []
        for share in shares_for(account, offline=True) if account.is_active else []:
            decision = share.decision
            hidden = decision.part2 and not sud_ids <= mine
            if hidden and not decision.allowed:
                # The refusal's reason may name Part 2; the bare "not shared" is all this user learns.
                shares.append(StaffShare(share.title, False, HIDDEN_REASON, None))
                continue
            consent = decision.consent if decision.consent is not None and decision.consent.pk in visible else None
            reason = decision.reason if not hidden else HIDDEN_REASON
            shares.append(StaffShare(share.title, decision.allowed, reason, consent))
        rows.append(AccessRow(account, shares))
    return rows


@dataclass(frozen=True)
class ViewRow:
    event: AuditEvent
    page: str
    refused: bool
    account: PortalAccount | None


def family_views(user: User, patient: Patient, limit: int | None = None) -> list[ViewRow]:
    """The latest family page views of the patient's chart (audit rows by family logins). Two queries."""
    require(user, Cap.VIEW_PATIENTS)
    limit = limit or _setting("family_audit_rows_on_chart")
    accounts = {
        a.user_id: a
        for a in PortalAccount.objects.filter(patient=patient, kind=AccountKind.FAMILY).select_related("contact")
    }
    if not accounts:
        return []
    events = AuditEvent.objects.filter(patient=patient, actor_id__in=list(accounts)).order_by("-chain_index")[:limit]
    rows = []
    for event in events:
        fields: list[Any] = list(event.changed_fields or [])  # the audit keeps field names sorted
        page = next((str(f) for f in fields if f != NOT_SHARED), "")
        title = "Overview" if page == "home" else SECTIONS_BY_SLUG[page].title if page in SECTIONS_BY_SLUG else page
        rows.append(ViewRow(event, title, NOT_SHARED in fields, accounts.get(event.actor_id or 0)))
    return rows
