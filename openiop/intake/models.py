"""The intake assessment: biopsychosocial sections, risk, level-of-care ratings, diagnoses and the recommendation.

A draft is saved section by section; signing locks it, and later changes are addenda. Level-of-care ratings are
stored exactly as the clinician entered them, with the level the clinician chose (frameworks.py says why nothing
is computed).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from openiop.core.models import BaseModel
from openiop.intake.frameworks import FrameworkCode

# Biopsychosocial narrative sections, in the order clinicians write them: (field, heading).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("presenting_problem", "Presenting problem"),
    ("substance_use_history", "Substance use history"),
    ("mental_health_history", "Mental health history"),
    ("medical_history", "Medical"),
    ("medications", "Medications"),
    ("trauma_history", "Trauma"),
    ("legal_history", "Legal"),
    ("employment_education", "Employment / school"),
    ("living_situation", "Living situation"),
    ("support_system", "Support system"),
    ("strengths", "Strengths"),
)
SECTION_FIELDS = tuple(name for name, _ in SECTIONS)

# Yes/no risk questions (None = not asked), then the narrative that explains them.
RISK_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("risk_suicidal_ideation", "Suicidal ideation"),
    ("risk_suicidal_plan", "Suicide plan"),
    ("risk_suicidal_intent", "Suicidal intent"),
    ("risk_suicide_attempt_history", "History of suicide attempts"),
    ("risk_homicidal_ideation", "Homicidal ideation"),
    ("risk_self_harm", "Self-harm"),
    ("risk_access_to_means", "Access to lethal means"),
)
RISK_FIELDS = (*(name for name, _ in RISK_QUESTIONS), "risk_narrative")

SUBSTANCE_ROUTES = ("oral", "smoked", "vaped", "intranasal", "injected", "other")
SUBSTANCE_KEYS = ("substance", "route", "frequency", "last_use", "age_first_use")

# ICD-10-CM: a letter, a digit, a letter or digit, then optionally a dot and up to four more letters or digits.
ICD10_PATTERN = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")


def normalize_icd10(code: str) -> str:
    """Upper case, with the dot after the third character (F1020 -> F10.20)."""
    code = code.strip().upper().replace(" ", "")
    if len(code) > 3 and "." not in code:
        code = f"{code[:3]}.{code[3:]}"
    return code


def validate_icd10(code: str) -> None:
    if not ICD10_PATTERN.match(code):
        raise ValidationError("Enter an ICD-10-CM code such as F33.1 or F10.20.", code="icd10")


class IntakeAssessment(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    class Recommendation(models.TextChoices):
        NONE = "", "Not yet decided"
        ADMIT_IOP = "admit_iop", "Admit to IOP"
        OTHER_LEVEL = "other_level", "Another level of care"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="intake_assessments")
    # The assessing program: it scopes who may see the assessment (SUD programs' assessments stay inside them).
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="intake_assessments")
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", null=True, blank=True, on_delete=models.PROTECT, related_name="intake_assessments"
    )
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="intake_assessments"
    )
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    presenting_problem = models.TextField(blank=True)
    substance_use_history = models.TextField(blank=True)
    # [{substance, route, frequency, last_use (ISO date or ""), age_first_use (int or None)}], checked by the action.
    substances = models.JSONField(default=list, blank=True)
    mental_health_history = models.TextField(blank=True)
    medical_history = models.TextField(blank=True)
    medications = models.TextField(blank=True)
    trauma_history = models.TextField(blank=True)
    legal_history = models.TextField(blank=True)
    employment_education = models.TextField(blank=True)
    living_situation = models.TextField(blank=True)
    support_system = models.TextField(blank=True)
    strengths = models.TextField(blank=True)
    risk_suicidal_ideation = models.BooleanField(null=True, blank=True)
    risk_suicidal_plan = models.BooleanField(null=True, blank=True)
    risk_suicidal_intent = models.BooleanField(null=True, blank=True)
    risk_suicide_attempt_history = models.BooleanField(null=True, blank=True)
    risk_homicidal_ideation = models.BooleanField(null=True, blank=True)
    risk_self_harm = models.BooleanField(null=True, blank=True)
    risk_access_to_means = models.BooleanField(null=True, blank=True)
    risk_narrative = models.TextField(blank=True)
    recommendation = models.CharField(max_length=20, choices=Recommendation.choices, blank=True)
    recommended_program = models.ForeignKey(
        "programs.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recommended_track = models.ForeignKey(
        "programs.Track", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    other_level_of_care = models.CharField(max_length=200, blank=True)
    recommendation_reason = models.TextField(blank=True)
    referral_to = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-assessed_on", "-created_at"]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"intake assessment {self.public_id}"

    def get_absolute_url(self) -> str:
        return reverse("intake:detail", args=[self.public_id])

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @property
    def risk_flagged(self) -> bool:
        return any(getattr(self, name) for name, _ in RISK_QUESTIONS)

    def sections(self) -> list[tuple[str, str, str]]:
        return [(name, heading, getattr(self, name)) for name, heading in SECTIONS]

    def risk_answers(self) -> list[tuple[str, str, bool | None]]:
        return [(name, label, getattr(self, name)) for name, label in RISK_QUESTIONS]


class LevelOfCareRating(BaseModel):
    """One framework applied in one assessment: the clinician's chosen level and why. Dimensions are rows below."""

    assessment = models.ForeignKey(IntakeAssessment, on_delete=models.PROTECT, related_name="level_ratings")
    framework = models.CharField(max_length=10, choices=FrameworkCode.choices)
    chosen_level = models.CharField(max_length=10, blank=True)
    modifiers = models.JSONField(default=list, blank=True)
    rationale = models.TextField(blank=True)

    class Meta:
        ordering = ["framework"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "framework"], name="intake_one_rating_per_framework")
        ]

    def __str__(self) -> str:
        return f"{self.get_framework_display()}: {self.chosen_level or 'no level'}"


class DimensionRating(models.Model):
    rating = models.ForeignKey(LevelOfCareRating, on_delete=models.CASCADE, related_name="dimensions")
    dimension = models.CharField(max_length=30)
    # Exactly as entered: "0"-"4" (ASAM 3rd), 0/ANY/EVAL/2/3A/3B/4 (ASAM 4th), "1"-"5" (LOCUS).
    value = models.CharField(max_length=10, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rating", "dimension"], name="intake_one_value_per_dimension")]

    def __str__(self) -> str:
        return f"{self.dimension}={self.value}"


class Diagnosis(BaseModel):
    class Status(models.TextChoices):
        PROVISIONAL = "provisional", "Provisional"
        CONFIRMED = "confirmed", "Confirmed"
        RULED_OUT = "ruled_out", "Ruled out"
        RESOLVED = "resolved", "Resolved"

    assessment = models.ForeignKey(
        IntakeAssessment, null=True, blank=True, on_delete=models.PROTECT, related_name="diagnoses"
    )
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", null=True, blank=True, on_delete=models.PROTECT, related_name="diagnoses"
    )
    code = models.CharField("ICD-10-CM code", max_length=8, validators=[validate_icd10])
    description = models.CharField(max_length=300)
    is_primary = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    # Removed from a draft (entered in error): kept, never deleted, and left out of lists.
    is_active = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-is_primary", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(assessment__isnull=False) | Q(episode__isnull=False), name="diagnosis_has_a_home"
            ),
            models.UniqueConstraint(
                fields=["assessment"],
                condition=Q(is_primary=True, is_active=True, assessment__isnull=False),
                name="diagnosis_one_primary_per_assessment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class IntakeAddendum(BaseModel):
    """A change after signing: the signed assessment stays as it was; the addendum says what changed and who."""

    assessment = models.ForeignKey(IntakeAssessment, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"addendum {self.public_id}"
