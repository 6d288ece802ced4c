"""Billing foundations: payer rules (what a billable per-diem day needs, and a payer's own weekly dose minimum)
and the billable-day decisions made from attendance, each with its reason. Claims build on these later.

Amounts and thresholds vary by payer, state and year (docs/clinical-rules.md#billable-days), so they live in these
rows, never in code.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from openiop.core.models import BaseModel


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
