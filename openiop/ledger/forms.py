from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone

from openiop.core.forms import DateInput, StyledFormMixin
from openiop.ledger.models import LedgerEntry


class PaymentForm(StyledFormMixin, forms.Form):
    """A patient's payment, or (``refund`` ticked) money given back, with the reason."""

    amount = forms.DecimalField(label="Amount", min_value=Decimal("0.01"), max_digits=10, decimal_places=2)
    method = forms.ChoiceField(label="Method", choices=LedgerEntry.Method.choices)
    reference = forms.CharField(label="Reference", max_length=60, required=False, help_text="Check number, receipt.")
    on = forms.DateField(label="Date", widget=DateInput(), initial=timezone.localdate)
    refund = forms.BooleanField(label="This is a refund to the patient", required=False)
    reason = forms.CharField(label="Reason (refunds)", max_length=300, required=False)


class AdjustmentForm(StyledFormMixin, forms.Form):
    amount = forms.DecimalField(
        label="Amount", max_digits=10, decimal_places=2, help_text="Positive lowers the balance, negative raises it."
    )
    share = forms.ChoiceField(label="Of", choices=LedgerEntry.Share.choices)
    reason = forms.CharField(label="Reason", max_length=300)
    on = forms.DateField(label="Date", widget=DateInput(), initial=timezone.localdate)


class StatementForm(forms.Form):
    start = forms.DateField(required=False)
    end = forms.DateField(required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The end comes after the start.")
        return data
