"""Staff account writes: atomic and audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.accounts.models import ProgramMembership, User
from openiop.core import audit
from openiop.core.actions import apply_changes, validate
from openiop.core.models import AuditAction
from openiop.programs.models import Organization, Program

STAFF_FIELDS = ("first_name", "last_name", "email", "role", "credentials", "title", "phone", "supervisor")


def _check_programs(organization: Organization, programs: Iterable[Program]) -> list[Program]:
    programs = list(programs)
    if any(p.site.organization_id != organization.pk for p in programs):
        raise ValidationError({"programs": "Programs must belong to the staff member's organization."})
    return programs


def _check_supervisor(user: User) -> None:
    if user.supervisor_id is not None and (
        user.supervisor_id == user.pk or user.supervisor.organization_id != user.organization_id
    ):
        raise ValidationError({"supervisor": "Pick a supervisor from the same organization."})


@transaction.atomic
def do_create_staff(
    *,
    acting_user: User | None,
    organization: Organization,
    username: str,
    password: str | None,
    programs: Iterable[Program] = (),
    **fields: Any,
) -> User:
    user = User(organization=organization, username=username)
    apply_changes(user, fields, STAFF_FIELDS)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    validate(user, exclude=["password"])
    _check_supervisor(user)
    checked = _check_programs(organization, programs)
    user.save()
    ProgramMembership.objects.bulk_create([ProgramMembership(user=user, program=p) for p in checked])
    audit.record(action=AuditAction.STAFF_CHANGED, acting_user=acting_user, obj=user,
                 changed_fields=["created", "role", "programs", *fields], organization_id=organization.pk)
    return user


@transaction.atomic
def do_update_staff(user: User, *, acting_user: User, programs: Iterable[Program] | None = None,
                    **fields: Any) -> list[str]:
    changed = apply_changes(user, fields, STAFF_FIELDS)
    if changed:
        validate(user, exclude=["password"])
        _check_supervisor(user)
        user.save()
    if programs is not None:
        wanted = {p.pk: p for p in _check_programs(user.organization, programs)}  # type: ignore[arg-type]
        current = set(user.memberships.values_list("program_id", flat=True))
        if set(wanted) != current:
            user.memberships.exclude(program_id__in=wanted).delete()
            ProgramMembership.objects.bulk_create(
                [ProgramMembership(user=user, program=p) for pk, p in wanted.items() if pk not in current]
            )
            changed.append("programs")
    if changed:
        audit.record(action=AuditAction.STAFF_CHANGED, acting_user=acting_user, obj=user, changed_fields=changed,
                     organization_id=user.organization_id)
    return changed


@transaction.atomic
def do_set_staff_active(user: User, *, acting_user: User, active: bool) -> None:
    """Deactivate (never delete) a staff account; its sessions stop working at the next request."""
    if user.pk == acting_user.pk and not active:
        raise ValidationError("You cannot deactivate your own account.")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record(action=AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
                     acting_user=acting_user, obj=user, changed_fields=["is_active"],
                     organization_id=user.organization_id)


@transaction.atomic
def do_set_password(user: User, *, acting_user: User | None, password: str) -> None:
    """Set a password. Django's session hash changes with it, which ends every other session of the user."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(action=AuditAction.PASSWORD_CHANGED, acting_user=acting_user or user, obj=user,
                 organization_id=user.organization_id)
