"""Writes to patients, coverages, support contacts and episodes of care.

Each is one transaction with its audit row; clinical data is deactivated, never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.actions import apply_changes, validate, write_config
from openiop.core.models import AuditAction
from openiop.patients import events
from openiop.patients.models import (
    EPISODE_TRANSITIONS,
    CareTeamMember,
    Coverage,
    EpisodeOfCare,
    Patient,
    Payer,
    SupportContact,
)
from openiop.programs import levels
from openiop.programs.models import Organization, Program, Track

PATIENT_FIELDS = (
    "legal_first_name", "legal_middle_name", "legal_last_name", "preferred_name", "pronouns", "date_of_birth",
    "sex_assigned_at_birth", "gender_identity", "email", "phone_mobile", "phone_home", "address_line1",
    "address_line2", "city", "state", "postal_code", "preferred_language", "interpreter_needed",
    "emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone",
)  # fmt: skip
COVERAGE_FIELDS = (
    "priority", "payer", "payer_kind", "payer_name", "plan_name", "member_id", "group_number", "subscriber_name",
    "subscriber_date_of_birth", "relationship_to_subscriber", "effective_from", "effective_to",
)  # fmt: skip
CONTACT_FIELDS = ("name", "relationship", "phone", "email", "involved_in_treatment", "notes")
EPISODE_FIELDS = ("track", "waitlisted_on", "admitted_on", "expected_discharge_on", "primary_clinician")

# Before this, a typed year is almost certainly a slip (1090 for 1990).
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def _next_mrn(organization: Organization) -> str:
    # Locking the organization row serializes MRN assignment across concurrent registrations.
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    number = org.next_mrn
    org.next_mrn = number + 1
    org.save(update_fields=["next_mrn"])
    return f"{org.mrn_prefix}-{number:06d}"


def _check_birth_date(patient: Patient) -> None:
    if patient.date_of_birth > timezone.localdate():
        raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})
    if patient.date_of_birth < EARLIEST_BIRTH_DATE:
        raise ValidationError({"date_of_birth": "Check the year of birth."})


@transaction.atomic
def do_create_patient(*, acting_user: User | None, home_program: Program, **fields: Any) -> Patient:
    """Register a patient. Callers check duplicates first (queries.find_possible_duplicates)."""
    organization = home_program.site.organization
    patient = Patient(organization=organization, home_program=home_program, mrn="pending")
    apply_changes(patient, fields, PATIENT_FIELDS)
    validate(patient, exclude=["mrn", "search_first", "search_last"])
    _check_birth_date(patient)
    patient.mrn = _next_mrn(organization)
    patient.save()
    filled = [name for name, value in fields.items() if value not in ("", None, False)]
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=patient,
        obj=patient,
        changed_fields=["mrn", "home_program", *filled],
    )
    return patient


@transaction.atomic
def do_update_patient(patient: Patient, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(patient, fields, PATIENT_FIELDS)
    if changed:
        validate(patient, exclude=["search_first", "search_last"])
        _check_birth_date(patient)
        patient.save()
        audit.record(
            action=AuditAction.UPDATED, acting_user=acting_user, patient=patient, obj=patient, changed_fields=changed
        )
    return changed


@transaction.atomic
def do_set_patient_active(patient: Patient, *, acting_user: User, active: bool, reason: str = "") -> None:
    """Deactivate (with a reason) or reactivate a record; records are never deleted."""
    if not active and not reason.strip():
        raise ValidationError({"reason": "Say why the record is deactivated."})
    if not active and patient.episodes.exclude(status=EpisodeOfCare.Status.DISCHARGED).exists():
        raise ValidationError({"reason": "Discharge or close the open episode of care first."})
    if patient.is_active != active:
        patient.is_active = active
        patient.deactivated_reason = "" if active else reason.strip()
        patient.save(update_fields=["is_active", "deactivated_reason", "updated_at"])
        audit.record(
            action=AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
            acting_user=acting_user,
            patient=patient,
            obj=patient,
            changed_fields=["is_active", "deactivated_reason"],
        )


PAYER_FIELDS = (
    "name", "payer_id", "kind", "claim_filing_indicator", "address_line1", "address_line2", "city", "state",
    "postal_code", "timely_filing_days", "is_active",
)  # fmt: skip
PAYER_ADDRESS = ("address_line1", "city", "state", "postal_code")


def _from_payer(fields: dict[str, Any]) -> dict[str, Any]:
    """A picked payer names the coverage: its name and kind replace what was typed (Book Now's free text stays on
    coverages without one)."""
    payer = fields.get("payer")
    if isinstance(payer, Payer):
        fields = {**fields, "payer_name": payer.name, "payer_kind": payer.kind}
    return fields


def _check_coverage(coverage: Coverage, *, payer_changed: bool = True) -> None:
    coverage.payer_name = (coverage.payer_name or "").strip()
    if coverage.payer_id is None and not coverage.payer_name:
        raise ValidationError({"payer_name": "Pick a payer, or type the payer's name."})
    payer = coverage.payer
    if payer is not None:
        if payer.organization_id != coverage.patient.organization_id:
            raise ValidationError({"payer": "Pick one of this organization's payers."})
        # Read again: the payer may have been deactivated since the caller fetched it.
        if payer_changed and not Payer.objects.filter(pk=payer.pk, is_active=True).exists():
            raise ValidationError({"payer": "This payer is inactive: pick an active one."})
    validate(coverage)
    if coverage.effective_from and coverage.effective_to and coverage.effective_to < coverage.effective_from:
        raise ValidationError({"effective_to": "Coverage must end on or after its start date."})
    if coverage.is_active:
        # Claims go to payers in priority order, so two active primaries would make the order ambiguous.
        clash = Coverage.objects.filter(patient_id=coverage.patient_id, priority=coverage.priority, is_active=True)
        if coverage.pk is not None:
            clash = clash.exclude(pk=coverage.pk)
        if clash.exists():
            label = Coverage.Priority(coverage.priority).label.lower()
            raise ValidationError(
                {"priority": f"There is already an active {label} coverage: deactivate it or pick another priority."}
            )


@transaction.atomic
def do_add_coverage(patient: Patient, *, acting_user: User | None, **fields: Any) -> Coverage:
    coverage = Coverage(patient=patient)
    fields = _from_payer(fields)
    apply_changes(coverage, fields, COVERAGE_FIELDS)
    _check_coverage(coverage)
    coverage.save()
    audit.record(
        action=AuditAction.CREATED, acting_user=acting_user, patient=patient, obj=coverage, changed_fields=list(fields)
    )
    return coverage


@transaction.atomic
def do_update_coverage(coverage: Coverage, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(coverage, _from_payer(fields), COVERAGE_FIELDS)
    if changed:
        _check_coverage(coverage, payer_changed="payer" in changed)
        coverage.save()
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=coverage.patient,
            obj=coverage,
            changed_fields=changed,
        )
    return changed


@transaction.atomic
def do_set_coverage_active(coverage: Coverage, *, acting_user: User, active: bool) -> None:
    if coverage.is_active != active:
        coverage.is_active = active
        if active:
            _check_coverage(coverage, payer_changed=False)
        coverage.save(update_fields=["is_active", "updated_at"])
        audit.record(
            action=AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
            acting_user=acting_user,
            patient=coverage.patient,
            obj=coverage,
            changed_fields=["is_active"],
        )


# --- Payers (the organization's configuration, audited CONFIG_CHANGED) --------------------------------------------


def _check_payer(payer: Payer) -> None:
    payer.name = (payer.name or "").strip()
    payer.payer_id = (payer.payer_id or "").strip().upper()
    payer.state = (payer.state or "").strip().upper()
    for name in ("address_line1", "address_line2", "city", "postal_code"):
        setattr(payer, name, (getattr(payer, name) or "").strip())
    errors: dict[str, Any] = {}
    try:  # every problem at once: the model's own checks and the ones below
        validate(payer, exclude=["organization"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if payer.kind not in Coverage.PayerKind.values:
        errors.setdefault("kind", "Choose a payer type from the list.")
    if any(getattr(payer, n) for n in PAYER_ADDRESS):
        for name in PAYER_ADDRESS:
            if not getattr(payer, name):
                errors.setdefault(name, "A payer's address needs the street, city, state and ZIP code.")
    same_name = Payer.objects.filter(organization_id=payer.organization_id, name__iexact=payer.name)
    if same_name.exclude(pk=payer.pk).exists():
        errors["name"] = "The organization already has a payer of this name."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_create_payer(*, acting_user: User | None, organization: Organization, **fields: Any) -> Payer:
    payer = Payer(organization=organization)
    write_config(payer, fields, PAYER_FIELDS, _check_payer, acting_user=acting_user, organization_id=organization.pk)
    return payer


@transaction.atomic
def do_update_payer(payer: Payer, *, acting_user: User, **fields: Any) -> list[str]:
    """Change a payer. Coverages that point at it keep the name they copied until they are saved again: a renamed
    payer is the same payer (its id and claims are unchanged)."""
    payer = Payer.objects.select_for_update().get(pk=payer.pk)
    return write_config(
        payer, fields, PAYER_FIELDS, _check_payer, acting_user=acting_user, organization_id=payer.organization_id
    )


@transaction.atomic
def do_add_support_contact(patient: Patient, *, acting_user: User | None, **fields: Any) -> SupportContact:
    contact = SupportContact(patient=patient)
    apply_changes(contact, fields, CONTACT_FIELDS)
    validate(contact)
    contact.save()
    audit.record(
        action=AuditAction.CREATED, acting_user=acting_user, patient=patient, obj=contact, changed_fields=list(fields)
    )
    return contact


@transaction.atomic
def do_update_support_contact(contact: SupportContact, *, acting_user: User, **fields: Any) -> list[str]:
    changed = apply_changes(contact, fields, CONTACT_FIELDS)
    if changed:
        validate(contact)
        contact.save()
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=contact.patient,
            obj=contact,
            changed_fields=changed,
        )
    return changed


@transaction.atomic
def do_set_support_contact_active(contact: SupportContact, *, acting_user: User, active: bool) -> None:
    if contact.is_active != active:
        contact.is_active = active
        contact.save(update_fields=["is_active", "updated_at"])
        audit.record(
            action=AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
            acting_user=acting_user,
            patient=contact.patient,
            obj=contact,
            changed_fields=["is_active"],
        )


def _check_episode(episode: EpisodeOfCare) -> None:
    errors: dict[str, str] = {}
    program = episode.program
    if program.site.organization_id != episode.patient.organization_id:
        errors["program"] = "The program belongs to another organization."
    if episode.track is not None and episode.track.program_id != program.pk:
        errors["track"] = "Pick a track of this episode's program."
    if episode.primary_clinician_id is not None:
        clinician = episode.primary_clinician
        if (
            clinician is None
            or not clinician.is_active
            or not clinician.memberships.filter(program_id=program.pk).exists()
        ):
            errors["primary_clinician"] = "The primary clinician must be active staff of this program."
    status = episode.status
    if status in (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD) and episode.admitted_on is None:
        errors["admitted_on"] = "An active episode needs an admission date."
    if status == EpisodeOfCare.Status.WAITLIST and episode.admitted_on is not None:
        errors["admitted_on"] = "A waitlisted episode has no admission date yet; admit it from the waitlist."
    if episode.admitted_on and episode.expected_discharge_on and episode.expected_discharge_on < episode.admitted_on:
        errors["expected_discharge_on"] = "Expected discharge must be on or after admission."
    if status == EpisodeOfCare.Status.DISCHARGED:
        if episode.discharged_on is None:
            errors["discharged_on"] = "Give the discharge date."
        elif episode.discharged_on > program.now().date():
            errors["discharged_on"] = "Discharge cannot be recorded ahead of time."
        elif episode.admitted_on and episode.discharged_on < episode.admitted_on:
            errors["discharged_on"] = "Discharge must be on or after admission."
        if episode.discharge_reason not in EpisodeOfCare.DischargeReason.values:
            errors["discharge_reason"] = "Give the discharge reason."
    if errors:
        raise ValidationError(errors)


def _check_new_track(track: Track | None) -> None:
    if track is not None and not track.is_active:
        raise ValidationError({"track": "This track is no longer running; pick another."})


def _open_episode_conflict() -> ValidationError:
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
    if not patient.is_active:
        raise ValidationError("Reactivate the patient record before opening an episode.")
    if not program.is_active:
        raise ValidationError({"program": "This program is not taking patients."})
    _check_new_track(track)
    if status == EpisodeOfCare.Status.WAITLIST and waitlisted_on is None:
        waitlisted_on = timezone.localdate()
    if status == EpisodeOfCare.Status.ACTIVE and admitted_on and expected_discharge_on is None:
        expected_discharge_on = admitted_on + timedelta(weeks=program.max_length_weeks)
    episode = EpisodeOfCare(
        patient=patient,
        program=program,
        track=track,
        status=status,
        admitted_on=admitted_on,
        waitlisted_on=waitlisted_on,
        expected_discharge_on=expected_discharge_on,
        primary_clinician=primary_clinician,
        level_of_care=program.level_of_care,
    )
    _check_episode(episode)
    if patient.episodes.filter(program=program).exclude(status=EpisodeOfCare.Status.DISCHARGED).exists():
        raise _open_episode_conflict()
    try:
        with transaction.atomic():
            episode.save()
    except IntegrityError as exc:  # a concurrent admission won the partial unique index
        raise _open_episode_conflict() from exc
    members = _checked_team(episode, care_team)
    CareTeamMember.objects.bulk_create(
        [CareTeamMember(episode=episode, user=u, team_role=r) for u, r in members.items()]
    )
    if episode.status == EpisodeOfCare.Status.ACTIVE:
        assert episode.admitted_on is not None  # _check_episode requires it of an active episode
        events.emit(
            events.EpisodeAdmitted(
                episode=episode,
                acting_user=acting_user,
                effective_on=episode.admitted_on,
                from_waitlist=False,
            )
        )
    set_fields = [
        name
        for name in ("track", "admitted_on", "waitlisted_on", "expected_discharge_on", "primary_clinician")
        if getattr(episode, name) is not None
    ]
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=patient,
        obj=episode,
        changed_fields=["status", "program", "level_of_care", *set_fields, *(["care_team"] if members else [])],
    )
    return episode


@transaction.atomic
def do_update_episode(episode: EpisodeOfCare, *, acting_user: User, **fields: Any) -> list[str]:
    previous_track_id = episode.track_id
    # apply_changes reads the current track anyway when one is given, so keeping it costs no query.
    previous_track = episode.track if "track" in fields else None
    changed = apply_changes(episode, fields, EPISODE_FIELDS)
    if changed:
        if "track" in changed and episode.track_id != previous_track_id:
            _check_new_track(episode.track)
        _check_episode(episode)
        episode.save()
        if "primary_clinician" in changed:
            # The former primary stays on the team as a therapist; the new one (if any) becomes primary.
            former = CareTeamMember.objects.filter(episode=episode, team_role=CareTeamMember.TeamRole.PRIMARY)
            if episode.primary_clinician_id is not None:
                former = former.exclude(user_id=episode.primary_clinician_id)
            former.update(team_role=CareTeamMember.TeamRole.THERAPIST)
            if episode.primary_clinician is not None:
                CareTeamMember.objects.update_or_create(
                    episode=episode,
                    user=episode.primary_clinician,
                    defaults={"team_role": CareTeamMember.TeamRole.PRIMARY},
                )
        if "track" in changed and episode.track_id != previous_track_id:
            events.emit(
                events.TrackChanged(
                    episode=episode,
                    acting_user=acting_user,
                    effective_on=episode.program.now().date(),
                    old_track=previous_track,
                    new_track=episode.track,
                )
            )
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=episode.patient,
            obj=episode,
            changed_fields=changed,
        )
    return changed


@transaction.atomic
def do_change_episode_status(
    episode: EpisodeOfCare,
    *,
    acting_user: User,
    status: str,
    on_date: date,
    discharge_reason: str = "",
    consequences: list[events.Consequence] | None = None,
) -> EpisodeOfCare:
    """Admit from the waitlist, hold, resume or discharge. A discharged episode is closed for good.

    The apps above do their part in the event's handlers, in this transaction; pass ``consequences`` (a list) to
    read what they did (bookings cancelled, tasks closed...) for the confirmation."""
    episode = EpisodeOfCare.objects.select_for_update().select_related("program__site", "patient").get(pk=episode.pk)
    current = EpisodeOfCare.Status(episode.status)
    if status not in EpisodeOfCare.Status.values:
        raise ValidationError({"status": "Pick a status."})
    target = EpisodeOfCare.Status(status)
    if target not in EPISODE_TRANSITIONS[current]:
        raise ValidationError({"status": f"A {current.label.lower()} episode cannot become {target.label.lower()}."})
    changed = ["status"]
    episode.status = target
    if target == EpisodeOfCare.Status.ACTIVE and current == EpisodeOfCare.Status.WAITLIST:
        episode.admitted_on = on_date
        if episode.expected_discharge_on is None or episode.expected_discharge_on < on_date:
            episode.expected_discharge_on = on_date + timedelta(weeks=episode.program.max_length_weeks)
        changed += ["admitted_on", "expected_discharge_on"]
    if target == EpisodeOfCare.Status.ON_HOLD:
        episode.holds = [*(episode.holds or []), [on_date.isoformat(), None]]
        changed.append("holds")
    elif current == EpisodeOfCare.Status.ON_HOLD and episode.holds and episode.holds[-1][1] is None:
        # Resumed: the hold ends the day before. Discharged while on hold: the hold lasts to the discharge day.
        last = on_date - timedelta(days=1) if target == EpisodeOfCare.Status.ACTIVE else on_date
        start = episode.holds[-1][0]
        episode.holds = [*episode.holds[:-1], [start, max(start, last.isoformat())]]
        changed.append("holds")
    if target == EpisodeOfCare.Status.DISCHARGED:
        episode.discharged_on = on_date
        episode.discharge_reason = discharge_reason
        changed += ["discharged_on", "discharge_reason"]
    _check_episode(episode)
    episode.save()
    events.emit(
        _transition_event(
            episode, current, acting_user=acting_user, on_date=on_date,
            consequences=consequences if consequences is not None else [],
        )
    )  # fmt: skip
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=episode,
        changed_fields=changed,
    )
    return episode


MAX_LEVEL_REASON = 500


def _level_period(on: date, program: Program, *, reason: str = "", dose_hours: Decimal | None = None) -> dict[str, Any]:
    return {
        "from": on.isoformat(),
        "level": program.level_of_care,
        "program": str(program.public_id),
        "dose_hours": str(program.weekly_dose_hours if dose_hours is None else dose_hours),
        "reason": reason,
    }


def _check_level_change(
    episode: EpisodeOfCare, program: Program, track: Track, *, effective_on: date, reason: str
) -> None:
    errors: dict[str, str] = {}
    if episode.status != EpisodeOfCare.Status.ACTIVE:
        errors["episode"] = "Only an active episode can step down or up: admit or resume it first."
    if program.site.organization_id != episode.patient.organization_id:
        errors["track"] = "Pick a track of one of this organization's programs."
    elif program.pk == episode.program_id:
        errors["track"] = (
            "This track is in the episode's own program, at the same level of care: change the track instead."
        )
    elif not program.is_active:
        errors["track"] = f"{program.name} is not taking patients."
    elif not track.is_active:
        errors["track"] = "This track is no longer running; pick another."
    elif program.level_of_care == episode.level_of_care:
        errors["track"] = (
            f"{program.name} runs the same level of care ({levels.short_label(program.level_of_care)}) as the "
            "episode: a step down or up moves to a program at another level."
        )
    elif episode.patient.episodes.filter(program=program).exclude(status=EpisodeOfCare.Status.DISCHARGED).exists():
        errors["track"] = f"The patient already has an open episode in {program.name}: close it first."
    elif (
        episode.primary_clinician_id is not None
        and not program.memberships.filter(user_id=episode.primary_clinician_id, user__is_active=True).exists()
    ):
        errors["track"] = (
            f"The primary clinician is not staff of {program.name}: add them to it or change the primary "
            "clinician first."
        )
    today = episode.program.now().date()
    history = episode.level_history or []
    if effective_on < today:
        errors["effective_on"] = "A change of level takes effect today or later; past sessions keep their record."
    elif episode.expected_discharge_on is not None and effective_on > episode.expected_discharge_on:
        errors["effective_on"] = "Change on or before the expected discharge date."
    elif history and history[-1]["from"] > effective_on.isoformat():
        errors["effective_on"] = "The level of care already changes later than that; pick that day or later."
    if not reason:
        errors["reason"] = "Say why the level of care changes."
    elif len(reason) > MAX_LEVEL_REASON:
        errors["reason"] = f"Keep the reason under {MAX_LEVEL_REASON} characters."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_change_level_of_care(
    episode: EpisodeOfCare,
    *,
    acting_user: User | None,
    track: Track,
    effective_on: date,
    reason: str,
    groups: Iterable[Any] = (),
    consequences: list[events.Consequence] | None = None,
) -> EpisodeOfCare:
    """Step the episode down or up a level of care: from ``effective_on`` it belongs to ``track`` and its program
    (which runs another level), keeping one episode (docs/clinical-rules.md#level-of-care).

    The episode's program, track, level and level history change together; the apps above do their part in the
    ``LevelOfCareChanged`` handlers in this transaction (scheduling moves the enrollment and bookings into
    ``groups`` of the new track, or a group with a seat, and refuses when it cannot book anything), so the change
    and all its consequences commit together or not at all. Pass ``consequences`` (a list) to read what they did.
    """
    episode = (
        # Only the episode row is locked: PostgreSQL refuses FOR UPDATE on the nullable side of the track's join.
        EpisodeOfCare.objects.select_for_update(of=("self",))
        .select_related("program__site", "patient", "track", "primary_clinician")
        .get(pk=episode.pk)
    )
    program = Program.objects.select_related("site").get(pk=track.program_id)
    reason = (reason or "").strip()
    _check_level_change(episode, program, track, effective_on=effective_on, reason=reason)
    old_program, old_track, old_level = episode.program, episode.track, episode.level_of_care
    history = [dict(p) for p in episode.level_history or []]
    if not history:
        # The first change writes the period it ends, from the admission, at the level the episode had.
        history.append(_level_period(episode.admitted_on or effective_on, old_program))
        history[0]["level"] = old_level
    if history[-1]["from"] == effective_on.isoformat():
        history.pop()  # changed again the same day: the day goes to the new level
    else:
        # The period that ends keeps the minimum in force until now; only the current period reads it live.
        history[-1]["dose_hours"] = str(old_program.weekly_dose_hours)
    history.append(_level_period(effective_on, program, reason=reason))
    episode.program, episode.track = program, track
    episode.level_of_care = program.level_of_care
    episode.level_history = history
    _check_episode(episode)
    try:
        with transaction.atomic():
            episode.save()
    except IntegrityError as exc:  # a concurrent admission to that program won the one-open-episode index
        raise ValidationError(
            {"track": f"The patient already has an open episode in {program.name}: close it first."}
        ) from exc
    events.emit(
        events.LevelOfCareChanged(
            episode=episode,
            acting_user=acting_user,
            effective_on=effective_on,
            consequences=consequences if consequences is not None else [],
            old_level=old_level,
            new_level=episode.level_of_care,
            old_program=old_program,
            old_track=old_track,
            new_track=track,
            groups=tuple(groups),
            reason=reason,
        )
    )
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=episode,
        changed_fields=["program", "track", "level_of_care", "level_history"],
    )
    return episode


@transaction.atomic
def do_link_readmission(
    episode: EpisodeOfCare, *, acting_user: User | None, previous: EpisodeOfCare, on_date: date
) -> EpisodeOfCare:
    """Record that ``episode`` readmits the patient after the discharged ``previous`` and tell the apps above."""
    if previous.patient_id != episode.patient_id or previous.status != EpisodeOfCare.Status.DISCHARGED:
        raise ValidationError({"previous_episode": "Link a discharged episode of the same patient."})
    if previous.pk == episode.pk:
        raise ValidationError({"previous_episode": "An episode cannot readmit after itself."})
    episode.previous_episode = previous
    episode.save(update_fields=["previous_episode", "updated_at"])
    events.emit(
        events.EpisodeReadmitted(episode=episode, acting_user=acting_user, effective_on=on_date, previous=previous)
    )
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=episode,
        changed_fields=["previous_episode"],
    )
    return episode


def _transition_event(
    episode: EpisodeOfCare,
    previous: EpisodeOfCare.Status,
    *,
    acting_user: User,
    on_date: date,
    consequences: list[events.Consequence],
) -> events.EpisodeEvent:
    """The event for a status change EPISODE_TRANSITIONS allows (checked before this is called)."""
    common: dict[str, Any] = {
        "episode": episode, "acting_user": acting_user, "effective_on": on_date, "consequences": consequences,
    }  # fmt: skip
    S = EpisodeOfCare.Status
    if episode.status == S.DISCHARGED:
        return events.EpisodeDischarged(**common, reason=episode.discharge_reason, previous_status=previous.value)
    if episode.status == S.ON_HOLD:
        return events.EpisodePutOnHold(**common)
    if previous == S.WAITLIST:
        return events.EpisodeAdmitted(**common, from_waitlist=True)
    return events.EpisodeResumed(**common)


def _checked_team(episode: EpisodeOfCare, members: Iterable[tuple[User, str]]) -> dict[User, str]:
    """The wanted team with the primary clinician added; rejects outsiders and a second primary."""
    team = dict(members)
    if team:
        program_staff = set(episode.program.memberships.filter(user__is_active=True).values_list("user_id", flat=True))
        if any(u.pk not in program_staff for u in team):
            raise ValidationError({"care_team": "Care team members must be active staff of the episode's program."})
    if any(
        role == CareTeamMember.TeamRole.PRIMARY and u.pk != episode.primary_clinician_id for u, role in team.items()
    ):
        raise ValidationError({"care_team": "Change the primary clinician on the episode itself."})
    if any(role not in CareTeamMember.TeamRole.values for role in team.values()):
        raise ValidationError({"care_team": "Pick a role for every team member."})
    if episode.primary_clinician is not None:
        team[episode.primary_clinician] = CareTeamMember.TeamRole.PRIMARY
    return team


@transaction.atomic
def do_set_care_team(episode: EpisodeOfCare, *, acting_user: User, members: Iterable[tuple[User, str]]) -> bool:
    """Replace the care team (the primary clinician always stays on it). Returns whether anything changed."""
    team = _checked_team(episode, members)
    wanted = {u.pk: role for u, role in team.items()}
    current = dict(episode.team_members.values_list("user_id", "team_role"))
    if wanted == current:
        return False
    episode.team_members.exclude(user_id__in=list(wanted)).delete()
    for user, role in team.items():
        if current.get(user.pk) != role:
            CareTeamMember.objects.update_or_create(episode=episode, user=user, defaults={"team_role": role})
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=episode,
        changed_fields=["care_team"],
    )
    return True
