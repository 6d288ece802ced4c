"""Treatment plans: versions, problems, goals, objectives, interventions, signatures; progress reviews.

A plan belongs to one episode of care. Its content lives in numbered versions; a version is edited while a draft,
then signed (clinician, supervisor where needed, patient) and becomes active, superseding the previous one. Rows of
a version are never edited once it has left draft. A new version copies the active one into new rows that keep
the same ``lineage`` UUID, so notes and the diff can follow a problem, goal, objective or intervention across
versions.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class PlanPolicy(BaseModel):
    """A program's review interval and when a signed plan comes into force. A program without a row uses
    settings.OPENIOP_DEFAULTS (read at call time); ``plans.policy`` returns either. The first plan's due days stay
    organization-wide (``treatment_plan_due_days``), because admission raises the plan-due task with that number."""

    class InForceAt(models.TextChoices):
        PATIENT_SIGNATURE = "patient_signature", "When the patient signs (or declines to sign)"
        CLINICIAN_SIGNATURE = "clinician_signature", "When the clinician signs (and any co-signature)"

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="plan_policy")
    plan_review_interval_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1)], help_text="Days between scheduled progress reviews."
    )
    # docs/clinical-rules.md#treatment-plans-and-reviews ("A plan in force").
    in_force_at = models.CharField(max_length=20, choices=InForceAt.choices, default=InForceAt.PATIENT_SIGNATURE)
    patient_signature_due_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1)],
        help_text="Days after the clinician's signature by which the patient signs (or declines).",
    )

    class Meta:
        verbose_name_plural = "plan policies"

    def __str__(self) -> str:
        return f"plan policy {self.program_id}"


class TreatmentPlan(BaseModel):
    episode = models.OneToOneField("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="treatment_plan")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="treatment_plans")
    due_on = models.DateField(help_text="Admission plus the plan due days; the first version must be active by then.")
    next_review_on = models.DateField(null=True, blank=True)
    current_version = models.ForeignKey(
        "plans.PlanVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"treatment plan {self.public_id}"


class PlanVersion(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_COSIGN = "awaiting_cosign", "Awaiting co-signature"
        AWAITING_PATIENT = "awaiting_patient", "Awaiting patient signature"
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded"

    class Reason(models.TextChoices):
        INITIAL = "initial", "Initial plan"
        REVIEW = "review", "Progress review"
        LEVEL_OF_CARE_CHANGE = "level_of_care_change", "Level-of-care change"
        SAFETY_EVENT = "safety_event", "Safety event"
        RECERTIFICATION = "recertification", "Recertification"
        OTHER = "other", "Other"

    class SignatureMethod(models.TextChoices):
        TYPED = "typed", "Typed name"
        DRAWN = "drawn", "Drawn signature"
        CHECKBOX = "checkbox", "Checkbox attestation"

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    reason = models.CharField(max_length=24, choices=Reason.choices, default=Reason.INITIAL)
    review = models.ForeignKey(
        "plans.ProgressReview", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    strengths = models.TextField(blank=True)
    barriers = models.TextField(blank=True)
    patient_words = models.TextField("In the patient's own words", blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    clinician_signed_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)
    patient_signed_at = models.DateTimeField(null=True, blank=True)
    patient_signature_name = models.CharField(max_length=150, blank=True)
    patient_signature_method = models.CharField(max_length=10, choices=SignatureMethod.choices, blank=True)
    # A drawn signature, as the pad's PNG data URL; kept with the version it signs.
    patient_signature_drawing = models.TextField(blank=True)
    # The patient declined to sign; staff record it with the reason, and the plan comes into force without it.
    patient_declined_at = models.DateTimeField(null=True, blank=True)
    patient_declined_reason = models.TextField(blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="planversion_unique_number"),
            models.UniqueConstraint(
                fields=["plan"], condition=Q(status="active"), name="planversion_one_active_per_plan"
            ),
            # One version in progress (draft or awaiting a signature) at a time.
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status__in=["draft", "awaiting_cosign", "awaiting_patient"]),
                name="planversion_one_open_per_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"plan version {self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


def _lineage() -> uuid.UUID:
    return uuid.uuid4()


class Problem(BaseModel):
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="problems")
    order = models.PositiveSmallIntegerField(default=0)
    statement = models.TextField()
    diagnosis = models.ForeignKey(
        "intake.Diagnosis", null=True, blank=True, on_delete=models.PROTECT, related_name="plan_problems"
    )
    lineage = models.UUIDField(default=_lineage, db_index=True)

    class Meta:
        ordering = ["version", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "lineage"], name="problem_unique_lineage")]

    def __str__(self) -> str:
        return f"problem {self.public_id}"


class Goal(BaseModel):
    class Comparator(models.TextChoices):
        LT = "lt", "below"
        LTE = "lte", "at or below"
        GT = "gt", "above"
        GTE = "gte", "at or above"

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="goals")
    order = models.PositiveSmallIntegerField(default=0)
    statement = models.TextField()
    measure_code = models.CharField(max_length=20, blank=True, help_text="An instrument code from measures.")
    measure_comparator = models.CharField(max_length=3, choices=Comparator.choices, blank=True)
    measure_target = models.IntegerField(null=True, blank=True)
    lineage = models.UUIDField(default=_lineage, db_index=True)

    class Meta:
        ordering = ["problem", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["problem", "lineage"], name="goal_unique_lineage"),
            models.CheckConstraint(
                condition=(Q(measure_code="") & Q(measure_comparator="") & Q(measure_target__isnull=True))
                | (~Q(measure_code="") & ~Q(measure_comparator="") & Q(measure_target__isnull=False)),
                name="goal_measure_target_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"goal {self.public_id}"

    @property
    def measure_label(self) -> str:
        """E.g. "PHQ-9 below 10", with the instrument's own short name; "" without a measure target."""
        if not self.measure_code:
            return ""
        from openiop.measures.instruments import REGISTRY

        instrument = REGISTRY.get(self.measure_code)
        name = instrument.short_name if instrument is not None else self.measure_code.upper()
        return f"{name} {self.get_measure_comparator_display()} {self.measure_target}"

    def target_met(self, score: int) -> bool:
        """Whether a total score meets this goal's measure target (False when the goal has none)."""
        if self.measure_target is None:
            return False
        t = self.measure_target
        return {
            "lt": score < t,
            "lte": score <= t,
            "gt": score > t,
            "gte": score >= t,
        }.get(self.measure_comparator, False)


class Objective(BaseModel):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        MET = "met", "Met"
        PARTIALLY_MET = "partially_met", "Partially met"
        NOT_MET = "not_met", "Not met"
        DISCONTINUED = "discontinued", "Discontinued"

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="objectives")
    order = models.PositiveSmallIntegerField(default=0)
    statement = models.TextField(help_text="Measurable: what the patient will do, how often, by when.")
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.NOT_STARTED)
    lineage = models.UUIDField(default=_lineage, db_index=True)

    class Meta:
        ordering = ["goal", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["goal", "lineage"], name="objective_unique_lineage")]

    def __str__(self) -> str:
        return f"objective {self.public_id}"


class Intervention(BaseModel):
    class Modality(models.TextChoices):
        GROUP_PSYCHOTHERAPY = "group_psychotherapy", "Group psychotherapy"
        CBT_SKILLS = "cbt_skills", "CBT skills group"
        DBT_SKILLS = "dbt_skills", "DBT skills group"
        INDIVIDUAL_COUNSELING = "individual_counseling", "Individual counseling"
        FAMILY_SESSION = "family_session", "Family session"
        PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
        MEDICATION_MANAGEMENT = "medication_management", "Medication management"
        RELAPSE_PREVENTION = "relapse_prevention", "Relapse prevention"
        CASE_MANAGEMENT = "case_management", "Case management"
        OTHER = "other", "Other"

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="interventions")
    order = models.PositiveSmallIntegerField(default=0)
    modality = models.CharField(max_length=24, choices=Modality.choices)
    description = models.CharField(max_length=300, blank=True)
    frequency = models.CharField(max_length=60, help_text='How often, e.g. "3x weekly".')
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lineage = models.UUIDField(default=_lineage, db_index=True)

    class Meta:
        ordering = ["objective", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["objective", "lineage"], name="intervention_unique_lineage")]

    def __str__(self) -> str:
        return f"intervention {self.public_id}"


class ProgressReview(BaseModel):
    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LEVEL_OF_CARE_CHANGE = "level_of_care_change", "Level-of-care change"
        SAFETY_EVENT = "safety_event", "Safety event"
        RECERTIFICATION = "recertification", "Recertification"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        DUE = "due", "Due"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Outcome(models.TextChoices):
        CONTINUE = "continue", "Continue the plan"
        MODIFY_PLAN = "modify_plan", "Modify the plan"
        STEP_DOWN = "step_down", "Step down"
        STEP_UP = "step_up", "Step up"
        DISCHARGE = "discharge", "Discharge"

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="reviews")
    version_reviewed = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="reviews")
    trigger = models.CharField(max_length=24, choices=Trigger.choices, default=Trigger.SCHEDULED)
    # What raised an unscheduled review (e.g. "safety_alert:<public id>"), so a trigger raises at most one review.
    trigger_key = models.CharField(max_length=80, blank=True)
    due_on = models.DateField()
    held_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DUE, db_index=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    summary = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    next_version = models.ForeignKey(PlanVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["plan", "due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "trigger_key"], condition=~Q(trigger_key=""), name="review_unique_trigger_key"
            ),
            models.UniqueConstraint(
                fields=["plan"], condition=Q(status="due", trigger="scheduled"), name="review_one_scheduled_due"
            ),
            models.CheckConstraint(
                condition=Q(status="completed", held_on__isnull=False) & ~Q(outcome="") | ~Q(status="completed"),
                name="review_completed_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"progress review {self.public_id}"
