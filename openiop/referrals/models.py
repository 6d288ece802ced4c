"""Referrals: first contact through admission (Book Now, the pipeline, intake slots, documents)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.deconstruct import deconstructible

from openiop.core.models import BaseModel
from openiop.patients.models import Coverage, SupportContact


class Referral(BaseModel):
    class Source(models.TextChoices):
        SELF = "self", "Self (phone or walk-in)"
        BOOK_NOW = "book_now", "Book Now (website)"
        INPATIENT = "inpatient", "Inpatient step-down"
        THERAPIST = "therapist", "Outpatient therapist"
        PHYSICIAN = "physician", "Physician"
        EAP = "eap", "Employee assistance program"
        COURT = "court", "Court / legal"
        FAMILY = "family", "Family member"

    class Stage(models.TextChoices):
        INQUIRY = "inquiry", "Inquiry"
        SCREENING = "screening", "Screening"
        SCHEDULED = "scheduled", "Assessment scheduled"
        ASSESSED = "assessed", "Assessed"
        ADMITTED = "admitted", "Admitted"
        WAITLISTED = "waitlisted", "Waitlisted"
        REFERRED_ELSEWHERE = "referred_elsewhere", "Referred elsewhere"
        DECLINED = "declined", "Declined"
        NO_RESPONSE = "no_response", "No response"

    class Contact(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"

    class ScreenResult(models.TextChoices):
        NOT_SCREENED = "", "Not screened"
        LIKELY_FIT = "likely_fit", "Likely fit"
        REVIEW = "review", "Needs review"

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="referrals")
    program = models.ForeignKey(
        "programs.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.INQUIRY, db_index=True)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    preferred_contact = models.CharField(max_length=10, choices=Contact.choices, default=Contact.PHONE)
    # Insurance as the person gave it; it becomes a Coverage only once intake checks it.
    payer_kind = models.CharField(max_length=20, choices=Coverage.PayerKind.choices, blank=True)
    payer_name = models.CharField(max_length=150, blank=True)
    member_id = models.CharField(max_length=60, blank=True)
    prescreen = models.JSONField(default=dict, blank=True)
    prescreen_result = models.CharField(max_length=12, choices=ScreenResult.choices, blank=True)
    referrer_name = models.CharField(max_length=150, blank=True)
    referrer_organization = models.CharField(max_length=150, blank=True)
    referrer_phone = models.CharField(max_length=40, blank=True)
    # Who to call in an emergency, as the person gave it; registering the patient makes it a support contact.
    emergency_name = models.CharField(max_length=150, blank=True)
    emergency_relationship = models.CharField(max_length=20, choices=SupportContact.Relationship.choices, blank=True)
    emergency_phone = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    episode = models.ForeignKey(
        "patients.EpisodeOfCare", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    outcome_reason = models.CharField(max_length=300, blank=True)
    # Set at admission when the patient left an episode within the readmission window.
    is_readmission = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)
    admitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["organization", "stage"]),
            models.Index(fields=["program", "stage"]),
        ]

    def __str__(self) -> str:
        return f"referral {self.public_id}"

    def get_absolute_url(self) -> str:
        return reverse("referrals:detail", args=[self.public_id])

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def is_professional(self) -> bool:
        return self.source in PROFESSIONAL_SOURCES

    def days_in_stage(self, now: datetime | None = None) -> int:
        return ((now or timezone.now()) - self.stage_changed_at).days

    def allowed_next_stages(self) -> list[Referral.Stage]:
        return list(STAGE_TRANSITIONS[self.Stage(self.stage)])


S = Referral.Stage
OPEN_STAGES = (S.INQUIRY, S.SCREENING, S.SCHEDULED, S.ASSESSED, S.WAITLISTED)
CLOSED_STAGES = (S.ADMITTED, S.REFERRED_ELSEWHERE, S.DECLINED, S.NO_RESPONSE)
# Stages that need a word on why (kept in outcome_reason).
REASON_REQUIRED = (S.REFERRED_ELSEWHERE, S.DECLINED)
PROFESSIONAL_SOURCES = (
    Referral.Source.INPATIENT,
    Referral.Source.THERAPIST,
    Referral.Source.PHYSICIAN,
    Referral.Source.EAP,
    Referral.Source.COURT,
)
# Where a stage may go by hand. "Scheduled" is reached by booking a slot and "admitted" only by do_admit; the
# closed outcomes can be reopened into screening (people call back).
STAGE_TRANSITIONS: dict[Referral.Stage, tuple[Referral.Stage, ...]] = {
    S.INQUIRY: (S.SCREENING, S.REFERRED_ELSEWHERE, S.DECLINED, S.NO_RESPONSE),
    S.SCREENING: (S.WAITLISTED, S.REFERRED_ELSEWHERE, S.DECLINED, S.NO_RESPONSE),
    S.SCHEDULED: (S.ASSESSED, S.SCREENING, S.REFERRED_ELSEWHERE, S.DECLINED, S.NO_RESPONSE),
    S.ASSESSED: (S.WAITLISTED, S.REFERRED_ELSEWHERE, S.DECLINED, S.NO_RESPONSE),
    S.WAITLISTED: (S.SCREENING, S.REFERRED_ELSEWHERE, S.DECLINED, S.NO_RESPONSE),
    S.ADMITTED: (),
    S.REFERRED_ELSEWHERE: (S.SCREENING,),
    S.DECLINED: (S.SCREENING,),
    S.NO_RESPONSE: (S.SCREENING,),
}
# Stages from which booking an intake slot moves the referral to "assessment scheduled".
SCHEDULABLE_STAGES = (S.INQUIRY, S.SCREENING, S.SCHEDULED, S.WAITLISTED, S.NO_RESPONSE)
ADMITTABLE_STAGES = (S.ASSESSED, S.WAITLISTED)


class ReferralStageChange(models.Model):
    """One move between stages; the board's days in stage and referral-to-admission time come from these."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Referral.Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Referral.Stage.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["changed_at", "pk"]
        indexes = [models.Index(fields=["to_stage", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.from_stage or 'new'} -> {self.to_stage}"


class IntakeSlot(BaseModel):
    """A published time for an intake assessment. Seats are claimed by a conditional UPDATE of booked_count."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="intake_slots")
    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="intake_slots")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="intake_slots"
    )
    capacity = models.PositiveSmallIntegerField(default=1)
    booked_count = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["program", "is_published", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="intakeslot_ends_after_start"),
            models.CheckConstraint(condition=Q(booked_count__lte=F("capacity")), name="intakeslot_not_overbooked"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="intakeslot_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"intake slot {self.public_id}"

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked_count, 0)

    def local_start(self) -> datetime:
        return timezone.localtime(self.starts_at, self.program.tz())

    def local_end(self) -> datetime:
        return timezone.localtime(self.ends_at, self.program.tz())

    @property
    def label(self) -> str:
        start = self.local_start()
        return f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M}-{self.local_end():%H:%M}"


def hash_manage_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class IntakeAppointment(BaseModel):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"
        RESCHEDULED = "rescheduled", "Rescheduled"
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "No-show"

    class Source(models.TextChoices):
        BOOK_NOW = "book_now", "Book Now"
        STAFF = "staff", "Staff"

    slot = models.ForeignKey(IntakeSlot, on_delete=models.PROTECT, related_name="appointments")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="appointments")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED, db_index=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STAFF)
    # SHA-256 of the secret in the emailed cancel/reschedule link; the secret itself is never stored.
    manage_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rescheduled_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="rescheduled_from"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["slot__starts_at", "pk"]
        constraints = [
            # One live appointment per referral: a second booking is a reschedule.
            models.UniqueConstraint(
                fields=["referral"], condition=Q(status="booked"), name="intakeappointment_one_booked"
            )
        ]

    def __str__(self) -> str:
        return f"intake appointment {self.public_id}"


@deconstructible
class PrivateStorage(FileSystemStorage):
    """Files under VAR_DIR/private: outside MEDIA_ROOT and STATIC_ROOT, so no URL ever serves them directly.

    The location is read at call time (never at import), so tests and deployments can move VAR_DIR.
    """

    def __init__(self, subdir: str = "") -> None:
        self.subdir = subdir
        super().__init__()

    @property
    def base_location(self) -> str:
        return str(Path(settings.VAR_DIR) / "private" / self.subdir)

    @property
    def location(self) -> str:
        return str(Path(self.base_location).resolve())

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no URL; serve them through an access-checked view.")


def _document_path(instance: ReferralDocument, filename: str) -> str:
    # A random name: the original (which may hold a patient's name) is kept only in the database.
    return f"{timezone.now():%Y/%m}/{instance.public_id.hex}.pdf"


referral_storage = PrivateStorage("referrals")


class ReferralDocument(BaseModel):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="documents")
    file = models.FileField(storage=referral_storage, upload_to=_document_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, default="application/pdf")
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"document {self.public_id}"

    def get_absolute_url(self) -> str:
        return reverse("referrals:document", args=[self.public_id])


class CrisisStopCount(models.Model):
    """How many Book Now visits stopped at the crisis page, per organization and day: a number, nobody's data."""

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "day"], name="crisisstop_one_per_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.count}"


def slot_summary(slot: IntakeSlot) -> dict[str, Any]:
    """What the public pages and the email say about a slot: when and where, nothing about the program."""
    site = slot.site
    address = ", ".join(p for p in (site.address_line1, site.city, site.state) if p)
    return {"when": slot.label, "site": site.name, "address": address}
