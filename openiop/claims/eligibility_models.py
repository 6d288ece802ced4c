"""Eligibility checks: one 270 inquiry about one coverage, and the payer's 271 answer once it comes back.

Kept in the claims app beside the X12 files and control counters it uses (both files are ``X12File`` rows, kinds
270 and 271). ``result`` holds what the 271 said about the person asked about, as read by ``claims.eligibility``:
JSON with amounts as strings and dates as ISO strings, so the page shows it without reading the file again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from openiop.core.models import BaseModel

# X12File.kind values of the eligibility files (X12File.Kind.ELIGIBILITY_270 / _271).
KIND_270 = "270"  # X12File.Kind.ELIGIBILITY_270
KIND_271 = "271"


class EligibilityCheck(BaseModel):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"  # the 270 is written, waiting for the 271
        ANSWERED = "answered", "Answered"  # a 271 answered it (active or not)
        ERROR = "error", "Error"  # the payer could not answer (AAA rejection)

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    coverage = models.ForeignKey("patients.Coverage", on_delete=models.PROTECT, related_name="eligibility_checks")
    payer = models.ForeignKey("patients.Payer", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # TRN02 of the 270: the 271 echoes it (TRN*2), which is how an answer finds its check.
    trace_number = models.CharField(max_length=30)
    service_types = models.JSONField(default=list)
    request_file = models.ForeignKey("claims.X12File", on_delete=models.PROTECT, related_name="+")
    response_file = models.ForeignKey(
        "claims.X12File", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result = models.JSONField(default=dict, blank=True)
    dates_applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["coverage", "-requested_at"])]
        constraints = [
            models.UniqueConstraint(fields=["organization", "trace_number"], name="eligibility_unique_trace")
        ]

    def __str__(self) -> str:
        return f"eligibility check {self.public_id}"
