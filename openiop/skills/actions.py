"""Writes of the skills-practice log: an entry written (and changed within the edit window) by the patient, and a
program's skills list.

Each is one transaction with its audit row, field names only: what the patient wrote about their practice is
never copied into the audit trail.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.models import Program
from openiop.skills import policy
from openiop.skills.models import OTHER, PracticeEntry, PracticePolicy

ENTRY_FIELDS = ("skill", "skill_other", "practiced_at", "how_it_went", "mood", "craving")
MAX_TEXT = 2000
MAX_SKILLS = 40
# A phone's clock may run a little ahead of the server's.
FUTURE_GRACE = timedelta(minutes=10)


def _scale(value: Any, field: str, errors: dict[str, str]) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if isinstance(value, bool) or not 0 <= number <= 10:
        errors[field] = "Pick a number from 0 to 10."
        return None
    return number


def _clean(program: Program, values: dict[str, Any], now: datetime) -> dict[str, Any]:
    errors: dict[str, str] = {}
    skill = str(values.get("skill") or "").strip()
    other = str(values.get("skill_other") or "").strip()
    if not skill:
        errors["skill"] = "Choose the skill you practised."
    elif skill != OTHER and skill not in policy.skills_for(program):
        errors["skill"] = "Choose one of the skills listed, or Other."
    if skill == OTHER and not other:
        errors["skill_other"] = "Say which skill you practised."
    elif len(other) > 120:
        errors["skill_other"] = "Keep it under 120 characters."
    practiced_at = values.get("practiced_at")
    if not isinstance(practiced_at, datetime):
        errors["practiced_at"] = "Say when you practised."
    elif practiced_at > now + FUTURE_GRACE:
        errors["practiced_at"] = "That time is still to come."
    elif practiced_at < now - policy.backdate_limit():
        errors["practiced_at"] = f"Log practice from the last {policy.backdate_limit().days} days."
    how = str(values.get("how_it_went") or "").strip()
    if len(how) > MAX_TEXT:
        errors["how_it_went"] = f"Keep it under {MAX_TEXT} characters."
    mood = _scale(values.get("mood"), "mood", errors)
    craving = _scale(values.get("craving"), "craving", errors)
    if craving is not None and not policy.asks_craving(program):
        craving = None  # never stored where the program does not ask
    if errors:
        raise ValidationError(errors)
    return {
        "skill": skill,
        "skill_other": other if skill == OTHER else "",
        "practiced_at": practiced_at,
        "how_it_went": how,
        "mood": mood,
        "craving": craving,
    }


@transaction.atomic
def do_log_practice(
    patient: Patient, *, acting_user: User, episode: EpisodeOfCare, now: datetime | None = None, **values: Any
) -> PracticeEntry:
    """A new entry for ``patient`` in ``episode`` (one of their open episodes), written by ``acting_user``."""
    unknown = set(values) - set(ENTRY_FIELDS)
    if unknown:
        raise TypeError(f"PracticeEntry does not accept {sorted(unknown)}")
    if episode.patient_id != patient.pk or episode.status not in (
        EpisodeOfCare.Status.ACTIVE,
        EpisodeOfCare.Status.ON_HOLD,
    ):
        raise ValidationError({"episode": "Practice is logged for a program you are in."})
    cleaned = _clean(episode.program, values, now or timezone.now())
    entry = PracticeEntry.objects.create(patient=patient, episode=episode, entered_by=acting_user, **cleaned)
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=patient,
        obj=entry,
        changed_fields=[k for k, v in cleaned.items() if v not in ("", None)],
    )
    return entry


def editable(entry: PracticeEntry, user: User, now: datetime | None = None) -> bool:
    """Only its writer changes an entry, and only within the edit window."""
    return entry.entered_by_id == user.pk and (now or timezone.now()) < entry.created_at + policy.edit_window()


@transaction.atomic
def do_update_practice(
    entry: PracticeEntry, *, acting_user: User, now: datetime | None = None, **values: Any
) -> PracticeEntry:
    unknown = set(values) - set(ENTRY_FIELDS)
    if unknown:
        raise TypeError(f"PracticeEntry does not accept {sorted(unknown)}")
    entry = PracticeEntry.objects.select_for_update().select_related("episode__program", "patient").get(pk=entry.pk)
    now = now or timezone.now()
    if not editable(entry, acting_user, now):
        raise ValidationError(
            {"entry": f"An entry can be changed for {int(policy.edit_window().total_seconds() // 3600)} hours."}
        )
    merged = {name: getattr(entry, name) for name in ENTRY_FIELDS} | values
    cleaned = _clean(entry.episode.program, merged, now)
    changed = [name for name, value in cleaned.items() if getattr(entry, name) != value]
    if changed:
        for name in changed:
            setattr(entry, name, cleaned[name])
        entry.save(update_fields=[*changed, "updated_at"])
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=entry.patient,
            obj=entry,
            changed_fields=changed,
        )
    return entry


@transaction.atomic
def do_set_practice_policy(program: Program, *, acting_user: User, skills: list[str], craving: str) -> PracticePolicy:
    """The program's skills list (blank lines and repeats dropped; empty = the defaults) and the craving question."""
    names: list[str] = []
    errors: dict[str, str] = {}
    for raw in skills:
        name = str(raw).strip()
        if not name or name in names:
            continue
        if name.lower() == OTHER:
            errors["skills"] = '"Other" is always offered; leave it out of the list.'
        elif len(name) > 80:
            errors["skills"] = "Keep each skill under 80 characters."
        names.append(name)
    if len(names) > MAX_SKILLS:
        errors["skills"] = f"List at most {MAX_SKILLS} skills."
    if craving not in PracticePolicy.Craving.values:
        errors["craving"] = "Choose when to ask about craving."
    if errors:
        raise ValidationError(errors)
    row = PracticePolicy.objects.select_for_update().filter(program=program).first()
    if row is None:
        row = PracticePolicy.objects.create(program=program, skills=names, craving=craving)
        changed = ["skills", "craving"]
    else:
        changed = [n for n, v in (("skills", names), ("craving", craving)) if getattr(row, n) != v]
        if changed:
            row.skills, row.craving = names, craving
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
