"""The skills-practice log: what a patient practised between sessions, when, how it went, mood and craving.

An entry belongs to the patient and to one episode of care, so staff see it only through that episode's program
(a substance-use program's entries stay with its staff, 42 CFR Part 2). The patient writes it in the portal; the
clinician reads it on the chart's Skills practice tab.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel

# The value an entry stores when the skill is not in the program's list; the entry then says which in skill_other.
OTHER = "other"


class PracticePolicy(BaseModel):
    """A program's skills list and whether it asks about craving. A program without a row uses
    ``settings.OPENIOP_DEFAULTS`` (``skills.policy``)."""

    class Craving(models.TextChoices):
        AUTO = "auto", "Substance-use programs only"
        ASK = "ask", "Always ask"
        NEVER = "never", "Never ask"

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="practice_policy")
    skills = models.JSONField(default=list, blank=True, help_text="The skills patients pick from, in this order.")
    craving = models.CharField(max_length=6, choices=Craving.choices, default=Craving.AUTO)

    class Meta:
        verbose_name_plural = "practice policies"

    def __str__(self) -> str:
        return f"practice policy {self.program_id}"


class PracticeEntry(BaseModel):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="practice_entries")
    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="practice_entries")
    skill = models.CharField(max_length=80, help_text='A skill from the program\'s list, or "other".')
    skill_other = models.CharField("Other skill", max_length=120, blank=True)
    practiced_at = models.DateTimeField("When")
    how_it_went = models.TextField("How it went", blank=True)
    mood = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    craving = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-practiced_at", "-id"]
        verbose_name_plural = "practice entries"
        constraints = [
            models.CheckConstraint(condition=Q(mood__lte=10), name="practice_mood_0_10"),
            models.CheckConstraint(condition=Q(craving__lte=10), name="practice_craving_0_10"),
            models.CheckConstraint(condition=~Q(skill="other") | ~Q(skill_other=""), name="practice_other_named"),
        ]
        indexes = [models.Index(fields=["patient", "practiced_at"])]

    def __str__(self) -> str:
        return f"practice entry {self.public_id}"

    @property
    def skill_label(self) -> str:
        return self.skill_other if self.skill == OTHER else self.skill
