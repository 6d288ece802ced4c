"""A patient's medication list: what they take or took, as recorded (OpenIOP does not prescribe).

Each row is one medication as reported or confirmed: from the curated formulary (``formulary_key``, with its
ingredients and RxNorm codes copied so a later formulary change never rewrites the chart) or entered free (no code).
Every medication of a person in a substance-use program is 42 CFR Part 2 information: it is read through the
patient's chart access and leaves only under a consent (``consents.may_disclose``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

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


class Allergy(BaseModel):
    """An allergy or adverse reaction the patient has, as reported or found in prior records. Removing one (entered
    in error, or found not to be an allergy) keeps the row, inactive, so the chart's history stays whole."""

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"
        UNKNOWN = "unknown", "Unknown"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(max_length=120)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.UNKNOWN)
    noted_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["patient", "substance"]

    def __str__(self) -> str:
        return f"allergy {self.public_id}"


class NoKnownAllergies(BaseModel):
    """The patient was asked and has no known allergies: a statement, not the absence of rows (an empty list may
    only mean nobody asked). Recording an allergy withdraws it in the same transaction."""

    patient = models.OneToOneField("patients.Patient", on_delete=models.PROTECT, related_name="no_known_allergies")
    stated_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"no known allergies {self.public_id}"


class Reconciliation(BaseModel):
    """A clinician's signed review of the whole medication list at a transition of care: what the patient takes,
    and what changed since the last review. Created signed and never changed afterwards: a later correction is a
    new reconciliation."""

    class Occasion(models.TextChoices):
        INTAKE = "intake", "Intake"
        LEVEL_OF_CARE = "level_of_care", "Level-of-care change"
        DISCHARGE = "discharge", "Discharge"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="reconciliations")
    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="reconciliations")
    occasion = models.CharField(max_length=20, choices=Occasion.choices)
    reconciled_on = models.DateField()
    # The active list as signed: [{id, name, strength, dose, route, frequency, moud}], so the next reconciliation
    # can say what changed even after rows were edited.
    medications = models.JSONField(default=list, blank=True)
    # What changed since the previous reconciliation: [{change: started|stopped|changed, id, name, fields}].
    changes = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "-signed_at", "-pk"]

    def __str__(self) -> str:
        return f"reconciliation {self.public_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("A signed reconciliation is never changed; sign a new one.")
        super().save(*args, **kwargs)


class MoudCoordination(BaseModel):
    """Who else treats the patient's opioid use disorder in an episode, and the last dose someone confirmed: the
    prescriber (office-based buprenorphine or naltrexone) and the opioid treatment program (methadone). Talking to
    either about the patient is a Part 2 disclosure: ``consent`` is the consent that allowed it when last checked,
    and the chart checks ``may_disclose`` again every time it shows the record."""

    class DoseCheck(models.TextChoices):
        OTP_CALL = "otp_call", "Call with the OTP"
        PRESCRIBER_CALL = "prescriber_call", "Call with the prescriber"
        PDMP = "pdmp", "Prescription drug monitoring program"
        DOSING_RECORD = "dosing_record", "OTP dosing record received"
        PATIENT_REPORT = "patient_report", "Patient report"

    episode = models.OneToOneField("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="moud")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="moud_coordinations")
    prescriber_name = models.CharField(max_length=120, blank=True)
    # The practice the prescriber works for: what a Part 2 consent names as the recipient organization.
    prescriber_practice = models.CharField(max_length=120, blank=True)
    prescriber_phone = models.CharField(max_length=30, blank=True)
    otp_name = models.CharField("Opioid treatment program", max_length=120, blank=True)
    otp_phone = models.CharField("OTP phone", max_length=30, blank=True)
    consent = models.ForeignKey(
        "consents.Consent", null=True, blank=True, on_delete=models.PROTECT, related_name="moud_coordinations"
    )
    last_dose_on = models.DateField("Last dose confirmed on", null=True, blank=True)
    last_dose_confirmed_by = models.CharField("Confirmed with", max_length=120, blank=True)
    last_dose_how = models.CharField("How", max_length=20, choices=DoseCheck.choices, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"MOUD coordination {self.public_id}"
