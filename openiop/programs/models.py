"""Organization, sites, programs and tracks."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from openiop.core.models import BaseModel
from openiop.programs import levels


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not a known IANA time zone (e.g. America/New_York).") from exc


class Organization(BaseModel):
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40, blank=True, help_text="Main number, shown beside crisis resources.")
    website = models.URLField(blank=True)
    mrn_prefix = models.CharField(max_length=8, default="IOP")
    next_mrn = models.PositiveIntegerField(default=1, editable=False)

    def __str__(self) -> str:
        return self.name


class Site(BaseModel):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=40, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="site_unique_name")]

    def __str__(self) -> str:
        return self.name


class Program(BaseModel):
    class Population(models.TextChoices):
        ADULT = "adult", "Adult"
        ADOLESCENT = "adolescent", "Adolescent"

    class Focus(models.TextChoices):
        MENTAL_HEALTH = "mental_health", "Mental health"
        SUBSTANCE_USE = "substance_use", "Substance use"
        CO_OCCURRING = "co_occurring", "Co-occurring"

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    focus = models.CharField(max_length=20, choices=Focus.choices, default=Focus.MENTAL_HEALTH)
    population = models.CharField(max_length=20, choices=Population.choices, default=Population.ADULT)
    # A code of the level-of-care catalog (programs/levels.py, OPENIOP_DEFAULTS["levels_of_care"]); not a choices
    # field, so a clinic's own list needs no migration. Checked by the actions.
    level_of_care = models.CharField(
        max_length=20,
        default=levels.default_code,
        help_text="The level of care the program runs; its minimum dose is that level's.",
    )
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    weekly_dose_hours = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("60"))],
        help_text="Minimum scheduled clinical hours per week (usually 9 for adults, 6 for adolescents).",
    )
    max_length_weeks = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(104)])
    group_size_cap = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100)])
    # Empty: the organization-wide lists in OPENIOP_DEFAULTS (docs/clinical-rules.md#scope-of-practice).
    signing_credentials = models.JSONField(
        default=list, blank=True, help_text="Credentials that may sign clinical documents on their own."
    )
    supervised_signing_credentials = models.JSONField(
        default=list, blank=True, help_text="Credentials that may sign when a supervisor co-signs."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="program_unique_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("programs:program_detail", args=[self.public_id])

    @property
    def organization_id(self) -> int:
        return self.site.organization_id

    @property
    def is_substance_use(self) -> bool:
        """42 CFR Part 2 applies to programs that treat substance use."""
        return self.focus in (self.Focus.SUBSTANCE_USE, self.Focus.CO_OCCURRING)

    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def now(self) -> datetime:
        from django.utils import timezone

        return timezone.now().astimezone(self.tz())

    @property
    def level_label(self) -> str:
        return levels.label(self.level_of_care)

    @property
    def level_short(self) -> str:
        return levels.short_label(self.level_of_care)

    @staticmethod
    def default_dose_hours(population: str, level_of_care: str = "") -> Decimal:
        """The level's own minimum for the population when the catalog sets one (PHP: 20 h), else the
        population's (9 adult, 6 adolescent: docs/clinical-rules.md#weekly-dose)."""
        level = levels.get(level_of_care) if level_of_care else None
        own = level.dose_hours_for(population) if level is not None else None
        if own is not None:
            return own
        defaults = settings.OPENIOP_DEFAULTS
        key = (
            "adolescent_weekly_dose_hours"
            if population == Program.Population.ADOLESCENT
            else ("adult_weekly_dose_hours")
        )
        return Decimal(str(defaults[key]))

    def apply_defaults(self) -> None:
        """Fill unset configuration from settings.OPENIOP_DEFAULTS and the site (read at call time)."""
        defaults = settings.OPENIOP_DEFAULTS
        if not self.time_zone and self.site_id:
            self.time_zone = self.site.time_zone
        if not self.level_of_care:
            self.level_of_care = levels.default_code()
        if self.weekly_dose_hours is None:
            self.weekly_dose_hours = self.default_dose_hours(self.population, self.level_of_care)
        if self.max_length_weeks is None:
            self.max_length_weeks = int(defaults["max_length_weeks"])
        if self.group_size_cap is None:
            self.group_size_cap = int(defaults["group_size_cap"])


WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class Track(BaseModel):
    class Kind(models.TextChoices):
        DAY = "day", "Day"
        EVENING = "evening", "Evening"
        WEEKEND = "weekend", "Weekend"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="tracks")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DAY)
    weekdays = models.JSONField(default=list, help_text="Weekday numbers, Monday = 0.")
    start_time = models.TimeField()
    end_time = models.TimeField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program__name", "start_time", "name"]
        constraints = [models.UniqueConstraint(fields=["program", "name"], name="track_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.schedule_label})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            errors["end_time"] = "The track must end after it starts."
        days = self.weekdays or []
        if not days:
            errors["weekdays"] = "Pick at least one weekday."
        elif any(not isinstance(d, int) or d < 0 or d > 6 for d in days) or len(set(days)) != len(days):
            errors["weekdays"] = "Weekdays must be distinct numbers from 0 (Monday) to 6 (Sunday)."
        if errors:
            raise ValidationError(errors)

    @property
    def hours_per_day(self) -> Decimal:
        start = self.start_time.hour * 60 + self.start_time.minute
        end = self.end_time.hour * 60 + self.end_time.minute
        return (Decimal(end - start) / Decimal(60)).quantize(Decimal("0.01"))

    @property
    def hours_per_week(self) -> Decimal:
        return self.hours_per_day * len(self.weekdays or [])

    @property
    def schedule_label(self) -> str:
        names = dict(WEEKDAYS)
        days = "/".join(names[d] for d in sorted(self.weekdays or []))
        return f"{days} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    @property
    def meets_dose(self) -> bool:
        return self.hours_per_week >= self.program.weekly_dose_hours
