"""Portal accounts: the login a patient or a support-network contact uses, and the invitation that creates it.

A portal login is an ``accounts.User`` with no organization and no role, so it holds no staff capability and
every staff page answers 403 to it. What it may see is decided here: a patient account sees its own patient, a
family account sees what an active release to its support contact names (``consents.checks.may_disclose``),
checked on every request.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from openiop.core.models import BaseModel


class AccountKind(models.TextChoices):
    PATIENT = "patient", "Patient"
    FAMILY = "family", "Family / support person"


class PortalAccount(BaseModel):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="portal_account")
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    # Always the patient whose record the account reads: the patient themself, or the one who named the contact.
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="portal_accounts")
    contact = models.ForeignKey(
        "patients.SupportContact", null=True, blank=True, on_delete=models.PROTECT, related_name="portal_accounts"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="patient", contact__isnull=True) | models.Q(kind="family", contact__isnull=False)
                ),
                name="portal_account_kind_contact",
            ),
            # One patient login per patient; one family login per contact.
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(kind="patient"), name="portal_one_patient_account"
            ),
            models.UniqueConstraint(
                fields=["contact"], condition=models.Q(kind="family"), name="portal_one_family_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} portal account"


class Invitation(BaseModel):
    """An emailed link that lets someone create their portal login. Only the token's SHA-256 is stored."""

    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="portal_invitations")
    contact = models.ForeignKey(
        "patients.SupportContact", null=True, blank=True, on_delete=models.PROTECT, related_name="portal_invitations"
    )
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    account = models.ForeignKey(
        PortalAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="invitations"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # A re-send issues a new token (the old one is unknowable, only its hash is kept) and a new expiry.
    last_sent_at = models.DateTimeField(null=True, blank=True)
    # Not stored: set by the action's send on commit when the mail server failed, for the page's message.
    mail_failed: bool = False

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} invitation"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.withdrawn_at is None

    def usable_at(self, now: datetime | None = None) -> bool:
        return self.is_pending and self.expires_at > (now or timezone.now())

    @property
    def state_label(self) -> str:
        if self.accepted_at is not None:
            return "Accepted"
        if self.withdrawn_at is not None:
            return "Withdrawn"
        return "Pending" if self.usable_at() else "Expired"


class PortalPolicy(BaseModel):
    """What a program lets patients do from the portal. A program without a row uses settings.OPENIOP_DEFAULTS
    (read at call time); ``portal.policy.policy_for(program)`` returns either."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="portal_policy")
    makeup_booking = models.BooleanField(
        default=True, help_text="Patients may book the make-up sessions suggested for a week short of its dose."
    )
    self_booking = models.BooleanField(
        default=False, help_text="Patients may book open individual sessions (a free seat, kind individual)."
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="How many days ahead patients may book.",
    )
    cancel_notice_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MaxValueValidator(168)],
        help_text="Patients may cancel online until this many hours before a session; after that they call.",
    )

    class Meta:
        verbose_name_plural = "portal policies"

    def __str__(self) -> str:
        return f"portal policy {self.program_id}"
