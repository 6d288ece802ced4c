"""Writes to organization, site, program and track configuration: atomic and audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from openiop.core import audit
from openiop.core.actions import apply_changes, validate
from openiop.core.models import AuditAction
from openiop.programs.models import Organization, Program, Site, Track

if TYPE_CHECKING:
    from openiop.accounts.models import User

SITE_FIELDS = ("name", "address_line1", "address_line2", "city", "state", "postal_code", "phone", "time_zone")
PROGRAM_FIELDS = (
    "name", "description", "focus", "population", "time_zone", "weekly_dose_hours", "max_length_weeks",
    "group_size_cap",
)
TRACK_FIELDS = ("name", "kind", "weekdays", "start_time", "end_time")
ORGANIZATION_FIELDS = ("name", "phone", "website", "mrn_prefix")


def _config_audit(acting_user: User | None, obj: Any, organization_id: int, changed: list[str],
                  action: AuditAction = AuditAction.CONFIG_CHANGED) -> None:
    audit.record(action=action, acting_user=acting_user, obj=obj, changed_fields=changed,
                 organization_id=organization_id)


@transaction.atomic
def do_create_organization(*, acting_user: User | None, name: str, **fields: Any) -> Organization:
    org = Organization(name=name)
    apply_changes(org, fields, ORGANIZATION_FIELDS)
    validate(org)
    org.save()
    _config_audit(acting_user, org, org.pk, ["name", *fields], AuditAction.CREATED)
    return org


@transaction.atomic
def do_update_organization(org: Organization, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(org, fields, ORGANIZATION_FIELDS)
    if changed:
        validate(org)
        org.save()
        _config_audit(acting_user, org, org.pk, changed)
    return changed


@transaction.atomic
def do_create_site(*, acting_user: User | None, organization: Organization, **fields: Any) -> Site:
    site = Site(organization=organization)
    apply_changes(site, fields, SITE_FIELDS)
    validate(site)
    site.save()
    _config_audit(acting_user, site, organization.pk, list(fields), AuditAction.CREATED)
    return site


@transaction.atomic
def do_update_site(site: Site, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(site, fields, SITE_FIELDS)
    if changed:
        validate(site)
        site.save()
        _config_audit(acting_user, site, site.organization_id, changed)
    return changed


@transaction.atomic
def do_set_site_active(site: Site, *, acting_user: User, active: bool) -> None:
    if site.is_active != active:
        site.is_active = active
        site.save(update_fields=["is_active", "updated_at"])
        _config_audit(acting_user, site, site.organization_id, ["is_active"],
                      AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED)


@transaction.atomic
def do_create_program(*, acting_user: User | None, site: Site, **fields: Any) -> Program:
    """Create a program; unset dose, length, cap and time zone come from settings and the site."""
    program = Program(site=site, time_zone="", weekly_dose_hours=None, max_length_weeks=None,
                      group_size_cap=None)
    apply_changes(program, {k: v for k, v in fields.items() if v not in (None, "")}, PROGRAM_FIELDS)
    program.apply_defaults()
    validate(program)
    program.save()
    _config_audit(acting_user, program, site.organization_id, list(fields), AuditAction.CREATED)
    return program


@transaction.atomic
def do_update_program(program: Program, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(program, fields, PROGRAM_FIELDS)
    if changed:
        validate(program)
        program.save()
        _config_audit(acting_user, program, program.site.organization_id, changed)
    return changed


@transaction.atomic
def do_set_program_active(program: Program, *, acting_user: User, active: bool) -> None:
    if program.is_active != active:
        program.is_active = active
        program.save(update_fields=["is_active", "updated_at"])
        _config_audit(acting_user, program, program.site.organization_id, ["is_active"],
                      AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED)


@transaction.atomic
def do_create_track(*, acting_user: User | None, program: Program, **fields: Any) -> Track:
    track = Track(program=program)
    apply_changes(track, fields, TRACK_FIELDS)
    track.weekdays = sorted(track.weekdays or [])
    validate(track)
    track.save()
    _config_audit(acting_user, track, program.site.organization_id, list(fields), AuditAction.CREATED)
    return track


@transaction.atomic
def do_update_track(track: Track, *, acting_user: User, **fields: Any) -> list[str]:
    if "weekdays" in fields:
        fields["weekdays"] = sorted(fields["weekdays"] or [])
    changed = apply_changes(track, fields, TRACK_FIELDS)
    if changed:
        validate(track)
        track.save()
        _config_audit(acting_user, track, track.program.site.organization_id, changed)
    return changed


@transaction.atomic
def do_set_track_active(track: Track, *, acting_user: User, active: bool) -> None:
    if track.is_active != active:
        track.is_active = active
        track.save(update_fields=["is_active", "updated_at"])
        _config_audit(acting_user, track, track.program.site.organization_id, ["is_active"],
                      AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED)
