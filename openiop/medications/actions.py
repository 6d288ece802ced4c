"""Writes of the medication list: medications (from the formulary or entered free), allergies and the "no known
allergies" statement, signed reconciliations and the MOUD coordination record.

Each is one transaction with its audit row, field names only: what a patient takes is never copied into the audit
trail. Errors are ValidationErrors naming the field, which the forms and the API show on that field.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.consents.checks import Decision, Recipient, may_disclose
from openiop.consents.models import DataClass, Purpose
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.medications import formulary, queries, worktasks
from openiop.medications.models import Allergy, Medication, MoudCoordination, NoKnownAllergies, Reconciliation
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.signing import signing_refusal

# The fields a medication takes from its writer (the formulary fills name, ingredients, codes, form, route, MOUD).
MEDICATION_FIELDS = (
    "formulary_key", "name", "strength", "form", "dose", "route", "frequency", "prescriber", "source", "reason",
    "start_date", "is_moud",
)  # fmt: skip
ALLERGY_FIELDS = ("substance", "reaction", "severity", "noted_on")
MOUD_FIELDS = (
    "prescriber_name", "prescriber_practice", "prescriber_phone", "otp_name", "otp_phone", "last_dose_on",
    "last_dose_confirmed_by", "last_dose_how",
)  # fmt: skip
OPEN_STATUSES = (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD)
RECONCILIATION_DOCUMENT = "a medication reconciliation"


def _text(values: dict[str, Any], field: str, limit: int, errors: dict[str, str], *, required: str = "") -> str:
    text = str(values.get(field) or "").strip()
    if required and not text:
        errors[field] = required
    elif len(text) > limit:
        errors[field] = f"Keep it under {limit} characters."
    return text


def _day(values: dict[str, Any], field: str, today: date, errors: dict[str, str]) -> date | None:
    value = values.get(field)
    if value in (None, ""):
        return None
    if not isinstance(value, date):
        errors[field] = "Give a date (YYYY-MM-DD)."
        return None
    if value > today:
        errors[field] = "That date is still to come."
    return value


def _unknown(values: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = set(values) - set(allowed)
    if unknown:
        raise TypeError(f"{what} does not accept {sorted(unknown)}")


def clean_medication(values: dict[str, Any], today: date) -> dict[str, Any]:
    """The medication's stored fields from what was entered: a formulary item fills its name (unless one was
    typed, e.g. a brand), ingredients, RxNorm codes, form, route and MOUD; a free entry keeps what was typed and
    has no codes."""
    errors: dict[str, str] = {}
    key = str(values.get("formulary_key") or "").strip()
    item = formulary.item(key) if key else None
    if key and item is None:
        errors["formulary_key"] = "Choose a medication from the formulary list, or enter it free."
    name = _text(values, "name", 200, errors, required="" if item else "Give the medication's name.")
    cleaned: dict[str, Any] = {
        "formulary_key": key if item else "",
        "name": name or (item.name if item else ""),
        "ingredients": [i.name for i in item.ingredients] if item else [],
        "rxcuis": [i.rxcui for i in item.ingredients] if item else [],
        "strength": _text(values, "strength", 60, errors),
        "form": _text(values, "form", 40, errors) or (item.form if item else ""),
        "dose": _text(values, "dose", 60, errors),
        "route": _text(values, "route", 40, errors) or (item.route if item else ""),
        "frequency": _text(values, "frequency", 60, errors),
        "prescriber": _text(values, "prescriber", 120, errors),
        "reason": _text(values, "reason", 200, errors),
        "start_date": _day(values, "start_date", today, errors),
        # The formulary decides for its items; a free entry is MOUD when its writer says so.
        "is_moud": item.moud if item else bool(values.get("is_moud")),
    }
    source = str(values.get("source") or Medication.Source.SELF_REPORT)
    if source not in Medication.Source.values:
        errors["source"] = "Choose where this comes from."
    cleaned["source"] = source
    if errors:
        raise ValidationError(errors)
    return cleaned


def recording_episode(user: User, patient: Patient) -> EpisodeOfCare | None:
    """The episode a new medication belongs to: the patient's latest open episode in the user's programs (none
    before admission)."""
    from openiop.core.permissions import program_ids_for

    return (
        EpisodeOfCare.objects.filter(patient=patient, status__in=OPEN_STATUSES, program_id__in=program_ids_for(user))
        .select_related("program")
        .order_by("-admitted_on", "-pk")
        .first()
    )


def _check_stop_order(start: date | None, stop: date | None) -> None:
    if start and stop and stop < start:
        raise ValidationError({"stop_date": "The stop date is before the start date."})


@transaction.atomic
def do_add_medication(
    patient: Patient, *, acting_user: User, episode: EpisodeOfCare | None, today: date | None = None, **values: Any
) -> Medication:
    _unknown(values, MEDICATION_FIELDS, "Medication")
    if episode is not None and episode.patient_id != patient.pk:
        raise ValidationError({"episode": "That episode is another patient's."})
    cleaned = clean_medication(values, today or timezone.localdate())
    medication = Medication.objects.create(patient=patient, episode=episode, recorded_by=acting_user, **cleaned)
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=patient,
        obj=medication,
        changed_fields=[k for k, v in cleaned.items() if v not in ("", None, [], False)],
    )
    return medication


@transaction.atomic
def do_update_medication(
    medication: Medication, *, acting_user: User, today: date | None = None, **values: Any
) -> Medication:
    """Correct a medication (a field left out keeps its value). A dose change is a correction here; the next
    reconciliation lists it as changed."""
    _unknown(values, MEDICATION_FIELDS, "Medication")
    medication = Medication.objects.select_for_update().get(pk=medication.pk)
    merged = {name: getattr(medication, name) for name in MEDICATION_FIELDS} | values
    cleaned = clean_medication(merged, today or timezone.localdate())
    _check_stop_order(cleaned["start_date"], medication.stop_date)
    changed = [name for name, value in cleaned.items() if getattr(medication, name) != value]
    if changed:
        for name in changed:
            setattr(medication, name, cleaned[name])
        medication.save(update_fields=[*changed, "updated_at"])
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=medication.patient,
            obj=medication,
            changed_fields=changed,
        )
    return medication


@transaction.atomic
def do_stop_medication(
    medication: Medication, *, acting_user: User, stop_date: date | None, stop_reason: str, today: date | None = None
) -> Medication:
    """Record that the patient stopped taking it (the row stays: the list keeps what was taken)."""
    medication = Medication.objects.select_for_update().get(pk=medication.pk)
    if medication.stop_date is not None:
        raise ValidationError({"stop_date": "This medication is already stopped."})
    errors: dict[str, str] = {}
    day = _day({"stop_date": stop_date}, "stop_date", today or timezone.localdate(), errors)
    if day is None and "stop_date" not in errors:
        errors["stop_date"] = "Give the date it was stopped."
    reason = _text({"stop_reason": stop_reason}, "stop_reason", 200, errors, required="Say why it was stopped.")
    if errors:
        raise ValidationError(errors)
    _check_stop_order(medication.start_date, day)
    medication.stop_date, medication.stop_reason = day, reason
    medication.save(update_fields=["stop_date", "stop_reason", "updated_at"])
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=medication.patient,
        obj=medication,
        changed_fields=["stop_date", "stop_reason"],
    )
    return medication


# --- Allergies -----------------------------------------------------------------------------------------------


@transaction.atomic
def do_add_allergy(patient: Patient, *, acting_user: User, today: date | None = None, **values: Any) -> Allergy:
    """Record an allergy; a "no known allergies" statement on file is withdrawn with it."""
    _unknown(values, ALLERGY_FIELDS, "Allergy")
    errors: dict[str, str] = {}
    substance = _text(values, "substance", 120, errors, required="Name the substance (a medication, food, latex...).")
    reaction = _text(values, "reaction", 200, errors)
    severity = str(values.get("severity") or Allergy.Severity.UNKNOWN)
    if severity not in Allergy.Severity.values:
        errors["severity"] = "Choose mild, moderate, severe or unknown."
    noted_on = _day(values, "noted_on", today or timezone.localdate(), errors)
    if errors:
        raise ValidationError(errors)
    allergy = Allergy.objects.create(
        patient=patient, substance=substance, reaction=reaction, severity=severity, noted_on=noted_on,
        recorded_by=acting_user,
    )  # fmt: skip
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=patient,
        obj=allergy,
        changed_fields=["substance", "severity", *(["reaction"] if reaction else [])],
    )
    statement = NoKnownAllergies.objects.filter(patient=patient).first()
    if statement is not None:
        audit.record(action=AuditAction.DEACTIVATED, acting_user=acting_user, patient=patient, obj=statement)
        statement.delete()
    return allergy


@transaction.atomic
def do_remove_allergy(allergy: Allergy, *, acting_user: User) -> Allergy:
    """Take an allergy off the list (entered in error, or found not to be one); the row stays, inactive."""
    allergy = Allergy.objects.select_for_update().get(pk=allergy.pk)
    if allergy.is_active:
        allergy.is_active = False
        allergy.save(update_fields=["is_active", "updated_at"])
        audit.record(action=AuditAction.DEACTIVATED, acting_user=acting_user, patient=allergy.patient, obj=allergy)
    return allergy


@transaction.atomic
def do_state_no_known_allergies(patient: Patient, *, acting_user: User, today: date | None = None) -> NoKnownAllergies:
    """The patient was asked and has no known allergies. Refused while allergies are listed: remove them first."""
    if Allergy.objects.filter(patient=patient, is_active=True).exists():
        raise ValidationError({"no_known_allergies": "Allergies are listed: remove them first if they were wrong."})
    statement, created = NoKnownAllergies.objects.get_or_create(
        patient=patient, defaults={"stated_on": today or timezone.localdate(), "recorded_by": acting_user}
    )
    if created:
        audit.record(action=AuditAction.CREATED, acting_user=acting_user, patient=patient, obj=statement)
    return statement


# --- Reconciliation ------------------------------------------------------------------------------------------


@transaction.atomic
def do_sign_reconciliation(
    patient: Patient,
    *,
    acting_user: User,
    episode: EpisodeOfCare,
    occasion: str,
    note: str = "",
    today: date | None = None,
) -> Reconciliation:
    """Sign the medication list as reviewed now: it stores the list and what changed since the last one.

    Signed by a clinician whose credential the episode's program accepts (programs.signing), like an assessment.
    The patient's row is locked so two reconciliations signed at once still compare in order.
    """
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    errors: dict[str, str] = {}
    if episode.patient_id != patient.pk:
        errors["episode"] = "That episode is another patient's."
    elif episode.status == EpisodeOfCare.Status.WAITLIST:
        errors["episode"] = "A waitlisted episode has no medications to reconcile yet."
    if occasion not in Reconciliation.Occasion.values:
        errors["occasion"] = "Choose intake, level-of-care change or discharge."
    text = _text({"note": note}, "note", 2000, errors)
    if errors:
        raise ValidationError(errors)
    refusal = signing_refusal(acting_user, episode.program, RECONCILIATION_DOCUMENT, handed_over=False)
    if refusal:
        raise ValidationError({"signed_by": refusal})
    day = today or timezone.localdate()
    current, changes = queries.pending_changes(patient, day)
    reconciliation = Reconciliation.objects.create(
        patient=patient, episode=episode, occasion=occasion, reconciled_on=day, medications=current,
        changes=changes, note=text, signed_by=acting_user, signed_at=timezone.now(),
    )  # fmt: skip
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=patient,
        obj=reconciliation,
        changed_fields=["occasion", "medications", "changes", "signed_by", *(["note"] if text else [])],
    )
    # The work-queue task for what this signature settles closes with it, or neither happens.
    worktasks.close_settled(episode, acting_user=acting_user)
    return reconciliation


# --- MOUD coordination ---------------------------------------------------------------------------------------


def coordination_release(coordination: MoudCoordination, party: str) -> Decision | None:
    """May the program talk to ``party`` ("prescriber" or "otp") about the patient's medications? ``may_disclose``
    asked now (a revocation a moment ago counts), for treatment: a consent naming the practice or OTP, or a general
    designation of the patient's treating providers. None when that party is not named."""
    if party == "prescriber":
        organization = coordination.prescriber_practice or coordination.prescriber_name
        person = coordination.prescriber_name if coordination.prescriber_practice else ""
    else:
        organization, person = coordination.otp_name, ""
    if not organization:
        return None
    episode = coordination.episode
    named = may_disclose(
        coordination.patient, recipient=Recipient.provider(organization, person), data_class=DataClass.MEDICATIONS,
        purpose=Purpose.TREATMENT, episode=episode,
    )  # fmt: skip
    if named.allowed:
        return named
    general = may_disclose(
        coordination.patient, recipient=Recipient.treating_provider(), data_class=DataClass.MEDICATIONS,
        purpose=Purpose.TREATMENT, episode=episode,
    )  # fmt: skip
    return general if general.allowed else named


def _clean_moud(values: dict[str, Any], today: date) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {
        "prescriber_name": _text(values, "prescriber_name", 120, errors),
        "prescriber_practice": _text(values, "prescriber_practice", 120, errors),
        "prescriber_phone": _text(values, "prescriber_phone", 30, errors),
        "otp_name": _text(values, "otp_name", 120, errors),
        "otp_phone": _text(values, "otp_phone", 30, errors),
        "last_dose_on": _day(values, "last_dose_on", today, errors),
        "last_dose_confirmed_by": _text(values, "last_dose_confirmed_by", 120, errors),
        "last_dose_how": str(values.get("last_dose_how") or ""),
    }
    if not (cleaned["prescriber_name"] or cleaned["prescriber_practice"] or cleaned["otp_name"]):
        errors["prescriber_name"] = "Name the prescriber or the opioid treatment program."
    for field in ("prescriber_phone", "otp_phone"):
        if cleaned[field] and not all(c.isdigit() or c in " +-().ext" for c in cleaned[field]):
            errors[field] = "Digits, spaces and + - ( ) only."
    if cleaned["last_dose_how"] and cleaned["last_dose_how"] not in MoudCoordination.DoseCheck.values:
        errors["last_dose_how"] = "Choose how the dose was confirmed."
    if cleaned["last_dose_on"] and not cleaned["last_dose_how"]:
        errors["last_dose_how"] = "Say how the last dose was confirmed."
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def do_save_moud_coordination(
    episode: EpisodeOfCare, *, acting_user: User, today: date | None = None, **values: Any
) -> MoudCoordination:
    """Create or change the episode's MOUD coordination (a field left out keeps its value) and note the consent
    that allows talking to the prescriber or OTP, if one does."""
    _unknown(values, MOUD_FIELDS, "MoudCoordination")
    coordination = MoudCoordination.objects.select_for_update().filter(episode=episode).first()
    before = {name: getattr(coordination, name) for name in MOUD_FIELDS} if coordination else {}
    cleaned = _clean_moud(before | values, today or timezone.localdate())
    created = coordination is None
    if coordination is None:
        coordination = MoudCoordination(episode=episode, patient=episode.patient)
    for name, value in cleaned.items():
        setattr(coordination, name, value)
    coordination.updated_by = acting_user
    decisions = [coordination_release(coordination, party) for party in ("otp", "prescriber")]
    coordination.consent = next((d.consent for d in decisions if d is not None and d.allowed), None)
    changed = [name for name, value in cleaned.items() if before.get(name) != value]
    coordination.save()
    if created or changed:
        audit.record(
            action=AuditAction.CREATED if created else AuditAction.UPDATED,
            acting_user=acting_user,
            patient=episode.patient,
            obj=coordination,
            changed_fields=[name for name in changed if cleaned[name] not in ("", None)] if created else changed,
        )
    return coordination
