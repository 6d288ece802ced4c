"""The staff work queue: tasks raised by rules (absence outreach, discharge review, and later plan reviews, note
deadlines, safety follow-ups), assigned to a person with a due date, closed with an outcome.

``trigger_key`` makes each trigger create its task exactly once: it names the rule and the event that fired it
(e.g. ``outreach:<episode>:<last missed session>``) and is unique, so a repeated or concurrent evaluation of the
same event finds the task instead of making a second one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from openiop.core.models import BaseModel


class WorkTask(BaseModel):
    class Kind(models.TextChoices):
        OUTREACH = "outreach", "Outreach after missed sessions"
        DISCHARGE_REVIEW = "discharge_review", "Discharge review after absences"
        PLAN_DUE = "plan_due", "Treatment plan due"
        FIRST_MEASURES = "first_measures", "First measures due"
        CERTIFICATION_DUE = "certification_due", "Medicare certification due"
        READMISSION_REVIEW = "readmission_review", "Readmission within 30 days"
        PLAN_REVIEW_DUE = "plan_review_due", "Progress review due"
        NOTE_DUE = "note_due", "Progress note due"
        COSIGN_NEEDED = "cosign_needed", "Co-signature needed"
        FOLLOW_UP = "follow_up", "Aftercare follow-up check-in"
        DOSE_AT_RISK = "dose_at_risk", "Weekly dose at risk"
        SIGN_HANDOVER = "sign_handover", "Handed over for signing"
        PLAN_PATIENT_SIGNATURE = "plan_patient_signature", "Plan awaiting the patient's signature past its deadline"
        EMERGENCY_ACCESS_REVIEW = "emergency_review", "Emergency access to review"
        AUTH_EXPIRING = "auth_expiring", "Payer authorization ending soon"
        AUTH_UNITS_LOW = "auth_units_low", "Authorized units running out"
        UR_DUE = "ur_due", "Concurrent review due"
        DAYS_UNAUTHORIZED = "days_unauthorized", "Billable days without an authorization"
        DRUG_TEST_REVIEW = "drug_test_review", "Drug test result to review"
        MED_RECONCILIATION = "med_reconciliation", "Medication reconciliation owed"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    class Outcome(models.TextChoices):
        REACHED = "reached", "Reached the patient"
        LEFT_MESSAGE = "left_message", "Left a message"
        NO_ANSWER = "no_answer", "No answer"
        PLAN_CHANGED = "plan_changed", "Plan changed"
        NOT_NEEDED = "not_needed", "No longer needed"

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="work_tasks")
    # None only for a task about a document written before admission (an intake assessment handed over for signing).
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", null=True, blank=True, on_delete=models.PROTECT, related_name="work_tasks"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="work_tasks")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # Why it fired, in staff words without other patients' details, e.g. "Missed 2 sessions in a row (Mon, Wed)".
    reason = models.CharField(max_length=300)
    trigger_key = models.CharField(max_length=160, unique=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="work_tasks"
    )
    due_on = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField(max_length=500, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["status", "due_on", "created_at"]
        indexes = [models.Index(fields=["assigned_to", "status", "due_on"]), models.Index(fields=["program", "status"])]

    def __str__(self) -> str:
        return f"task {self.public_id}"
