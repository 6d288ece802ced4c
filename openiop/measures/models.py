"""Measurement-based care: what each program asks and when, each administration of a questionnaire with its
answers and stored score, the secret links patients answer through, and the safety alerts critical answers raise.

Instruments themselves (items, scoring, bands) are pure data in ``measures.instruments``; rows here refer to them
by code, so a scoring fix never needs a migration.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import BaseModel


class Occasion(models.TextChoices):
    INTAKE = "intake", "Intake"
    WEEKLY = "weekly", "Weekly"
    DISCHARGE = "discharge", "Discharge"
    FOLLOW_UP_7 = "follow_up_7", "7-day follow-up"
    FOLLOW_UP_30 = "follow_up_30", "30-day follow-up"
    FOLLOW_UP_90 = "follow_up_90", "90-day follow-up"
    AD_HOC = "ad_hoc", "Unscheduled"


FOLLOW_UP_OCCASIONS = {7: Occasion.FOLLOW_UP_7, 30: Occasion.FOLLOW_UP_30, 90: Occasion.FOLLOW_UP_90}


class MeasuresConfig(BaseModel):
    """A program's measurement settings. A program without a row uses settings.OPENIOP_DEFAULTS and its directors
    as the on-call clinicians (``measures.schedules.config_for``)."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="measures_config")
    on_call = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Receives the escalation email for unacknowledged safety alerts; empty = the program's directors.",
    )
    escalation_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text="Minutes an unacknowledged safety alert waits before the on-call clinician is emailed.",
    )
    email_label = models.CharField(
        max_length=60,
        blank=True,
        help_text="How escalation emails name the program (empty = the program's name). Keep it free of anything "
        "that would reveal substance-use treatment if the email were seen by someone else.",
    )

    def __str__(self) -> str:
        return f"measures config {self.program_id}"


class MeasureSchedule(BaseModel):
    """One instrument a program uses, and on which occasions it falls due. A row with ``is_active`` enables it."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="measure_schedules")
    instrument_code = models.CharField(max_length=20)
    at_intake = models.BooleanField(default=True)
    weekly = models.BooleanField(default=True)
    weekly_weekday = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(6)], help_text="Weekday the weekly measure falls due, Monday = 0."
    )
    at_discharge = models.BooleanField(default=True)
    follow_up_days = models.JSONField(default=list, blank=True, help_text="Days after discharge: any of 7, 30, 90.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "instrument_code"]
        constraints = [
            models.UniqueConstraint(fields=["program", "instrument_code"], name="measure_schedule_unique"),
            models.CheckConstraint(condition=Q(weekly_weekday__lte=6), name="measure_schedule_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} in {self.program_id}"


class Administration(BaseModel):
    """One questionnaire for one episode on one occasion: answers saved as they come, a score once completed."""

    class Status(models.TextChoices):
        DUE = "due", "Due"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    class Channel(models.TextChoices):
        TABLET = "tablet", "Clinic tablet"
        LINK = "link", "Link"
        STAFF = "staff", "Staff entry"

    OPEN = frozenset({Status.DUE, Status.IN_PROGRESS})

    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="administrations")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="administrations")
    instrument_code = models.CharField(max_length=20)
    occasion = models.CharField(max_length=20, choices=Occasion.choices)
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DUE)
    # Item code -> option value; saved on every change so a half-finished questionnaire survives.
    answers = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The score as the registry computed it at completion (kept, so a later scoring fix never rewrites history).
    total = models.PositiveSmallIntegerField(null=True, blank=True)
    prorated = models.BooleanField(default=False)
    band_key = models.CharField(max_length=30, blank=True)
    subscores = models.JSONField(default=dict, blank=True)
    missing_reason = models.CharField(max_length=200, blank=True)
    risk = models.CharField(max_length=10, blank=True)
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["due_on", "instrument_code"]
        constraints = [
            # The daily scheduler may run twice; the second run finds the row and creates nothing.
            models.UniqueConstraint(
                fields=["episode", "instrument_code", "occasion", "due_on"],
                condition=~Q(occasion="ad_hoc"),
                name="administration_once_per_occasion",
            )
        ]
        indexes = [
            models.Index(fields=["patient", "instrument_code", "status"]),
            models.Index(fields=["status", "due_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} {self.occasion} {self.due_on}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def when(self) -> date:
        """The date a score belongs to, in the program's zone: completion if done, else the due date."""
        if self.completed_at is None:
            return self.due_on
        return timezone.localdate(self.completed_at, self.episode.program.tz())


class AdministrationLink(BaseModel):
    """A secret link (or a clinic tablet hand-over) to one administration. Only the token's SHA-256 is stored."""

    class Kind(models.TextChoices):
        LINK = "link", "Link"
        TABLET = "tablet", "Clinic tablet"

    administration = models.ForeignKey(Administration, on_delete=models.PROTECT, related_name="links")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LINK)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"link {self.public_id}"

    def usable_at(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


class SafetyAlert(BaseModel):
    """Raised with the answers that triggered it; shown to the care team until acknowledged, escalated once,
    closed only with a documented action."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    class Reason(models.TextChoices):
        CRITICAL_ITEM = "critical_item", "Critical item answered"
        RISK = "risk", "Suicide risk screen"

    class Action(models.TextChoices):
        CSSRS_DONE = "cssrs_done", "C-SSRS completed"
        SAFETY_PLAN = "safety_plan", "Safety plan reviewed"
        CRISIS_REFERRAL = "crisis_referral", "Crisis referral"
        EMERGENCY = "emergency", "Emergency services contacted"
        OTHER = "other", "Other (see note)"

    administration = models.OneToOneField(Administration, on_delete=models.PROTECT, related_name="safety_alert")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="safety_alerts")
    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="safety_alerts")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # Codes only (item codes, a risk level): never free text, so the row can be listed anywhere without PHI.
    items = models.JSONField(default=list, blank=True)
    risk = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.JSONField(default=list, blank=True, help_text="Public ids of the staff emailed.")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_action = models.CharField(max_length=20, choices=Action.choices, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"safety alert {self.public_id}"

    def get_absolute_url(self) -> str:
        return reverse("measures:alert_detail", args=[self.public_id])

    def escalates_at(self, minutes: int) -> datetime:
        return self.created_at + timedelta(minutes=minutes)
