"""Billing foundations: payer rules (what a billable per-diem day needs, and a payer's own weekly dose minimum)
and the billable-day decisions made from attendance, each with its reason. Claims build on these later.

Amounts and thresholds vary by payer, state and year (docs/clinical-rules.md#billable-days), so they live in these
rows, never in code.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from openiop.core.models import BaseModel
from openiop.lib import identifiers


class PayerRule(BaseModel):
    """How one payer (kind) decides a billable IOP day, for the whole organization or one program.

    The most specific active rule wins: program + payer kind, then program, then payer kind, then the
    organization's default (both empty)."""

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="payer_rules")
    program = models.ForeignKey(
        "programs.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="payer_rules"
    )
    payer_kind = models.CharField(
        max_length=20, blank=True, help_text="A Coverage.PayerKind; empty = every payer without a rule of its own."
    )
    name = models.CharField(max_length=120)
    code = models.CharField(max_length=20, blank=True, help_text="Per-diem code, e.g. S9480, H0015, or APC 5851.")
    weekly_dose_hours = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("60"))],
        help_text="This payer's weekly minimum; empty = the program's.",
    )
    min_services_per_day = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    min_minutes_per_day = models.PositiveSmallIntegerField(default=0, help_text="e.g. 180 for '3 hours a day'.")
    min_minutes_per_service = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="A session counts as a service from this many minutes."
    )
    high_tier_services = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Services for the higher per-diem tier (Medicare: 4 or more); empty = one tier.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization", "name"]

    def __str__(self) -> str:
        return self.name


class BillableDay(BaseModel):
    class Tier(models.TextChoices):
        NONE = "", "Not billable"
        STANDARD = "standard", "Per-diem day"
        HIGH = "high", "Higher tier (e.g. 4+ services)"

    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="billable_days")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="billable_days")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="billable_days")
    date = models.DateField(help_text="Program-local service date.")
    rule = models.ForeignKey(PayerRule, null=True, blank=True, on_delete=models.PROTECT, related_name="days")
    payer_kind = models.CharField(max_length=20, blank=True)
    is_billable = models.BooleanField()
    tier = models.CharField(max_length=10, choices=Tier.choices, blank=True)
    service_count = models.PositiveSmallIntegerField()
    minutes_attended = models.PositiveIntegerField()
    reason = models.CharField(max_length=300, help_text="Why, in words billing staff can check against attendance.")
    evaluated_at = models.DateTimeField()

    class Meta:
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["episode", "date"], name="billable_day_one_per_episode_day")]
        indexes = [models.Index(fields=["program", "date"])]

    def __str__(self) -> str:
        return f"billable day {self.date}"


class PendingBillableDay(models.Model):
    """A day an attendance change asked to have decided, not decided yet (``days.request_decision``).

    Written in the transaction of the check-in or correction, so it commits with the attendance (and a crash after
    that commit loses nothing: the sweep decides what its task did not); deleted in the transaction that stores the
    decision. ``token`` is new on every request, so a decision deletes the row only if no change asked again after
    it read the day's attendance. Who asked last and from which request go on the decision's audit row.
    """

    # No index of its own: the unique (episode, date) index starts with it.
    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.CASCADE, db_index=False, related_name="+")
    date = models.DateField(help_text="Program-local service date.")
    token = models.UUIDField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request_id = models.CharField(max_length=32, blank=True)
    requested_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["episode", "date"], name="pending_billable_day_one_per_day")]

    def __str__(self) -> str:
        return f"pending billable day {self.date}"


# --- Billing identities, payer settings and the fee schedule (docs/clinical-rules.md#billing-identities) ----------


def validate_npi(value: str) -> None:
    if not re.fullmatch(r"\d{10}", value or ""):
        raise ValidationError("An NPI is 10 digits.")
    if not identifiers.is_valid_npi(value):
        raise ValidationError("This NPI's check digit is wrong: check it against the NPPES registry.")


def validate_taxonomy(value: str) -> None:
    if not identifiers.is_taxonomy_code(value or ""):
        raise ValidationError("A taxonomy code is 10 characters: 3 digits, 6 digits or capital letters, then X.")


def validate_ein(value: str) -> None:
    # 9 digits without the hyphen pass too: the action stores them as NN-NNNNNNN.
    if identifiers.normalize_ein(value or "") is None:
        raise ValidationError("Use the employer identification number as NN-NNNNNNN.")


STATE = RegexValidator(r"^[A-Z]{2}$", "Use the 2-letter state code.")
# 837 billing provider and service facility addresses carry the 9-digit ZIP code (5010 implementation guides).
ZIP9 = RegexValidator(r"^\d{5}-?\d{4}$", "Use the ZIP+4 code (NNNNN-NNNN): claims need all nine digits here.")
HCPCS = RegexValidator(r"^[A-Z0-9]{5}$", "A HCPCS or CPT code is 5 letters or digits.")
ZIP = RegexValidator(r"^\d{5}(-\d{4})?$", "Use a 5-digit ZIP code or ZIP+4.")


class BillingProvider(BaseModel):
    """The organization as the billing provider of its claims (837 loop 2010AA): one per organization.

    The NPI is the organization's (entity type 2: the type is NPPES's record of who holds the number, not something
    the digits tell, so the pages ask for it by role). The billing address must be a street address; a post office
    box or lock box goes in the optional pay-to address (loop 2010AB)."""

    organization = models.OneToOneField(
        "programs.Organization", on_delete=models.PROTECT, related_name="billing_provider"
    )
    legal_name = models.CharField(max_length=200, help_text="As registered with the IRS.")
    npi = models.CharField("NPI", max_length=10, validators=[validate_npi], help_text="The organization's (type 2).")
    tax_id = models.CharField("EIN", max_length=10, validators=[validate_ein], help_text="NN-NNNNNNN")
    taxonomy_code = models.CharField(max_length=10, validators=[validate_taxonomy], help_text="e.g. 261QM0801X")
    address_line1 = models.CharField(max_length=55)
    address_line2 = models.CharField(max_length=55, blank=True)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2, validators=[STATE])
    postal_code = models.CharField("ZIP+4", max_length=10, validators=[ZIP9])
    pay_to_line1 = models.CharField("Pay-to address", max_length=55, blank=True)
    pay_to_line2 = models.CharField("Pay-to address line 2", max_length=55, blank=True)
    pay_to_city = models.CharField(max_length=30, blank=True)
    pay_to_state = models.CharField(max_length=2, blank=True, validators=[STATE])
    pay_to_postal_code = models.CharField("Pay-to ZIP code", max_length=10, blank=True, validators=[ZIP])

    def __str__(self) -> str:
        return self.legal_name


class SiteBillingIdentity(BaseModel):
    """A site as the service facility of the claims for its programs (837 loop 2310E / 2310C): its own NPI and
    taxonomy; the address is the site's."""

    site = models.OneToOneField("programs.Site", on_delete=models.PROTECT, related_name="billing_identity")
    npi = models.CharField("NPI", max_length=10, validators=[validate_npi])
    taxonomy_code = models.CharField(max_length=10, validators=[validate_taxonomy])

    def __str__(self) -> str:
        return f"billing identity of site {self.site_id}"


class ClinicianBillingIdentity(BaseModel):
    """A staff member as a provider on claims: their own NPI (entity type 1), taxonomy, and which provider roles
    claims may name them in (attending on 837I, rendering on 837P, supervising)."""

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="billing_identity")
    npi = models.CharField("NPI", max_length=10, validators=[validate_npi])
    taxonomy_code = models.CharField(max_length=10, validators=[validate_taxonomy])
    may_attend = models.BooleanField("May be the attending provider", default=False)
    may_render = models.BooleanField("May be the rendering provider", default=False)
    may_supervise = models.BooleanField("May be the supervising provider", default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "npi"], name="clinician_billing_identity_unique_npi")
        ]

    def __str__(self) -> str:
        return f"billing identity of user {self.user_id}"


class PayerProgramSetting(BaseModel):
    """How one payer is billed for one program: the claim type and the codes that go on it. Unique per pair."""

    class ClaimType(models.TextChoices):
        INSTITUTIONAL = "837I", "Institutional (837I / UB-04)"
        PROFESSIONAL = "837P", "Professional (837P / CMS-1500)"

    class PlaceOfService(models.TextChoices):
        # CMS Place of Service code set: where an IOP's professional claims take place.
        OFFICE = "11", "11 Office"
        OUTPATIENT_HOSPITAL_OFF_CAMPUS = "19", "19 Off campus outpatient hospital"
        OUTPATIENT_HOSPITAL_ON_CAMPUS = "22", "22 On campus outpatient hospital"
        TELEHEALTH_OTHER = "02", "02 Telehealth (not in the patient's home)"
        TELEHEALTH_HOME = "10", "10 Telehealth in the patient's home"
        PARTIAL_HOSPITALIZATION = "52", "52 Psychiatric facility, partial hospitalization"
        CMHC = "53", "53 Community mental health center"
        SUBSTANCE_USE = "57", "57 Non-residential substance abuse treatment facility"
        OPIOID_TREATMENT = "58", "58 Non-residential opioid treatment facility"

    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="program_settings")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="payer_settings")
    claim_type = models.CharField(max_length=4, choices=ClaimType.choices)
    type_of_bill = models.CharField(
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^0[1-8][1-9]$", "Use 3 digits: 0, the facility type and the classification.")],
        help_text="Institutional: facility type and classification, e.g. 013 hospital outpatient, 076 CMHC; the "
        "claim adds the frequency digit.",
    )
    revenue_code = models.CharField(
        max_length=4,
        blank=True,
        validators=[RegexValidator(r"^\d{4}$", "A revenue code is 4 digits, e.g. 0905.")],
        help_text="Institutional: 0905 IOP psychiatric, 0906 IOP chemical dependency.",
    )
    code_standard = models.CharField(
        "Per-diem code",
        max_length=5,
        blank=True,
        validators=[HCPCS],
        help_text="e.g. S9480, H0015; empty: the claim lists each service's code (Medicare).",
    )
    code_high_tier = models.CharField(
        "Higher-tier code",
        max_length=5,
        blank=True,
        validators=[HCPCS],
        help_text="For days of the higher tier; empty: the per-diem code.",
    )
    condition_code_92 = models.BooleanField(
        "Condition code 92 required", default=False, help_text="Medicare's IOP condition code (institutional)."
    )
    place_of_service = models.CharField(
        max_length=2, choices=PlaceOfService.choices, blank=True, help_text="Professional claims."
    )
    authorization_required = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["payer__name", "program__name"]
        constraints = [
            models.UniqueConstraint(fields=["payer", "program"], name="payer_program_setting_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.payer} / {self.program}"

    def code_for(self, tier: str) -> str:
        """The per-diem code for a billable day's tier ("" when the claim lists the services' own codes)."""
        if tier == BillableDay.Tier.HIGH and self.code_high_tier:
            return self.code_high_tier
        return self.code_standard


class FeeScheduleRate(BaseModel):
    """What the organization expects to be paid for a code: a payer's contracted rate, or the organization's default
    (no payer) for payers without one, over a date range. Active rows of one key (payer, code, modifier, tier) never
    overlap (``actions._check_rate``); ``rates.rate_for`` picks one."""

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(
        "patients.Payer", null=True, blank=True, on_delete=models.PROTECT, related_name="fee_schedule"
    )
    code = models.CharField(
        max_length=5,
        validators=[HCPCS],
        help_text="HCPCS or CPT, e.g. S9480, H0015, 90853.",
    )
    modifier = models.CharField(
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^[A-Z0-9]{2}$", "A modifier is 2 letters or digits.")],
    )
    tier = models.CharField(
        max_length=10,
        choices=[c for c in BillableDay.Tier.choices if c[0]],
        blank=True,
        help_text="Empty: every tier (a row for the tier wins).",
    )
    rate = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Empty: until further notice.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["payer__name", "code", "modifier", "tier", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="fee_rate_ends_after_start",
            ),
            models.CheckConstraint(condition=Q(rate__gte=0), name="fee_rate_not_negative"),
            # What a portable constraint can say of "no overlap": no two active rows of one key start the same day
            # (the action refuses every overlap, under a lock; PostgreSQL's exclusion constraint would need btree_gist).
            models.UniqueConstraint(
                fields=["organization", "payer", "code", "modifier", "tier", "effective_from"],
                condition=Q(is_active=True, payer__isnull=False),
                name="fee_rate_one_start_per_payer_key",
            ),
            models.UniqueConstraint(
                fields=["organization", "code", "modifier", "tier", "effective_from"],
                condition=Q(is_active=True, payer__isnull=True),
                name="fee_rate_one_start_per_default_key",
            ),
        ]
        indexes = [models.Index(fields=["organization", "code"])]

    def __str__(self) -> str:
        return f"{self.code}{'-' + self.modifier if self.modifier else ''} from {self.effective_from}"
