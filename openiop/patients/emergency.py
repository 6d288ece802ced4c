"""Break-the-glass: emergency access to the chart of a patient outside the user's programs.

The rules (docs/clinical-rules.md#emergency-access-break-the-glass):

- Who: a clinical role (REQUEST_EMERGENCY_ACCESS with VIEW_PATIENTS: directors, clinicians, supervised clinicians,
  intake) in the patient's organization. Front desk, billing, auditors, sysadmins and privacy officers cannot.
- Finding the patient: an exact MRN, or legal last and first name with the date of birth, in the organization;
  never a partial search. A patient already in the user's programs just opens normally.
- The grant states a reason (a category and free text) and lasts ``emergency_access_minutes`` (60 by default).
  It is read only: ``queries.get_patient_for_user`` and ``get_episode_for_user`` honor it for VIEW_PATIENTS and
  VIEW_CLINICAL, never for an edit capability, so every write still needs a real program membership.
- Part 2 records (an episode in, or registration into, a substance-use program) open only with an active Part 2
  consent that covers the patient's treating providers, or under the medical-emergency exception of 42 CFR §2.51
  with its documentation: the medical personnel who received the records and their affiliation, and the nature of
  the emergency (who disclosed: the user; when: the grant time).
- Every chart read under the grant is audited as EMERGENCY_VIEWED; the grant itself as EMERGENCY_ACCESS_GRANTED.
- Notified at once: each director of the patient's programs (a work-queue task, through the
  ``emergency_access_granted`` hook) and each privacy officer of the organization (an email naming no one and
  nothing but a link, when they have an address). The review page and a nav count show the grants to sign off.
- Review: a privacy officer (any grant of the organization) or a director (grants of patients in their programs)
  signs it off as appropriate or inappropriate with a note; never their own. Audited as EMERGENCY_ACCESS_REVIEWED.

The reason and the Part 2 documentation are free text that may hold PHI: never logged, never in an audit row or email.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.context import current_origin
from openiop.core.hooks import Hook
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.permissions import program_ids_for, require
from openiop.core.registry import Provider
from openiop.core.roles import Cap, Role, capabilities_for
from openiop.patients.models import EmergencyAccessGrant, EpisodeOfCare, Patient
from openiop.programs.models import Program

Grant = EmergencyAccessGrant

# The capabilities a grant stands in for: reading. Every other capability needs a program membership.
READ_CAPS = frozenset({Cap.VIEW_PATIENTS, Cap.VIEW_CLINICAL})
CHART_WRITE_CAPS = frozenset(
    {Cap.EDIT_DEMOGRAPHICS, Cap.EDIT_COVERAGE, Cap.EDIT_CLINICAL, Cap.BOOK_SESSIONS, Cap.RECORD_ATTENDANCE}
)
SAFE_METHODS = frozenset({"GET", "HEAD"})
REASON_MAX = 1000
# The attribute the scoped lookups set on a patient (and episode) opened under a grant; ``core.audit.record`` reads
# it to write EMERGENCY_VIEWED for every chart read of that patient, whichever app's page it is.
_ATTR = audit.EMERGENCY_GRANT_ATTR


def read_only_caps(user: User) -> dict[str, bool]:
    """The ``caps`` a chart opened under a grant renders with: the user's own, less every capability that writes to
    a chart, so no tab offers a button the grant would refuse (a grant serves only GET and HEAD)."""
    return {c.value: True for c in capabilities_for(user.role) if c not in CHART_WRITE_CAPS}


def access_minutes() -> int:
    return int(settings.OPENIOP_DEFAULTS.get("emergency_access_minutes", 60))


# --- Hooks and the Part 2 consent check (provided by the apps above) ------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EmergencyAccessGranted:
    """A grant was made; ``programs`` are the patient's programs (registration and episodes)."""

    grant: EmergencyAccessGrant
    programs: tuple[int, ...]
    acting_user: User


@dataclass(frozen=True, kw_only=True)
class EmergencyAccessReviewed:
    grant: EmergencyAccessGrant
    acting_user: User


emergency_access_granted: Hook[EmergencyAccessGranted] = Hook("patients.emergency_access_granted")
emergency_access_reviewed: Hook[EmergencyAccessReviewed] = Hook("patients.emergency_access_reviewed")


def _no_consent(patient: Patient) -> bool:
    return False


# Does an active Part 2 consent let the patient's treating providers read the records? consents provides the answer
# (``may_disclose``); until it does, nothing counts as consent and the §2.51 documentation is required.
part2_consent: Provider[Callable[[Patient], bool]] = Provider("emergency access Part 2 consent", _no_consent)


M = TypeVar("M", bound=models.Model)


# --- Reads ----------------------------------------------------------------------------------------------------


def grant_of(patient: Any) -> EmergencyAccessGrant | None:
    """The grant a patient (or episode's patient) was opened under by this request, None for a member's access."""
    return getattr(patient, _ATTR, None)


def active_grant(user: User, patient_q: Q) -> EmergencyAccessGrant | None:
    """The user's grant in force now for the patient matched by ``patient_q`` (on ``patient__``), newest first.

    Only for a request that reads (GET, HEAD): a grant is read only, and a write path that looks its patient up with
    a read capability (a calendar feed, a consent's patient) must still find nothing outside the user's programs."""
    if not user.is_authenticated or user.organization_id is None:
        return None
    if current_origin().method not in SAFE_METHODS:
        return None
    now = timezone.now()
    return (
        EmergencyAccessGrant.objects.filter(
            patient_q,
            user=user,
            organization_id=user.organization_id,
            patient__organization_id=user.organization_id,
            granted_at__lte=now,
            expires_at__gt=now,
        )
        .select_related("patient__home_program")
        .order_by("-expires_at")
        .first()
    )


def patient_under_grant(user: User, public_id: UUID | str) -> Patient | None:
    grant = active_grant(user, Q(patient__public_id=public_id))
    if grant is None:
        return None
    patient = grant.patient
    setattr(patient, _ATTR, grant)
    return patient


def record_under_grant(user: User, records: QuerySet[M], public_id: UUID | str, caps: Iterable[Cap]) -> M | None:
    """A record (with a ``patient``) of a patient under the user's grant, for a read with only ``READ_CAPS``: the
    detail pages behind the chart tabs (a consent, an intake assessment, a discharge summary). Asked only after the
    member's own scope found nothing; the record's patient then carries the grant, so its audit row says so."""
    if user.organization_id is None or not set(caps) <= READ_CAPS:
        return None
    record = records.filter(public_id=public_id, patient__organization_id=user.organization_id).first()
    if record is None:
        return None
    patient = patient_under_grant(user, record.patient.public_id)  # type: ignore[attr-defined]
    if patient is None:
        return None
    record.patient = patient  # type: ignore[attr-defined]
    return record


def episode_under_grant(user: User, public_id: UUID | str) -> EpisodeOfCare | None:
    if user.organization_id is None:
        return None
    episode = (
        EpisodeOfCare.objects.select_related("patient", "program__site", "track", "primary_clinician")
        .filter(public_id=public_id, patient__organization_id=user.organization_id)
        .first()
    )
    if episode is None:
        return None
    grant = active_grant(user, Q(patient_id=episode.patient_id))
    if grant is None:
        return None
    setattr(episode, _ATTR, grant)
    setattr(episode.patient, _ATTR, grant)
    return episode


def active_grants_for(user: User) -> QuerySet[EmergencyAccessGrant]:
    now = timezone.now()
    return EmergencyAccessGrant.objects.filter(user=user, granted_at__lte=now, expires_at__gt=now).select_related(
        "patient"
    )


def has_part2_records(patient: Patient) -> bool:
    if patient.home_program.is_substance_use:
        return True
    sud = (Program.Focus.SUBSTANCE_USE, Program.Focus.CO_OCCURRING)  # as Program.is_substance_use
    return EpisodeOfCare.objects.filter(patient=patient, program__focus__in=sud).exists()


def patient_programs(patient: Patient) -> tuple[int, ...]:
    ids = {patient.home_program_id, *EpisodeOfCare.objects.filter(patient=patient).values_list("program_id", flat=True)}
    return tuple(sorted(ids))


def find_patient(
    user: User, *, mrn: str = "", last: str = "", first: str = "", dob: date | None = None
) -> Patient | None:
    """Exactly one patient of the user's organization by MRN, or by legal last and first name and birth date."""
    if user.organization_id is None:
        return None
    qs = Patient.objects.filter(organization_id=user.organization_id).select_related("home_program")
    if mrn.strip():
        qs = qs.filter(mrn__iexact=mrn.strip())
    elif last.strip() and first.strip() and dob is not None:
        qs = qs.filter(search_last=last.strip().lower(), search_first=first.strip().lower(), date_of_birth=dob)
    else:
        return None
    found = list(qs[:2])
    # Two people with the same name and birth date: ask for the MRN rather than guess.
    return found[0] if len(found) == 1 else None


def in_users_programs(user: User, patient: Patient) -> bool:
    ids = program_ids_for(user)
    return patient.home_program_id in ids or EpisodeOfCare.objects.filter(patient=patient, program_id__in=ids).exists()


def grants_for_reviewer(user: User, *, reviewed: bool | None = None) -> QuerySet[EmergencyAccessGrant]:
    """Grants the user may sign off: the whole organization for a privacy officer, else the patients in their
    programs (a director). Empty for anyone else."""
    if not user.is_authenticated or user.organization_id is None or not user.can(Cap.REVIEW_EMERGENCY_ACCESS):
        return EmergencyAccessGrant.objects.none()
    qs = EmergencyAccessGrant.objects.filter(organization_id=user.organization_id)
    if user.role != Role.PRIVACY_OFFICER:
        ids = program_ids_for(user)
        in_programs = EpisodeOfCare.objects.filter(program_id__in=ids).values("patient_id")
        qs = qs.filter(Q(patient__home_program_id__in=ids) | Q(patient_id__in=in_programs))
    if reviewed is not None:
        qs = qs.filter(reviewed_at__isnull=not reviewed)
    return qs.select_related("patient", "user", "reviewed_by")


def get_grant_for_reviewer(user: User, public_id: UUID | str) -> EmergencyAccessGrant:
    require(user, Cap.REVIEW_EMERGENCY_ACCESS)
    return get_object_or_404(grants_for_reviewer(user), public_id=public_id)


def views_under(grant: EmergencyAccessGrant) -> QuerySet[AuditEvent]:
    """What the grant's holder read under it (the EMERGENCY_VIEWED rows), for the reviewer, oldest first."""
    return AuditEvent.objects.filter(
        actor_id=grant.user_id,
        patient_id=grant.patient_id,
        action=AuditAction.EMERGENCY_VIEWED,
        occurred_at__gte=grant.granted_at,
        occurred_at__lte=grant.expires_at,
    ).order_by("chain_index")


def unreviewed_count(user: User) -> int:
    return grants_for_reviewer(user, reviewed=False).count()


# --- Writes ---------------------------------------------------------------------------------------------------


def _required(errors: dict[str, list[str]], name: str, value: str, label: str) -> None:
    if not value.strip():
        errors.setdefault(name, []).append(f"{label} is required.")


@transaction.atomic
def do_grant_emergency_access(
    patient: Patient,
    *,
    acting_user: User,
    reason_category: str,
    reason: str,
    part2_recipient_name: str = "",
    part2_recipient_affiliation: str = "",
    part2_emergency_nature: str = "",
) -> EmergencyAccessGrant:
    """Open the chart to ``acting_user`` for ``access_minutes()``; audited, directors and privacy officers told."""
    if not acting_user.can(Cap.REQUEST_EMERGENCY_ACCESS) or not acting_user.can(Cap.VIEW_PATIENTS):
        raise ValidationError("Your role cannot request emergency access.")
    if acting_user.organization_id is None or patient.organization_id != acting_user.organization_id:
        raise ValidationError("This patient is not in your organization.")
    if in_users_programs(acting_user, patient):
        raise ValidationError("This patient is in your programs: no emergency access is needed.")
    errors: dict[str, list[str]] = {}
    if reason_category not in EmergencyAccessGrant.ReasonCategory.values:
        errors["reason_category"] = ["Choose a reason."]
    _required(errors, "reason", reason, "The reason")
    if len(reason) > REASON_MAX:
        errors.setdefault("reason", []).append(f"Keep the reason under {REASON_MAX} characters.")
    basis = EmergencyAccessGrant.Part2Basis.NONE
    if has_part2_records(patient):
        if part2_consent.get()(patient):
            basis = EmergencyAccessGrant.Part2Basis.CONSENT
        else:
            basis = EmergencyAccessGrant.Part2Basis.MEDICAL_EMERGENCY
            _required(errors, "part2_recipient_name", part2_recipient_name, "The medical personnel's name")
            _required(errors, "part2_recipient_affiliation", part2_recipient_affiliation, "Their affiliation")
            _required(errors, "part2_emergency_nature", part2_emergency_nature, "The nature of the emergency")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    grant = EmergencyAccessGrant.objects.create(
        organization_id=patient.organization_id,
        user=acting_user,
        patient=patient,
        reason_category=reason_category,
        reason=reason.strip(),
        granted_at=now,
        expires_at=now + timedelta(minutes=access_minutes()),
        part2_basis=basis,
        part2_recipient_name=part2_recipient_name.strip() if basis == basis.MEDICAL_EMERGENCY else "",
        part2_recipient_affiliation=part2_recipient_affiliation.strip() if basis == basis.MEDICAL_EMERGENCY else "",
        part2_emergency_nature=part2_emergency_nature.strip() if basis == basis.MEDICAL_EMERGENCY else "",
    )
    emergency_access_granted.emit(
        EmergencyAccessGranted(grant=grant, programs=patient_programs(patient), acting_user=acting_user)
    )
    audit.record(
        action=AuditAction.EMERGENCY_ACCESS_GRANTED,
        acting_user=acting_user,
        patient=patient,
        obj=grant,
        # Field names only: which documentation was given, never what it says.
        changed_fields=["reason_category", "reason", *(["part2_basis"] if basis else [])],
    )
    transaction.on_commit(lambda: _email_privacy_officers(grant))
    return grant


def _email_privacy_officers(grant: EmergencyAccessGrant) -> None:
    """Only that a review is waiting, and where: no patient, no reason, no name (the email may leave the clinic)."""
    recipients = list(
        User.objects.filter(organization_id=grant.organization_id, role=Role.PRIVACY_OFFICER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return
    link = settings.SITE_URL + reverse("patients:emergency_review", args=[grant.public_id])
    send_mail(
        "Emergency access needs review",
        f"An emergency access to a patient record needs review:\n{link}\n",
        None,
        recipients,
        fail_silently=True,
    )


@transaction.atomic
def do_review_emergency_access(
    grant: EmergencyAccessGrant, *, acting_user: User, outcome: str, note: str = ""
) -> EmergencyAccessGrant:
    """Sign the grant off (once) as appropriate or inappropriate; an inappropriate one needs a note."""
    grant = EmergencyAccessGrant.objects.select_for_update().select_related("patient").get(pk=grant.pk)
    errors: dict[str, list[str]] = {}
    if grant.reviewed_at is not None:
        raise ValidationError("This emergency access was already reviewed.")
    if grant.user_id == acting_user.pk:
        raise ValidationError("Someone else must review your own emergency access.")
    if outcome not in EmergencyAccessGrant.Outcome.values:
        errors["outcome"] = ["Choose appropriate or inappropriate."]
    if outcome == EmergencyAccessGrant.Outcome.INAPPROPRIATE and not note.strip():
        errors["note"] = ["Say what was inappropriate and what follows."]
    if len(note) > REASON_MAX:
        errors.setdefault("note", []).append(f"Keep the note under {REASON_MAX} characters.")
    if errors:
        raise ValidationError(errors)
    grant.reviewed_by = acting_user
    grant.reviewed_at = timezone.now()
    grant.review_outcome = outcome
    grant.review_note = note.strip()
    grant.save(update_fields=["reviewed_by", "reviewed_at", "review_outcome", "review_note", "updated_at"])
    emergency_access_reviewed.emit(EmergencyAccessReviewed(grant=grant, acting_user=acting_user))
    audit.record(
        action=AuditAction.EMERGENCY_ACCESS_REVIEWED,
        acting_user=acting_user,
        patient=grant.patient,
        obj=grant,
        changed_fields=["review_outcome", *(["review_note"] if grant.review_note else [])],
    )
    return grant
