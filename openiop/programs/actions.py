"""Writes to organization, site, program and track configuration: atomic and audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from openiop.core import audit
from openiop.core.actions import apply_changes, field_error, validate
from openiop.core.models import AuditAction
from openiop.programs import levels
from openiop.programs.models import Organization, Program, Site, Track

if TYPE_CHECKING:
    from openiop.accounts.models import User

SITE_FIELDS = ("name", "address_line1", "address_line2", "city", "state", "postal_code", "phone", "time_zone")
PROGRAM_FIELDS = (
    "name",
    "description",
    "focus",
    "population",
    "level_of_care",
    "time_zone",
    "weekly_dose_hours",
    "max_length_weeks",
    "group_size_cap",
    "signing_credentials",
    "supervised_signing_credentials",
)
TRACK_FIELDS = ("name", "kind", "weekdays", "start_time", "end_time")
ORGANIZATION_FIELDS = ("name", "phone", "website", "mrn_prefix")

# Episodes still being served; a program or track holding any of them cannot be switched off.
_OPEN_STATUSES = ("waitlist", "active", "on_hold")


def _config_audit(
    acting_user: User | None,
    obj: Any,
    organization_id: int,
    changed: list[str],
    action: AuditAction = AuditAction.CONFIG_CHANGED,
) -> None:
    audit.record(
        action=action,
        acting_user=acting_user,
        obj=obj,
        changed_fields=changed,
        organization_id=organization_id,
    )


def _validate_named(obj: models.Model, siblings: models.QuerySet[Any], message: str) -> None:
    """Validate fields and clean(), and report a duplicate name on the name field.

    The model's unique constraint would report it as a form-wide error with the database wording, and a
    name that differs only in case is just as confusing to staff, so the check is done here instead.
    """
    errors: dict[str, list[str]] = {}
    try:
        obj.full_clean(validate_constraints=False)
    except ValidationError as exc:
        errors = exc.message_dict
    name = getattr(obj, "name", "")
    if name and "name" not in errors and siblings.filter(name__iexact=name).exclude(pk=obj.pk).exists():
        errors["name"] = [message]
    if errors:
        raise ValidationError(errors)


def _check_site(site: Site) -> None:
    _validate_named(
        site,
        Site.objects.filter(organization_id=site.organization_id),
        "The organization already has a site with this name.",
    )


def _check_program(program: Program) -> None:
    _validate_named(
        program,
        Program.objects.filter(site_id=program.site_id),
        "This site already has a program with this name.",
    )
    if levels.get(program.level_of_care) is None:
        raise ValidationError({"level_of_care": "Pick one of the levels of care in the catalog."})


def _check_track(track: Track) -> None:
    _validate_named(
        track,
        Track.objects.filter(program_id=track.program_id),
        "This program already has a track with this name.",
    )


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
    _check_site(site)
    site.save()
    _config_audit(acting_user, site, organization.pk, list(fields), AuditAction.CREATED)
    return site


@transaction.atomic
def do_update_site(site: Site, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(site, fields, SITE_FIELDS)
    if changed:
        _check_site(site)
        site.save()
        _config_audit(acting_user, site, site.organization_id, changed)
    return changed


@transaction.atomic
def do_set_site_active(site: Site, *, acting_user: User, active: bool) -> None:
    if not active and site.programs.filter(is_active=True).exists():
        raise ValidationError("Deactivate this site's programs first.")
    if site.is_active != active:
        site.is_active = active
        site.save(update_fields=["is_active", "updated_at"])
        _config_audit(
            acting_user,
            site,
            site.organization_id,
            ["is_active"],
            AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
        )


@transaction.atomic
def do_create_program(*, acting_user: User | None, site: Site, **fields: Any) -> Program:
    """Create a program; unset dose, length, cap and time zone come from settings and the site."""
    if not site.is_active:
        raise field_error("site", "Programs can only be added to an active site.")
    program = Program(site=site)  # dose, length and cap start empty (None) until given or defaulted
    given = {k: v for k, v in fields.items() if v not in (None, "")}
    apply_changes(program, given, PROGRAM_FIELDS)
    program.apply_defaults()
    _check_program(program)
    program.save()
    # The defaulted fields are listed too: they are part of what was configured.
    _config_audit(acting_user, program, site.organization_id, ["site", *PROGRAM_FIELDS], AuditAction.CREATED)
    return program


@transaction.atomic
def do_update_program(program: Program, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(program, fields, PROGRAM_FIELDS)
    if changed:
        _check_program(program)
        program.save()
        _config_audit(acting_user, program, program.site.organization_id, changed)
    return changed


@transaction.atomic
def do_set_program_active(program: Program, *, acting_user: User, active: bool) -> None:
    if not active and program.episodes.filter(status__in=_OPEN_STATUSES).exists():
        raise ValidationError("Discharge or transfer this program's open episodes of care first.")
    if active and not program.site.is_active:
        raise ValidationError("Reactivate the program's site first.")
    if program.is_active != active:
        program.is_active = active
        program.save(update_fields=["is_active", "updated_at"])
        _config_audit(
            acting_user,
            program,
            program.site.organization_id,
            ["is_active"],
            AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
        )


@transaction.atomic
def do_create_track(*, acting_user: User | None, program: Program, **fields: Any) -> Track:
    if not program.is_active:
        raise ValidationError("Reactivate the program before adding tracks.")
    track = Track(program=program)
    apply_changes(track, fields, TRACK_FIELDS)
    track.weekdays = sorted(track.weekdays or [])
    _check_track(track)
    track.save()
    _config_audit(acting_user, track, program.site.organization_id, list(fields), AuditAction.CREATED)
    return track


@transaction.atomic
def do_update_track(track: Track, *, acting_user: User, **fields: Any) -> list[str]:
    if "weekdays" in fields:
        fields["weekdays"] = sorted(fields["weekdays"] or [])
    changed = apply_changes(track, fields, TRACK_FIELDS)
    if changed:
        _check_track(track)
        track.save()
        _config_audit(acting_user, track, track.program.site.organization_id, changed)
    return changed


@transaction.atomic
def do_set_track_active(track: Track, *, acting_user: User, active: bool) -> None:
    if not active and track.episodes.filter(status__in=_OPEN_STATUSES).exists():
        raise ValidationError("Move the patients on this track to another track first.")
    if active and not track.program.is_active:
        raise ValidationError("Reactivate the program first.")
    if track.is_active != active:
        track.is_active = active
        track.save(update_fields=["is_active", "updated_at"])
        _config_audit(
            acting_user,
            track,
            track.program.site.organization_id,
            ["is_active"],
            AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
        )
