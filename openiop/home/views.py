"""The home page: administrators get their shortcuts; clinical users get the panels their apps registered."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openiop.accounts.models import User
from openiop.core import registry
from openiop.core.roles import Cap


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
    panels: list[registry.HomePanel] = []
    page: dict[str, Any] = {"nav": "home"}
    for panel in registry.home_panels:
        if not panel.visible_to(user):
            continue
        built = panel.build(request)
        if built is not None:
            panels.append(panel)
            # One flat context (panels use distinct names), so a panel's template sees only what it built.
            page.update(built)
    page["panels"] = panels
    return render(request, "core/home.html", page)
