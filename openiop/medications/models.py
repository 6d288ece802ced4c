"""A patient's medication list: what they take or took, as recorded (OpenIOP does not prescribe).

Each row is one medication as reported or confirmed: from the curated formulary (``formulary_key``, with its
ingredients and RxNorm codes copied so a later formulary change never rewrites the chart) or entered free (no code).
Every medication of a person in a substance-use program is 42 CFR Part 2 information: it is read through the
patient's chart access and leaves only under a consent (``consents.may_disclose``).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class Medication(BaseModel):
    class Source(models.TextChoices):
        SELF_REPORT = "self_report", "Self-report"
        EXTERNAL_PRESCRIBER = "external_prescriber", "External prescriber"
        OTP = "otp", "Opioid treatment program"
        PHARMACY = "pharmacy", "Pharmacy record"
        PRIOR_RECORDS = "prior_records", "Prior records"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="medications")
    # The episode during which it was recorded (its program's staff read it; none when recorded before admission).
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", null=True, blank=True, on_delete=models.PROTECT, related_name="medications"
    )
    formulary_key = models.CharField(max_length=60, blank=True, help_text="Empty: entered free, not coded.")
    name = models.CharField(max_length=200)
    ingredients = models.JSONField(default=list, blank=True, help_text="Lowercase ingredient names.")
    rxcuis = models.JSONField(default=list, blank=True, help_text="RxNorm ingredient concept ids, as the names.")
    strength = models.CharField(max_length=60, blank=True, help_text="e.g. 8 mg/2 mg")
    form = models.CharField(max_length=40, blank=True)
    dose = models.CharField(max_length=60, blank=True, help_text="e.g. 1 film")
    route = models.CharField(max_length=40, blank=True)
    frequency = models.CharField(max_length=60, blank=True, help_text="e.g. once daily")
    prescriber = models.CharField(max_length=120, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SELF_REPORT)
    reason = models.CharField(max_length=200, blank=True)
    start_date = models.DateField(null=True, blank=True)
    stop_date = models.DateField(null=True, blank=True)
    stop_reason = models.CharField(max_length=200, blank=True)
    is_moud = models.BooleanField("Medication for opioid use disorder", default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["patient", "stop_date", "name"]
        indexes = [models.Index(fields=["patient", "stop_date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(stop_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(stop_date__gte=models.F("start_date")),
                name="medication_stops_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"medication {self.public_id}"

    def active_on(self, day: date) -> bool:
        """Taken on ``day``: started by then (or start unknown) and not stopped before it."""
        started = self.start_date is None or self.start_date <= day
        return started and (self.stop_date is None or self.stop_date >= day)
