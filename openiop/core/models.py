"""Base model and the audit trail."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class BaseModel(models.Model):
    """Public UUID for URLs and the API (never the integer id) plus timestamps."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditAction(models.IntegerChoices):
    """Stable numbered event codes: never renumber, only add."""

    LOGIN = 100, "Logged in"
    LOGIN_FAILED = 101, "Login failed"
    LOGOUT = 102, "Logged out"
    LOCKED_OUT = 103, "Locked out"
    SESSION_EXPIRED = 104, "Session expired"
    MFA_ENROLLED = 110, "MFA enrolled"
    MFA_VERIFIED = 111, "MFA verified"
    MFA_FAILED = 112, "MFA code rejected"
    MFA_RESET = 113, "MFA reset"
    PASSWORD_CHANGED = 120, "Password changed"
    CHART_VIEWED = 200, "Chart viewed"
    RECORD_VIEWED = 201, "Record viewed"
    PATIENTS_LISTED = 202, "Patient list viewed"
    PATIENTS_SEARCHED = 203, "Patients searched"
    EXPORTED = 210, "Exported"
    CREATED = 300, "Created"
    UPDATED = 301, "Updated"
    DEACTIVATED = 302, "Deactivated"
    REACTIVATED = 303, "Reactivated"
    STATUS_CHANGED = 304, "Status changed"
    CONFIG_CHANGED = 400, "Configuration changed"
    STAFF_CHANGED = 410, "Staff account changed"
    AUDIT_VIEWED = 500, "Audit report viewed"
    AUDIT_EXPORTED = 501, "Audit report exported"
    # Break-the-glass (patients/emergency.py): every chart read under an emergency grant is EMERGENCY_VIEWED, not
    # CHART_VIEWED / RECORD_VIEWED, so the audit report can list them on their own.
    EMERGENCY_ACCESS_GRANTED = 600, "Emergency access granted"
    EMERGENCY_VIEWED = 601, "Chart viewed under emergency access"
    EMERGENCY_ACCESS_REVIEWED = 602, "Emergency access reviewed"


class AuditEvent(models.Model):
    """One append-only, hash-chained audit row.

    Holds who, when, which patient, what action on what kind of record, and from where; never the record's
    content, cookies or tokens (changed_fields lists field names only). ``chain_index`` is assigned under the
    row lock on AuditChainHead, so the chain order is the commit order, not the auto-increment order.
    """

    chain_index = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    organization_id_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.PositiveSmallIntegerField(choices=AuditAction.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    changed_fields = models.JSONField(default=list, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)
    # Which AUDIT_HMAC_KEYS entry keyed row_hash; LEGACY_KEY_ID for rows written before the chain was keyed.
    key_id = models.CharField(max_length=32)

    class Meta:
        ordering = ["chain_index"]
        indexes = [
            models.Index(fields=["patient", "occurred_at"]),
            models.Index(fields=["actor", "occurred_at"]),
            models.Index(fields=["object_type", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"#{self.chain_index} {self.get_action_display()} {self.object_type}"


class AuditChainHead(models.Model):
    """A single row: the last chain position and hash. Locking it orders every audit write.

    Database triggers (core migration 0005) let it move only one row forward, onto the row just appended.
    """

    last_index = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head at {self.last_index}"
