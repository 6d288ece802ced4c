from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from openiop.core.permissions import staff_view
from openiop.core.roles import Cap


@staff_view(Cap.VIEW_AUDIT)
def audit_report(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")


@staff_view(Cap.VIEW_AUDIT)
def audit_export(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")
