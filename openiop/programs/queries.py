"""Access-checked reads of the administration pages: the role check answers 403, the scope 404.

Who sees what:
- a system administrator configures the whole organization (sites, programs, tracks, staff);
- a program director configures the programs they belong to (and their tracks), nothing else;
- an auditor reads every configuration page of the organization and writes none.
Configuration is not patient data, so reading it writes no audit row; every change does (in the actions).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.models import User
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.programs.models import Program, Site, Track

# Any one of these reads the pages; the views' staff_view(any_of=...) and the checks below share them.
READ_ORGANIZATION_CAPS = (Cap.MANAGE_ORGANIZATION, Cap.VIEW_AUDIT)
READ_PROGRAMS_CAPS = (*READ_ORGANIZATION_CAPS, Cap.MANAGE_PROGRAMS)


def managed_program_ids(user: User) -> list[int]:
    """Programs the user may configure: all of the organization for a sysadmin, own ones for a director."""
    if not user.is_authenticated or user.organization_id is None:
        return []
    if user.can(Cap.MANAGE_ORGANIZATION):
        return list(Program.objects.filter(site__organization_id=user.organization_id).values_list("id", flat=True))
    if user.can(Cap.MANAGE_PROGRAMS):
        return program_ids_for(user)
    return []


def can_read_organization(user: Any) -> bool:
    """Organization-wide configuration: sites and staff (administrators, and auditors read-only)."""
    return bool(getattr(user, "is_authenticated", False)) and any(user.can(c) for c in READ_ORGANIZATION_CAPS)


def can_read_programs(user: Any) -> bool:
    """The administration home and program pages: also directors, for their own programs."""
    return bool(getattr(user, "is_authenticated", False)) and any(user.can(c) for c in READ_PROGRAMS_CAPS)


def require_read_organization(user: Any) -> None:
    if not can_read_organization(user):
        raise PermissionDenied


def require_read_programs(user: Any) -> None:
    if not can_read_programs(user):
        raise PermissionDenied


def organization_id_of(user: User) -> int:
    """Configuration always belongs to the user's organization; an account without one reaches nothing."""
    if user.organization_id is None:
        raise Http404
    return user.organization_id


def _org_programs(user: User) -> QuerySet[Program]:
    return Program.objects.filter(site__organization_id=organization_id_of(user))


def programs_visible_to(user: User) -> QuerySet[Program]:
    """Programs on the administration pages: the whole organization, or a director's own programs."""
    require_read_programs(user)
    if user.can(Cap.MANAGE_ORGANIZATION) or user.can(Cap.VIEW_AUDIT):
        return _org_programs(user)
    return Program.objects.filter(pk__in=managed_program_ids(user))


def programs_managed_by(user: User) -> QuerySet[Program]:
    require(user, Cap.MANAGE_PROGRAMS)
    return Program.objects.filter(pk__in=managed_program_ids(user))


def get_program_for_user(
    user: User, public_id: UUID | str, cap: Cap | None = None, *, active_only: bool = False
) -> Program:
    """The one program lookup: the role check first (403), then 404 outside the user's reach, which ``cap`` sets:

    - ``None``: the administration pages' read (sysadmins and auditors: the organization; directors: their own);
    - ``Cap.MANAGE_PROGRAMS``: the programs the user configures (``programs_managed_by``);
    - any other capability: the user's own programs (membership), e.g. VIEW_CENSUS for a report.

    ``active_only`` keeps to active programs (the choices of a new episode)."""
    if cap is None:
        programs = programs_visible_to(user)
    elif cap == Cap.MANAGE_PROGRAMS:
        programs = programs_managed_by(user)
    else:
        require(user, cap)
        programs = Program.objects.filter(id__in=program_ids_for(user))
    if active_only:
        programs = programs.filter(is_active=True)
    return get_object_or_404(programs.select_related("site"), public_id=public_id)


def get_track_for_user(user: User, public_id: UUID | str) -> Track:
    """Tracks are only looked up to change them."""
    return get_object_or_404(
        Track.objects.select_related("program__site").filter(program__in=programs_managed_by(user)),
        public_id=public_id,
    )


def sites_for_user(user: User) -> QuerySet[Site]:
    """Sites are listed to every reader of the administration home (directors see where programs run)."""
    require_read_programs(user)
    return Site.objects.filter(organization_id=organization_id_of(user))


def get_site_for_user(user: User, public_id: UUID | str, *, write: bool = False) -> Site:
    if write:
        require(user, Cap.MANAGE_ORGANIZATION)
    else:
        require_read_organization(user)
    return get_object_or_404(Site.objects.filter(organization_id=organization_id_of(user)), public_id=public_id)


def staff_for_user(user: User) -> QuerySet[User]:
    """The organization's staff with what the staff list shows, in a fixed number of queries."""
    require_read_organization(user)
    confirmed_device = TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
    return (
        User.objects.filter(organization_id=organization_id_of(user))
        .select_related("supervisor")
        .prefetch_related("programs")
        .annotate(has_mfa=Exists(confirmed_device))
    )


def get_staff_for_user(user: User, public_id: UUID | str) -> User:
    """Staff accounts are only looked up to change them."""
    require(user, Cap.MANAGE_ORGANIZATION)
    return get_object_or_404(
        User.objects.filter(organization_id=organization_id_of(user)).select_related("supervisor"),
        public_id=public_id,
    )
