"""Discharge summaries, aftercare plans and follow-up check-ins.

The summary keeps snapshots (attendance and dose, measures, goals) as JSON taken from the record when it is drafted
and again when it is signed, so a signed summary reads the same forever whatever is corrected later.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse

from openiop.core.models import BaseModel
from openiop.patients.models import EpisodeOfCare

# Stanley & Brown (2012) safety planning intervention headings, in their order; the keys are what the JSON stores.
SAFETY_PLAN_HEADINGS: tuple[tuple[str, str], ...] = (
    ("warning_signs", "Warning signs that a crisis may be developing"),
    ("coping_strategies", "Internal coping strategies: things I can do on my own"),
    ("distractions", "People and social settings that provide distraction"),
    ("help_contacts", "People I can ask for help"),
    ("professionals", "Professionals, agencies and crisis lines I can contact"),
    ("safe_environment", "Making the environment safe"),
    ("reasons_for_living", "The one thing most important to me and worth living for"),
)
RELAPSE_PLAN_HEADINGS: tuple[tuple[str, str], ...] = (
    ("triggers", "High-risk situations and triggers"),
    ("warning_signs", "Early warning signs of relapse"),
    ("coping_strategies", "What I will do instead"),
    ("supports", "Who I will call"),
    ("if_lapse", "If I use or slip: my plan to get back on track"),
)

# National resources printed on every patient copy; a program adds its own on the plan.
CRISIS_RESOURCES: tuple[str, ...] = (
    "988 Suicide & Crisis Lifeline: call or text 988, or chat at 988lifeline.org (24/7)",
    "SAMHSA National Helpline (substance use, mental health): 1-800-662-4357 (24/7, free, confidential)",
    "In an emergency call 911 or go to the nearest emergency department",
)


class StepDownLevel(models.TextChoices):
    OUTPATIENT_THERAPY = "outpatient_therapy", "Outpatient therapy / counseling"
    ASAM_1 = "asam_1", "Outpatient treatment (ASAM 1.0 / 1.5)"
    PHP_HIOP = "php_hiop", "Partial hospitalization / high-intensity outpatient (ASAM 2.5)"
    RESIDENTIAL = "residential", "Residential treatment"
    NONE = "none", "No further treatment planned"
    OTHER = "other", "Other"


class DischargeSummary(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    episode = models.OneToOneField(EpisodeOfCare, on_delete=models.PROTECT, related_name="discharge_summary")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="discharge_summaries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # Mirrors the episode's TEDS-D coded reason once the episode is discharged (actions keep the two equal).
    reason = models.CharField(max_length=2, choices=EpisodeOfCare.DischargeReason.choices)
    discharge_on = models.DateField(help_text="The (planned) last day in the program.")
    due_on = models.DateField(help_text="The summary is due by this day (program policy).")
    course_of_treatment = models.TextField(blank=True)
    condition_at_discharge = models.TextField(blank=True)
    attendance = models.JSONField(default=dict, blank=True)
    measures = models.JSONField(default=list, blank=True)
    goals = models.JSONField(default=list, blank=True)
    # The medications taken on the discharge day and the MOUD state (medications.summary.discharge_snapshot).
    medications = models.JSONField(default=dict, blank=True)
    snapshot_at = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-discharge_on", "-created_at"]
        verbose_name_plural = "discharge summaries"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="signed") | models.Q(signed_at__isnull=False),
                name="discharge_summary_signed_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"Discharge summary ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("discharge:detail", args=[self.public_id])

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @property
    def goal_counts(self) -> dict[str, int]:
        """Objectives by status across the snapshot's goals (met, partially met, not met, other)."""
        counts = {"met": 0, "partially_met": 0, "not_met": 0, "other": 0}
        for goal in self.goals or []:
            for objective in goal.get("objectives", []):
                status = objective.get("status", "")
                counts[status if status in counts else "other"] += 1
        return counts


class AftercarePlan(BaseModel):
    episode = models.OneToOneField(EpisodeOfCare, on_delete=models.PROTECT, related_name="aftercare_plan")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="aftercare_plans")
    step_down_level = models.CharField(max_length=20, choices=StepDownLevel.choices, blank=True)
    step_down_other = models.CharField("Other level or service", max_length=200, blank=True)
    appointment_provider = models.CharField("Provider", max_length=150, blank=True)
    appointment_organization = models.CharField("Organization", max_length=200, blank=True)
    appointment_phone = models.CharField("Phone", max_length=40, blank=True)
    appointment_address = models.CharField("Address", max_length=300, blank=True)
    appointment_at = models.DateTimeField("Date and time", null=True, blank=True)
    # [{"name": ..., "schedule": ...}]
    support_groups = models.JSONField(default=list, blank=True)
    medications = models.JSONField(default=list, blank=True)  # one line each: name, dose, prescriber
    safety_plan = models.JSONField(default=dict, blank=True)  # SAFETY_PLAN_HEADINGS keys -> list of lines
    relapse_prevention = models.JSONField(default=dict, blank=True)  # RELAPSE_PLAN_HEADINGS keys -> lines
    family_supports = models.TextField(blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)  # set when the summary is signed

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return "Aftercare plan"

    @property
    def step_down_label(self) -> str:
        if self.step_down_level == StepDownLevel.OTHER and self.step_down_other:
            return self.step_down_other
        return self.get_step_down_level_display() if self.step_down_level else ""

    @property
    def has_appointment(self) -> bool:
        return bool(self.appointment_provider or self.appointment_organization or self.appointment_at)

    def safety_sections(self) -> list[tuple[str, list[str]]]:
        plan: dict[str, Any] = self.safety_plan or {}
        return [(label, list(plan.get(key, []))) for key, label in SAFETY_PLAN_HEADINGS]

    def relapse_sections(self) -> list[tuple[str, list[str]]]:
        plan: dict[str, Any] = self.relapse_prevention or {}
        return [(label, list(plan.get(key, []))) for key, label in RELAPSE_PLAN_HEADINGS]

    @property
    def has_relapse_plan(self) -> bool:
        return any(lines for _, lines in self.relapse_sections())


class FollowUp(BaseModel):
    class Status(models.TextChoices):
        DUE = "due", "Due"
        DONE = "done", "Done"
        MISSED = "missed", "Missed"

    class Outcome(models.TextChoices):
        REACHED_WELL = "reached_well", "Reached: doing well"
        REACHED_AFTERCARE = "reached_aftercare", "Reached: attending aftercare"
        REACHED_STRUGGLING = "reached_struggling", "Reached: struggling"
        READMITTED = "readmitted", "Readmitted"
        UNABLE_TO_REACH = "unable_to_reach", "Unable to reach"
        DECLINED = "declined", "Declined the check-in"
        DECEASED = "deceased", "Deceased"

    REACHED = frozenset(
        {Outcome.REACHED_WELL, Outcome.REACHED_AFTERCARE, Outcome.REACHED_STRUGGLING, Outcome.READMITTED}
    )

    episode = models.ForeignKey(EpisodeOfCare, on_delete=models.PROTECT, related_name="follow_ups")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="follow_ups")
    days_after = models.PositiveSmallIntegerField()
    due_on = models.DateField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DUE, db_index=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    attending_aftercare = models.BooleanField(null=True, blank=True)
    readmitted = models.BooleanField("Readmitted to a higher level of care", null=True, blank=True)
    note = models.TextField(blank=True)
    task = models.ForeignKey(
        "worklist.WorkTask", null=True, blank=True, on_delete=models.PROTECT, related_name="discharge_follow_ups"
    )
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "days_after"]
        constraints = [models.UniqueConstraint(fields=["episode", "days_after"], name="follow_up_once_per_day")]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return f"{self.days_after}-day follow-up ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.DUE
