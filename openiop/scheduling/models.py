"""The program calendar: session types, rooms, staff availability, closures, groups, recurring series,
concrete sessions, bookings, enrollments, waitlists, the education curriculum and calendar feed tokens.

Times: a series stores the program-local wall-clock start (``start_time``) and an RFC 5545 RRULE; expansion
turns each occurrence into an aware UTC ``Session.starts_at`` in the program's time zone, so 09:00 stays 09:00
across daylight-saving changes.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from openiop.core.models import BaseModel


class SessionType(BaseModel):
    class Kind(models.TextChoices):
        PROCESS_GROUP = "process_group", "Process group"
        SKILLS_GROUP = "skills_group", "Skills group"
        EDUCATION = "education", "Education workshop"
        INDIVIDUAL = "individual", "Individual counseling"
        FAMILY = "family", "Family session"
        INTAKE_ASSESSMENT = "intake_assessment", "Intake assessment"
        PSYCHIATRIC = "psychiatric", "Psychiatric / medication visit"

    class ServiceKind(models.TextChoices):
        # Used by billing later (90853 group, 90832-90837 individual, 90846/90847 family, S9480/H0015 per diem).
        GROUP_PSYCHOTHERAPY = "group_psychotherapy", "Group psychotherapy"
        INDIVIDUAL_PSYCHOTHERAPY = "individual_psychotherapy", "Individual psychotherapy"
        FAMILY_PSYCHOTHERAPY = "family_psychotherapy", "Family psychotherapy"
        PSYCHOEDUCATION = "psychoeducation", "Patient education"
        ASSESSMENT = "assessment", "Assessment"
        MEDICATION_MANAGEMENT = "medication_management", "Medication management"

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        TELEHEALTH = "telehealth", "Telehealth (video)"
        HYBRID = "hybrid", "Hybrid"

    GROUP_KINDS = frozenset({Kind.PROCESS_GROUP, Kind.SKILLS_GROUP, Kind.EDUCATION, Kind.FAMILY})

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="session_types")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    service_kind = models.CharField(max_length=30, choices=ServiceKind.choices)
    default_duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    required_credentials = models.JSONField(
        default=list, blank=True, help_text="Facilitator must hold one of these (e.g. LCSW, LPC); empty = any."
    )
    capacity = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Empty: the program's group cap for groups, 1 for individual visits.",
    )
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.IN_PERSON)
    counts_toward_dose = models.BooleanField(default=True)
    # What a claim listing each service bills for it (billing.services): empty means the code follows from the
    # service kind and the minutes attended (90853, 90832/90834/90837, 90847, 90791).
    procedure_code = models.CharField(
        "Procedure code",
        max_length=5,
        blank=True,
        validators=[RegexValidator(r"^[A-Z0-9]{5}$", "A CPT or HCPCS code is 5 letters or digits, e.g. 90853.")],
        help_text="CPT or HCPCS billed for each attended service when a payer is billed per service. Empty: from "
        "the service kind and the minutes attended.",
    )
    revenue_code = models.CharField(
        max_length=4,
        blank=True,
        validators=[RegexValidator(r"^\d{4}$", "A revenue code is 4 digits, e.g. 0915.")],
        help_text="Institutional per-service lines (e.g. 0914 individual, 0915 group, 0916 family, 0942 education). "
        "Empty: the payer setting's IOP revenue code.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "name"]
        constraints = [models.UniqueConstraint(fields=["program", "name"], name="sessiontype_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_group(self) -> bool:
        return self.kind in self.GROUP_KINDS

    def effective_capacity(self) -> int:
        if self.capacity:
            return self.capacity
        return self.program.group_size_cap if self.is_group else 1


class Room(BaseModel):
    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=100)
    capacity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="room_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.site.name})"


class StaffAvailability(models.Model):
    """A weekly window when a staff member can facilitate, in the site's local time."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability")
    site = models.ForeignKey("programs.Site", on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)])
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["user", "weekday", "start_time"]

    def __str__(self) -> str:
        return f"{self.user} day {self.weekday} {self.start_time}-{self.end_time}"


class StaffTimeOff(BaseModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=100, blank=True, help_text="Shown to schedulers; no health details.")

    class Meta:
        ordering = ["starts_at"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="timeoff_ends_after")]

    def __str__(self) -> str:
        return f"{self.user} off {self.starts_at:%Y-%m-%d}"


class Closure(BaseModel):
    """A holiday or site closure: sessions that day are skipped, or moved to ``move_to``."""

    class Action(models.TextChoices):
        SKIP = "skip", "Skip the sessions"
        MOVE = "move", "Move them to another day"

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="closures")
    site = models.ForeignKey(
        "programs.Site",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="closures",
        help_text="Empty: every site.",
    )
    date = models.DateField()
    name = models.CharField(max_length=100)
    action = models.CharField(max_length=4, choices=Action.choices, default=Action.SKIP)
    move_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.name} {self.date}"


class CurriculumTopic(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="curriculum")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    sequence = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "sequence", "name"]
        constraints = [models.UniqueConstraint(fields=["program", "name"], name="topic_unique_name")]

    def __str__(self) -> str:
        return self.name


class Group(BaseModel):
    """A therapy cohort inside a track (FHIR Group), e.g. "Day Process Group A"; its series give it sessions."""

    track = models.ForeignKey("programs.Track", on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(max_length=100)
    capacity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    is_open = models.BooleanField(default=True, help_text="Rolling admission: new members may join.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["track", "name"]
        constraints = [models.UniqueConstraint(fields=["track", "name"], name="group_unique_name")]

    def __str__(self) -> str:
        return self.name


class SessionSeries(BaseModel):
    """A recurring block of a track template, expanded into Sessions with its RRULE in the program's zone."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="series")
    track = models.ForeignKey("programs.Track", null=True, blank=True, on_delete=models.PROTECT, related_name="series")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT, related_name="series")
    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="series")
    title = models.CharField(max_length=120, blank=True)
    rrule = models.CharField(max_length=300, help_text="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR")
    starts_on = models.DateField()
    until = models.DateField(null=True, blank=True)
    start_time = models.TimeField(help_text="Program-local wall-clock time.")
    duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(5), MaxValueValidator(480)])
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT, related_name="series")
    facilitators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="facilitated_series", blank=True)
    capacity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    mode = models.CharField(max_length=12, choices=SessionType.Mode.choices, default=SessionType.Mode.IN_PERSON)
    video_link = models.URLField(blank=True)
    rotates_curriculum = models.BooleanField(default=False)
    previous = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The series this one continues after a 'this and following' edit.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "starts_on", "start_time"]
        verbose_name_plural = "session series"

    def __str__(self) -> str:
        return self.title or self.session_type.name


class Session(BaseModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="sessions")
    track = models.ForeignKey(
        "programs.Track", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions")
    series = models.ForeignKey(SessionSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions")
    # The occurrence's original program-local start, identifying it within its series even after a move.
    occurrence = models.DateTimeField(null=True, blank=True)
    detached = models.BooleanField(default=False, help_text="Edited on its own; series edits leave it alone.")
    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="sessions")
    title = models.CharField(max_length=120, blank=True)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions")
    facilitators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="facilitated_sessions", blank=True)
    capacity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    # Seats taken, kept by the booking actions with a conditional UPDATE so a seat is claimed atomically.
    booked_count = models.PositiveSmallIntegerField(default=0)
    mode = models.CharField(max_length=12, choices=SessionType.Mode.choices, default=SessionType.Mode.IN_PERSON)
    video_link = models.URLField(blank=True)
    topic = models.ForeignKey(CurriculumTopic, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["program", "starts_at"]),
            models.Index(fields=["room", "starts_at"]),
            models.Index(fields=["track", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"),
            models.CheckConstraint(condition=Q(booked_count__lte=F("capacity")), name="session_not_overbooked"),
            models.UniqueConstraint(fields=["series", "occurrence"], name="session_unique_occurrence"),
        ]

    def __str__(self) -> str:
        return f"{self.title or self.session_type.name} {self.starts_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("scheduling:session", args=[self.public_id])

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def free_seats(self) -> int:
        return max(self.capacity - self.booked_count, 0)


class Booking(BaseModel):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        ENROLLMENT = "enrollment", "Track enrollment"
        STAFF = "staff", "Booked by staff"
        PORTAL = "portal", "Booked by the patient"
        MAKEUP = "makeup", "Make-up session"
        WAITLIST = "waitlist", "From the waitlist"

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="bookings")
    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="bookings")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="bookings")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.STAFF)
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["session__starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "patient"], condition=Q(status="booked"), name="booking_one_seat_per_patient"
            ),
        ]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"booking {self.public_id}"


class Enrollment(BaseModel):
    """An episode's membership of a track (and its groups) from a date; moving tracks ends one, starts another."""

    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="enrollments")
    track = models.ForeignKey("programs.Track", on_delete=models.PROTECT, related_name="enrollments")
    groups = models.ManyToManyField(Group, related_name="enrollments", blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode"], condition=Q(ends_on__isnull=True), name="enrollment_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"enrollment {self.public_id}"


class WaitlistEntry(BaseModel):
    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Seat offered"
        ACCEPTED = "accepted", "Accepted"
        WITHDRAWN = "withdrawn", "Withdrawn"

    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="waitlist_entries")
    track = models.ForeignKey(
        "programs.Track", null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist"
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist")
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(track__isnull=False) | Q(group__isnull=False) | Q(session__isnull=False),
                name="waitlist_names_a_target",
            ),
        ]

    def __str__(self) -> str:
        return f"waitlist {self.public_id}"


class CalendarFeed(BaseModel):
    """A secret, revocable iCalendar feed URL for a patient or a staff member. Only the token's hash is kept."""

    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="calendar_feeds"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    detailed = models.BooleanField(
        default=False, help_text="Opted in to session names; by default events say only 'Session at <site>'."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(patient__isnull=False) & Q(user__isnull=True))
                | (Q(patient__isnull=True) & Q(user__isnull=False)),
                name="feed_has_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"calendar feed {self.public_id}"


class PlacementRequest(BaseModel):
    """What the placement optimizer needs to know about a person waiting for a track: when they can come
    (weekly windows in program-local time, around work or school) and what they would rather have."""

    episode = models.OneToOneField("patients.EpisodeOfCare", on_delete=models.CASCADE, related_name="placement_request")
    # [[weekday, "HH:MM", "HH:MM"], ...], weekday 0 = Monday.
    availability = models.JSONField(default=list, blank=True)
    preferred_kind = models.CharField(max_length=10, blank=True, help_text="Preferred track kind, if any.")

    def __str__(self) -> str:
        return f"placement request {self.public_id}"
