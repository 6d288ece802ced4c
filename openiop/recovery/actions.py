"""Writes of the recovery supports log: a meeting logged (and changed within the edit window by its writer), a
recovery capital check-in, the patient's sponsor, and a program's policy.

Each is one transaction with its audit row, field names only: what the patient wrote is never copied into the audit
trail. Meetings and check-ins are logged for one of the patient's open episodes only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.patients.actions import do_add_support_contact, do_set_support_contact_active, do_update_support_contact
from openiop.patients.models import EpisodeOfCare, Patient, SupportContact
from openiop.programs.models import Program
from openiop.recovery import policy
from openiop.recovery.models import (
    DOMAIN_KEYS,
    CapitalCheckIn,
    MeetingAttendance,
    MeetingKind,
    MeetingMode,
    RecoveryPolicy,
)

MEETING_FIELDS = ("met_on", "kind", "kind_other", "mode", "note")
MAX_NOTE = 1000
OPEN = (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD)


def _check_episode(patient: Patient, episode: EpisodeOfCare) -> None:
    if episode.patient_id != patient.pk or episode.status not in OPEN:
        raise ValidationError({"episode": "Choose a program you are in."})


def _today(episode: EpisodeOfCare, now: datetime) -> date:
    return timezone.localtime(now, episode.program.tz()).date()


def _clean_meeting(values: dict[str, Any], today: date) -> dict[str, Any]:
    errors: dict[str, str] = {}
    met_on = values.get("met_on")
    if not isinstance(met_on, date) or isinstance(met_on, datetime):
        errors["met_on"] = "Say the date of the meeting."
    elif met_on > today:
        errors["met_on"] = "That date is still to come."
    elif met_on < today - policy.backdate_limit():
        errors["met_on"] = f"Log meetings from the last {policy.backdate_limit().days} days."
    kind = str(values.get("kind") or "")
    other = str(values.get("kind_other") or "").strip()
    if kind not in MeetingKind.values:
        errors["kind"] = "Choose the kind of meeting."
    elif kind == MeetingKind.OTHER and not other:
        errors["kind_other"] = "Say which meeting it was."
    if len(other) > 120:
        errors["kind_other"] = "Keep it under 120 characters."
    mode = str(values.get("mode") or "")
    if mode not in MeetingMode.values:
        errors["mode"] = "Say whether it was in person or online."
    note = str(values.get("note") or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = f"Keep it under {MAX_NOTE} characters."
    if errors:
        raise ValidationError(errors)
    return {
        "met_on": met_on,
        "kind": kind,
        "kind_other": other if kind == MeetingKind.OTHER else "",
        "mode": mode,
        "note": note,
    }


def _unknown(values: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(values) - set(allowed)
    if unknown:
        raise TypeError(f"does not accept {sorted(unknown)}")


@transaction.atomic
def do_log_meeting(
    patient: Patient, *, acting_user: User, episode: EpisodeOfCare, now: datetime | None = None, **values: Any
) -> MeetingAttendance:
    """A meeting ``patient`` went to, logged for ``episode`` (one of their open episodes) by ``acting_user``."""
    _unknown(values, MEETING_FIELDS)
    _check_episode(patient, episode)
    cleaned = _clean_meeting(values, _today(episode, now or timezone.now()))
    meeting = MeetingAttendance.objects.create(patient=patient, episode=episode, entered_by=acting_user, **cleaned)
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=patient,
        obj=meeting,
        changed_fields=[k for k, v in cleaned.items() if v not in ("", None)],
    )
    return meeting


def editable(meeting: MeetingAttendance, user: User, now: datetime | None = None) -> bool:
    """Only its writer changes a meeting, and only within the edit window."""
    return meeting.entered_by_id == user.pk and (now or timezone.now()) < meeting.created_at + policy.edit_window()


@transaction.atomic
def do_update_meeting(
    meeting: MeetingAttendance, *, acting_user: User, now: datetime | None = None, **values: Any
) -> MeetingAttendance:
    _unknown(values, MEETING_FIELDS)
    meeting = (
        MeetingAttendance.objects.select_for_update().select_related("episode__program", "patient").get(pk=meeting.pk)
    )
    now = now or timezone.now()
    if not editable(meeting, acting_user, now):
        hours = int(policy.edit_window().total_seconds() // 3600)
        raise ValidationError({"meeting": f"A meeting can be changed for {hours} hours after it is logged."})
    merged = {name: getattr(meeting, name) for name in MEETING_FIELDS} | values
    cleaned = _clean_meeting(merged, _today(meeting.episode, now))
    changed = [name for name, value in cleaned.items() if getattr(meeting, name) != value]
    if changed:
        for name in changed:
            setattr(meeting, name, cleaned[name])
        meeting.save(update_fields=[*changed, "updated_at"])
        audit.record(
            action=AuditAction.UPDATED, acting_user=acting_user, patient=meeting.patient, obj=meeting,
            changed_fields=changed,
        )  # fmt: skip
    return meeting


@transaction.atomic
def do_check_in_capital(
    patient: Patient, *, acting_user: User, episode: EpisodeOfCare, now: datetime | None = None, **ratings: Any
) -> CapitalCheckIn:
    """A recovery capital self-rating for ``episode``, where its program asks them: each domain 1 to 5."""
    _unknown(ratings, DOMAIN_KEYS)
    _check_episode(patient, episode)
    if not policy.asks_capital(episode.program):
        raise ValidationError({"episode": "This program does not ask for recovery check-ins."})
    errors: dict[str, str] = {}
    cleaned: dict[str, int] = {}
    for key in DOMAIN_KEYS:
        value: Any = ratings.get(key)
        try:
            number = 0 if isinstance(value, bool) else int(value)
        except (TypeError, ValueError):
            number = 0
        if not 1 <= number <= 5:
            errors[key] = "Pick a number from 1 to 5."
        cleaned[key] = number
    if errors:
        raise ValidationError(errors)
    row = CapitalCheckIn.objects.create(
        patient=patient, episode=episode, entered_by=acting_user, taken_on=_today(episode, now or timezone.now()),
        **cleaned,
    )  # fmt: skip
    audit.record(
        action=AuditAction.CREATED, acting_user=acting_user, patient=patient, obj=row, changed_fields=list(DOMAIN_KEYS)
    )
    return row


def current_sponsor(patient: Patient) -> SupportContact | None:
    return (
        patient.support_contacts.filter(relationship=SupportContact.Relationship.SPONSOR, is_active=True)
        .order_by("-updated_at", "-id")
        .first()
    )


@transaction.atomic
def do_set_sponsor(patient: Patient, *, acting_user: User, name: str, phone: str = "") -> SupportContact | None:
    """The patient's sponsor, a support contact with the relationship "sponsor": named, renamed, or (an empty name)
    removed from the support network. Not involved in treatment: naming a sponsor shares nothing with them (that
    takes a signed consent)."""
    name, phone = str(name or "").strip(), str(phone or "").strip()
    errors: dict[str, str] = {}
    if len(name) > 150:
        errors["name"] = "Keep the name under 150 characters."
    if len(phone) > 40:
        errors["phone"] = "Keep the phone number under 40 characters."
    if phone and not name:
        errors["name"] = "Say your sponsor's name."
    if errors:
        raise ValidationError(errors)
    contact = current_sponsor(patient)
    if not name:
        if contact is not None:
            do_set_support_contact_active(contact, acting_user=acting_user, active=False)
        return None
    if contact is None:
        return do_add_support_contact(
            patient, acting_user=acting_user, name=name, phone=phone, relationship=SupportContact.Relationship.SPONSOR
        )
    do_update_support_contact(contact, acting_user=acting_user, name=name, phone=phone)
    return contact


@transaction.atomic
def do_set_recovery_policy(
    program: Program, *, acting_user: User, capital_check_ins: bool, capital_every_days: int
) -> RecoveryPolicy:
    if not isinstance(capital_every_days, int) or not 7 <= capital_every_days <= 90:
        raise ValidationError({"capital_every_days": "Choose from 7 to 90 days."})
    row = RecoveryPolicy.objects.select_for_update().filter(program=program).first()
    values = {"capital_check_ins": bool(capital_check_ins), "capital_every_days": capital_every_days}
    if row is None:
        row = RecoveryPolicy.objects.create(program=program, **values)
        changed = list(values)
    else:
        changed = [n for n, v in values.items() if getattr(row, n) != v]
        if changed:
            for n in changed:
                setattr(row, n, values[n])
            row.save(update_fields=[*changed, "updated_at"])
    if changed:
        audit.record(
            action=AuditAction.CONFIG_CHANGED,
            acting_user=acting_user,
            obj=row,
            changed_fields=changed,
            organization_id=program.site.organization_id,
        )
    return row
