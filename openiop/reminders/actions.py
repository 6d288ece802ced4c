"""Writes for reminders: a patient's channel choices and quiet hours, and a program's reminder policy.

Every opt-in and opt-out is kept as a ``ChannelChange`` row (who, when, from the chart or the portal) besides the
audit row, because consent to be contacted by text must be provable later. Changing a preference drops nothing by
itself: the next planner run drops the pending reminders of a channel that was opted out.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.patients.models import Patient
from openiop.programs.models import Program
from openiop.reminders.models import ChangeSource, Channel, ChannelChange, ReminderPolicy, ReminderPreference


def _check_quiet(start: time | None, end: time | None, errors: dict[str, str], prefix: str = "quiet") -> None:
    if (start is None) != (end is None):
        field = f"{prefix}_end" if end is None else f"{prefix}_start"
        errors[field] = "Give both ends of the quiet hours, or leave both empty."


@transaction.atomic
def do_set_reminder_preferences(
    patient: Patient,
    *,
    acting_user: User,
    email_opt_in: bool,
    sms_opt_in: bool,
    quiet_start: time | None = None,
    quiet_end: time | None = None,
    source: str = ChangeSource.STAFF,
) -> ReminderPreference:
    """Set the patient's channels and quiet hours (both empty: the program's). Returns the preference."""
    if source not in ChangeSource.values:
        raise ValidationError({"source": "Unknown source."})
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    errors: dict[str, str] = {}
    if email_opt_in and not patient.email:
        errors["email_opt_in"] = "There is no email address on file; add one to the demographics first."
    if sms_opt_in and not patient.phone_mobile:
        errors["sms_opt_in"] = "There is no mobile number on file; add one to the demographics first."
    _check_quiet(quiet_start, quiet_end, errors)
    if errors:
        raise ValidationError(errors)
    pref, created = ReminderPreference.objects.get_or_create(patient=patient)
    changed: list[str] = []
    for channel, field, value in (
        (Channel.EMAIL, "email_opt_in", email_opt_in),
        (Channel.SMS, "sms_opt_in", sms_opt_in),
    ):
        if getattr(pref, field) != value:
            setattr(pref, field, value)
            changed.append(field)
            ChannelChange.objects.create(
                patient=patient, channel=channel, opted_in=value, source=source, changed_by=acting_user
            )
    for name, when in (("quiet_start", quiet_start), ("quiet_end", quiet_end)):
        if getattr(pref, name) != when:
            setattr(pref, name, when)
            changed.append(name)
    if changed or created:
        pref.save()
        audit.record(
            action=AuditAction.CREATED if created else AuditAction.UPDATED,
            acting_user=acting_user,
            patient=patient,
            obj=pref,
            changed_fields=changed,
        )
    return pref


POLICY_FIELDS = ("session_offsets_hours", "quiet_start", "quiet_end", "day_time", "plan_signature_delay_hours")


@transaction.atomic
def do_set_reminder_policy(program: Program, *, acting_user: User | None, **values: Any) -> ReminderPolicy:
    """Save the program's own reminder rules (fields not given keep their current or default value)."""
    from openiop.reminders.policy import default_policy

    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Unknown setting."))
    policy = ReminderPolicy.objects.select_for_update().filter(program=program).first()
    created = policy is None
    if policy is None:
        policy = default_policy(program)
    errors: dict[str, str] = {}
    offsets = values.get("session_offsets_hours", policy.session_offsets_hours)
    try:
        offsets = sorted({int(h) for h in offsets}, reverse=True)
    except (TypeError, ValueError):
        offsets = []
        errors["session_offsets_hours"] = "Give whole hours, e.g. 24, 2."
    if not errors and (not offsets or any(h < 1 or h > 24 * 14 for h in offsets)):
        errors["session_offsets_hours"] = "Give one to a few whole hours between 1 and 336."
    for name in ("quiet_start", "quiet_end", "day_time"):
        if name in values and not isinstance(values[name], time):
            errors[name] = "Give a time of day."
    delay = values.get("plan_signature_delay_hours", policy.plan_signature_delay_hours)
    if not isinstance(delay, int) or delay < 0 or delay > 24 * 14:
        errors["plan_signature_delay_hours"] = "Give whole hours between 0 and 336."
    if errors:
        raise ValidationError(errors)
    values["session_offsets_hours"] = offsets
    changed = [name for name in POLICY_FIELDS if name in values and getattr(policy, name) != values[name]]
    for name in changed:
        setattr(policy, name, values[name])
    if changed or created:
        policy.save()
        audit.record(
            action=AuditAction.CONFIG_CHANGED,
            acting_user=acting_user,
            obj=policy,
            changed_fields=changed,
            organization_id=program.site.organization_id,
        )
    return policy
