"""Family pages (what an active release names, decided per request by ``access.family_page``), the staff pages
for education materials, and the chart's Family access tab.

Family pages read only ``request.portal_account.patient`` and only the programs of the consent that allowed the
section; their URLs carry no patient id, so one family login can never ask for another patient's record.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core.forms import add_action_errors
from openiop.core.permissions import program_ids_for, require, staff_view
from openiop.core.roles import Cap
from openiop.family import queries
from openiop.family.access import Share, base_context, family_page
from openiop.family.actions import do_create_material, do_update_material
from openiop.family.forms import MaterialForm
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.portal.models import PortalAccount
from openiop.programs.models import Program
from openiop.recovery.queries import family_meetings


def _account(request: HttpRequest) -> PortalAccount:
    return request.portal_account  # type: ignore[attr-defined]


def _render(
    request: HttpRequest, template: str, shares: list[Share], share: Share | None, **extra: Any
) -> HttpResponse:
    context = base_context(request, shares, nav=share.slug if share else "home", share=share, **extra)
    if share is not None:
        # 42 CFR §2.32: Part 2 information travels with its redisclosure notice, and the consent's scope.
        context["notice"] = share.decision.redisclosure_notice
    return render(request, template, context)


# --- Family pages ---------------------------------------------------------------------------------------------


@family_page()
def home(request: HttpRequest, shares: list[Share], share: None) -> HttpResponse:
    shown = [s for s in shares if s.allowed and s.url_name]
    offline = [s for s in shares if s.allowed and not s.url_name]
    # Group the sections by the release that allows them: "under this release, until then: these pages".
    releases: dict[int, dict[str, Any]] = {}
    for s in shown + offline:
        assert s.consent is not None
        entry = releases.setdefault(s.consent.pk, {"consent": s.consent, "sections": [], "notice": ""})
        entry["sections"].append(s)
        entry["notice"] = entry["notice"] or s.decision.redisclosure_notice
    return _render(
        request, "family/home.html", shares, None, releases=list(releases.values()), offline=offline, shown=shown
    )


@family_page("schedule")
def schedule(request: HttpRequest, shares: list[Share], share: Share) -> HttpResponse:
    bookings = queries.family_sessions(_account(request).patient, share)
    rows = []
    for b in bookings:
        tz = b.session.program.tz()
        rows.append((b, b.session.starts_at.astimezone(tz), b.session.ends_at.astimezone(tz)))
    return _render(request, "family/schedule.html", shares, share, rows=rows)


@family_page("attendance")
def attendance(request: HttpRequest, shares: list[Share], share: Share) -> HttpResponse:
    rows = queries.family_attendance(_account(request).patient, share)
    consent = share.consent
    tz = consent.program.tz() if consent is not None else timezone.get_current_timezone()
    local = [(r, r.starts_at.astimezone(tz), r.ends_at.astimezone(tz)) for r in rows]
    attended = sum(1 for r in rows if r.attended)
    return _render(request, "family/attendance.html", shares, share, rows=local, attended=attended)


@family_page("education")
def education(request: HttpRequest, shares: list[Share], share: Share) -> HttpResponse:
    return _render(request, "family/education.html", shares, share, materials=list(queries.family_materials(share)))


@family_page("education")
def material(request: HttpRequest, shares: list[Share], share: Share, public_id: UUID) -> HttpResponse:
    item = queries.get_family_material(share, public_id)
    paragraphs = [p.strip() for p in item.body.split("\n\n") if p.strip()]
    return _render(request, "family/material.html", shares, share, material=item, paragraphs=paragraphs)


@family_page("plan")
def plan(request: HttpRequest, shares: list[Share], share: Share) -> HttpResponse:
    version = queries.family_plan(_account(request).patient, share)
    goals = [g for p in version.problems.all() for g in p.goals.all()] if version is not None else []
    return _render(request, "family/plan.html", shares, share, version=version, goals=goals)


@family_page("measures")
def measures(request: HttpRequest, shares: list[Share], share: Share) -> HttpResponse:
    rows = queries.family_scores(_account(request).patient, share)
    return _render(request, "family/measures.html", shares, share, rows=rows)


@family_page("recovery")
def recovery(request: HttpRequest, shares: list[Share], share: Share) -> HttpResponse:
    rows = family_meetings(_account(request).patient, share.program_ids)
    return _render(request, "family/recovery.html", shares, share, rows=rows)


# --- Staff: education materials -------------------------------------------------------------------------------


def _programs(user: User) -> Any:
    return Program.objects.filter(pk__in=program_ids_for(user), is_active=True).select_related("site")


@staff_view(Cap.EDIT_CLINICAL)
def materials(request: HttpRequest) -> HttpResponse:
    rows = queries.materials_for_user(request_user(request)).order_by("program__name", "sequence", "title")
    return render(request, "family/staff/materials.html", {"nav": "patients", "materials": rows})


@staff_view(Cap.EDIT_CLINICAL)
def material_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = MaterialForm(request.POST or None, programs=_programs(user), initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            do_create_material(form.cleaned_data["program"], acting_user=user, **form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Material saved.")
            return redirect("family:materials")
    return render(request, "family/staff/material_form.html", {"nav": "patients", "form": form, "material": None})


@staff_view(Cap.EDIT_CLINICAL)
def material_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    item = queries.get_material_for_user(user, public_id)
    initial = {name: getattr(item, name) for name in ("title", "summary", "body", "link", "sequence", "is_active")}
    form = MaterialForm(request.POST or None, programs=_programs(user), editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            do_update_material(item, acting_user=user, **form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Material saved.")
            return redirect("family:materials")
    return render(request, "family/staff/material_form.html", {"nav": "patients", "form": form, "material": item})


# --- Staff: the chart's Family access tab -----------------------------------------------------------------------


def family_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for the chart's Family access tab (registered in family/apps.py)."""
    user = request_user(request)
    require(user, Cap.VIEW_PATIENTS)
    return {
        "family_rows": queries.family_access(user, patient),
        "family_views": queries.family_views(user, patient),
        "can_manage_materials": user.can(Cap.EDIT_CLINICAL),
    }
