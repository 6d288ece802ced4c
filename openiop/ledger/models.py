"""What the ledger owns: the patient's own payments and refunds, and billing's manual adjustments, as append-only
rows. Charges, insurance payments, write-offs and patient responsibility are not copied here: they are read from
the claims app's rows (submitted claims, posted 835 claim payments) when the ledger is shown (ledger.py), so the
two can never disagree and claims never needs to know the ledger exists."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class LedgerEntry(BaseModel):
    """One money movement recorded by a person. Never edited or deleted: a mistake is put right by a refund or an
    opposite adjustment, each with its reason, so the statement a patient was given can always be rebuilt."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Patient payment"
        REFUND = "refund", "Refund to the patient"
        ADJUSTMENT = "adjustment", "Adjustment"

    class Method(models.TextChoices):
        CASH = "cash", "Cash"
        CARD = "card", "Card"
        CHECK = "check", "Check"

    class Share(models.TextChoices):
        PATIENT = "patient", "The patient's share"
        INSURANCE = "insurance", "The insurance share"

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Signed as it reaches the patient's account: a payment and an adjustment that lowers the balance are positive,
    # a refund (money back to the patient) negative, an adjustment that raises the balance negative.
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    method = models.CharField(max_length=5, choices=Method.choices, blank=True)
    reference = models.CharField(max_length=60, blank=True, help_text="Check number, card receipt, ...")
    on = models.DateField(help_text="The day the money moved.")
    reason = models.CharField(max_length=300, blank=True, help_text="Required for refunds and adjustments.")
    share = models.CharField(max_length=9, choices=Share.choices, blank=True, help_text="Adjustments only.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["patient", "on", "pk"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["patient", "on"])]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_not_zero"),
            models.CheckConstraint(
                condition=Q(kind="adjustment") | ~Q(method=""), name="ledger_entry_payment_has_method"
            ),
            models.CheckConstraint(condition=Q(kind="payment") | ~Q(reason=""), name="ledger_entry_says_why"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only: record a refund or an opposite adjustment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Ledger entries are append-only.")
