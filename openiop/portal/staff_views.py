"""Staff side of the portal: the chart's Portal access section (registered in ``portal/apps.py``),
inviting a patient or a support contact, re-sending and withdrawing invitations, turning a portal login off and
on, and a program's portal policy.

Role first (403), then the patient among the user's programs (404 outside them). Writes redirect back to the
chart's Portal tab with a message; an invitation that cannot be sent re-renders its form with the reason.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core.forms import add_action_errors
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.patients.models import EpisodeOfCare, Patient, SupportContact
from openiop.patients.queries import get_contact_for_user, get_patient_for_user, patients_for_user
from openiop.portal import actions
from openiop.portal.forms import InviteForm, PortalPolicyForm
from openiop.portal.models import Invitation, PortalAccount
from openiop.portal.policy import policy_for
from openiop.portal.queries import portal_access
from openiop.programs.models import Program
from openiop.programs.queries import managed_program_ids

TAB_SLUG = "portal"


def _tab_url(patient: Patient) -> str:
    return f"{patient.get_absolute_url()}?tab={TAB_SLUG}"


def portal_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for the chart's Portal access tab (the chart audits the view)."""
    return {
        "portal_access": portal_access(patient),
        "portal_can_manage": request_user(request).can(Cap.EDIT_DEMOGRAPHICS),
    }


def _invite_page(
    request: HttpRequest, patient: Patient, form: InviteForm, *, contact: SupportContact | None
) -> HttpResponse:
    return render(
        request,
        "portal/staff/invite.html",
        {"nav": "patients", "patient": patient, "contact": contact, "form": form, "back_url": _tab_url(patient)},
    )


def _sent(request: HttpRequest, invitation: Invitation) -> None:
    until = date_format(timezone.localtime(invitation.expires_at), "M j, Y")
    if invitation.mail_failed:
        # The invitation is made; only its email failed (the mail server is down or refused it).
        messages.warning(
            request,
            f"Invitation created for {invitation.email}, but the email could not be sent now. Press Resend once "
            "mail works again; it sends a new link.",
        )
        return
    messages.success(request, f"Invitation sent to {invitation.email}. The link works until {until}.")


@staff_view(Cap.EDIT_DEMOGRAPHICS)
def invite_patient(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_DEMOGRAPHICS)
    form = InviteForm(request.POST if request.method == "POST" else None, initial={"email": patient.email})
    if form.is_valid():
        try:
            invitation, _ = actions.do_invite_patient(patient, acting_user=user, email=form.cleaned_data["email"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            _sent(request, invitation)
            return redirect(_tab_url(patient))
    return _invite_page(request, patient, form, contact=None)


@staff_view(Cap.EDIT_DEMOGRAPHICS)
def invite_contact(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    contact = get_contact_for_user(user, public_id, Cap.EDIT_DEMOGRAPHICS)
    form = InviteForm(request.POST if request.method == "POST" else None, initial={"email": contact.email})
    if form.is_valid():
        try:
            invitation, _ = actions.do_invite_contact(contact, acting_user=user, email=form.cleaned_data["email"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            _sent(request, invitation)
            return redirect(_tab_url(contact.patient))
    return _invite_page(request, contact.patient, form, contact=contact)


def _invitation_for_user(user: User, public_id: UUID) -> Invitation:
    return get_object_or_404(
        Invitation.objects.filter(patient__in=patients_for_user(user)).select_related("patient"), public_id=public_id
    )


def _account_for_user(user: User, public_id: UUID) -> PortalAccount:
    return get_object_or_404(
        PortalAccount.objects.filter(patient__in=patients_for_user(user)).select_related("patient"),
        public_id=public_id,
    )


@require_POST
@staff_view(Cap.EDIT_DEMOGRAPHICS)
def invitation_resend(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    invitation = _invitation_for_user(user, public_id)
    try:
        invitation, _ = actions.do_resend_invitation(invitation, acting_user=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _sent(request, invitation)
    return redirect(_tab_url(invitation.patient))


@require_POST
@staff_view(Cap.EDIT_DEMOGRAPHICS)
def invitation_withdraw(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    invitation = actions.do_withdraw_invitation(_invitation_for_user(user, public_id), acting_user=user)
    messages.success(request, "Invitation withdrawn; its link no longer works.")
    return redirect(_tab_url(invitation.patient))


def _set_active(request: HttpRequest, public_id: UUID, active: bool) -> HttpResponse:
    user = request_user(request)
    account = _account_for_user(user, public_id)
    try:
        actions.do_set_portal_access(account, acting_user=user, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Portal login turned on." if active else "Portal login turned off.")
    return redirect(_tab_url(account.patient))


@require_POST
@staff_view(Cap.EDIT_DEMOGRAPHICS)
def account_deactivate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _set_active(request, public_id, False)


@require_POST
@staff_view(Cap.EDIT_DEMOGRAPHICS)
def account_reactivate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _set_active(request, public_id, True)


@staff_view(Cap.MANAGE_PROGRAMS)
def program_policy(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """What the program's patients may do from the portal: book make-ups or individual sessions, how far ahead,
    and until when they may cancel online."""
    user = request_user(request)
    program = get_object_or_404(
        Program.objects.select_related("site").filter(pk__in=managed_program_ids(user)), public_id=public_id
    )
    form = PortalPolicyForm(request.POST if request.method == "POST" else None, instance=policy_for(program))
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_set_portal_policy(
                program, acting_user=user, **{name: form.cleaned_data[name] for name in PortalPolicyForm.Meta.fields}
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Portal settings saved.")
            return redirect("portal:program_policy", program.public_id)
    return render(request, "portal/staff/program_policy.html", {"nav": "admin", "program": program, "form": form})
