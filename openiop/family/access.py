"""What a family account may see, decided on every request, and the audit row of every family page.

``family_page(section)`` wraps a family view: ``portal_view(AccountKind.FAMILY)`` first (anonymous -> portal login,
staff or no account -> 404, a patient account -> 403), then ``shares_for`` asks ``consents.checks.may_disclose``
once per section with the account's support contact as the recipient. Nothing is cached: a revocation or an
expiry recorded a moment ago (on any connection) is in force on the next page load.

A section whose data class no active release names answers **403 with the "not shared" page** (the same page for
a revoked, expired, never-signed or not-named release: the contact is not told which, since a patient may not want
a contact to learn that they revoked). The home page always answers 200 and lists what is shared. Every family
page view, allowed or refused, writes one ``RECORD_VIEWED`` audit row: acting user the family login, patient the
patient, object the consent used (none when refused), ``changed_fields`` the page (and ``not_shared``). A section
page shown also goes on the patient's accounting of disclosures (``consents.disclosures``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from openiop.consents.checks import Decision, Recipient, may_disclose
from openiop.consents.disclosures import record_disclosure
from openiop.consents.models import Channel, Consent, DataClass
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.portal.access import portal_view
from openiop.portal.models import AccountKind, PortalAccount

V = TypeVar("V", bound=Callable[..., HttpResponseBase])

NOT_SHARED = "not_shared"


@dataclass(frozen=True)
class Section:
    slug: str
    data_class: DataClass
    title: str
    url_name: str


# The family pages, each behind its data class. The order is the sub-navigation's.
SECTIONS: tuple[Section, ...] = (
    Section("schedule", DataClass.SCHEDULE, "Family sessions", "family:schedule"),
    Section("attendance", DataClass.ATTENDANCE, "Attendance", "family:attendance"),
    Section("education", DataClass.EDUCATION, "Education materials", "family:education"),
    Section("plan", DataClass.TREATMENT_PLAN, "Treatment goals", "family:plan"),
    Section("measures", DataClass.MEASURES, "Questionnaire scores", "family:measures"),
    # Mutual-help meetings are Part 2 records with no data class of their own: only a release of all records opens
    # them (recovery/README.md).
    Section("recovery", DataClass.ALL_RECORDS, "Recovery meetings", "family:recovery"),
)
SECTIONS_BY_SLUG = {s.slug: s for s in SECTIONS}
# Named on a release, but never shown through the family portal in this version: the clinic shares them directly
# (a clinician chooses what of a note or a diagnosis a family member should read). Counseling notes never.
OFFLINE_CLASSES: tuple[DataClass, ...] = (
    DataClass.DIAGNOSES,
    DataClass.PROGRESS_NOTES,
    DataClass.MEDICATIONS,
    DataClass.DISCHARGE_SUMMARY,
)


@dataclass(frozen=True)
class Share:
    """One section (or offline data class) and the decision for it, at this request."""

    slug: str
    title: str
    data_class: str
    decision: Decision
    url_name: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def consent(self) -> Consent | None:
        return self.decision.consent

    @property
    def program_ids(self) -> list[int]:
        """The discloser programs of the consents used: only their records and materials are shown."""
        return [c.program_id for c in self.decision.consents]


def purposes() -> list[str]:
    """The purposes a family page discloses for, in order; the first one a release names is used."""
    return list(settings.OPENIOP_DEFAULTS["family_portal_purposes"])


def decide(account: PortalAccount, data_class: str) -> Decision:
    """May ``data_class`` go to the account's support contact now? Asks ``may_disclose`` (no cache)."""
    contact = account.contact
    if contact is None or not contact.is_active or not account.patient.is_active:
        # A contact removed from the patient's support network reads nothing, whatever a release still says.
        return Decision(False, "The contact is no longer in the patient's support network.")
    refusal: Decision | None = None
    for purpose in purposes():
        decision = may_disclose(
            account.patient, recipient=Recipient.contact(contact), data_class=data_class, purpose=purpose
        )
        if decision.allowed:
            return decision
        if refusal is None:  # not ``or``: a refused Decision is falsy; the first purpose's reason is the one shown
            refusal = decision
    assert refusal is not None, "family_portal_purposes must name at least one purpose"
    return refusal


def shares_for(account: PortalAccount, *, offline: bool = False) -> list[Share]:
    """The decision for every family section (and, with ``offline``, the classes not shown here), now."""
    shares = [Share(s.slug, s.title, s.data_class, decide(account, s.data_class), s.url_name) for s in SECTIONS]
    if offline:
        shares += [Share(c.value, c.label, c.value, decide(account, c)) for c in OFFLINE_CLASSES]
    return shares


def record_view(request: HttpRequest, account: PortalAccount, page: str, consent: Consent | None) -> None:
    """The audit row of one family page view (who, which patient, which page, under which consent)."""
    fields = [page] if consent is not None else [page, NOT_SHARED]
    audit.record(
        action=AuditAction.RECORD_VIEWED,
        acting_user=request.user,  # type: ignore[arg-type]
        patient=account.patient,
        obj=consent,
        object_type="" if consent is not None else "family_page",
        changed_fields=fields,
    )


def record_family_disclosure(request: HttpRequest, account: PortalAccount, share: Share) -> None:
    """A section page shown to a support contact is a disclosure: it goes on the patient's accounting, under the
    consent and the first family purpose it names. The Overview is not: it shows what is shared, not the record."""
    consent = share.consent
    assert consent is not None and account.contact is not None
    purpose = next((p for p in purposes() if p in consent.purposes), purposes()[0])
    record_disclosure(
        account.patient,
        recipient=Recipient.contact(account.contact),
        recipient_name=str(account.contact),
        data_classes=[share.data_class],
        purpose=purpose,
        channel=Channel.FAMILY_PORTAL,
        acting_user=request.user,  # type: ignore[arg-type]
        consent=consent,
        description=f"Family portal page: {share.title}",
    )


def base_context(request: HttpRequest, shares: list[Share], nav: str, **extra: Any) -> dict[str, Any]:
    account: PortalAccount = request.portal_account  # type: ignore[attr-defined]
    return {
        "nav": nav,
        "account": account,
        "patient_name": account.patient.display_name,
        "shares": shares,
        "shown": [s for s in shares if s.allowed and s.url_name],
        "clinic_phone": account.patient.organization.phone,
        **extra,
    }


def family_page(section: str | None = None) -> Callable[[V], V]:
    """Decorator for family pages. ``section`` names the page's section (None: the home page, always shown).

    The view is called as ``view(request, shares, share, *args)`` with ``share`` the allowed section (None on the
    home page) and must show only the records of ``share.program_ids`` for the account's patient.
    """

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            account: PortalAccount = request.portal_account  # type: ignore[attr-defined]
            shares = shares_for(account, offline=section is None)
            share = next((s for s in shares if s.slug == section), None) if section else None
            if share is not None and not share.allowed:
                record_view(request, account, section or "home", None)
                context = base_context(request, shares, nav="home", section=SECTIONS_BY_SLUG[share.slug])
                return render(request, "family/not_shared.html", context, status=403)
            response = view(request, shares, share, *args, **kwargs)
            if response.status_code < 400:
                consent = share.consent if share is not None else next((s.consent for s in shares if s.allowed), None)
                record_view(request, account, section or "home", consent)
                if share is not None:
                    record_family_disclosure(request, account, share)
            return response

        return portal_view(AccountKind.FAMILY)(wrapped)  # type: ignore[return-value]

    return decorator
