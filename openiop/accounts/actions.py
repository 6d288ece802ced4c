"""Staff account writes: atomic and audited."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import mfa
from openiop.accounts.models import ProgramMembership, User
from openiop.core import audit
from openiop.core.actions import apply_changes, validate
from openiop.core.models import AuditAction
from openiop.core.roles import Cap, Role

STAFF_FIELDS = ("first_name", "last_name", "email", "role", "credentials", "title", "phone", "supervisor")


# Organizations and programs (openiop.programs) sit above accounts, which only stores references to them: typed Any.
def _check_programs(organization: Any, programs: Iterable[Any]) -> list[Any]:
    programs = list(programs)
    if any(p.site.organization_id != organization.pk for p in programs):
        raise ValidationError({"programs": "Programs must belong to the staff member's organization."})
    return programs


# Who may co-sign for a supervised clinician: licensed clinical staff.
SUPERVISOR_ROLES = (Role.CLINICIAN, Role.DIRECTOR)


def _check_supervisor(user: User) -> None:
    if user.supervisor_id is None:
        if user.role == Role.SUPERVISED_CLINICIAN:
            raise ValidationError({"supervisor": "A supervised clinician needs a supervisor to co-sign."})
        return
    supervisor = user.supervisor
    if (
        supervisor is None
        or supervisor.pk == user.pk
        or supervisor.organization_id != user.organization_id
        or not supervisor.is_active
        or supervisor.role not in SUPERVISOR_ROLES
    ):
        raise ValidationError(
            {"supervisor": "Pick an active clinician or director of the same organization as supervisor."}
        )


@transaction.atomic
def do_create_staff(
    *,
    acting_user: User | None,
    organization: Any,
    username: str,
    password: str | None,
    programs: Iterable[Any] = (),
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
    audit.record(
        action=AuditAction.STAFF_CHANGED,
        acting_user=acting_user,
        obj=user,
        changed_fields=["created", "role", "programs", *fields],
        organization_id=organization.pk,
    )
    return user


@transaction.atomic
def do_update_staff(
    user: User, *, acting_user: User, programs: Iterable[Any] | None = None, **fields: Any
) -> list[str]:
    changed = apply_changes(user, fields, STAFF_FIELDS)
    if "role" in changed and user.pk == acting_user.pk:
        # Changing one's own role could lock the last administrator out; another administrator must do it.
        raise ValidationError({"role": "You cannot change your own role."})
    if changed:
        validate(user, exclude=["password"])
        _check_supervisor(user)
        user.save()
    if programs is not None:
        wanted = {p.pk: p for p in _check_programs(user.organization, programs)}
        current = set(user.memberships.values_list("program_id", flat=True))
        if set(wanted) != current:
            user.memberships.exclude(program_id__in=wanted).delete()
            ProgramMembership.objects.bulk_create(
                [ProgramMembership(user=user, program=p) for pk, p in wanted.items() if pk not in current]
            )
            changed.append("programs")
    if changed:
        audit.record(
            action=AuditAction.STAFF_CHANGED,
            acting_user=acting_user,
            obj=user,
            changed_fields=changed,
            organization_id=user.organization_id,
        )
    return changed


@transaction.atomic
def do_set_staff_active(user: User, *, acting_user: User, active: bool) -> None:
    """Deactivate (never delete) a staff account; its sessions stop working at the next request."""
    if user.pk == acting_user.pk and not active:
        raise ValidationError("You cannot deactivate your own account.")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record(
            action=AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
            acting_user=acting_user,
            obj=user,
            changed_fields=["is_active"],
            organization_id=user.organization_id,
        )


@transaction.atomic
def do_set_password(user: User, *, acting_user: User | None, password: str) -> None:
    """Set a password. Django's session hash changes with it, which ends every other session of the user."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(
        action=AuditAction.PASSWORD_CHANGED,
        acting_user=acting_user or user,
        obj=user,
        organization_id=user.organization_id,
    )


# --- Second factor ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of checking a second-factor code."""

    device: Any = None  # the django-otp device that accepted the code
    # Seconds the device still refuses codes after recent wrong ones (the code was not checked).
    retry_after: int = 0

    @property
    def ok(self) -> bool:
        return self.device is not None


def _issue_backup_codes(user: User) -> list[str]:
    # Keep the device, change only its codes: a session verified with a backup code stays verified.
    device, _ = StaticDevice.objects.get_or_create(user=user, name=mfa.BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    device.token_set.all().delete()
    codes: set[str] = set()
    while len(codes) < mfa.BACKUP_CODE_COUNT:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return sorted(codes)


@transaction.atomic
def do_start_mfa_enrolment(*, acting_user: User) -> TOTPDevice:
    """The pending authenticator the user scans; reused until confirmed so a reload keeps the same secret.

    Not audited: how the user signs in does not change until do_confirm_mfa_enrolment.
    """
    device = TOTPDevice.objects.filter(user=acting_user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=acting_user, name=mfa.TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def do_confirm_mfa_enrolment(device: TOTPDevice, *, acting_user: User, code: str) -> list[str]:
    """Confirm a pending authenticator with a code from it and return fresh backup codes (shown once).

    The new authenticator replaces any earlier one, so sessions verified with the old one must verify again.
    """
    if device.user_id != acting_user.pk or device.confirmed:
        raise PermissionDenied("Not this user's pending authenticator.")
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    code = mfa.normalize_code(code)
    if not mfa.is_totp_shaped(code) or not device.verify_token(code):
        raise ValidationError(
            {
                "code": "That code does not match. Enter the 6-digit code your app shows now "
                "(check that the phone's clock is set automatically)."
            }
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=acting_user).exclude(pk=device.pk).delete()
    codes = _issue_backup_codes(acting_user)
    acting_user._openiop_has_totp = True  # type: ignore[attr-defined]
    audit.record(
        action=AuditAction.MFA_ENROLLED,
        acting_user=acting_user,
        obj=acting_user,
        changed_fields=["totp", "backup_codes"],
        organization_id=acting_user.organization_id,
    )
    return codes


@transaction.atomic
def do_verify_mfa(*, acting_user: User, code: str) -> CodeCheck:
    """Check a code from the authenticator app (6 digits) or a backup code (used up on success).

    Audits every checked code, right or wrong, in a transaction that commits either way so django-otp's
    per-device back-off survives; a code refused by that back-off was never checked and is not audited.
    """
    code = mfa.normalize_code(code)
    model = TOTPDevice if mfa.is_totp_shaped(code) else StaticDevice
    devices = list(model.objects.filter(user=acting_user, confirmed=True).select_for_update().order_by("pk"))
    retry_after = 0
    checked = False
    for device in devices:
        allowed, info = device.verify_is_allowed()
        if not allowed:
            locked_until = (info or {}).get("locked_until")
            wait = (locked_until - timezone.now()).total_seconds() if locked_until else 1
            retry_after = max(retry_after, math.ceil(wait), 1)
            continue
        checked = True
        if device.verify_token(code):
            audit.record(
                action=AuditAction.MFA_VERIFIED,
                acting_user=acting_user,
                obj=acting_user,
                changed_fields=["backup_code"] if model is StaticDevice else ["totp"],
                organization_id=acting_user.organization_id,
            )
            return CodeCheck(device=device)
    if not checked and retry_after:
        return CodeCheck(retry_after=retry_after)
    audit.record(
        action=AuditAction.MFA_FAILED,
        acting_user=acting_user,
        obj=acting_user,
        organization_id=acting_user.organization_id,
    )
    return CodeCheck()


@transaction.atomic
def do_lock_mfa_step(*, acting_user: User) -> None:
    """Too many wrong codes in one session: the caller signs the session out; this records why."""
    audit.record(
        action=AuditAction.LOCKED_OUT,
        acting_user=acting_user,
        obj=acting_user,
        changed_fields=["mfa"],
        organization_id=acting_user.organization_id,
    )


@transaction.atomic
def do_regenerate_backup_codes(*, acting_user: User) -> list[str]:
    """Replace the user's backup codes (the old ones stop working) and return the new ones, shown once."""
    if not TOTPDevice.objects.filter(user=acting_user, confirmed=True).exists():
        raise ValidationError("Set up an authenticator app first; backup codes come with it.")
    codes = _issue_backup_codes(acting_user)
    audit.record(
        action=AuditAction.MFA_ENROLLED,
        acting_user=acting_user,
        obj=acting_user,
        changed_fields=["backup_codes"],
        organization_id=acting_user.organization_id,
    )
    return codes


@transaction.atomic
def do_reset_mfa(user: User, *, acting_user: User) -> bool:
    """A system administrator removes a colleague's authenticator and backup codes (a lost phone).

    The person sets up a new authenticator at their next sign-in; sessions verified with the old one must
    verify again. Returns False when there was nothing to remove (and writes no audit row).
    """
    if not acting_user.can(Cap.MANAGE_ORGANIZATION) or acting_user.organization_id != user.organization_id:
        raise PermissionDenied
    if user.pk == acting_user.pk:
        # Resetting one's own factor would skip the current code that re-enrolling asks for.
        raise ValidationError("You cannot reset your own two-step sign-in; replace it under Security & sign-in.")
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    removed_static, _ = StaticDevice.objects.filter(user=user).delete()
    user._openiop_has_totp = False  # type: ignore[attr-defined]
    if not (removed or removed_static):
        return False
    audit.record(
        action=AuditAction.MFA_RESET,
        acting_user=acting_user,
        obj=user,
        changed_fields=["totp", "backup_codes"],
        organization_id=user.organization_id,
    )
    return True
