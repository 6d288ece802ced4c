"""Patients, their coverages and support network, and episodes of care."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import BaseModel
from openiop.programs import levels


class Patient(BaseModel):
    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        INTERSEX = "intersex", "Intersex"
        UNKNOWN = "unknown", "Unknown / not recorded"

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="patients")
    # The program the patient was registered into: who may see them before any episode exists.
    home_program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="registered_patients")
    mrn = models.CharField("MRN", max_length=32, editable=False)
    legal_first_name = models.CharField(max_length=100)
    legal_middle_name = models.CharField(max_length=100, blank=True)
    legal_last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField()
    sex_assigned_at_birth = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    gender_identity = models.CharField(max_length=60, blank=True)
    email = models.EmailField(blank=True)
    phone_mobile = models.CharField(max_length=40, blank=True)
    phone_home = models.CharField(max_length=40, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=40, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    preferred_language = models.CharField(max_length=60, default="English")
    interpreter_needed = models.BooleanField(default=False)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)
    deactivated_reason = models.CharField(max_length=200, blank=True)
    # Lower-cased copies for duplicate detection and search (indexed, portable across SQLite and PostgreSQL).
    search_first = models.CharField(max_length=100, editable=False, db_index=True)
    search_last = models.CharField(max_length=100, editable=False, db_index=True)

    class Meta:
        ordering = ["legal_last_name", "legal_first_name"]
        constraints = [models.UniqueConstraint(fields=["organization", "mrn"], name="patient_unique_mrn")]
        indexes = [models.Index(fields=["organization", "search_last", "search_first", "date_of_birth"])]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_first = self.legal_first_name.strip().lower()
        self.search_last = self.legal_last_name.strip().lower()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("patients:chart", args=[self.public_id])

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}"

    @property
    def legal_name(self) -> str:
        parts = [self.legal_first_name, self.legal_middle_name, self.legal_last_name]
        return " ".join(p for p in parts if p)

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())

    @property
    def has_preferred_name(self) -> bool:
        return bool(self.preferred_name) and self.preferred_name != self.legal_first_name


class Coverage(BaseModel):
    class PayerKind(models.TextChoices):
        MEDICARE = "medicare", "Medicare"
        MEDICAID = "medicaid", "Medicaid"
        COMMERCIAL = "commercial", "Commercial"
        TRICARE = "tricare", "TRICARE / VA"
        SELF_PAY = "self_pay", "Self-pay"
        OTHER = "other", "Other"

    class Relationship(models.TextChoices):
        SELF = "self", "Self"
        SPOUSE = "spouse", "Spouse / partner"
        CHILD = "child", "Child"
        OTHER = "other", "Other"

    class Priority(models.IntegerChoices):
        PRIMARY = 1, "Primary"
        SECONDARY = 2, "Secondary"
        TERTIARY = 3, "Tertiary"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="coverages")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.PRIMARY)
    # The payer claims go to (empty: not chosen yet, e.g. insurance typed on Book Now). When set, ``payer_name`` and
    # ``payer_kind`` are the payer's, copied by the action so lists and billing rules read them without a join.
    payer = models.ForeignKey("Payer", null=True, blank=True, on_delete=models.PROTECT, related_name="coverages")
    payer_kind = models.CharField(max_length=20, choices=PayerKind.choices, default=PayerKind.COMMERCIAL)
    payer_name = models.CharField(max_length=150)
    plan_name = models.CharField(max_length=150, blank=True)
    member_id = models.CharField(max_length=60)
    group_number = models.CharField(max_length=60, blank=True)
    subscriber_name = models.CharField(max_length=150, blank=True)
    subscriber_date_of_birth = models.DateField(null=True, blank=True)
    relationship_to_subscriber = models.CharField(
        max_length=10, choices=Relationship.choices, default=Relationship.SELF
    )
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-is_active", "priority"]

    def __str__(self) -> str:
        return f"{self.get_priority_display()}: {self.payer_name}"


class Payer(BaseModel):
    """A health plan the organization bills: who a coverage's claims go to, and how they are addressed to it.

    Configuration of the organization (not patient data), edited on the billing setup pages; the payer's rules for
    each program (claim type, codes) are billing's ``PayerProgramSetting``. Deactivated, never deleted: coverages and,
    later, claims point at it."""

    class ClaimFilingIndicator(models.TextChoices):
        # X12 5010 SBR09 (837I and 837P, loop 2000B), the codes an IOP bills with (docs/clinical-rules.md#payers).
        MEDICARE_A = "MA", "MA: Medicare Part A"
        MEDICARE_B = "MB", "MB: Medicare Part B"
        MEDICAID = "MC", "MC: Medicaid"
        COMMERCIAL = "CI", "CI: Commercial insurance"
        BLUE_CROSS = "BL", "BL: Blue Cross / Blue Shield"
        HMO = "HM", "HM: Health maintenance organization"
        HMO_MEDICARE_RISK = "16", "16: HMO Medicare risk (Medicare Advantage)"
        PPO = "12", "12: Preferred provider organization"
        POS = "13", "13: Point of service"
        EPO = "14", "14: Exclusive provider organization"
        INDEMNITY = "15", "15: Indemnity insurance"
        TRICARE = "CH", "CH: CHAMPUS (TRICARE)"
        VA = "VA", "VA: Veterans Affairs plan"
        FEDERAL_EMPLOYEES = "FI", "FI: Federal Employees Program"
        OTHER_FEDERAL = "OF", "OF: Other federal program"
        OTHER_NON_FEDERAL = "11", "11: Other non-federal program"
        WORKERS_COMP = "WC", "WC: Workers' compensation"
        UNKNOWN = "ZZ", "ZZ: Mutually defined / unknown"

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="payers")
    name = models.CharField(max_length=150)
    payer_id = models.CharField(
        "EDI payer ID",
        max_length=80,
        validators=[
            RegexValidator(
                r"^[A-Z0-9][A-Z0-9-]{1,79}$", "Use 2 to 80 capital letters, digits or hyphens, as the payer lists it."
            )
        ],
        help_text="The payer's electronic id from its or the clearinghouse's payer list (837 NM109 of the payer).",
    )
    kind = models.CharField("Payer type", max_length=20, choices=Coverage.PayerKind.choices)
    claim_filing_indicator = models.CharField(max_length=2, choices=ClaimFilingIndicator.choices)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(
        max_length=2, blank=True, validators=[RegexValidator(r"^[A-Z]{2}$", "Use the 2-letter state code.")]
    )
    postal_code = models.CharField(
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^\d{5}(-?\d{4})?$", "Use a 5-digit ZIP code or ZIP+4.")],
    )
    # 90 days is the shortest limit common among the payers an IOP bills (many commercial and Medicaid plans; Medicare
    # allows 12 months): a default that is too short warns early, one that is too long lets claims go stale.
    timely_filing_days = models.PositiveSmallIntegerField(
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Days after the date of service a claim must reach the payer (Medicare: 365).",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-is_active", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="payer_unique_name")]

    def __str__(self) -> str:
        return self.name


class SupportContact(BaseModel):
    class Relationship(models.TextChoices):
        PARENT = "parent", "Parent / guardian"
        PARTNER = "partner", "Spouse / partner"
        SIBLING = "sibling", "Sibling"
        CHILD = "child", "Adult child"
        RELATIVE = "relative", "Other relative"
        SPONSOR = "sponsor", "Sponsor"
        FRIEND = "friend", "Friend"
        OTHER = "other", "Other"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="support_contacts")
    name = models.CharField(max_length=150)
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    involved_in_treatment = models.BooleanField(default=False)
    notes = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-is_active", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relationship_display()})"


class EpisodeOfCare(BaseModel):
    class Status(models.TextChoices):
        WAITLIST = "waitlist", "Waitlist"
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        DISCHARGED = "discharged", "Discharged"

    class DischargeReason(models.TextChoices):
        # Coded to TEDS-D reason for discharge (docs/clinical-rules.md#discharge-reasons).
        COMPLETED = "1", "Completed treatment"
        DROPPED_OUT = "2", "Left against advice / dropped out"
        TERMINATED = "3", "Terminated by program"
        TRANSFERRED = "4", "Transferred to another program or level of care"
        INCARCERATED = "5", "Incarcerated"
        DEATH = "6", "Death"
        OTHER = "7", "Other"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="episodes")
    track = models.ForeignKey(
        "programs.Track", null=True, blank=True, on_delete=models.PROTECT, related_name="episodes"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.WAITLIST, db_index=True)
    waitlisted_on = models.DateField(null=True, blank=True)
    admitted_on = models.DateField(null=True, blank=True)
    expected_discharge_on = models.DateField(null=True, blank=True)
    discharged_on = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(max_length=2, choices=DischargeReason.choices, blank=True)
    primary_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="primary_episodes"
    )
    # The discharged episode this one readmits the patient after, when admitted within the readmission window.
    previous_episode = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="readmissions"
    )
    # The episode's holds as [[first day, last day or null while it lasts], ...] (ISO dates), written by the status
    # change: the dose engine owes no dose on those days. A list on the row, not a history table: the dose pages read
    # many episodes in a fixed number of queries, and holds are few.
    holds = models.JSONField(default=list, blank=True, editable=False)
    # The level of care the episode is at (a code of programs/levels.py): the program's when the episode opens, then
    # what a step down or up moved it to. ``level_history`` holds its periods once it has changed, oldest first, as
    # [{"from": ISO date, "level": code, "program": program public id, "dose_hours": "9.0", "reason": text}, ...]
    # (empty: never changed, the whole stay is at ``level_of_care`` in ``program``). On the row, like ``holds``,
    # so the dose engine reads the minimum in force each week for many episodes without a query.
    level_of_care = models.CharField(max_length=20, default="iop")
    level_history = models.JSONField(default=list, blank=True, editable=False)
    care_team: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CareTeamMember", related_name="care_team_episodes", blank=True
    )

    class Meta:
        ordering = ["-admitted_on", "-created_at"]
        indexes = [models.Index(fields=["program", "status"])]
        constraints = [
            # One open episode per patient per program; history is kept as discharged episodes.
            models.UniqueConstraint(
                fields=["patient", "program"],
                condition=~models.Q(status="discharged"),
                name="episode_one_open_per_program",
            )
        ]

    def __str__(self) -> str:
        return f"{self.program} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.DISCHARGED

    def week_of_stay(self, today: date) -> int | None:
        """The week of treatment ``today`` falls in (admission day starts week 1), for an open admitted episode."""
        if self.admitted_on is None or not self.is_open or self.status == self.Status.WAITLIST:
            return None
        return max((today - self.admitted_on).days, 0) // 7 + 1

    def on_hold_on(self, day: date) -> bool:
        """Whether ``day`` falls in one of the episode's holds (an open hold lasts until today and beyond)."""
        key = day.isoformat()
        return any(start <= key and (end is None or key <= end) for start, end in self.holds or [])

    def level_period_on(self, day: date) -> dict[str, Any] | None:
        """The ``level_history`` period in force on ``day`` (the first one for a day before it), None without one."""
        history = self.level_history or []
        if not history:
            return None
        key = day.isoformat()
        return next((p for p in reversed(history) if p["from"] <= key), history[0])

    def dose_hours_on(self, day: date) -> Decimal:
        """The weekly minimum of the level of care in force on ``day`` (docs/clinical-rules.md#level-of-care): the
        minimum recorded when an earlier period began, and the current program's (read live, so a program's change
        applies) for the current period or an episode whose level never changed."""
        period = self.level_period_on(day)
        if period is None or period is self.level_history[-1]:
            return self.program.weekly_dose_hours
        return Decimal(str(period["dose_hours"]))

    def level_on(self, day: date) -> str:
        period = self.level_period_on(day)
        return str(period["level"]) if period is not None else self.level_of_care

    @property
    def level_short(self) -> str:
        return levels.short_label(self.level_of_care)

    @property
    def level_label(self) -> str:
        return levels.label(self.level_of_care)

    def allowed_next_statuses(self) -> list[EpisodeOfCare.Status]:
        """Waitlist -> active admits; active <-> on hold; anything open may be discharged; discharged is final."""
        return list(EPISODE_TRANSITIONS[self.Status(self.status)])


EPISODE_TRANSITIONS: dict[EpisodeOfCare.Status, tuple[EpisodeOfCare.Status, ...]] = {
    EpisodeOfCare.Status.WAITLIST: (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.DISCHARGED),
    EpisodeOfCare.Status.ACTIVE: (EpisodeOfCare.Status.ON_HOLD, EpisodeOfCare.Status.DISCHARGED),
    EpisodeOfCare.Status.ON_HOLD: (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.DISCHARGED),
    EpisodeOfCare.Status.DISCHARGED: (),
}

# Which episode a list row or chart header calls "current": active first, then on hold, then waitlist.
_CURRENT_RANK = {
    EpisodeOfCare.Status.ACTIVE: 0,
    EpisodeOfCare.Status.ON_HOLD: 1,
    EpisodeOfCare.Status.WAITLIST: 2,
    EpisodeOfCare.Status.DISCHARGED: 3,
}


def current_episode(episodes: Iterable[EpisodeOfCare]) -> EpisodeOfCare | None:
    """The episode that describes where the patient is now; the latest one breaks ties within a status."""
    best: EpisodeOfCare | None = None
    for episode in episodes:
        if best is None or _episode_key(episode) < _episode_key(best):
            best = episode
    return best


def before_admission(patient: Patient, episodes: Iterable[EpisodeOfCare]) -> bool:
    """True while no episode (of those given) was ever admitted: waitlisted only, or none. The chart folds away
    tabs that have nothing to show yet (``ChartTab.hidden_when``)."""
    return not any(
        e.admitted_on is not None or e.status in (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD)
        for e in episodes
    )


def _episode_key(episode: EpisodeOfCare) -> tuple[int, int, float]:
    latest = episode.discharged_on or episode.admitted_on or episode.waitlisted_on or date.min
    created = episode.created_at.timestamp() if episode.created_at else 0.0
    return (_CURRENT_RANK.get(EpisodeOfCare.Status(episode.status), 9), -latest.toordinal(), -created)


def readmission_window_days() -> int:
    """Days after a discharge within which a new admission counts as a readmission (docs/clinical-rules.md)."""
    return int(settings.OPENIOP_DEFAULTS.get("readmission_window_days", 30))


class CareTeamMember(models.Model):
    class TeamRole(models.TextChoices):
        PRIMARY = "primary", "Primary clinician"
        THERAPIST = "therapist", "Therapist"
        PRESCRIBER = "prescriber", "Prescriber"
        CASE_MANAGER = "case_manager", "Case manager"
        PEER = "peer", "Peer support"
        OTHER = "other", "Other"

    episode = models.ForeignKey(EpisodeOfCare, on_delete=models.CASCADE, related_name="team_members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    team_role = models.CharField(max_length=20, choices=TeamRole.choices, default=TeamRole.THERAPIST)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["episode", "user"], name="care_team_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_team_role_display()})"


class EmergencyAccessGrant(BaseModel):
    """Break-the-glass: a staff member outside the patient's programs reads the chart, for a limited time.

    Read only, for ``expires_at - granted_at`` (``OPENIOP_DEFAULTS["emergency_access_minutes"]``); every chart read
    under it is audited as EMERGENCY_VIEWED, and it waits for a director or privacy officer to sign it off. The rules
    are in docs/clinical-rules.md#emergency-access-break-the-glass and ``patients/emergency.py``.
    ``reason`` and the Part 2 documentation are free text that may hold PHI: never logged, never audited.
    """

    class ReasonCategory(models.TextChoices):
        SAFETY_RISK = "safety_risk", "Imminent risk to the patient's or someone's safety"
        MEDICAL_EMERGENCY = "medical_emergency", "Medical emergency"
        CRISIS_CONTACT = "crisis_contact", "Crisis call or walk-in, treating team unreachable"
        OTHER = "other", "Other urgent clinical need"

    class Part2Basis(models.TextChoices):
        NONE = "", "No Part 2 records"
        CONSENT = "consent", "Active Part 2 consent"
        MEDICAL_EMERGENCY = "medical_emergency", "Medical emergency (42 CFR §2.51)"

    class Outcome(models.TextChoices):
        APPROPRIATE = "appropriate", "Appropriate"
        INAPPROPRIATE = "inappropriate", "Inappropriate"

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_grants")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="emergency_grants")
    reason_category = models.CharField(max_length=30, choices=ReasonCategory.choices)
    reason = models.TextField(max_length=1000)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # Part 2 records (an episode or home program in a substance-use program): on what basis they were opened.
    part2_basis = models.CharField(max_length=20, choices=Part2Basis.choices, blank=True)
    # 42 CFR §2.51(c): who received the records and their affiliation, who disclosed them (``user``), when
    # (``granted_at``) and the nature of the emergency.
    part2_recipient_name = models.CharField(max_length=200, blank=True)
    part2_recipient_affiliation = models.CharField(max_length=200, blank=True)
    part2_emergency_nature = models.TextField(max_length=1000, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    review_note = models.TextField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        verbose_name = "emergency access"
        indexes = [
            models.Index(fields=["user", "patient", "expires_at"]),
            models.Index(fields=["organization", "reviewed_at"]),
        ]

    def __str__(self) -> str:
        return f"emergency access {self.public_id}"

    def is_active(self, at: Any = None) -> bool:
        return self.granted_at <= (at or timezone.now()) < self.expires_at
