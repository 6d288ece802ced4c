"""Consent pages: the chart's Consents tab, a form per kind with the signature pad, the consent page, written
revocation, the expiry event, and the audited downloads of the signed PDF and of an uploaded revocation.

Reading needs VIEW_PATIENTS (front desk and billing must know what may be shared); writing needs the kind's
capabilities (queries.WRITE_CAPS). Lookups are scoped to the user's programs: 404 outside them.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.consents import disclosures, storage
from openiop.consents.actions import do_record_consent, do_record_expiry_event, do_revoke_consent, do_store_signed_pdf
from openiop.consents.forms import ConsentForm, CopyForForm, DisclosureWindowForm, ExpiryEventForm, RevokeForm
from openiop.consents.models import Consent, ConsentKind, ConsentStatus, ExpiryKind
from openiop.consents.notices import REVOCATION_INSTRUCTIONS, SIGNATURE_ATTESTATION, STATEMENTS
from openiop.consents.pdf import document_context, render_disclosures_pdf
from openiop.consents.queries import REVOKE_CAPS, WRITE_CAPS, can_record, get_consent_for_user, patient_consents
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require, staff_view
from openiop.core.roles import Cap
from openiop.patients.emergency import grant_of
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_patient_for_user
from openiop.programs.models import Program


def _tab_url(patient: Patient) -> str:
    return f"{patient.get_absolute_url()}?tab=consents"


def consents_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for the chart's Consents tab (registered in consents/apps.py)."""
    user = request_user(request)
    now = timezone.now()
    rows = [(c, c.status_on(now)) for c in patient_consents(user, patient)]
    kinds = [(k.value, k.label) for k in ConsentKind if can_record(user, k.value)]
    if not any(p.is_substance_use for p in _patient_programs(user, patient)):
        # No substance-use program of the user's treats this patient: there is nothing to consent to under Part 2.
        kinds = [(value, label) for value, label in kinds if value != ConsentKind.PART2]
    # Emergency access reads only (patients/emergency.py): nothing to record under it.
    writable = patient.is_active and grant_of(patient) is None
    return {"consent_rows": rows, "consent_kinds": kinds if writable else []}


def _patient_programs(user: User, patient: Patient) -> Any:
    """Programs of the user where this patient is registered or has an episode: the possible disclosers."""
    return Program.objects.filter(
        Q(pk=patient.home_program_id) | Q(episodes__patient=patient), pk__in=program_ids_for(user)
    ).distinct()


@staff_view(Cap.VIEW_PATIENTS)
def new(request: HttpRequest, public_id: UUID, kind: str) -> HttpResponse:
    user = request_user(request)
    if kind not in WRITE_CAPS:
        raise Http404
    require(user, any_of=WRITE_CAPS[kind])
    patient = get_patient_for_user(user, public_id)
    programs = _patient_programs(user, patient).select_related("site")
    initial: dict[str, Any] = {"signer_name": patient.legal_name}
    first = programs.filter(pk=patient.home_program_id).first() or programs.first()
    if kind == ConsentKind.PART2:
        first = next((p for p in programs if p.is_substance_use), None)
    if first is not None:
        initial["program"] = first.public_id
    form = ConsentForm(
        request.POST if request.method == "POST" else None,
        kind=kind,
        patient=patient,
        programs=programs,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            consent = do_record_consent(
                patient, acting_user=user, kind=kind, signature=form.signature(), **form.action_fields()
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"{consent.get_kind_display()} signed and recorded.")
            return redirect("consents:detail", consent.public_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="consent_form")
    context = {
        "nav": "patients",
        "patient": patient,
        "form": form,
        "kind": ConsentKind(kind),
        "statement": STATEMENTS[kind],
        "attestation": SIGNATURE_ATTESTATION,
        "revocation_instructions": REVOCATION_INSTRUCTIONS,
        "cancel_url": _tab_url(patient),
    }
    return render(request, "consents/form.html", context)


@staff_view(Cap.VIEW_PATIENTS)
def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    consent = get_consent_for_user(user, public_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=consent.patient, obj=consent)
    return render(request, "consents/detail.html", _detail_context(user, consent))


def _detail_context(user: User, consent: Consent, **forms: Any) -> dict[str, Any]:
    can_revoke = any(user.can(c) for c in REVOKE_CAPS)
    status = consent.status
    return {
        "nav": "patients",
        **document_context(consent),
        "status": status,
        "can_revoke": can_revoke and status == ConsentStatus.ACTIVE,
        "can_mark_event": can_revoke and status == ConsentStatus.ACTIVE and consent.expiry_kind == ExpiryKind.EVENT,
        "revoke_form": forms.get("revoke_form") or RevokeForm(),
        "event_form": forms.get("event_form") or ExpiryEventForm(initial={"occurred_on": timezone.localdate()}),
    }


@staff_view(Cap.VIEW_PATIENTS, any_of=REVOKE_CAPS)
def revoke(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    consent = get_consent_for_user(user, public_id, REVOKE_CAPS)
    form = RevokeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            do_revoke_consent(
                consent,
                acting_user=user,
                statement=form.cleaned_data["revocation_statement"],
                document=form.cleaned_data["revocation_document"],
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Revocation recorded: nothing more is shared under this consent.")
            return redirect("consents:detail", consent.public_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=consent.patient, obj=consent)
    status = 422 if request.method == "POST" else 200
    return render(request, "consents/detail.html", _detail_context(user, consent, revoke_form=form), status=status)


@require_POST
@staff_view(Cap.VIEW_PATIENTS, any_of=REVOKE_CAPS)
def expiry_event(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    consent = get_consent_for_user(user, public_id, REVOKE_CAPS)
    form = ExpiryEventForm(request.POST)
    if form.is_valid():
        try:
            do_record_expiry_event(consent, acting_user=user, occurred_on=form.cleaned_data["occurred_on"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Recorded: the consent has expired.")
            return redirect("consents:detail", consent.public_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=consent.patient, obj=consent)
    return render(request, "consents/detail.html", _detail_context(user, consent, event_form=form), status=422)


def _private_file(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _integrity_failure(request: HttpRequest, consent: Consent) -> HttpResponse:
    messages.error(request, "The stored copy does not match its checksum; tell your system administrator.")
    return redirect("consents:detail", consent.public_id)


@staff_view(Cap.VIEW_PATIENTS)
def pdf(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The signed copy (rendered now if the signing-time render did not happen, e.g. for seeded demo data)."""
    user = request_user(request)
    consent = get_consent_for_user(user, public_id)
    if not consent.pdf_sha256:
        consent = do_store_signed_pdf(consent)
    data = storage.read(consent.pdf_name)
    if data is None or storage.sha256(data) != consent.pdf_sha256:
        return _integrity_failure(request, consent)
    audit.record(
        action=AuditAction.EXPORTED, acting_user=user, patient=consent.patient, obj=consent, changed_fields=["pdf"]
    )
    day = timezone.localtime(consent.signed_at, consent.program.tz()).date()
    return _private_file(data, "application/pdf", f"consent-{consent.kind}-{day:%Y-%m-%d}.pdf")


@staff_view(Cap.VIEW_PATIENTS)
def revocation_document(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    consent = get_consent_for_user(user, public_id)
    if not consent.revocation_document_name:
        raise Http404
    data = storage.read(consent.revocation_document_name)
    if data is None or storage.sha256(data) != consent.revocation_document_sha256:
        return _integrity_failure(request, consent)
    audit.record(
        action=AuditAction.EXPORTED,
        acting_user=user,
        patient=consent.patient,
        obj=consent,
        changed_fields=["revocation_document"],
    )
    extension = consent.revocation_document_type.rsplit("/", 1)[1]
    return _private_file(data, consent.revocation_document_type, f"revocation.{extension}")


# --- Accounting of disclosures ------------------------------------------------------------------------------------


def _window(request: HttpRequest) -> tuple[DisclosureWindowForm, date, date]:
    form = DisclosureWindowForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    start, end = disclosures.window_of(data.get("start"), data.get("end"))
    return form, start, end


def disclosures_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for the chart's Disclosures tab (registered in consents/apps.py): the accounting, between dates."""
    form, start, end = _window(request)
    rows = list(disclosures.disclosures_for_user(request_user(request), patient, start=start, end=end))
    return {"window_form": form, "disclosure_rows": rows, "start": start, "end": end}


@staff_view(Cap.VIEW_CLINICAL)
def disclosures_pdf(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The accounting of disclosures as a PDF to give the patient (45 CFR §164.528, 42 CFR §2.24)."""
    user = request_user(request)
    patient = get_patient_for_user(user, public_id)
    form, start, end = _window(request)
    if form.errors:
        return HttpResponse("Check the dates.", status=400, content_type="text/plain")
    rows = list(disclosures.disclosures_for_user(user, patient, start=start, end=end))
    data = render_disclosures_pdf(disclosures.list_context(patient, rows, start, end))
    audit.record(
        action=AuditAction.EXPORTED, acting_user=user, patient=patient, object_type="disclosures",
        changed_fields=["pdf"],
    )  # fmt: skip
    return _private_file(data, "application/pdf", f"disclosures-{start:%Y%m%d}-{end:%Y%m%d}.pdf")


def copy_form(request: HttpRequest, patient: Patient) -> CopyForForm:
    """The "copy for" chooser next to a PDF link (the PDF views read what it sends)."""
    return CopyForForm(initial={"to": ""}, choices=disclosures.copy_choices(patient, request_user(request)))


def copy_refused(request: HttpRequest, patient: Patient, refusal: disclosures.CopyRefused) -> HttpResponse:
    """The page a refused printed copy answers with: 400 (unknown recipient) or 403 with the consent check's reason."""
    context = {"nav": "patients", "patient": patient, "reason": refusal.reason}
    return render(request, "consents/copy_refused.html", context, status=refusal.status)
