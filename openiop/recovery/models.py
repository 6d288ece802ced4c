"""Recovery supports: the mutual-help meetings a patient goes to, their recovery capital check-ins (where the
program turns them on), and the program's setting for both.

Every row belongs to the patient and one episode of care, so staff see it only through that episode's program (a
substance-use program's rows stay with its staff, 42 CFR Part 2). The patient writes them in the portal; staff read
them on the chart's Recovery supports tab. The sponsor is a ``patients.SupportContact`` with the relationship
"sponsor", not a row here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class MeetingKind(models.TextChoices):
    AA = "aa", "Alcoholics Anonymous (AA)"
    NA = "na", "Narcotics Anonymous (NA)"
    SMART = "smart", "SMART Recovery"
    REFUGE = "refuge", "Refuge Recovery"
    CELEBRATE = "celebrate", "Celebrate Recovery"
    OTHER = "other", "Other"


class MeetingMode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    ONLINE = "online", "Online"


class MeetingAttendance(BaseModel):
    """One mutual-help meeting the patient went to (self-reported)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="meetings")
    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="meetings")
    met_on = models.DateField("Date")
    kind = models.CharField("Meeting", max_length=10, choices=MeetingKind.choices)
    kind_other = models.CharField("Which meeting (if other)", max_length=120, blank=True)
    mode = models.CharField(max_length=10, choices=MeetingMode.choices, default=MeetingMode.IN_PERSON)
    note = models.TextField(blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-met_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(kind="other") | ~Q(kind_other=""), name="meeting_other_named"),
        ]
        indexes = [models.Index(fields=["patient", "met_on"])]

    def __str__(self) -> str:
        return f"meeting {self.public_id}"

    @property
    def kind_label(self) -> str:
        return self.kind_other if self.kind == MeetingKind.OTHER else self.get_kind_display()

    @property
    def staff_entered(self) -> bool:
        """Logged by a staff member (a meeting the patient reported in session): a portal login has no staff role."""
        return bool(self.entered_by.role)


# The clinic-defined recovery capital domains (after Cloud & Granfield 2008), each rated 1-5 by the patient. Not a
# validated instrument: no total and no cut-off is claimed (docs/clinical-rules.md#recovery-supports).
CAPITAL_DOMAINS: tuple[tuple[str, str, str], ...] = (
    ("social", "Social", "People around me who support my recovery"),
    ("physical", "Physical", "A safe place to live, money and the basics I need"),
    ("human", "Personal", "My health, skills and hope for the future"),
    ("cultural", "Community", "A community, values or faith that support my recovery"),
)
DOMAIN_KEYS = tuple(key for key, _, _ in CAPITAL_DOMAINS)


def _rating() -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])


class CapitalCheckIn(BaseModel):
    """A recovery capital self-rating: each domain 1 (very little) to 5 (a lot)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="capital_check_ins")
    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="capital_check_ins")
    taken_on = models.DateField()
    social = _rating()
    physical = _rating()
    human = _rating()
    cultural = _rating()
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-taken_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(**{f"{k}__gte": 1, f"{k}__lte": 5}), name=f"capital_{k}_1_5")
            for k in DOMAIN_KEYS
        ]
        indexes = [models.Index(fields=["patient", "taken_on"])]

    def __str__(self) -> str:
        return f"capital check-in {self.public_id}"

    def ratings(self) -> list[tuple[str, int]]:
        return [(label, getattr(self, key)) for key, label, _ in CAPITAL_DOMAINS]


class RecoveryPolicy(BaseModel):
    """A program's recovery capital check-ins: off unless the program turns them on, and how often they are due."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="recovery_policy")
    capital_check_ins = models.BooleanField("Recovery capital check-ins", default=False)
    capital_every_days = models.PositiveSmallIntegerField(
        "Every (days)", default=14, validators=[MinValueValidator(7), MaxValueValidator(90)]
    )

    class Meta:
        verbose_name_plural = "recovery policies"

    def __str__(self) -> str:
        return f"recovery policy {self.program_id}"
