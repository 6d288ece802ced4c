"""Staff accounts, their role and the programs they belong to."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models

from openiop.core.roles import Cap, Role, capabilities_for


class User(AbstractUser):
    """A staff member. Accounts are deactivated, never deleted (the audit trail points at them)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "programs.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    role = models.CharField(max_length=30, choices=Role.choices, blank=True)
    credentials = models.CharField(max_length=60, blank=True, help_text="e.g. LCSW, LPC, LADC, MD, PhD")
    title = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    supervisor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervisees",
        help_text="Co-signs notes and plans of a supervised clinician.",
    )
    # Any: Program lives in openiop.programs, which sits above accounts (the string reference keeps it that way).
    programs: models.ManyToManyField[Any, ProgramMembership] = models.ManyToManyField(
        "programs.Program", through="ProgramMembership", related_name="staff"
    )

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.credentials}" if self.credentials else name

    @property
    def capabilities(self) -> frozenset[Cap]:
        if not self.is_active:
            return frozenset()
        return capabilities_for(self.role)

    def can(self, cap: Cap) -> bool:
        return cap in self.capabilities

    @property
    def needs_cosignature(self) -> bool:
        return self.role == Role.SUPERVISED_CLINICIAN


class ProgramMembership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="memberships")
    since = models.DateField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "program"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.program}"
