"""Demo consents: treatment and privacy-notice consents, a Part 2 TPO consent, releases and one revoked release.

Called once from core.demo when the demo clinic is built. PDFs are not rendered here (that would slow the seed);
the download view renders each one on first download.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from openiop.accounts.models import User
from openiop.consents.actions import SignatureInput, do_record_consent, do_revoke_consent
from openiop.consents.models import Consent
from openiop.core.roles import Role
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Organization, Program

PER_PROGRAM = 3


def _staff(program: Program, *roles: str) -> User | None:
    staff = User.objects.filter(memberships__program=program, is_active=True)
    for role in roles:
        found = staff.filter(role=role).order_by("username").first()
        if found is not None:
            return found
    return None


def seed_demo_consents(organization: Organization, today: date) -> int:
    """Consents for the first admitted patients of each program; returns how many were recorded (0 when the clinic
    already has consents, so a second `openiop demo` changes nothing)."""
    if Consent.objects.filter(patient__organization=organization).exists():
        return 0
    made = 0
    for program in Program.objects.filter(site__organization=organization).select_related("site"):
        clinician = _staff(program, Role.CLINICIAN, Role.DIRECTOR, Role.INTAKE)
        desk = _staff(program, Role.FRONT_DESK, Role.INTAKE) or clinician
        if clinician is None or desk is None:
            continue
        episodes = (
            EpisodeOfCare.objects.filter(program=program, status=EpisodeOfCare.Status.ACTIVE)
            .select_related("patient")
            .order_by("patient__mrn")[:PER_PROGRAM]
        )
        for number, episode in enumerate(episodes):
            patient = episode.patient
            sign = SignatureInput(signer_name=patient.legal_name, method="typed", agreed=True)
            if program.population == Program.Population.ADOLESCENT:
                sign = SignatureInput(
                    signer_name=patient.emergency_contact_name or "Parent of record", method="typed", agreed=True,
                    signer_relationship="guardian",
                )  # fmt: skip
            common: dict[str, Any] = {"signature": sign, "episode": episode, "render_pdf": False}
            do_record_consent(patient, acting_user=clinician, kind="treatment", **common)
            do_record_consent(patient, acting_user=desk, kind="hipaa_notice", **common)
            made += 2
            if number == 0:
                do_record_consent(patient, acting_user=clinician, kind="telehealth", **common)
                made += 1
            if program.is_substance_use:
                do_record_consent(
                    patient,
                    acting_user=clinician,
                    kind="part2",
                    information_description=f"My substance use disorder treatment records at {program.name}.",
                    data_classes=["all_records"],
                    recipient_kind="tpo_general",
                    purposes=["treatment", "payment", "operations"],
                    expiry_kind="none",
                    redisclosure_form="short",
                    **common,
                )
                made += 1
            contact = patient.support_contacts.filter(is_active=True).order_by("name").first()
            if contact is None:
                continue
            kind = "part2" if program.is_substance_use else "release"
            scope: dict[str, Any] = {
                "data_classes": ["attendance", "treatment_plan"],
                "recipient_kind": "support_contact",
                "recipient_contact": contact,
                "purposes": ["treatment"],
                "expiry_kind": "event",
                "expiry_event": "Discharge from the program",
            }
            if kind == "part2":
                scope["information_description"] = "Whether I attend the program, and my treatment plan."
                scope["redisclosure_form"] = "long"
            release = do_record_consent(patient, acting_user=clinician, kind=kind, **scope, **common)
            made += 1
            if number == 1:
                do_revoke_consent(
                    release, acting_user=desk, statement="Please stop sharing my information with this person."
                )
    return made
