"""Reminders: each patient's channel preferences and quiet hours, each program's reminder policy, and the outbox.

The outbox row (``Reminder``) is the unit of exactly-once delivery: one row per kind, thing reminded about, channel
and offset (``dedupe_key`` is unique), created by the planner ahead of time and claimed, sent and marked by the
sender one at a time. A row never holds the message itself: the text is rendered when it is sent, from the thing
it reminds about, so a moved session is announced at its new time and nothing clinical is stored twice.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message (SMS)"


class Kind(models.TextChoices):
    SESSION = "session", "Appointment"
    QUESTIONNAIRE = "questionnaire", "Questionnaire due"
    PLAN_SIGNATURE = "plan_signature", "Signature pending"
    FOLLOW_UP = "follow_up", "Follow-up check-in"


class ChangeSource(models.TextChoices):
    STAFF = "staff", "Staff, on the chart"
    PORTAL = "portal", "The patient, in the portal"


class ReminderPreference(BaseModel):
    """A patient's choices. No row means no reminders: each channel is opt-in, and its changes are kept in
    ``ChannelChange`` (who, when, from where). Quiet hours left empty use the program's (then the deployment's);
    a start equal to the end means no quiet hours at all."""

    patient = models.OneToOneField("patients.Patient", on_delete=models.PROTECT, related_name="reminder_preference")
    email_opt_in = models.BooleanField("Email reminders", default=False)
    sms_opt_in = models.BooleanField("Text message reminders", default=False)
    quiet_start = models.TimeField("Quiet hours from", null=True, blank=True)
    quiet_end = models.TimeField("Quiet hours until", null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | Q(quiet_start__isnull=False, quiet_end__isnull=False),
                name="reminder_quiet_hours_both_or_neither",
            )
        ]

    def __str__(self) -> str:
        return f"reminder preference {self.patient_id}"

    def opted_in(self, channel: str) -> bool:
        return self.email_opt_in if channel == Channel.EMAIL else self.sms_opt_in


class ChannelChange(BaseModel):
    """One opt-in or opt-out of one channel: the record of consent to be contacted, never edited."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="reminder_channel_changes")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    opted_in = models.BooleanField()
    source = models.CharField(max_length=10, choices=ChangeSource.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"{self.channel} {'in' if self.opted_in else 'out'}"


class ReminderPolicy(BaseModel):
    """A program's reminder rules. A program without a row uses settings.OPENIOP_DEFAULTS (read at call time);
    ``reminders.policy.policy_for(program)`` returns either."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="reminder_policy")
    session_offsets_hours = models.JSONField(
        default=list, help_text="Hours before a session when a reminder goes out, e.g. [24, 2]."
    )
    quiet_start = models.TimeField(help_text="Quiet hours for patients who chose none, in the program's time zone.")
    quiet_end = models.TimeField()
    day_time = models.TimeField(help_text="Local time of day for questionnaire and check-in reminders.")
    plan_signature_delay_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(0), MaxValueValidator(24 * 14)]
    )

    class Meta:
        verbose_name_plural = "reminder policies"

    def __str__(self) -> str:
        return f"reminder policy {self.program_id}"


class Reminder(BaseModel):
    """One reminder on one channel: the outbox row the planner creates and the sender claims."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DROPPED = "dropped", "Dropped"
        FAILED = "failed", "Failed"

    class DropReason(models.TextChoices):
        CANCELLED = "cancelled", "The appointment was cancelled"
        DONE = "done", "Already done"
        OPTED_OUT = "opted_out", "The patient opted out of this channel"
        NO_ADDRESS = "no_address", "No email address or mobile number on file"
        QUIET_HOURS = "quiet_hours", "Quiet hours last past the time it reminds about"
        TOO_LATE = "too_late", "The time it reminds about had passed"
        INACTIVE = "inactive", "The patient's record is inactive"
        SMS_DISABLED = "sms_disabled", "Text messages are not configured"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="reminders")
    # The program whose time zone, site and policy apply (the session's, or the episode's).
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # What it reminds about: a booking, an episode's questionnaires of one due date, a plan version, a follow-up.
    object_type = models.CharField(max_length=30)
    object_id = models.BigIntegerField()
    object_date = models.DateField(null=True, blank=True)
    offset_minutes = models.IntegerField(default=0)
    dedupe_key = models.CharField(max_length=120, unique=True)
    event_at = models.DateTimeField(null=True, blank=True, help_text="What it reminds about; never sent after it.")
    send_after = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.UUIDField(null=True, blank=True, default=None)
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    drop_reason = models.CharField(max_length=20, choices=DropReason.choices, blank=True)
    last_error = models.CharField(max_length=200, blank=True, help_text="The error's kind only; never content.")

    class Meta:
        ordering = ["-send_after", "-pk"]
        indexes = [
            models.Index(fields=["status", "send_after"]),
            models.Index(fields=["patient", "send_after"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="dropped") | ~Q(drop_reason=""), name="reminder_dropped_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(lease_until__isnull=False), name="reminder_sending_has_lease"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} reminder ({self.status})"

    @property
    def message_id(self) -> str:
        """The deterministic Message-ID: a duplicate delivery is recognisable downstream by it."""
        return f"<reminder.{self.public_id}@{message_id_domain()}>"


def message_id_domain() -> str:
    from email.utils import parseaddr

    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "localhost"


def new_claim_token() -> uuid.UUID:
    return uuid.uuid4()
