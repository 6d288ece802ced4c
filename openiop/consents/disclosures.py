"""The accounting of disclosures: ``record_disclosure`` on every path out, and the reads of the list.

Every path that sends a patient's information outside the clinic (a family portal page, a printed copy given to
someone, an external system's API read) first asks ``checks.may_disclose`` and then calls ``record_disclosure``
with the decision's consent. The patient's own access (their portal pages, a copy handed to them) is not a
disclosure (45 CFR §164.528(a)(1)(iii)): ``record_disclosure`` refuses a patient recipient by returning None, so a
caller cannot account for it by mistake. Apps below consents reach it through ``core.registry.disclosure_recorder``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db.models import F, QuerySet
from django.utils import timezone

from openiop.consents.checks import Decision, Recipient, RecipientType, may_disclose
from openiop.consents.models import (
    DISCLOSURE_KINDS,
    Channel,
    Consent,
    ConsentStatus,
    DataClass,
    Disclosure,
    DisclosureRecipient,
    Purpose,
    RecipientKind,
)
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.patients.models import EpisodeOfCare, Patient
    from openiop.programs.models import Program

# HIPAA asks for six years of disclosures (§164.528(a)(1)); Part 2's list under a general designation asks for
# three (§2.24). The list and its PDF default to the longer one.
LOOKBACK_YEARS = 6


def _recipient_name(recipient: Recipient, consent: Consent | None, given: str) -> str:
    if given:
        return given
    if recipient.type == RecipientType.SUPPORT_CONTACT and consent is not None and consent.recipient_contact_id:
        return str(consent.recipient_contact)
    if recipient.type == RecipientType.OUTSIDE_PROVIDER:
        return ", ".join(p for p in (recipient.name, recipient.organization) if p)
    return DisclosureRecipient(recipient.type.value).label


def record_disclosure(
    patient: Patient,
    *,
    recipient: Recipient | str,
    data_classes: Iterable[str],
    purpose: str,
    channel: str,
    acting_user: User | None,
    consent: Consent | None = None,
    episode: EpisodeOfCare | None = None,
    recipient_name: str = "",
    description: str = "",
    on: datetime | None = None,
) -> Disclosure | None:
    """Account for one disclosure of ``data_classes`` about ``patient``; None for the patient themself.

    ``recipient`` is a ``Recipient`` or its API spelling (``contact:<id>``, ``provider:<org>|<name>``,
    ``treating_provider``, ``payer``). Repeats that day (same recipient, information, purpose, consent, channel)
    add to one row. Call it in the request that sends the data, after ``may_disclose`` allowed it.
    """
    if isinstance(recipient, str):
        recipient = Recipient.parse(recipient, patient)
    if recipient.type == RecipientType.PATIENT:
        return None
    classes = sorted({DataClass(c).value for c in data_classes})
    if not classes or purpose not in Purpose.values or channel not in Channel.values:
        raise ValueError("a disclosure names its information, a purpose and a channel")
    moment = on or timezone.now()
    program = _discloser(patient, consent, episode)
    day = timezone.localtime(moment, program.tz()).date()
    name = _recipient_name(recipient, consent, recipient_name)[:250]
    same = Disclosure.objects.filter(
        patient=patient, program=program, day=day, recipient_type=recipient.type.value,
        recipient_contact_id=recipient.contact_id, recipient_name=name, data_classes=classes, purpose=purpose,
        consent=consent, channel=channel, episode=episode, description=description[:200],
    )  # fmt: skip
    if same.update(times=F("times") + 1, last_at=moment):
        return same.first()
    return Disclosure.objects.create(
        patient=patient, episode=episode, program=program, occurred_at=moment, last_at=moment, day=day,
        recipient_type=recipient.type.value, recipient_contact_id=recipient.contact_id, recipient_name=name,
        data_classes=classes, purpose=purpose, description=description[:200], consent=consent, channel=channel,
        actor=acting_user,
    )  # fmt: skip


def _discloser(patient: Patient, consent: Consent | None, episode: EpisodeOfCare | None) -> Program:
    if consent is not None:
        return consent.program
    if episode is not None:
        return episode.program
    return patient.home_program


def _window(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The list's dates: the lookback by default, never more than it, ``end`` at most today."""
    end = min(end or today, today)
    try:
        earliest = today.replace(year=today.year - LOOKBACK_YEARS)
    except ValueError:  # February 29th
        earliest = today.replace(year=today.year - LOOKBACK_YEARS, day=28)
    start = max(start or earliest, earliest)
    return start, end


def disclosures_of(
    patient: Patient, *, start: date | None = None, end: date | None = None, today: date | None = None
) -> QuerySet[Disclosure]:
    """The patient's disclosures between ``start`` and ``end`` (program-local days), newest first: what the
    patient is given. No scope: callers decide who is asking (the patient, or staff through ``for_user``)."""
    start, end = _window(start, end, today or timezone.localdate())
    return (
        Disclosure.objects.filter(patient=patient, day__gte=start, day__lte=end)
        .select_related("program", "consent", "actor")
        .order_by("-occurred_at", "-pk")
    )


def disclosures_for_user(user: User, patient: Patient, **window: Any) -> QuerySet[Disclosure]:
    """Staff read: the patient's disclosures by the user's programs (a Part 2 program's only to its staff)."""
    require(user, Cap.VIEW_CLINICAL)
    return disclosures_of(patient, **window).filter(program_id__in=program_ids_for(user))


def window_of(start: date | None, end: date | None, today: date | None = None) -> tuple[date, date]:
    return _window(start, end, today or timezone.localdate())


EXPLANATION = (
    "This list shows when information from your record left the clinic: to whom, what kind of information, for "
    "what purpose, how, and under which consent. It covers up to six years. It does not list what you saw or were "
    "given yourself, or what the clinic's own staff used to treat you, bill for your care or run the program. "
    "Information from a substance use program was shared only under a 42 CFR Part 2 consent you signed. Ask the "
    "clinic if you have a question about an entry."
)


def list_context(patient: Patient, rows: list[Disclosure], start: date, end: date) -> dict[str, Any]:
    """What the list page, the portal page and the PDF show."""
    return {
        "patient": patient,
        "organization": patient.organization,
        "rows": rows,
        "start": start,
        "end": end,
        "prepared": timezone.localtime(),
        "explanation": EXPLANATION,
    }


# --- Printed copies -----------------------------------------------------------------------------------------------

CLINIC_FILE = ""  # the copy stays in the clinic (a chart print, a copy for a colleague): not a disclosure
PATIENT = "patient"  # the patient's own copy: access, not a disclosure


class CopyRefused(Exception):
    """A printed copy that may not be made: ``status`` 400 (the recipient is not one of the choices) or 403 (no
    consent covers it, with ``may_disclose``'s reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def copy_choices(patient: Patient, user: User) -> list[tuple[str, str]]:
    """Who a printed copy may be for: the clinic's file, the patient, everyone an active release or Part 2 consent
    of the user's programs names (by the consent's id, so no name travels in the URL), treating providers and the
    health plan under a general designation."""
    from openiop.consents.queries import consents_for_user

    choices = [(CLINIC_FILE, "The clinic's own file (stays here)"), (PATIENT, "The patient (their own copy)")]
    consents = (
        consents_for_user(user)
        .filter(patient=patient, kind__in=DISCLOSURE_KINDS)
        .filter(recipient_kind__in=(RecipientKind.SUPPORT_CONTACT, RecipientKind.OUTSIDE_PROVIDER))
        .select_related("program__site", "recipient_contact")
    )
    now = timezone.now()
    for consent in consents:
        if consent.status_on(now) == ConsentStatus.ACTIVE:
            choices.append((f"consent:{consent.public_id}", f"{consent.recipient_label} (named in a consent)"))
    choices += [
        (RecipientType.TREATING_PROVIDER.value, DisclosureRecipient.TREATING_PROVIDER.label),
        (RecipientType.PAYER.value, DisclosureRecipient.PAYER.label),
    ]
    return choices


@dataclass
class Copy:
    """A printed copy authorised for ``recipient`` (None: the clinic's file or the patient, nothing to account)."""

    patient: Patient
    recipient: Recipient | None
    purpose: str
    data_classes: list[str]
    episode: EpisodeOfCare | None = None
    decision: Decision | None = None
    recipient_name: str = ""

    @property
    def notice(self) -> str:
        """The §2.32 notice the copy must carry (Part 2 records to anyone else)."""
        return self.decision.redisclosure_notice if self.decision is not None else ""

    def record(self, acting_user: User, description: str) -> Disclosure | None:
        """Account for the copy once it is made; nothing for the clinic's file or the patient's own copy."""
        if self.recipient is None or self.decision is None:
            return None
        return record_disclosure(
            self.patient, recipient=self.recipient, data_classes=self.data_classes, purpose=self.purpose,
            channel=Channel.PDF, acting_user=acting_user, consent=self.decision.consent, episode=self.episode,
            recipient_name=self.recipient_name, description=description,
        )  # fmt: skip


def authorize_copy(
    query: Any, patient: Patient, user: User, *, data_classes: list[str], episode: EpisodeOfCare | None = None
) -> Copy:
    """Read ``to`` and ``purpose`` from ``query`` (request.GET) and ask ``may_disclose`` for every data class.
    Raises ``CopyRefused``: 400 for a recipient that is not one of ``copy_choices``, 403 when no consent covers it."""
    to = (query.get("to") or "").strip()
    purpose = (query.get("purpose") or Purpose.TREATMENT).strip()
    if purpose not in Purpose.values:
        raise CopyRefused(400, "Choose a purpose from the list.")
    if to in (CLINIC_FILE, PATIENT):
        return Copy(patient, None, purpose, data_classes, episode)
    recipient, name = _chosen_recipient(to, patient, user)
    decision: Decision | None = None
    for data_class in data_classes:
        decision = may_disclose(patient, recipient=recipient, data_class=data_class, purpose=purpose, episode=episode)
        if not decision.allowed:
            raise CopyRefused(403, decision.reason)
    return Copy(patient, recipient, purpose, data_classes, episode, decision, name)


def _chosen_recipient(to: str, patient: Patient, user: User) -> tuple[Recipient, str]:
    from openiop.consents.queries import consents_for_user

    if to in (RecipientType.TREATING_PROVIDER, RecipientType.PAYER):
        return Recipient(RecipientType(to)), ""
    kind, _, rest = to.partition(":")
    try:
        public_id = UUID(rest)
    except ValueError:
        raise CopyRefused(400, "Choose who the copy is for from the list.") from None
    consent = (
        consents_for_user(user).filter(patient=patient, public_id=public_id, kind__in=DISCLOSURE_KINDS).first()
        if kind == "consent"
        else None
    )
    if consent is None:
        raise CopyRefused(400, "Choose who the copy is for from the list.")
    if consent.recipient_kind == RecipientKind.SUPPORT_CONTACT and consent.recipient_contact is not None:
        return Recipient.contact(consent.recipient_contact), str(consent.recipient_contact)
    if consent.recipient_kind == RecipientKind.OUTSIDE_PROVIDER:
        return Recipient.provider(consent.recipient_organization, consent.recipient_name), consent.recipient_label
    raise CopyRefused(400, "Choose who the copy is for from the list.")
