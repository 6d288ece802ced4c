"""Access-checked reads of consents: the role first (403), then the user's programs (404 outside them).

A consent is scoped by its discloser program, so a Part 2 consent (whose very existence says the patient is in
substance use treatment) is visible only to that program's staff.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404

from openiop.accounts.models import User
from openiop.consents.models import Consent
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.patients import emergency
from openiop.patients.models import Patient
from openiop.patients.queries import chart_program_ids

# Writes by kind. Front desk (EDIT_DEMOGRAPHICS) collects the privacy-notice acknowledgement and releases at
# check-in, as clinics do; consent to treatment, telehealth and Part 2 consents are explained by clinical staff
# (EDIT_CLINICAL: clinicians, intake coordinators, directors). Anyone who may record a consent may record its
# written revocation; billing and auditors only read.
WRITE_CAPS: dict[str, tuple[Cap, ...]] = {
    "treatment": (Cap.EDIT_CLINICAL,),
    "telehealth": (Cap.EDIT_CLINICAL,),
    "part2": (Cap.EDIT_CLINICAL,),
    "hipaa_notice": (Cap.EDIT_CLINICAL, Cap.EDIT_DEMOGRAPHICS),
    "release": (Cap.EDIT_CLINICAL, Cap.EDIT_DEMOGRAPHICS),
}
REVOKE_CAPS = (Cap.EDIT_CLINICAL, Cap.EDIT_DEMOGRAPHICS)


def can_record(user: User, kind: str) -> bool:
    return any(user.can(c) for c in WRITE_CAPS.get(kind, ()))


def consents_for_user(user: User) -> QuerySet[Consent]:
    if user.organization_id is None:
        return Consent.objects.none()
    return Consent.objects.filter(program_id__in=program_ids_for(user), patient__organization_id=user.organization_id)


def get_consent_for_user(user: User, public_id: UUID | str, caps: tuple[Cap, ...] = (Cap.VIEW_PATIENTS,)) -> Consent:
    require(user, any_of=caps)
    related = ("patient", "program__site__organization", "recipient_contact", "signature__witnessed_by",
               "revoked_by", "recorded_by")  # fmt: skip
    found = consents_for_user(user).select_related(*related).filter(public_id=public_id).first()
    if found is None:
        found = emergency.record_under_grant(user, Consent.objects.select_related(*related), public_id, caps)
    if found is None:
        raise Http404
    return found


def patient_consents(user: User, patient: Patient) -> QuerySet[Consent]:
    """The patient's consents in the user's programs (all of them under emergency access), newest first; one query
    whatever the count."""
    require(user, Cap.VIEW_PATIENTS)
    if user.organization_id is None:
        return Consent.objects.none()
    return (
        Consent.objects.filter(patient=patient, program_id__in=chart_program_ids(user, patient))
        .select_related("program__site", "recipient_contact", "signature")
        .order_by("-signed_at")
    )
