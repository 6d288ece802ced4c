"""Payer authorizations and utilization review.

A payer approves a number of days (or sessions) of a level of care between two dates for an episode; the clinic asks
again (concurrent review) before they run out. How many units are used is never stored: it is counted live from the
billable-day decisions (``utilization.units``), so a correction of attendance changes it at once.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

from openiop.core.models import BaseModel


class UtilizationPolicy(BaseModel):
    """A program's utilization-review thresholds. A program without a row uses settings.OPENIOP_DEFAULTS (read at
    call time); ``utilization.policy.policy_for(program)`` returns either."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="utilization_policy")
    expiring_within_days = models.PositiveSmallIntegerField(
        default=7, validators=[MaxValueValidator(90)], help_text="Flag an approved authorization ending this soon."
    )
    units_low_at = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(100)], help_text="Flag when this many units or fewer remain."
    )
    review_due_within_days = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(60)], help_text="Flag a concurrent review due this soon."
    )
    review_lead_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MaxValueValidator(60)],
        help_text="Without a date from the payer, the concurrent review is due this many days before the end.",
    )
    unauthorized_lookback_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(365)],
        help_text="Look this far back for billable days outside an approved authorization.",
    )

    class Meta:
        verbose_name_plural = "utilization policies"

    def __str__(self) -> str:
        return f"utilization policy {self.program_id}"


class Authorization(BaseModel):
    class UnitKind(models.TextChoices):
        DAYS = "days", "Days"
        SESSIONS = "sessions", "Sessions"

    class Status(models.TextChoices):
        # Asked for, no answer yet: ``units_authorized`` holds the units asked for.
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"
        # Entered in error or no longer wanted (the patient changed payer): kept, never deleted.
        WITHDRAWN = "withdrawn", "Withdrawn"
        # There is no stored "expired": an approved authorization past its end date shows as expired (``is_expired``).

    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="authorizations")
    coverage = models.ForeignKey("patients.Coverage", on_delete=models.PROTECT, related_name="authorizations")
    number = models.CharField(max_length=60, blank=True, help_text="The payer's reference; blank while requested.")
    level_of_care = models.CharField(max_length=20, help_text="A code of the level-of-care catalog (programs/levels).")
    start_date = models.DateField(help_text="First covered day (program-local).")
    end_date = models.DateField(help_text="Last covered day (program-local).")
    unit_kind = models.CharField(max_length=10, choices=UnitKind.choices, default=UnitKind.DAYS)
    units_authorized = models.PositiveIntegerField(validators=[MaxValueValidator(1000)])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    # The next concurrent review, per authorization: the payer's date, or "when this many units remain"; with
    # neither, the program's policy (``review_lead_days`` before the end).
    review_due_on = models.DateField(null=True, blank=True)
    review_at_units_left = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(100)])
    notes = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-start_date", "-created_at"]
        indexes = [models.Index(fields=["episode", "start_date"])]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="authorization_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"authorization {self.public_id}"

    @property
    def used(self) -> int:
        """Units used, annotated by ``utilization.units.with_usage`` (never stored)."""
        return int(getattr(self, "units_used", 0) or 0)

    @property
    def remaining(self) -> int:
        return self.units_authorized - self.used

    def is_expired(self, today: date) -> bool:
        return self.status == self.Status.APPROVED and self.end_date < today


class UtilizationReview(BaseModel):
    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial"
        CONCURRENT = "concurrent", "Concurrent"
        STEP_DOWN = "step_down", "Step-down request"
        APPEAL = "appeal", "Appeal / peer-to-peer"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        EXTENDED = "extended", "Extended"
        PARTIAL = "partial", "Partially approved"
        DENIED = "denied", "Denied"
        STEPPED_DOWN = "stepped_down", "Stepped down"

    authorization = models.ForeignKey(Authorization, on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    requested_on = models.DateField()
    decided_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=14, choices=Outcome.choices, default=Outcome.PENDING)
    # An approval's units: on the initial review of a requested authorization the units approved in all (replacing
    # the number asked for), on any later review the units added.
    units_granted = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(1000)])
    new_end_date = models.DateField(null=True, blank=True)
    # Stepped down to this level (a catalog code): the new level needs an authorization of its own.
    level_of_care = models.CharField(max_length=20, blank=True)
    reviewer = models.CharField(max_length=120, blank=True, help_text="The payer's reviewer.")
    reference = models.CharField(max_length=60, blank=True, help_text="The payer's call or case reference.")
    notes = models.TextField(blank=True, max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-requested_on", "-created_at"]

    def __str__(self) -> str:
        return f"utilization review {self.public_id}"
