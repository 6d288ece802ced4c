from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.roles import Cap
from openiop.patients.queries import caseload_for
from openiop.programs.census import caseload_rows, census_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Census of the user's programs and their own caseload; administrators get their shortcuts instead."""
    user: User = request.user  # type: ignore[assignment]
    if not user.can(Cap.VIEW_CENSUS):
        context: dict[str, object] = {"nav": "home", "admin_home": True}
        if user.can(Cap.MANAGE_ORGANIZATION) and user.organization_id is not None:
            staff = User.objects.filter(organization_id=user.organization_id, is_active=True)
            context["staff_active"] = staff.count()
            context["staff_without_mfa"] = staff.exclude(totpdevice__confirmed=True).count()
        return render(request, "core/home.html", context)
    census = census_for(user)
    caseload = caseload_rows(list(caseload_for(user)))
    if caseload:
        # The caseload names patients: one audit row per page view (never the names themselves).
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="caseload")
    return render(
        request,
        "core/home.html",
        {
            "nav": "home",
            "census": census,
            "caseload": caseload,
            "show_caseload": bool(caseload) or user.can(Cap.EDIT_CLINICAL),
        },
    )


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
