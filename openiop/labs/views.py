"""Staff pages of drug testing: the chart's Drug testing tab (registered in ``labs/apps.py``, ``VIEW_CLINICAL``;
the chart audits the read) and its header flag."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from openiop.accounts.http import request_user
from openiop.core.roles import Cap
from openiop.labs import charts
from openiop.labs.models import Result, TestOrder
from openiop.labs.queries import awaiting_review, orders_for_user, patient_orders
from openiop.patients.models import EpisodeOfCare, Patient

TAB_ORDERS = 60


def _state(order: TestOrder) -> str:
    if order.status in (TestOrder.Status.REFUSED, TestOrder.Status.UNABLE):
        return charts.REFUSED
    results = list(order.results.all())
    if not results:
        return charts.PENDING
    if any(r.interpretation == Result.Interpretation.UNEXPECTED for r in results):
        return charts.UNEXPECTED
    return charts.EXPECTED


def testing_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for labs/partials/tab_drug_testing.html: the latest orders, their results and the strip."""
    user = request_user(request)
    orders = list(patient_orders(user, patient)[:TAB_ORDERS])
    return {
        "drug_orders": orders,
        "drug_strip": charts.strip([(o.due_on, _state(o)) for o in orders]),
        "can_edit_tests": user.can(Cap.EDIT_CLINICAL),
    }


def flag_context(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    """The header flag while an unexpected result waits for a clinician's review; nothing otherwise."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.can(Cap.VIEW_CLINICAL):
        return None
    count = awaiting_review(orders_for_user(user).filter(patient=patient)).count()
    return {"count": count, "url": patient.get_absolute_url()} if count else None
