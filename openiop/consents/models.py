"""Consents and releases: what the patient signed, who may receive what, and whether it still stands.

A row exists only once signed (the action writes the consent and its signature together). Its status is
computed at the moment of asking (``status_on``), never stored, so a revocation or an expiry date takes effect
for every reader at once without a job having to run first.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.core.models import BaseModel


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", "Consent to treatment"
    HIPAA_NOTICE = "hipaa_notice", "Notice of Privacy Practices acknowledgement"
    TELEHEALTH = "telehealth", "Telehealth consent"
    PART2 = "part2", "42 CFR Part 2 consent to disclose"
    RELEASE = "release", "Release of information"


# Kinds that say who may receive what: they carry recipients, data classes, purposes and an expiry.
DISCLOSURE_KINDS = (ConsentKind.PART2, ConsentKind.RELEASE)


class DataClass(models.TextChoices):
    ATTENDANCE = "attendance", "Attendance"
    DIAGNOSES = "diagnoses", "Diagnoses"
    TREATMENT_PLAN = "treatment_plan", "Treatment plan"
    PROGRESS_NOTES = "progress_notes", "Progress notes"
    MEASURES = "measures", "Measures and scores"
    MEDICATIONS = "medications", "Medications"
    DISCHARGE_SUMMARY = "discharge_summary", "Discharge summary"
    # What a family release usually names (family/README.md): the patient's family-session schedule and the
    # program's education materials. Attendance to a family member is attended yes / no, never the reason.
    SCHEDULE = "schedule", "Session schedule (family sessions)"
    EDUCATION = "education", "Education materials"
    ALL_RECORDS = "all_records", "All SUD records (except counseling notes)"
    # SUD counseling notes need a consent of their own (docs/clinical-rules.md#42-cfr-part-2-consents): never covered by
    # "all records".
    COUNSELING_NOTES = "counseling_notes", "SUD counseling notes (separate consent)"


class RecipientKind(models.TextChoices):
    """Who a consent names. A general designation is allowed only for treatment, payment and operations."""

    TPO_GENERAL = "tpo_general", "My treating providers, health plans and their business associates (TPO)"
    TREATING_PROVIDERS = "treating_providers", "My treating providers"
    SUPPORT_CONTACT = "support_contact", "A person in my support network"
    OUTSIDE_PROVIDER = "outside_provider", "A named outside provider or organization"


class Purpose(models.TextChoices):
    TREATMENT = "treatment", "Treatment"
    PAYMENT = "payment", "Payment"
    OPERATIONS = "operations", "Health care operations"
    OTHER = "other", "Other (described)"


TPO_PURPOSES = frozenset({Purpose.TREATMENT, Purpose.PAYMENT, Purpose.OPERATIONS})
GENERAL_DESIGNATIONS = frozenset({RecipientKind.TPO_GENERAL, RecipientKind.TREATING_PROVIDERS})


class ExpiryKind(models.TextChoices):
    DATE = "date", "On a date"
    EVENT = "event", "When an event happens"
    NONE = "none", "No expiry (until revoked; treatment, payment and operations only)"


class RedisclosureForm(models.TextChoices):
    SHORT = "short", "Short form"
    LONG = "long", "Long statement"


class ConsentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Consent(BaseModel):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consents")
    # The discloser: the program (and through it the organization) whose records the consent releases. It also
    # scopes who sees the consent, so a Part 2 consent is visible only to staff of its substance-use program.
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="consents")
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    form_version = models.CharField(max_length=20)
    # Scope of a Part 2 consent or a release (empty for the other kinds).
    information_description = models.TextField(blank=True)
    data_classes = models.JSONField(default=list, blank=True)
    recipient_kind = models.CharField(max_length=20, choices=RecipientKind.choices, blank=True)
    recipient_contact = models.ForeignKey(
        "patients.SupportContact", null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    recipient_name = models.CharField(max_length=150, blank=True)
    recipient_organization = models.CharField(max_length=200, blank=True)
    purposes = models.JSONField(default=list, blank=True)
    purpose_other = models.CharField(max_length=300, blank=True)
    expiry_kind = models.CharField(max_length=10, choices=ExpiryKind.choices, default=ExpiryKind.NONE)
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(max_length=200, blank=True)
    expiry_event_occurred_on = models.DateField(null=True, blank=True)
    revocation_instructions = models.TextField(blank=True)
    redisclosure_form = models.CharField(max_length=10, choices=RedisclosureForm.choices, blank=True)
    signed_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Written revocation: effective from revoked_at, which is when staff record it.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_statement = models.TextField(blank=True)
    revocation_document_name = models.CharField(max_length=200, blank=True)
    revocation_document_sha256 = models.CharField(max_length=64, blank=True)
    revocation_document_type = models.CharField(max_length=40, blank=True)
    # The signed copy, stored outside the web root (settings.VAR_DIR / "private"), served by an audited view.
    pdf_name = models.CharField(max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["patient", "kind", "signed_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.signed_at:%Y-%m-%d})"

    @property
    def is_disclosure(self) -> bool:
        return self.kind in DISCLOSURE_KINDS

    def local_date(self, moment: datetime) -> date:
        return timezone.localtime(moment, self.program.tz()).date()

    def status_on(self, moment: datetime | None = None) -> ConsentStatus:
        """Revoked from the moment it is recorded; expired after its date (program-local) or event."""
        moment = moment or timezone.now()
        if self.revoked_at is not None and self.revoked_at <= moment:
            return ConsentStatus.REVOKED
        if self.expiry_kind == ExpiryKind.DATE and self.expires_on and self.local_date(moment) > self.expires_on:
            return ConsentStatus.EXPIRED
        if (
            self.expiry_kind == ExpiryKind.EVENT
            and self.expiry_event_occurred_on
            and self.local_date(moment) >= self.expiry_event_occurred_on
        ):
            return ConsentStatus.EXPIRED
        return ConsentStatus.ACTIVE

    @property
    def status(self) -> ConsentStatus:
        return self.status_on()

    @property
    def recipient_label(self) -> str:
        if self.recipient_kind == RecipientKind.SUPPORT_CONTACT and self.recipient_contact_id:
            return str(self.recipient_contact)
        if self.recipient_kind == RecipientKind.OUTSIDE_PROVIDER:
            return ", ".join(p for p in (self.recipient_name, self.recipient_organization) if p)
        return self.get_recipient_kind_display() if self.recipient_kind else ""

    @property
    def data_class_labels(self) -> list[str]:
        return [DataClass(c).label for c in self.data_classes]

    @property
    def purpose_labels(self) -> list[str]:
        return [
            self.purpose_other if p == Purpose.OTHER and self.purpose_other else Purpose(p).label for p in self.purposes
        ]

    @property
    def expiry_label(self) -> str:
        if self.expiry_kind == ExpiryKind.DATE and self.expires_on:
            return f"Expires after {self.expires_on:%b %-d, %Y}"
        if self.expiry_kind == ExpiryKind.EVENT:
            occurred = self.expiry_event_occurred_on
            happened = f" (happened {occurred:%b %-d, %Y})" if occurred else ""
            return f"Expires when: {self.expiry_event}{happened}"
        return "No expiry; stands until revoked in writing"

    def scope_explanation(self) -> str:
        """The plain statement of what this consent allows, sent with every disclosure made under it (§2.32)."""
        if not self.is_disclosure:
            return self.get_kind_display()
        parts = [
            f"{self.get_kind_display()} signed {self.signed_at:%Y-%m-%d}",
            f"from {self.program.name}",
            f"to {self.recipient_label}",
            f"information: {', '.join(self.data_class_labels)}",
            f"purpose: {', '.join(self.purpose_labels)}",
            self.expiry_label,
        ]
        return "; ".join(parts) + "."


class Signature(BaseModel):
    class Method(models.TextChoices):
        TYPED = "typed", "Typed name"
        DRAWN = "drawn", "Drawn signature"
        CHECKBOX = "checkbox", "Checkbox attestation"

    class SignerRelationship(models.TextChoices):
        SELF = "self", "Patient"
        GUARDIAN = "guardian", "Parent / legal guardian"
        REPRESENTATIVE = "representative", "Personal representative"

    consent = models.OneToOneField(Consent, on_delete=models.PROTECT, related_name="signature")
    signer_name = models.CharField(max_length=150)
    signer_relationship = models.CharField(
        max_length=20, choices=SignerRelationship.choices, default=SignerRelationship.SELF
    )
    method = models.CharField(max_length=10, choices=Method.choices)
    # A PNG data URL from the signature pad; size-checked by the action (MAX_DRAWN_SIGNATURE_BYTES).
    drawn_image = models.TextField(blank=True)
    signed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    witnessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.get_method_display()} by {self.signer_name}"


class Channel(models.TextChoices):
    """The way the information left the clinic."""

    FAMILY_PORTAL = "family_portal", "Family portal"
    PDF = "pdf", "Printed copy (PDF)"
    EXPORT = "export", "Export"
    API = "api", "API (another system)"
    FHIR = "fhir", "FHIR document"


class DisclosureRecipient(models.TextChoices):
    """Who received it (the patient is never one: their own access is not a disclosure)."""

    SUPPORT_CONTACT = "contact", "Person in the support network"
    OUTSIDE_PROVIDER = "provider", "Outside provider or organization"
    TREATING_PROVIDER = "treating_provider", "Treating provider"
    PAYER = "payer", "Health plan"


class Disclosure(BaseModel):
    """One entry of the accounting of disclosures (45 CFR §164.528, 42 CFR §2.24): when, to whom, what, why.

    Written by ``consents.disclosures.record_disclosure`` on every path out of the clinic, never edited. Repeated
    disclosures of the same information to the same recipient for the same purpose on one program-local day are
    one row with ``times`` and ``last_at`` (§164.528(b)(3) allows that summary), so a family member reading the
    attendance page ten times makes one line, not ten.
    """

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="disclosures")
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures"
    )
    # The discloser: whose records went out. Scopes who sees the entry, like a consent (a Part 2 program's
    # disclosures say the patient is in substance use treatment).
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="disclosures")
    occurred_at = models.DateTimeField()
    last_at = models.DateTimeField()
    day = models.DateField(help_text="Program-local day of occurred_at: repeated disclosures that day are one row.")
    times = models.PositiveIntegerField(default=1)
    recipient_type = models.CharField(max_length=20, choices=DisclosureRecipient.choices)
    recipient_contact = models.ForeignKey(
        "patients.SupportContact", null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures"
    )
    recipient_name = models.CharField(max_length=250, help_text="Name and organization, as known.")
    data_classes = models.JSONField(default=list)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    description = models.CharField(max_length=200, help_text="What went out, in a few words (never the content).")
    # The consent it relied on; empty for a disclosure the law permits without one (none are recorded yet).
    consent = models.ForeignKey(Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["patient", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient_name} ({self.day:%Y-%m-%d})"

    @property
    def data_class_labels(self) -> list[str]:
        return [DataClass(c).label for c in self.data_classes]
