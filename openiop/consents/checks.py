"""The one consent check every disclosure path calls: ``may_disclose``.

Portal, family access, the API, exports and printed copies ask here before any patient data leaves the program.
It reads the consents from the database on every call (no cache), so a revocation recorded a moment ago is in
force for the next request on every path.

Rules, in order:

1. To the patient themself: allowed (their own record; 42 CFR §2.23 for Part 2 records), except SUD counseling
   notes, which are outside the right of access and are released by a clinician's decision, not this check.
2. Anyone else needs a signed consent that is active now (not revoked, not expired) and covers the recipient, the
   data class and the purpose:
   - Part 2 records (the patient has an episode in a substance-use program, or the episode asked about is in
     one) need a Part 2 consent from each substance-use program whose records are involved; a general release is
     not enough. The decision then carries the §2.32 redisclosure notice in the form the consent chose, and the
     consent's scope in words.
   - Other records need a release or a Part 2 consent.
3. Coverage: the recipient must be the one named (a support contact by record; an outside provider by
   organization, and by person when the consent names one) or fall under a general designation (TPO: treating
   providers and health plans; "my treating providers": treating providers). "All records" covers every data
   class except counseling notes, which only a consent for counseling notes alone covers.

Stricter than HIPAA on purpose: a mental health program does not share with family or outside providers without
the patient's written release, even where HIPAA would permit it for treatment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from django.utils import timezone

from openiop.consents.models import (
    DISCLOSURE_KINDS,
    Consent,
    ConsentKind,
    ConsentStatus,
    DataClass,
    Purpose,
    RecipientKind,
    RedisclosureForm,
)
from openiop.consents.notices import ATTACHMENT_NOTE, redisclosure_notice

if TYPE_CHECKING:
    from openiop.patients.models import EpisodeOfCare, Patient, SupportContact
    from openiop.programs.models import Program

__all__ = ["Decision", "Recipient", "RecipientType", "may_disclose", "part2_programs", "redisclosure_notice"]


class RecipientType(StrEnum):
    PATIENT = "patient"
    SUPPORT_CONTACT = "contact"
    OUTSIDE_PROVIDER = "provider"
    TREATING_PROVIDER = "treating_provider"
    PAYER = "payer"


@dataclass(frozen=True)
class Recipient:
    """Who would receive the data. Build one with the class methods."""

    type: RecipientType
    contact_id: int | None = None
    organization: str = ""
    name: str = ""

    @classmethod
    def patient(cls) -> Recipient:
        return cls(RecipientType.PATIENT)

    @classmethod
    def contact(cls, contact: SupportContact) -> Recipient:
        return cls(RecipientType.SUPPORT_CONTACT, contact_id=contact.pk)

    @classmethod
    def provider(cls, organization: str, name: str = "") -> Recipient:
        return cls(RecipientType.OUTSIDE_PROVIDER, organization=organization, name=name)

    @classmethod
    def treating_provider(cls) -> Recipient:
        return cls(RecipientType.TREATING_PROVIDER)

    @classmethod
    def payer(cls) -> Recipient:
        return cls(RecipientType.PAYER)

    @classmethod
    def parse(cls, text: str, patient: Patient) -> Recipient:
        """The API's spelling: patient, treating_provider, payer, contact:<id>, provider:<organization>[|<name>]."""
        kind, _, rest = text.partition(":")
        if kind in (RecipientType.PATIENT, RecipientType.TREATING_PROVIDER, RecipientType.PAYER) and not rest:
            return cls(RecipientType(kind))
        if kind == RecipientType.SUPPORT_CONTACT:
            try:
                public_id = UUID(rest)
            except ValueError:
                raise ValueError("contact: needs a support contact id") from None
            contact = patient.support_contacts.filter(public_id=public_id).first()
            if contact is None:
                raise ValueError("unknown support contact for this patient")
            return cls.contact(contact)
        if kind == RecipientType.OUTSIDE_PROVIDER and rest.strip():
            organization, _, name = rest.partition("|")
            return cls.provider(organization, name)
        raise ValueError("use patient, treating_provider, payer, contact:<id> or provider:<organization>")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    consent: Consent | None = None
    consents: tuple[Consent, ...] = ()
    part2: bool = False
    # Set when the record is Part 2 and the disclosure is allowed to someone else: it must travel with the data.
    redisclosure_notice: str = ""
    scope: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def covers_recipient(consent: Consent, recipient: Recipient) -> bool:
    kind = consent.recipient_kind
    if kind == RecipientKind.TPO_GENERAL:
        return recipient.type in (RecipientType.TREATING_PROVIDER, RecipientType.PAYER)
    if kind == RecipientKind.TREATING_PROVIDERS:
        return recipient.type == RecipientType.TREATING_PROVIDER
    if kind == RecipientKind.SUPPORT_CONTACT:
        return recipient.type == RecipientType.SUPPORT_CONTACT and recipient.contact_id == consent.recipient_contact_id
    if kind == RecipientKind.OUTSIDE_PROVIDER:
        if recipient.type != RecipientType.OUTSIDE_PROVIDER:
            return False
        if _norm(recipient.organization) != _norm(consent.recipient_organization):
            return False
        return not consent.recipient_name or _norm(recipient.name) == _norm(consent.recipient_name)
    return False


def covers_data(consent: Consent, data_class: str) -> bool:
    classes = set(consent.data_classes)
    if data_class == DataClass.COUNSELING_NOTES:
        return classes == {DataClass.COUNSELING_NOTES}
    return data_class in classes or DataClass.ALL_RECORDS in classes


def covers_purpose(consent: Consent, purpose: str) -> bool:
    return purpose in consent.purposes


def covers(consent: Consent, recipient: Recipient, data_class: str, purpose: str) -> bool:
    return (
        covers_recipient(consent, recipient) and covers_data(consent, data_class) and covers_purpose(consent, purpose)
    )


def part2_programs(patient: Patient, episode: EpisodeOfCare | None = None) -> list[Program]:
    """The substance-use programs whose records a disclosure about ``patient`` (or ``episode``) involves."""
    if episode is not None:
        return [episode.program] if episode.program.is_substance_use else []
    from openiop.programs.models import Program

    programs = Program.objects.filter(episodes__patient=patient).distinct().select_related("site")
    return [p for p in programs if p.is_substance_use]


def may_disclose(
    patient: Patient,
    *,
    recipient: Recipient,
    data_class: str,
    purpose: str,
    on: datetime | None = None,
    episode: EpisodeOfCare | None = None,
) -> Decision:
    """May ``data_class`` about ``patient`` go to ``recipient`` for ``purpose`` at ``on`` (default now)?"""
    if data_class not in DataClass.values:
        raise ValueError(f"unknown data class {data_class!r}")
    if purpose not in Purpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    moment = on or timezone.now()
    sud_programs = part2_programs(patient, episode)
    part2 = bool(sud_programs)

    if recipient.type == RecipientType.PATIENT:
        if data_class == DataClass.COUNSELING_NOTES:
            return Decision(
                False, "Counseling notes are outside the patient's right of access; a clinician decides.", part2=part2
            )
        why = "The patient's own record (42 CFR §2.23 patient access)." if part2 else "The patient's own record."
        return Decision(True, why, part2=part2)

    kinds = [ConsentKind.PART2] if part2 else [ConsentKind.PART2, ConsentKind.RELEASE]
    signed = list(
        Consent.objects.filter(patient=patient, kind__in=DISCLOSURE_KINDS, signed_at__lte=moment)
        .select_related("program__site", "recipient_contact")
        .order_by("-signed_at", "-pk")
    )
    matching = [c for c in signed if covers(c, recipient, data_class, purpose)]
    usable = [c for c in matching if c.kind in kinds and c.status_on(moment) == ConsentStatus.ACTIVE]

    if part2:
        chosen: list[Consent] = []
        for program in sud_programs:
            found = next((c for c in usable if c.program_id == program.pk), None)
            if found is None:
                return _refusal(matching, moment, part2=True, program=program)
            chosen.append(found)
        first = chosen[0]
        form = first.redisclosure_form or RedisclosureForm.SHORT
        return Decision(
            True,
            "Covered by an active 42 CFR Part 2 consent.",
            consent=first,
            consents=tuple(chosen),
            part2=True,
            redisclosure_notice=redisclosure_notice(form),
            scope=" ".join(c.scope_explanation() for c in chosen) + " " + ATTACHMENT_NOTE,
        )
    if usable:
        return Decision(
            True,
            f"Covered by an active {usable[0].get_kind_display().lower()}.",
            consent=usable[0],
            consents=(usable[0],),
            scope=usable[0].scope_explanation(),
        )
    return _refusal(matching, moment, part2=False)


def _refusal(matching: list[Consent], moment: datetime, *, part2: bool, program: Program | None = None) -> Decision:
    """Say why not: the nearest miss (revoked, expired, or not a Part 2 consent) helps staff fix it."""
    if program is not None:
        matching = [c for c in matching if c.program_id == program.pk or c.kind == ConsentKind.RELEASE]
    for consent in matching:
        status = consent.status_on(moment)
        if status == ConsentStatus.REVOKED:
            when = timezone.localtime(consent.revoked_at, consent.program.tz())
            return Decision(False, f"The consent that covered this was revoked on {when:%Y-%m-%d}.", part2=part2)
        if status == ConsentStatus.EXPIRED:
            return Decision(False, f"The consent that covered this has expired ({consent.expiry_label}).", part2=part2)
    if part2 and any(c.kind == ConsentKind.RELEASE for c in matching):
        return Decision(
            False,
            "These are 42 CFR Part 2 records: a general release is not enough, a Part 2 consent is needed.",
            part2=True,
        )
    where = f" from {program.name}" if program is not None else ""
    what = "42 CFR Part 2 consent" if part2 else "consent or release"
    return Decision(False, f"No active {what}{where} covers this recipient, information and purpose.", part2=part2)


def part2_consent_covers_treating_providers(patient: Patient) -> bool:
    """Break-the-glass (``patients.emergency``): does an active Part 2 consent let the patient's treating providers
    read all their records for treatment? Without one, emergency access needs the §2.51 medical-emergency
    documentation."""
    return may_disclose(
        patient, recipient=Recipient.treating_provider(), data_class=DataClass.ALL_RECORDS, purpose=Purpose.TREATMENT
    ).allowed
