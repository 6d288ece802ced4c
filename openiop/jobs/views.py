"""The background-jobs page for sysadmins and directors (MANAGE_PROGRAMS; 403 otherwise). Read-only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.jobs import queries


@staff_view(Cap.MANAGE_PROGRAMS)
def status(request: HttpRequest) -> HttpResponse:
    data = queries.overview(request.user)  # type: ignore[arg-type]
    panel = queries.integrity_panel(request.user)  # type: ignore[arg-type]
    return render(request, "jobs/status.html", {"overview": data, "integrity": panel, "nav": "admin"})
