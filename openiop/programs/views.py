"""Administration pages: organization, sites, programs, tracks and staff.

Every view checks the role first (403 whatever the record) and then looks the record up inside the
user's organization or programs (404 for anything else); see queries.py for who may see what.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openiop.accounts.actions import do_create_staff, do_set_staff_active, do_update_staff
from openiop.accounts.mfa import has_confirmed_device
from openiop.accounts.models import User
from openiop.core.forms import add_action_errors
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.roles import COMMON_CREDENTIALS, Cap
from openiop.programs import queries, signing
from openiop.programs.actions import (
    do_create_program,
    do_create_site,
    do_create_track,
    do_set_program_active,
    do_set_site_active,
    do_set_track_active,
    do_update_organization,
    do_update_program,
    do_update_site,
    do_update_track,
)
from openiop.programs.forms import (
    COMMON_TIME_ZONES,
    OrganizationForm,
    ProgramCreateForm,
    ProgramForm,
    SigningCredentialsForm,
    SiteForm,
    StaffCreateForm,
    StaffForm,
    TrackForm,
    initial_from,
    plain_number,
)
from openiop.programs.models import Organization, Program, Site, Track

program_reader = staff_view(any_of=queries.READ_PROGRAMS_CAPS)
organization_reader = staff_view(any_of=queries.READ_ORGANIZATION_CAPS)


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    user = request.user
    context.setdefault("nav", "admin")
    context.setdefault("time_zones", COMMON_TIME_ZONES)
    context["can_manage_organization"] = user.can(Cap.MANAGE_ORGANIZATION)  # type: ignore[union-attr]
    context["can_read_organization"] = queries.can_read_organization(user)
    return render(request, template, context)


def _form_page(request: HttpRequest, template: str, form: Any, context: dict[str, Any] | None = None) -> HttpResponse:
    return _render(request, template, {"form": form, **(context or {})})


def _low_dose_warning(request: HttpRequest, program: Program, tracks: list[Track]) -> None:
    for track in tracks:
        if track.is_active and not track.meets_dose:
            messages.warning(
                request,
                f"The {track.name} track gives {plain_number(track.hours_per_week)} hours a week, below the "
                f"program's minimum dose of {plain_number(program.weekly_dose_hours)}.",
            )


def _organization(user: User) -> Organization:
    if user.organization is None:
        raise Http404
    return user.organization


# --- Overview ---------------------------------------------------------------------------------------------


@program_reader
def index(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    programs = (
        queries.programs_visible_to(user)
        .select_related("site")
        .prefetch_related(Prefetch("tracks", queryset=Track.objects.filter(is_active=True)))
        .order_by("-is_active", "site__name", "name")
    )
    sites = queries.sites_for_user(user).annotate(active_programs=Count("programs", filter=Q(programs__is_active=True)))
    staff = User.objects.filter(organization_id=queries.organization_id_of(user))
    return _render(
        request,
        "programs/index.html",
        {
            "organization": user.organization,
            "programs": programs,
            "sites": sites,
            "staff_active": staff.filter(is_active=True).count(),
        },
    )


@staff_view(Cap.MANAGE_ORGANIZATION)
def organization_edit(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    organization = _organization(user)
    if request.method == "POST":
        form = OrganizationForm(request.POST)
        if form.is_valid():
            try:
                changed = do_update_organization(organization, acting_user=user, **form.cleaned_data)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Organization saved." if changed else "Nothing changed.")
                return redirect("programs:index")
    else:
        form = OrganizationForm(initial=initial_from(organization, list(OrganizationForm.base_fields)))
    return _form_page(request, "programs/organization_form.html", form, {"organization": organization})


# --- Sites ------------------------------------------------------------------------------------------------


@organization_reader
def site_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    sites = queries.sites_for_user(user).annotate(active_programs=Count("programs", filter=Q(programs__is_active=True)))
    return _render(request, "programs/site_list.html", {"sites": sites.order_by("-is_active", "name")})


@staff_view(Cap.MANAGE_ORGANIZATION)
def site_create(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        form = SiteForm(request.POST)
        if form.is_valid():
            try:
                site = do_create_site(acting_user=user, organization=_organization(user), **form.cleaned_data)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, f"Site {site.name} added.")
                return redirect("programs:site_list")
    else:
        form = SiteForm(initial={"time_zone": Site._meta.get_field("time_zone").get_default()})
    return _form_page(request, "programs/site_form.html", form)


@staff_view(Cap.MANAGE_ORGANIZATION)
def site_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    site = queries.get_site_for_user(user, public_id, write=True)
    if request.method == "POST":
        form = SiteForm(request.POST)
        if form.is_valid():
            try:
                changed = do_update_site(site, acting_user=user, **form.cleaned_data)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, f"Site {site.name} saved." if changed else "Nothing changed.")
                return redirect("programs:site_list")
    else:
        form = SiteForm(initial=initial_from(site, list(SiteForm.base_fields)))
    return _form_page(request, "programs/site_form.html", form, {"site": site})


@staff_view(Cap.MANAGE_ORGANIZATION)
@require_POST
def site_set_active(request: HttpRequest, public_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    site = queries.get_site_for_user(user, public_id, write=True)
    active = request.POST.get("active") == "1"
    try:
        do_set_site_active(site, acting_user=user, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Site {site.name} {'reactivated' if active else 'deactivated'}.")
    return redirect("programs:site_list")


# --- Programs ---------------------------------------------------------------------------------------------


@staff_view(Cap.MANAGE_ORGANIZATION)
def program_create(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    organization = _organization(user)
    if request.method == "POST":
        form = ProgramCreateForm(request.POST, organization=organization)
        if form.is_valid():
            try:
                program = do_create_program(acting_user=user, **form.cleaned_data)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, f"Program {program.name} created.")
                return redirect(program.get_absolute_url())
    else:
        form = ProgramCreateForm(organization=organization)
    return _form_page(request, "programs/program_form.html", form)


@program_reader
def program_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    program = queries.get_program_for_user(user, public_id)
    # The related manager hands each track this same program, so the dose check costs no query per track.
    tracks = list(program.tracks.order_by("-is_active", "start_time", "name"))
    staff = program.staff.filter(is_active=True).order_by("last_name", "first_name")
    return _render(
        request,
        "programs/program_detail.html",
        {
            "program": program,
            "tracks": tracks,
            "staff": staff,
            "can_edit": user.can(Cap.MANAGE_PROGRAMS),
            "signing": signing.accepted_credentials(program),
            "supervised_signing": signing.supervised_credentials(program),
            "signing_is_default": not program.signing_credentials and not program.supervised_signing_credentials,
            # Placement lists patients: members of the program who place or configure only.
            "can_place": program.pk in program_ids_for(user)
            and (user.can(Cap.EDIT_CLINICAL) or user.can(Cap.MANAGE_PROGRAMS)),
        },
    )


@staff_view(Cap.MANAGE_PROGRAMS)
def program_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    program = queries.get_program_for_user(user, public_id, Cap.MANAGE_PROGRAMS)
    if request.method == "POST":
        form = ProgramForm(request.POST)
        if form.is_valid():
            try:
                changed = do_update_program(program, acting_user=user, **form.cleaned_data)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, f"Program {program.name} saved." if changed else "Nothing changed.")
                if "weekly_dose_hours" in changed:
                    _low_dose_warning(request, program, list(program.tracks.filter(is_active=True)))
                return redirect(program.get_absolute_url())
    else:
        form = ProgramForm(initial=initial_from(program, ProgramForm.field_names))
    return _form_page(request, "programs/program_form.html", form, {"program": program})


@staff_view(Cap.MANAGE_PROGRAMS)
def program_signing(request: HttpRequest, public_id: str) -> HttpResponse:
    """Who may sign the program's assessments, plans and notes (docs/clinical-rules.md#scope-of-practice)."""
    user: User = request.user  # type: ignore[assignment]
    program = queries.get_program_for_user(user, public_id, Cap.MANAGE_PROGRAMS)
    form = SigningCredentialsForm(request.POST if request.method == "POST" else None, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            changed = do_update_program(program, acting_user=user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Signing credentials saved." if changed else "Nothing changed.")
            return redirect(program.get_absolute_url())
    return _form_page(request, "programs/signing_form.html", form, {"program": program})


@staff_view(Cap.MANAGE_ORGANIZATION)
@require_POST
def program_set_active(request: HttpRequest, public_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    program = queries.get_program_for_user(user, public_id, Cap.MANAGE_PROGRAMS)
    active = request.POST.get("active") == "1"
    try:
        do_set_program_active(program, acting_user=user, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Program {program.name} {'reactivated' if active else 'deactivated'}.")
    return redirect(program.get_absolute_url())


# --- Tracks -----------------------------------------------------------------------------------------------


@staff_view(Cap.MANAGE_PROGRAMS)
def track_create(request: HttpRequest, public_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    program = queries.get_program_for_user(user, public_id, Cap.MANAGE_PROGRAMS)
    if request.method == "POST":
        form = TrackForm(request.POST)
        if form.is_valid():
            try:
                track = do_create_track(acting_user=user, program=program, **form.cleaned_data)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, f"Track {track.name} added.")
                _low_dose_warning(request, program, [track])
                return redirect(program.get_absolute_url())
    else:
        form = TrackForm()
    return _form_page(request, "programs/track_form.html", form, {"program": program})


@staff_view(Cap.MANAGE_PROGRAMS)
def track_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    track = queries.get_track_for_user(user, public_id)
    program = track.program
    if request.method == "POST":
        form = TrackForm(request.POST)
        if form.is_valid():
            try:
                changed = do_update_track(track, acting_user=user, **form.cleaned_data)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, f"Track {track.name} saved." if changed else "Nothing changed.")
                _low_dose_warning(request, program, [track])
                return redirect(program.get_absolute_url())
    else:
        form = TrackForm(initial=initial_from(track, TrackForm.field_names))
    return _form_page(request, "programs/track_form.html", form, {"program": program, "track": track})


@staff_view(Cap.MANAGE_PROGRAMS)
@require_POST
def track_set_active(request: HttpRequest, public_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    track = queries.get_track_for_user(user, public_id)
    active = request.POST.get("active") == "1"
    try:
        do_set_track_active(track, acting_user=user, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Track {track.name} {'reactivated' if active else 'deactivated'}.")
    return redirect(track.program.get_absolute_url())


# --- Staff ------------------------------------------------------------------------------------------------


@organization_reader
def staff_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    members = queries.staff_for_user(user).order_by("-is_active", "last_name", "first_name", "username")
    return _render(request, "programs/staff_list.html", {"members": members})


@staff_view(Cap.MANAGE_ORGANIZATION)
def staff_create(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    organization = _organization(user)
    if request.method == "POST":
        form = StaffCreateForm(request.POST, organization=organization)
        if form.is_valid():
            try:
                member = do_create_staff(
                    acting_user=user,
                    organization=organization,
                    username=form.cleaned_data["username"],
                    password=form.password(),
                    programs=form.cleaned_data["programs"],
                    **form.staff_fields(),
                )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                later = "" if form.password() else " Set a password before they can log in."
                messages.success(request, f"Account {member.username} created.{later}")
                return redirect("programs:staff_list")
    else:
        form = StaffCreateForm(organization=organization)
    return _form_page(request, "programs/staff_form.html", form, {"credentials": COMMON_CREDENTIALS})


@staff_view(Cap.MANAGE_ORGANIZATION)
def staff_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    member = queries.get_staff_for_user(user, public_id)
    if request.method == "POST":
        form = StaffForm(request.POST, organization=_organization(user), member=member)
        if form.is_valid():
            try:
                changed = do_update_staff(
                    member, acting_user=user, programs=form.cleaned_data["programs"], **form.staff_fields()
                )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, f"Account {member.username} saved." if changed else "Nothing changed.")
                return redirect("programs:staff_list")
    else:
        initial = initial_from(member, [n for n in StaffForm.field_names if n != "programs"])
        initial["programs"] = list(member.programs.values_list("pk", flat=True))
        form = StaffForm(initial=initial, organization=_organization(user), member=member)
    return _form_page(
        request,
        "programs/staff_form.html",
        form,
        {
            "member": member,
            "member_has_mfa": has_confirmed_device(member),
            "credentials": COMMON_CREDENTIALS,
            "next_url": reverse("programs:staff_edit", args=[member.public_id]),
        },
    )


@staff_view(Cap.MANAGE_ORGANIZATION)
@require_POST
def staff_set_active(request: HttpRequest, public_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    member = queries.get_staff_for_user(user, public_id)
    active = request.POST.get("active") == "1"
    try:
        do_set_staff_active(member, acting_user=user, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Account {member.username} {'reactivated' if active else 'deactivated'}.")
    return redirect("programs:staff_list")
