"""Access-checked reads of claims and X12 files: VIEW_BILLING first (403; clinicians never see money), then the
user's organization and programs (404). Claims name patients, so lists write PATIENTS_LISTED (in the views)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from openiop.accounts.models import User
from openiop.claims.models import Claim, X12File
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients.models import Payer


def claims_for_user(user: User) -> QuerySet[Claim]:
    require(user, Cap.VIEW_BILLING)
    if user.organization_id is None:
        return Claim.objects.none()
    return Claim.objects.filter(organization_id=user.organization_id, program_id__in=program_ids_for(user))


def get_claim_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_BILLING) -> Claim:
    require(user, cap)
    try:
        return (
            claims_for_user(user)
            .select_related("patient", "payer", "program__site", "episode", "coverage", "replaces", "attending")
            .get(public_id=public_id)
        )
    except Claim.DoesNotExist:
        raise Http404 from None


def payers_for_user(user: User) -> QuerySet[Payer]:
    require(user, Cap.VIEW_BILLING)
    if user.organization_id is None:
        return Payer.objects.none()
    return Payer.objects.filter(organization_id=user.organization_id).order_by("-is_active", "name")


def get_payer_for_user(user: User, public_id: UUID | str) -> Payer:
    try:
        return payers_for_user(user).get(public_id=public_id)
    except Payer.DoesNotExist:
        raise Http404 from None


@dataclass
class ClaimFilter:
    status: str = ""
    payer: Payer | None = None
    program_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def list_claims(user: User, f: ClaimFilter) -> QuerySet[Claim]:
    rows = claims_for_user(user).select_related("patient", "payer", "program").order_by("-period_start", "-number")
    if f.status:
        rows = rows.filter(status=f.status)
    if f.payer is not None:
        rows = rows.filter(payer=f.payer)
    if f.program_id is not None:
        rows = rows.filter(program_id=f.program_id)
    if f.date_from is not None:
        rows = rows.filter(period_end__gte=f.date_from)
    if f.date_to is not None:
        rows = rows.filter(period_start__lte=f.date_to)
    return rows


def status_counts(user: User) -> dict[str, dict[str, object]]:
    """Claims and charges per status, one query."""
    rows = claims_for_user(user).values("status").annotate(n=Count("pk"), charged=Sum("total_charge"))
    return {r["status"]: {"n": r["n"], "charged": r["charged"]} for r in rows}


def files_for_user(user: User) -> QuerySet[X12File]:
    require(user, Cap.VIEW_BILLING)
    mine = Q(direction=X12File.Direction.IN) | Q(claims__program_id__in=program_ids_for(user))
    if user.organization_id is None:
        return X12File.objects.none()
    return X12File.objects.filter(mine, organization_id=user.organization_id).distinct()


def get_file_for_user(user: User, public_id: UUID | str) -> X12File:
    try:
        return files_for_user(user).get(public_id=public_id)
    except X12File.DoesNotExist:
        raise Http404 from None
