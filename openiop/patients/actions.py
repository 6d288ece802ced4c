"""Writes to patients, coverages, support contacts and episodes of care.

Each is one transaction with its audit row; clinical data is deactivated, never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.actions import apply_changes, validate
from openiop.core.models import AuditAction
from openiop.patients.models import CareTeamMember, Coverage, EpisodeOfCare, Patient, SupportContact
from openiop.programs.models import Organization, Program, Track

PATIENT_FIELDS = (
    "legal_first_name", "legal_middle_name", "legal_last_name", "preferred_name", "pronouns", "date_of_birth",
    "sex_assigned_at_birth", "gender_identity", "email", "phone_mobile", "phone_home", "address_line1",
    "address_line2", "city", "state", "postal_code", "preferred_language", "interpreter_needed",
    "emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone",
)
COVERAGE_FIELDS = (
    "priority", "payer_kind", "payer_name", "plan_name", "member_id", "group_number", "subscriber_name",
    "subscriber_date_of_birth", "relationship_to_subscriber", "effective_from", "effective_to",
)
CONTACT_FIELDS = ("name", "relationship", "phone", "email", "involved_in_treatment", "notes")
EPISODE_FIELDS = ("track", "waitlisted_on", "admitted_on", "expected_discharge_on", "primary_clinician")


def _next_mrn(organization: Organization) -> str:
    # Locking the organization row serializes MRN assignment across concurrent registrations.
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    number = org.next_mrn
    org.next_mrn = number + 1
    org.save(update_fields=["next_mrn"])
    return f"{org.mrn_prefix}-{number:06d}"


@transaction.atomic
def do_create_patient(*, acting_user: User | None, home_program: Program, **fields: Any) -> Patient:
    """Register a patient. Callers check duplicates first (queries.find_possible_duplicates)."""
    organization = home_program.site.organization
    patient = Patient(organization=organization, home_program=home_program, mrn="pending")
    apply_changes(patient, fields, PATIENT_FIELDS)
    validate(patient, exclude=["mrn", "search_first", "search_last"])
    if patient.date_of_birth > date.today():
        raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})
    patient.mrn = _next_mrn(organization)
    patient.save()
    audit.record(action=AuditAction.CREATED, acting_user=acting_user, patient=patient, obj=patient,
                 changed_fields=["mrn", *fields])
    return patient


@transaction.atomic
def do_update_patient(patient: Patient, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(patient, fields, PATIENT_FIELDS)
    if changed:
        validate(patient, exclude=["search_first", "search_last"])
        if patient.date_of_birth > date.today():
            raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})
        patient.save()
        audit.record(action=AuditAction.UPDATED, acting_user=acting_user, patient=patient, obj=patient,
                     changed_fields=changed)
    return changed


@transaction.atomic
def do_set_patient_active(patient: Patient, *, acting_user: User, active: bool, reason: str = "") -> None:
    if not active and not reason.strip():
        raise ValidationError({"reason": "Say why the record is deactivated."})
    if not active and patient.episodes.exclude(status=EpisodeOfCare.Status.DISCHARGED).exists():
        raise ValidationError({"reason": "Discharge or close the open episode of care first."})
    if patient.is_active != active:
        patient.is_active = active
        patient.deactivated_reason = "" if active else reason.strip()
        patient.save(update_fields=["is_active", "deactivated_reason", "updated_at"])
        audit.record(action=AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
                     acting_user=acting_user, patient=patient, obj=patient, changed_fields=["is_active"])


def _check_coverage(coverage: Coverage) -> None:
    validate(coverage)
    if coverage.effective_from and coverage.effective_to and coverage.effective_to < coverage.effective_from:
        raise ValidationError({"effective_to": "Coverage must end on or after its start date."})


@transaction.atomic
def do_add_coverage(patient: Patient, *, acting_user: User | None, **fields: Any) -> Coverage:
    coverage = Coverage(patient=patient)
    apply_changes(coverage, fields, COVERAGE_FIELDS)
    _check_coverage(coverage)
    coverage.save()
    audit.record(action=AuditAction.CREATED, acting_user=acting_user, patient=patient, obj=coverage,
                 changed_fields=list(fields))
    return coverage


@transaction.atomic
def do_update_coverage(coverage: Coverage, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(coverage, fields, COVERAGE_FIELDS)
    if changed:
        _check_coverage(coverage)
        coverage.save()
        audit.record(action=AuditAction.UPDATED, acting_user=acting_user, patient=coverage.patient,
                     obj=coverage, changed_fields=changed)
    return changed


@transaction.atomic
def do_set_coverage_active(coverage: Coverage, *, acting_user: User, active: bool) -> None:
    if coverage.is_active != active:
        coverage.is_active = active
        coverage.save(update_fields=["is_active", "updated_at"])
        audit.record(action=AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
                     acting_user=acting_user, patient=coverage.patient, obj=coverage, changed_fields=["is_active"])


@transaction.atomic
def do_add_support_contact(patient: Patient, *, acting_user: User | None, **fields: Any) -> SupportContact:
    contact = SupportContact(patient=patient)
    apply_changes(contact, fields, CONTACT_FIELDS)
    validate(contact)
    contact.save()
    audit.record(action=AuditAction.CREATED, acting_user=acting_user, patient=patient, obj=contact,
                 changed_fields=list(fields))
    return contact


@transaction.atomic
def do_update_support_contact(contact: SupportContact, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(contact, fields, CONTACT_FIELDS)
    if changed:
        validate(contact)
        contact.save()
        audit.record(action=AuditAction.UPDATED, acting_user=acting_user, patient=contact.patient, obj=contact,
                     changed_fields=changed)
    return changed


@transaction.atomic
def do_set_support_contact_active(contact: SupportContact, *, acting_user: User, active: bool) -> None:
    if contact.is_active != active:
        contact.is_active = active
        contact.save(update_fields=["is_active", "updated_at"])
        audit.record(action=AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
                     acting_user=acting_user, patient=contact.patient, obj=contact, changed_fields=["is_active"])


def _check_episode(episode: EpisodeOfCare) -> None:
    errors: dict[str, str] = {}
    program = episode.program
    if program.site.organization_id != episode.patient.organization_id:
        errors["program"] = "The program belongs to another organization."
    if episode.track_id is not None and episode.track.program_id != program.pk:
        errors["track"] = "Pick a track of this episode's program."
    if episode.primary_clinician_id is not None:
        clinician = episode.primary_clinician
        if clinician is None or not clinician.is_active or not clinician.memberships.filter(
            program_id=program.pk
        ).exists():
            errors["primary_clinician"] = "The primary clinician must be active staff of this program."
    status = episode.status
    if status in (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD, EpisodeOfCare.Status.DISCHARGED) and (
        episode.admitted_on is None and status != EpisodeOfCare.Status.DISCHARGED
    ):
        errors["admitted_on"] = "An active episode needs an admission date."
    if episode.admitted_on and episode.expected_discharge_on and episode.expected_discharge_on < episode.admitted_on:
        errors["expected_discharge_on"] = "Expected discharge must be on or after admission."
    if status == EpisodeOfCare.Status.DISCHARGED:
        if episode.discharged_on is None:
            errors["discharged_on"] = "Give the discharge date."
        if not episode.discharge_reason:
            errors["discharge_reason"] = "Give the discharge reason."
        if episode.admitted_on and episode.discharged_on and episode.discharged_on < episode.admitted_on:
            errors["discharged_on"] = "Discharge must be on or after admission."
    if errors:
        raise ValidationError(errors)


def _open_episode_conflict(episode: EpisodeOfCare) -> ValidationError:
    return ValidationError({"program": "This patient already has an open episode in this program."})


@transaction.atomic
def do_open_episode(
    patient: Patient,
    *,
    acting_user: User | None,
    program: Program,
    status: str = EpisodeOfCare.Status.ACTIVE,
    track: Track | None = None,
    admitted_on: date | None = None,
    waitlisted_on: date | None = None,
    expected_discharge_on: date | None = None,
    primary_clinician: User | None = None,
    care_team: Iterable[tuple[User, str]] = (),
) -> EpisodeOfCare:
    """Admit a patient to a program (active) or put them on its waitlist."""
    if status not in (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.WAITLIST):
        raise ValidationError({"status": "A new episode starts active or on the waitlist."})
    if status == EpisodeOfCare.Status.WAITLIST and waitlisted_on is None:
        waitlisted_on = date.today()
    if status == EpisodeOfCare.Status.ACTIVE and admitted_on and expected_discharge_on is None:
        expected_discharge_on = admitted_on + timedelta(weeks=program.max_length_weeks)
    episode = EpisodeOfCare(
        patient=patient, program=program, track=track, status=status, admitted_on=admitted_on,
        waitlisted_on=waitlisted_on, expected_discharge_on=expected_discharge_on,
        primary_clinician=primary_clinician,
    )
    _check_episode(episode)
    if patient.episodes.filter(program=program).exclude(status=EpisodeOfCare.Status.DISCHARGED).exists():
        raise _open_episode_conflict(episode)
    try:
        with transaction.atomic():
            episode.save()
    except IntegrityError as exc:  # a concurrent admission won the partial unique index
        raise _open_episode_conflict(episode) from exc
    members = dict(care_team)
    if primary_clinician is not None:
        members[primary_clinician] = CareTeamMember.TeamRole.PRIMARY
    CareTeamMember.objects.bulk_create(
        [CareTeamMember(episode=episode, user=u, team_role=r) for u, r in members.items()]
    )
    audit.record(action=AuditAction.CREATED, acting_user=acting_user, patient=patient, obj=episode,
                 changed_fields=["status", "program", "track", "admitted_on", "primary_clinician"])
    return episode


@transaction.atomic
def do_update_episode(episode: EpisodeOfCare, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(episode, fields, EPISODE_FIELDS)
    if changed:
        _check_episode(episode)
        episode.save()
        if "primary_clinician" in changed and episode.primary_clinician is not None:
            CareTeamMember.objects.filter(episode=episode, team_role=CareTeamMember.TeamRole.PRIMARY).exclude(
                user=episode.primary_clinician
            ).update(team_role=CareTeamMember.TeamRole.THERAPIST)
            CareTeamMember.objects.update_or_create(
                episode=episode, user=episode.primary_clinician,
                defaults={"team_role": CareTeamMember.TeamRole.PRIMARY},
            )
        audit.record(action=AuditAction.UPDATED, acting_user=acting_user, patient=episode.patient, obj=episode,
                     changed_fields=changed)
    return changed


_ALLOWED_TRANSITIONS = {
    EpisodeOfCare.Status.WAITLIST: {EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.DISCHARGED},
    EpisodeOfCare.Status.ACTIVE: {EpisodeOfCare.Status.ON_HOLD, EpisodeOfCare.Status.DISCHARGED},
    EpisodeOfCare.Status.ON_HOLD: {EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.DISCHARGED},
    EpisodeOfCare.Status.DISCHARGED: set(),
}


@transaction.atomic
def do_change_episode_status(
    episode: EpisodeOfCare,
    *,
    acting_user: User,
    status: str,
    on_date: date,
    discharge_reason: str = "",
) -> None:
    """Admit from the waitlist, hold, resume or discharge. A discharged episode is closed for good."""
    episode = EpisodeOfCare.objects.select_for_update().get(pk=episode.pk)
    current = EpisodeOfCare.Status(episode.status)
    if status not in _ALLOWED_TRANSITIONS[current]:
        raise ValidationError(
            {"status": f"A {current.label.lower()} episode cannot become {EpisodeOfCare.Status(status).label.lower()}."}
        )
    changed = ["status"]
    episode.status = status
    if status == EpisodeOfCare.Status.ACTIVE and current == EpisodeOfCare.Status.WAITLIST:
        episode.admitted_on = on_date
        if episode.expected_discharge_on is None:
            episode.expected_discharge_on = on_date + timedelta(weeks=episode.program.max_length_weeks)
        changed += ["admitted_on", "expected_discharge_on"]
    if status == EpisodeOfCare.Status.DISCHARGED:
        episode.discharged_on = on_date
        episode.discharge_reason = discharge_reason
        changed += ["discharged_on", "discharge_reason"]
    _check_episode(episode)
    episode.save()
    audit.record(action=AuditAction.STATUS_CHANGED, acting_user=acting_user, patient=episode.patient, obj=episode,
                 changed_fields=changed)


@transaction.atomic
def do_set_care_team(episode: EpisodeOfCare, *, acting_user: User, members: Iterable[tuple[User, str]]) -> None:
    members = dict(members)
    program_staff = set(episode.program.memberships.values_list("user_id", flat=True))
    if any(u.pk not in program_staff for u in members):
        raise ValidationError({"care_team": "Care team members must be staff of the episode's program."})
    if episode.primary_clinician is not None:
        members[episode.primary_clinician] = CareTeamMember.TeamRole.PRIMARY
    episode.team_members.exclude(user__in=list(members)).delete()
    for user, role in members.items():
        CareTeamMember.objects.update_or_create(episode=episode, user=user, defaults={"team_role": role})
    audit.record(action=AuditAction.UPDATED, acting_user=acting_user, patient=episode.patient, obj=episode,
                 changed_fields=["care_team"])
