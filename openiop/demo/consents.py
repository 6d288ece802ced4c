"""Demo consents: treatment and privacy-notice consents, a Part 2 TPO consent, releases (to a support contact, and
to the health plan for payment) and one revoked release.

Signed on each patient's admission morning, as a clinic does: :func:`plan_demo_consents` puts the signatures on the
demo's timeline (``core.clock``), so ``signed_at`` and the audit rows carry the admission date, not the day the demo
was built, and the one revocation comes weeks later. PDFs are not rendered here (that would slow the seed); the
download view renders each one on first download.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from openiop.accounts.models import User
from openiop.consents.actions import SignatureInput, do_record_consent, do_revoke_consent
from openiop.consents.models import Consent
from openiop.core.clock import Timeline
from openiop.core.roles import Role
from openiop.demo.clinic import PlannedPatient, local_moment
from openiop.demo.specs import PROGRAMS, SITES
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program

PER_PROGRAM = 3


# After the admission (7:30) and the enrollment (7:45), before the first group of the day.
SIGNED_AT = time(8)
REVOKED_AT = time(11)


def plan_demo_consents(timeline: Timeline, patients: list[PlannedPatient], today: date) -> None:
    """Put the consents of the first ``PER_PROGRAM`` admitted patients of each program on ``timeline``, signed on
    their admission morning; the second one's release is revoked halfway between the admission and today."""
    by_program: dict[str, list[PlannedPatient]] = {}
    for planned in patients:
        if planned.status == EpisodeOfCare.Status.ACTIVE and planned.admitted_on is not None:
            by_program.setdefault(planned.program_key, []).append(planned)
    for planned_list in by_program.values():
        # The earliest admitted first, as the record's MRNs were handed out at registration.
        ordered = sorted(planned_list, key=lambda p: p.admitted_on or today)
        for number, planned in enumerate(ordered[:PER_PROGRAM]):
            _plan_one(timeline, planned, number, today)
        # A substance-use program has every patient sign its Part 2 consent for treatment, payment and operations at
        # admission (without it no claim or eligibility question may reach their health plan).
        for planned in ordered[PER_PROGRAM:]:
            if planned.program_key in SUD_PROGRAM_KEYS:
                _plan_tpo(timeline, planned)


SUD_PROGRAM_KEYS = frozenset(p.key for p in PROGRAMS if p.focus == "substance_use")


def _plan_tpo(timeline: Timeline, planned: PlannedPatient) -> None:
    admitted_on = planned.admitted_on
    assert admitted_on is not None

    def sign() -> None:
        assert planned.episode is not None
        episode = planned.episode
        clinician = _staff(episode.program, Role.CLINICIAN, Role.DIRECTOR, Role.INTAKE)
        if clinician is not None:
            signature = SignatureInput(signer_name=episode.patient.legal_name, method="typed", agreed=True)
            _part2_tpo(episode, clinician, {"signature": signature, "episode": episode, "render_pdf": False})

    timeline.at(local_moment(admitted_on, SIGNED_AT, _zone(planned)), sign)


def _plan_one(timeline: Timeline, planned: PlannedPatient, number: int, today: date) -> None:
    admitted_on = planned.admitted_on
    assert admitted_on is not None
    released: list[Consent] = []

    def sign() -> None:
        assert planned.episode is not None  # opened at 7:30 the same day
        release = _record(planned.episode, number)
        if release is not None:
            released.append(release)

    def revoke() -> None:
        if released:
            desk = _desk(released[0].program) or released[0].recorded_by
            do_revoke_consent(
                released[0], acting_user=desk, statement="Please stop sharing my information with this person."
            )

    zone = _zone(planned)
    timeline.at(local_moment(admitted_on, SIGNED_AT, zone), sign)
    if number == 1:
        # Before today, so the demo's past stays in the past (the history ends before today's first minute).
        revoked_on = admitted_on + timedelta(days=(today - admitted_on).days // 2)
        timeline.at(local_moment(revoked_on, REVOKED_AT, zone), revoke)


def _zone(planned: PlannedPatient) -> str:
    site = next(p.site for p in PROGRAMS if p.key == planned.program_key)
    return next(s.time_zone for s in SITES if s.key == site)


def _staff(program: Program, *roles: str) -> User | None:
    staff = User.objects.filter(memberships__program=program, is_active=True)
    for role in roles:
        found = staff.filter(role=role).order_by("username").first()
        if found is not None:
            return found
    return None


def _desk(program: Program) -> User | None:
    return _staff(program, Role.FRONT_DESK, Role.INTAKE)


def _record(episode: EpisodeOfCare, number: int) -> Consent | None:
    """The patient's consents (and a release to their first support contact); returns the release, if any."""
    program = episode.program
    clinician = _staff(program, Role.CLINICIAN, Role.DIRECTOR, Role.INTAKE)
    desk = _desk(program) or clinician
    if clinician is None or desk is None:
        return None
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
    if number == 0:
        do_record_consent(patient, acting_user=clinician, kind="telehealth", **common)
    coverage = (
        patient.coverages.filter(is_active=True, priority=1).exclude(payer_kind="self_pay").order_by("pk").first()
    )
    if coverage is not None and not program.is_substance_use:
        # The release most clinics have signed at admission: what the health plan needs to review and pay for the
        # care (the utilization-review packet). Substance-use records go under the Part 2 TPO consent below.
        do_record_consent(
            patient,
            acting_user=desk,
            kind="release",
            information_description="What my health plan needs to review and pay for this program's care.",
            data_classes=["diagnoses", "attendance", "measures", "treatment_plan", "progress_notes"],
            recipient_kind="outside_provider",
            recipient_organization=coverage.payer_name,
            purposes=["payment"],
            expiry_kind="event",
            expiry_event="The end of my coverage with this plan",
            **common,
        )
    if program.is_substance_use:
        _part2_tpo(episode, clinician, common)
    contact = patient.support_contacts.filter(is_active=True).order_by("name").first()
    if contact is None:
        return None
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
    return do_record_consent(patient, acting_user=clinician, kind=kind, **scope, **common)


def _part2_tpo(episode: EpisodeOfCare, clinician: User, common: dict[str, Any]) -> Consent:
    """The single Part 2 consent of the 2024 rule: all records, treatment, payment and operations, no expiry."""
    return do_record_consent(
        episode.patient,
        acting_user=clinician,
        kind="part2",
        information_description=f"My substance use disorder treatment records at {episode.program.name}.",
        data_classes=["all_records"],
        recipient_kind="tpo_general",
        purposes=["treatment", "payment", "operations"],
        expiry_kind="none",
        redisclosure_form="short",
        **common,
    )
