"""Access-checked reads of drug testing.

Staff: the role first (``VIEW_CLINICAL`` to read, 403), then the order's episode program (404 outside the user's
programs), so a substance-use program's results reach only that program's staff (42 CFR Part 2).
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.labs.models import Result, TestingSchedule, TestOrder
from openiop.patients.models import Patient
from openiop.programs.models import Program


def orders_for_user(user: User, cap: Cap = Cap.VIEW_CLINICAL) -> QuerySet[TestOrder]:
    require(user, cap)
    if user.organization_id is None:
        return TestOrder.objects.none()
    return TestOrder.objects.filter(
        episode__program_id__in=program_ids_for(user), patient__organization_id=user.organization_id
    )


def get_order_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> TestOrder:
    order = (
        orders_for_user(user, cap)
        .select_related("patient", "episode__program__site", "episode__primary_clinician")
        .filter(public_id=public_id)
        .first()
    )
    if order is None:
        raise Http404
    return order


def patient_orders(user: User, patient: Patient) -> QuerySet[TestOrder]:
    """The patient's orders in the user's programs, newest first, with collection, results and program."""
    return (
        orders_for_user(user)
        .filter(patient=patient)
        .select_related("episode__program", "collection", "reviewed_by")
        .prefetch_related("results")
        .order_by("-due_on", "-created_at")
    )


def awaiting_review(orders: QuerySet[TestOrder]) -> QuerySet[TestOrder]:
    """Orders with an unexpected result that no clinician has reviewed yet."""
    unexpected = Result.objects.filter(order=OuterRef("pk"), interpretation=Result.Interpretation.UNEXPECTED)
    return orders.filter(Exists(unexpected), reviewed_at__isnull=True)


def program_for_user(user: User, public_id: UUID | str, cap: Cap = Cap.VIEW_CLINICAL) -> Program:
    require(user, cap)
    program = Program.objects.select_related("site").filter(pk__in=program_ids_for(user), public_id=public_id).first()
    if program is None:
        raise Http404
    return program


def schedule_of(program: Program) -> TestingSchedule | None:
    return TestingSchedule.objects.filter(program=program).first()
