"""Claims: what the clinic bills a payer for an episode and a period, their lines, their history, and every X12 file
that carried them out or answered them.

A claim is built from decisions already made elsewhere (billable days, the payer's program setting, the fee
schedule, the authorization) and copies what it sends: once submitted, a claim says what the payer received even if
the chart is corrected later; a correction is a replacement claim (frequency 7), a withdrawal a void (8).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class SubmissionProfile(BaseModel):
    """How the organization's claim files are addressed: the interchange ids and the submitter/receiver the
    clearinghouse (or payer) assigned. One per organization; edited on the claims setup page."""

    class Usage(models.TextChoices):
        PRODUCTION = "P", "Production"
        TEST = "T", "Test"

    organization = models.OneToOneField(
        "programs.Organization", on_delete=models.PROTECT, related_name="submission_profile"
    )
    sender_qualifier = models.CharField(max_length=2, default="ZZ", help_text="ISA05: ZZ mutually defined, 30 EIN.")
    sender_id = models.CharField(max_length=15, help_text="ISA06: the id the clearinghouse gave the clinic.")
    receiver_qualifier = models.CharField(max_length=2, default="ZZ", help_text="ISA07.")
    receiver_id = models.CharField(max_length=15, help_text="ISA08: the clearinghouse's (or payer's) id.")
    submitter_name = models.CharField(max_length=60)
    submitter_id = models.CharField(max_length=80, help_text="Loop 1000A NM109: the submitter's ETIN.")
    contact_name = models.CharField(max_length=60)
    contact_phone = models.CharField(
        max_length=10, blank=True, validators=[RegexValidator(r"^\d{10}$", "Ten digits, no punctuation.")]
    )
    contact_email = models.EmailField(blank=True)
    receiver_name = models.CharField(max_length=60, help_text="Loop 1000B: the clearinghouse or payer.")
    receiver_etin = models.CharField(max_length=80, help_text="Loop 1000B NM109.")
    usage = models.CharField(max_length=1, choices=Usage.choices, default=Usage.TEST)

    def __str__(self) -> str:
        return f"submission profile of organization {self.organization_id}"


class ControlCounter(models.Model):
    """The last control number used, per organization and kind (ISA13, GS06, ST02, claim numbers): taken under a row
    lock so two exports never share one, and never reused."""

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=20)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="control_counter_unique")]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class Claim(BaseModel):
    class ClaimType(models.TextChoices):
        INSTITUTIONAL = "837I", "Institutional (837I)"
        PROFESSIONAL = "837P", "Professional (837P)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"  # built, with problems the scrubber names
        READY = "ready", "Ready"  # scrubbed clean, waiting for a file
        SUBMITTED = "submitted", "Submitted"  # in an exported file
        ACCEPTED = "accepted", "Accepted"  # the 999 or 277CA accepted it
        REJECTED = "rejected", "Rejected"  # the 999 or 277CA rejected it: fix and rebuild, or void
        PAID = "paid", "Paid"
        DENIED = "denied", "Denied"
        APPEALED = "appealed", "Appealed"
        REPLACED = "replaced", "Replaced"  # a frequency-7 claim took its place
        VOIDED = "voided", "Voided"  # a frequency-8 claim withdrew it, or it was never sent

    class Frequency(models.TextChoices):
        ORIGINAL = "1", "Original"
        REPLACEMENT = "7", "Replacement of a prior claim"
        VOID = "8", "Void of a prior claim"

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="claims")
    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="claims")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="claims")
    coverage = models.ForeignKey("patients.Coverage", on_delete=models.PROTECT, related_name="claims")
    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="claims")
    number = models.PositiveBigIntegerField(help_text="The organization's claim number; CLM01 is built from it.")
    claim_type = models.CharField(max_length=4, choices=ClaimType.choices)
    frequency = models.CharField(max_length=1, choices=Frequency.choices, default=Frequency.ORIGINAL)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replacements")
    # Coordination of benefits: a secondary (or tertiary) claim names the claim whose payer answered before it. Its
    # lines repeat that claim's (same number, codes, dates, units, charges) and hold no billable day.
    primary_claim = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="secondary_claims"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    period_start = models.DateField()
    period_end = models.DateField()
    # What the file says, copied when the claim is built (and again when it is rebuilt), so a later change to the
    # chart or the setup never rewrites a claim a payer already has.
    type_of_bill = models.CharField(max_length=4, blank=True)
    place_of_service = models.CharField(max_length=2, blank=True)
    diagnoses = models.JSONField(default=list, blank=True, help_text="ICD-10-CM codes, principal first.")
    condition_codes = models.JSONField(default=list, blank=True)
    authorization_number = models.CharField(max_length=60, blank=True)
    attending = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    supervising = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    total_charge = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    problems = models.JSONField(default=list, blank=True, help_text="The scrubber's findings: [{field, message}].")
    payer_claim_number = models.CharField(max_length=50, blank=True, help_text="The payer's ICN (277CA REF*1K, 835).")
    status_reason = models.CharField(max_length=500, blank=True, help_text="Why the last status came (e.g. a 277CA).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-period_start", "-number"]
        indexes = [models.Index(fields=["organization", "status"]), models.Index(fields=["payer", "period_start"])]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="claim_unique_number"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="claim_period_order"),
            models.CheckConstraint(
                condition=Q(frequency="1") | Q(replaces__isnull=False), name="claim_correction_names_original"
            ),
        ]

    def __str__(self) -> str:
        return f"claim {self.control_number}"

    @property
    def control_number(self) -> str:
        """CLM01, the patient control number payers echo back in the 277CA and 835: ours, never the MRN."""
        return f"OI{self.number:010d}"

    @property
    def is_live(self) -> bool:
        """Still the payer's claim for its days (not replaced, voided, or a void itself)."""
        return self.status not in (self.Status.REPLACED, self.Status.VOIDED) and self.frequency != self.Frequency.VOID


# Statuses a claim moves between, and who moves it (docs/clinical-rules.md#claims).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Claim.Status.DRAFT: (Claim.Status.READY, Claim.Status.VOIDED),
    Claim.Status.READY: (Claim.Status.DRAFT, Claim.Status.SUBMITTED, Claim.Status.VOIDED),
    # Submitted straight to paid or denied: an 835 may come when no 277CA did.
    Claim.Status.SUBMITTED: (Claim.Status.ACCEPTED, Claim.Status.REJECTED, Claim.Status.PAID, Claim.Status.DENIED),
    Claim.Status.ACCEPTED: (Claim.Status.PAID, Claim.Status.DENIED, Claim.Status.REJECTED, Claim.Status.REPLACED,
                            Claim.Status.VOIDED),
    Claim.Status.REJECTED: (Claim.Status.DRAFT, Claim.Status.READY, Claim.Status.VOIDED),
    # Back to accepted: an 835 reversal (CLP02 22) took the payment or the denial back; the payer's next answer
    # (often in the same 835) pays or denies it again.
    Claim.Status.PAID: (Claim.Status.REPLACED, Claim.Status.VOIDED, Claim.Status.ACCEPTED),
    Claim.Status.DENIED: (Claim.Status.APPEALED, Claim.Status.REPLACED, Claim.Status.VOIDED, Claim.Status.ACCEPTED),
    Claim.Status.APPEALED: (Claim.Status.PAID, Claim.Status.DENIED, Claim.Status.ACCEPTED),
    Claim.Status.REPLACED: (),
    Claim.Status.VOIDED: (),
}  # fmt: skip


class ClaimLine(BaseModel):
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    # The day it bills (per-diem lines). Released when its claim is replaced or voided, so the day can be billed
    # again; while held, no other claim line may hold it (the constraint below).
    billable_day = models.ForeignKey(
        "billing.BillableDay", null=True, blank=True, on_delete=models.PROTECT, related_name="claim_lines"
    )
    released = models.BooleanField(default=False)
    # The service it bills, on claims that list each service (a payer setting without a per-diem code): its day is
    # ``billable_day`` too, and no other live line may hold the same service.
    attendance_record = models.ForeignKey(
        "attendance.AttendanceRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="claim_lines"
    )
    description = models.CharField(max_length=120, blank=True, help_text="What the line bills, in words.")
    problem = models.CharField(max_length=300, blank=True, help_text="Why the line has no code, when it has none.")
    # Who led the service (per-service lines): named on the line when not the claim's provider.
    rendering = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    supervising = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    place_of_service = models.CharField(max_length=2, blank=True, help_text="837P: when not the claim's.")
    service_date = models.DateField()
    revenue_code = models.CharField(max_length=4, blank=True)
    procedure_code = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list, blank=True)
    tier = models.CharField(max_length=10, blank=True)
    unit_basis = models.CharField(max_length=2, default="DA")
    units = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(0)])
    charge = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))

    class Meta:
        ordering = ["claim", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "line_number"], name="claim_line_unique_number"),
            # A per-diem line holds its day; a per-service line its service (several lines share the day).
            models.UniqueConstraint(
                fields=["billable_day"],
                condition=Q(billable_day__isnull=False, attendance_record__isnull=True, released=False),
                name="claim_line_one_live_claim_per_day",
            ),
            models.UniqueConstraint(
                fields=["attendance_record"],
                condition=Q(attendance_record__isnull=False, released=False),
                name="claim_line_one_live_claim_per_service",
            ),
        ]

    def __str__(self) -> str:
        return f"line {self.line_number} of claim {self.claim_id}"


class ClaimEvent(models.Model):
    """One step of a claim's history: its status from and to, when, by whom (a person or a file), and why."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    file = models.ForeignKey("X12File", null=True, blank=True, on_delete=models.PROTECT, related_name="claim_events")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["claim", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status}"


class X12File(BaseModel):
    """A file OpenIOP wrote (837I, 837P) or read (999, 277CA, 835), kept as sent or received with its digest."""

    class Kind(models.TextChoices):
        CLAIMS_837I = "837I", "837I institutional claims"
        CLAIMS_837P = "837P", "837P professional claims"
        ACK_999 = "999", "999 implementation acknowledgment"
        ACK_277CA = "277CA", "277CA claim acknowledgment"
        REMIT_835 = "835", "835 remittance advice"
        ELIGIBILITY_270 = "270", "270 eligibility inquiry"
        ELIGIBILITY_271 = "271", "271 eligibility response"

    class Direction(models.TextChoices):
        OUT = "out", "Sent"
        IN = "in", "Received"

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    interchange_control_number = models.PositiveIntegerField(null=True, blank=True)
    group_control_number = models.PositiveIntegerField(null=True, blank=True)
    transaction_control_numbers = models.JSONField(default=list, blank=True)
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    claims = models.ManyToManyField(Claim, blank=True, related_name="files")
    summary = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Outbound interchange numbers are never reused; one received file is imported once.
            models.UniqueConstraint(
                fields=["organization", "interchange_control_number"],
                condition=Q(direction="out"),
                name="x12file_unique_outbound_interchange",
            ),
            models.UniqueConstraint(
                fields=["organization", "sha256"], condition=Q(direction="in"), name="x12file_import_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} file {self.public_id}"

    @property
    def filename(self) -> str:
        stamp = self.created_at.strftime("%Y%m%d")
        number = self.interchange_control_number or 0
        return f"{self.kind.lower()}-{stamp}-{number:09d}.x12"


class Remittance(BaseModel):
    """One 835 transaction set: one payment (check or EFT, or a notice of no payment) from one payer."""

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    file = models.ForeignKey(X12File, on_delete=models.PROTECT, related_name="remittances")
    payer_name = models.CharField(max_length=60, help_text="As the file names it (N1*PR).")
    payer_identifier = models.CharField(max_length=80, blank=True, help_text="REF*2U or N1*PR N104.")
    payer = models.ForeignKey(
        "patients.Payer", null=True, blank=True, on_delete=models.PROTECT, related_name="remittances"
    )
    trace_number = models.CharField(max_length=50, help_text="TRN02: the check or EFT trace number.")
    payment_method = models.CharField(max_length=3, blank=True, help_text="BPR04: ACH, CHK, NON...")
    payment_date = models.DateField(null=True, blank=True)
    total_paid = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["-payment_date", "-pk"]
        indexes = [models.Index(fields=["organization", "payer_identifier", "trace_number"])]

    def __str__(self) -> str:
        return f"remittance {self.public_id}"


class ClaimPayment(BaseModel):
    """One CLP: the payer's answer about one claim. ``claim`` is empty when CLP01 names no claim of ours (kept as
    unmatched, shown on the file's page). A reversal (22) carries negative amounts and names what it reverses."""

    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="claim_payments")
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    control_number = models.CharField(max_length=38, help_text="CLP01 as received.")
    status_code = models.CharField(max_length=2, help_text="CLP02.")
    charge = models.DecimalField(max_digits=12, decimal_places=2)
    paid = models.DecimalField(max_digits=12, decimal_places=2)
    patient_responsibility = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    payer_claim_number = models.CharField(max_length=50, blank=True)
    remarks = models.JSONField(default=list, blank=True, help_text="[{code, text}]: MOA/MIA remark codes.")
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    denied = models.BooleanField(
        default=False, help_text="Posting read it as a denial (CLP02 4 or 23, or paid 0 with a denial reason)."
    )
    denial_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["remittance", "pk"]

    def __str__(self) -> str:
        return f"payment {self.status_code} on {self.control_number}"


class LinePayment(BaseModel):
    """One SVC of a claim payment, matched to our line by REF*6R, else by procedure code and date."""

    claim_payment = models.ForeignKey(ClaimPayment, on_delete=models.CASCADE, related_name="lines")
    claim_line = models.ForeignKey(ClaimLine, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    procedure_code = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list, blank=True)
    service_date = models.DateField(null=True, blank=True)
    charge = models.DecimalField(max_digits=12, decimal_places=2)
    paid = models.DecimalField(max_digits=12, decimal_places=2)
    units = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal(1))
    control_number = models.CharField(max_length=50, blank=True)
    remarks = models.JSONField(default=list, blank=True, help_text="[{code, text}]: LQ*HE remark codes.")
    denied = models.BooleanField(default=False)

    class Meta:
        ordering = ["claim_payment", "pk"]

    def __str__(self) -> str:
        return f"line payment {self.procedure_code}"


class PaymentAdjustment(BaseModel):
    """One CAS amount on a claim (``line`` empty) or on one of its lines: group, CARC and our text for it."""

    claim_payment = models.ForeignKey(ClaimPayment, on_delete=models.CASCADE, related_name="adjustments")
    line = models.ForeignKey(LinePayment, null=True, blank=True, on_delete=models.CASCADE, related_name="adjustments")
    group = models.CharField(max_length=2, help_text="CO, PR, OA, PI or CR.")
    reason = models.CharField(max_length=5, help_text="CARC.")
    reason_text = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["claim_payment", "pk"]

    def __str__(self) -> str:
        return f"{self.group}-{self.reason}"


class ProviderAdjustment(BaseModel):
    """One PLB amount: not tied to a claim (interest L6, recovery WO, forward balance FB). Positive reduces the
    payment, negative adds to it."""

    remittance = models.ForeignKey(Remittance, on_delete=models.CASCADE, related_name="provider_adjustments")
    reason = models.CharField(max_length=2)
    reference = models.CharField(max_length=50, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    fiscal_period_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["remittance", "pk"]

    def __str__(self) -> str:
        return f"PLB {self.reason}"


from openiop.claims.eligibility_models import EligibilityCheck  # noqa: E402, F401  (its own module: claims.eligibility)
