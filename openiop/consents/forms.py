"""Forms for consents: one form for every kind (the scope fields only for Part 2 consents and releases),
with the e-signature fields, and the written revocation. They validate input; consents.actions writes."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from openiop.consents.actions import MAX_REVOCATION_DOCUMENT_BYTES, SignatureInput
from openiop.consents.models import (
    DISCLOSURE_KINDS,
    ConsentKind,
    DataClass,
    ExpiryKind,
    Purpose,
    RecipientKind,
    RedisclosureForm,
    Signature,
)
from openiop.core.forms import DateInput, StyledFormMixin
from openiop.patients.models import Patient, SupportContact
from openiop.programs.models import Program

SCOPE_FIELDS = (
    "information_description", "data_classes", "recipient_kind", "recipient_contact", "recipient_name",
    "recipient_organization", "purposes", "purpose_other", "expiry_kind", "expires_on", "expiry_event",
    "redisclosure_form",
)  # fmt: skip


class ConsentForm(StyledFormMixin, forms.Form):
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(), to_field_name="public_id", empty_label=None, label="Program (discloser)"
    )
    information_description = forms.CharField(
        label="Information to be disclosed, described explicitly",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text="For example: attendance dates and whether I am taking part in the Adult Substance Use IOP.",
    )
    data_classes = forms.MultipleChoiceField(
        label="Kinds of information", choices=DataClass.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    recipient_kind = forms.ChoiceField(
        label="Recipient", choices=RecipientKind.choices, required=False, widget=forms.RadioSelect
    )
    recipient_contact = forms.ModelChoiceField(
        queryset=SupportContact.objects.none(), to_field_name="public_id", required=False, label="Support contact"
    )
    recipient_name = forms.CharField(label="Provider's name (person)", required=False, max_length=150)
    recipient_organization = forms.CharField(label="Provider's organization", required=False, max_length=200)
    purposes = forms.MultipleChoiceField(
        label="Purpose", choices=Purpose.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    purpose_other = forms.CharField(label="Other purpose", required=False, max_length=300)
    expiry_kind = forms.ChoiceField(
        label="Expiry", choices=ExpiryKind.choices, initial=ExpiryKind.DATE, widget=forms.RadioSelect
    )
    expires_on = forms.DateField(label="Expires after", required=False, widget=DateInput())
    expiry_event = forms.CharField(label="Expires when", required=False, max_length=200)
    redisclosure_form = forms.ChoiceField(
        label="Redisclosure notice sent with each disclosure",
        choices=RedisclosureForm.choices,
        initial=RedisclosureForm.SHORT,
        widget=forms.RadioSelect,
    )
    signer_name = forms.CharField(label="Signer's full name (typed)", max_length=150)
    signer_relationship = forms.ChoiceField(
        label="Signer", choices=Signature.SignerRelationship.choices, initial=Signature.SignerRelationship.SELF
    )
    signature_method = forms.ChoiceField(
        label="How the patient signs", choices=Signature.Method.choices, initial=Signature.Method.DRAWN,
        widget=forms.RadioSelect,
    )  # fmt: skip
    drawn_image = forms.CharField(required=False, widget=forms.HiddenInput)
    agreed = forms.BooleanField(label="I have read this form, my questions were answered, and I sign it.")

    def __init__(self, *args: Any, kind: str, patient: Patient, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.patient = patient
        if kind == ConsentKind.PART2:
            programs = programs.filter(focus__in=[Program.Focus.SUBSTANCE_USE, Program.Focus.CO_OCCURRING])
        cast(forms.ModelChoiceField, self.fields["program"]).queryset = programs
        contacts = patient.support_contacts.filter(is_active=True).order_by("name")
        cast(forms.ModelChoiceField, self.fields["recipient_contact"]).queryset = contacts
        if kind not in DISCLOSURE_KINDS:
            for name in SCOPE_FIELDS:
                del self.fields[name]
        else:
            if kind == ConsentKind.RELEASE:
                del self.fields["redisclosure_form"]
                recipient = cast(forms.ChoiceField, self.fields["recipient_kind"])
                recipient.choices = [c for c in RecipientKind.choices if c[0] != RecipientKind.TPO_GENERAL]
                classes = cast(forms.ChoiceField, self.fields["data_classes"])
                classes.choices = [
                    (DataClass.ALL_RECORDS.value, "All records (except counseling notes)") if v == DataClass.ALL_RECORDS
                    else (v, label) for v, label in DataClass.choices
                ]  # fmt: skip
            else:
                self.fields["information_description"].required = True

    @property
    def has_scope(self) -> bool:
        return self.kind in DISCLOSURE_KINDS

    def signature(self) -> SignatureInput:
        d = self.cleaned_data
        return SignatureInput(
            signer_name=d["signer_name"],
            method=d["signature_method"],
            agreed=bool(d["agreed"]),
            drawn_image=d.get("drawn_image") or "",
            signer_relationship=d["signer_relationship"],
        )

    def action_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        fields: dict[str, Any] = {"program": d["program"]}
        if self.has_scope:
            for name in SCOPE_FIELDS:
                if name in self.fields:
                    fields[name] = d.get(name)
            fields["data_classes"] = d.get("data_classes") or []
            fields["purposes"] = d.get("purposes") or []
            for name in (
                "information_description",
                "recipient_name",
                "recipient_organization",
                "purpose_other",
                "expiry_event",
                "recipient_kind",
                "redisclosure_form",
            ):
                if name in fields:
                    fields[name] = fields[name] or ""
        return fields


class RevokeForm(StyledFormMixin, forms.Form):
    revocation_statement = forms.CharField(
        label="The patient's written revocation",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="Copy the words of the signed note, or upload it below.",
    )
    revocation_document = forms.FileField(label="Signed statement (PDF, PNG or JPEG, up to 5 MB)", required=False)

    def clean_revocation_document(self) -> bytes | None:
        upload = self.cleaned_data.get("revocation_document")
        if not upload:
            return None
        if upload.size > MAX_REVOCATION_DOCUMENT_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        return cast(bytes, upload.read())


class ExpiryEventForm(StyledFormMixin, forms.Form):
    occurred_on = forms.DateField(label="The event happened on", widget=DateInput())


class DisclosureWindowForm(StyledFormMixin, forms.Form):
    """The dates of the accounting of disclosures (both optional: the whole lookback)."""

    start = forms.DateField(required=False, label="From", widget=DateInput)
    end = forms.DateField(required=False, label="To", widget=DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The end date is before the start date.")
        return data


class CopyForForm(StyledFormMixin, forms.Form):
    """Who a printed copy is for. Empty: the clinic's own file, not a disclosure. Choices are built per patient
    (``disclosures.copy_choices``); values travel in the query string and carry ids, never names."""

    to = forms.ChoiceField(required=False, label="Copy for")
    purpose = forms.ChoiceField(required=False, label="Purpose", choices=Purpose.choices, initial=Purpose.TREATMENT)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["to"]).choices = choices
