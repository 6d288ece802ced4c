"""Attendance: one record per person per session (who came, for how long, how they took part), the append-only
history of corrections to it, and each program's attendance policy (week start, what counts as an hour,
absence triggers).

Minutes attended are stored, not derived on read, because they are what the dose engine and billing sum.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class AttendanceRecord(BaseModel):
    class Status(models.TextChoices):
        PRESENT = "present", "Present"
        LATE = "late", "Late"
        LEFT_EARLY = "left_early", "Left early"
        ABSENT_EXCUSED = "absent_excused", "Absent, excused"
        ABSENT_UNEXCUSED = "absent_unexcused", "Absent, unexcused"
        CANCELLED = "cancelled", "Cancelled by program"

    class Participation(models.TextChoices):
        ENGAGED = "engaged", "Engaged"
        PASSIVE = "passive", "Passive"
        DISTRACTED = "distracted", "Distracted"
        DISRUPTIVE = "disruptive", "Disruptive"
        SLEEPING = "sleeping", "Sleeping"
        WITHDRAWN = "withdrawn", "Withdrawn"

    ATTENDED = frozenset({Status.PRESENT, Status.LATE, Status.LEFT_EARLY})
    MISSED = frozenset({Status.ABSENT_EXCUSED, Status.ABSENT_UNEXCUSED})

    session = models.ForeignKey("scheduling.Session", on_delete=models.PROTECT, related_name="attendance")
    booking = models.ForeignKey(
        "scheduling.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="attendance"
    )
    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="attendance")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(max_length=20, choices=Status.choices)
    late_minutes = models.PositiveSmallIntegerField(default=0)
    left_early_minutes = models.PositiveSmallIntegerField(default=0)
    # In person: arrival and departure; telehealth: join and leave times from the video platform or staff.
    arrived_at = models.DateTimeField(null=True, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    minutes_attended = models.PositiveSmallIntegerField(default=0)
    participation = models.CharField(max_length=12, choices=Participation.choices, blank=True)
    remark = models.CharField(max_length=200, blank=True, help_text="Short and factual; the note holds the rest.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Bumped by every correction; the corrections table keeps each earlier version.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["session__starts_at"]
        constraints = [
            # Two staff checking in the same person at once make one record: the second insert loses this race.
            models.UniqueConstraint(fields=["session", "patient"], name="attendance_one_per_person"),
        ]
        indexes = [models.Index(fields=["episode", "status"])]

    def __str__(self) -> str:
        return f"attendance {self.public_id}"

    @property
    def attended(self) -> bool:
        return self.status in self.ATTENDED

    @property
    def missed(self) -> bool:
        return self.status in self.MISSED


class AttendanceCorrection(models.Model):
    """One correction of a record after the fact: who, when, why, and the whole record as it was before."""

    record = models.ForeignKey(AttendanceRecord, on_delete=models.PROTECT, related_name="corrections")
    version = models.PositiveIntegerField(help_text="The version this correction replaced.")
    previous = models.JSONField(help_text="The record's fields before the correction.")
    reason = models.CharField(max_length=300)
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    corrected_at = models.DateTimeField()

    class Meta:
        ordering = ["record", "version"]
        constraints = [models.UniqueConstraint(fields=["record", "version"], name="correction_one_per_version")]

    def __str__(self) -> str:
        return f"correction {self.record_id} v{self.version}"


class AttendancePolicy(BaseModel):
    """A program's attendance rules. A program without a row uses settings.OPENIOP_DEFAULTS (read at call time);
    ``attendance.policy.policy_for(program)`` returns either."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="attendance_policy")
    week_starts_on = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(6)], help_text="Weekday the dose week starts, Monday = 0."
    )
    clinical_hour_minutes = models.PositiveSmallIntegerField(
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="A session part of at least this many minutes counts as a full clinical hour (60 = clock time).",
    )
    outreach_after_consecutive_misses = models.PositiveSmallIntegerField(default=2, validators=[MinValueValidator(1)])
    outreach_due_days = models.PositiveSmallIntegerField(default=1)
    review_after_unexcused = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    review_window_days = models.PositiveSmallIntegerField(default=14, validators=[MinValueValidator(1)])
    review_due_days = models.PositiveSmallIntegerField(default=3)

    class Meta:
        verbose_name_plural = "attendance policies"
        constraints = [
            models.CheckConstraint(condition=Q(week_starts_on__lte=6), name="policy_week_start_is_a_weekday"),
        ]

    def __str__(self) -> str:
        return f"attendance policy {self.program_id}"
