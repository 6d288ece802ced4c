"""Portal writes: invitations and the accounts they create, portal access, the program's portal policy, and the
patient's own bookings, cancellations and second factor. Atomic and audited; emails leave on commit.

An invitation's token is returned once (to the email) and only its SHA-256 is kept, as for questionnaire links.
The email names the organization and nothing else: not the program (a program's name can say "substance use",
42 CFR Part 2), not a diagnosis, not a session.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.roles import Cap
from openiop.patients.models import Patient, SupportContact
from openiop.portal.models import AccountKind, Invitation, PortalAccount, PortalPolicy
from openiop.portal.policy import POLICY_FIELDS, default_policy, invitation_lifetime, policy_for
from openiop.programs.models import Program
from openiop.scheduling.actions import booking as booking_actions
from openiop.scheduling.models import Booking, Session

logger = logging.getLogger(__name__)

TOKEN_MAX = 100
PORTAL_CANCEL_REASON = "Cancelled by the patient in the portal"
IDEMPOTENCY_PREFIX = "portal:"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('portal:invite', args=[token])}"


def _require_staff(user: User, cap: Cap = Cap.EDIT_DEMOGRAPHICS) -> None:
    # Views check the capability and the patient's scope first; this keeps the action safe for any other caller.
    if not user.can(cap):
        raise PermissionDenied


# --- Invitations --------------------------------------------------------------------------------------------------


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    if not email:
        return ""
    from django.core.validators import validate_email

    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}) from None
    return email


def _withdraw_pending(queryset: Any, *, acting_user: User, now: datetime) -> None:
    for old in queryset.filter(accepted_at__isnull=True, withdrawn_at__isnull=True).select_for_update():
        old.withdrawn_at = now
        old.save(update_fields=["withdrawn_at", "updated_at"])
        audit.record(
            action=AuditAction.STATUS_CHANGED,
            acting_user=acting_user,
            patient=old.patient,
            obj=old,
            changed_fields=["withdrawn_at"],
        )


def _create_invitation(
    *, kind: str, patient: Patient, contact: SupportContact | None, email: str, acting_user: User, notify: bool
) -> tuple[Invitation, str]:
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        kind=kind,
        patient=patient,
        contact=contact,
        email=email,
        token_hash=hash_token(token),
        expires_at=now + invitation_lifetime(),
        invited_by=acting_user,
        last_sent_at=now,
    )
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=patient,
        obj=invitation,
        changed_fields=["kind", "email", "expires_at", *(["contact"] if contact else [])],
    )
    if notify:
        _email_on_commit(invitation, token)
    return invitation, token


@transaction.atomic
def do_invite_patient(
    patient: Patient, *, acting_user: User, email: str = "", notify: bool = True
) -> tuple[Invitation, str]:
    """Email the patient a link to make their portal login; returns (invitation, token). An earlier pending
    invitation stops working. ``email`` defaults to the patient's address on file; ``notify=False`` sends nothing
    (the demo seed, which accepts the invitation itself)."""
    _require_staff(acting_user)
    patient = Patient.objects.select_for_update().select_related("organization").get(pk=patient.pk)
    address = _clean_email(email) or patient.email
    if not patient.is_active:
        raise ValidationError({"patient": "This record is deactivated; reactivate it before inviting."})
    if not address:
        raise ValidationError({"email": "Add the patient's email address (Demographics) or type one here."})
    if PortalAccount.objects.filter(patient=patient, kind=AccountKind.PATIENT).exists():
        raise ValidationError({"patient": "The patient already has a portal login (reactivate it if it is off)."})
    now = timezone.now()
    _withdraw_pending(
        Invitation.objects.filter(patient=patient, kind=AccountKind.PATIENT), acting_user=acting_user, now=now
    )
    return _create_invitation(
        kind=AccountKind.PATIENT, patient=patient, contact=None, email=address, acting_user=acting_user, notify=notify
    )


@transaction.atomic
def do_invite_contact(
    contact: SupportContact, *, acting_user: User, email: str = "", notify: bool = True
) -> tuple[Invitation, str]:
    """Email a support contact a link to make a family login. What the login shows is decided on every request by
    the patient's releases (``consents.checks.may_disclose``), not here."""
    _require_staff(acting_user)
    contact = SupportContact.objects.select_for_update().select_related("patient__organization").get(pk=contact.pk)
    address = _clean_email(email) or contact.email
    if not contact.is_active or not contact.patient.is_active:
        raise ValidationError({"contact": "This contact (or the patient's record) is deactivated."})
    if not address:
        raise ValidationError({"email": "Add the contact's email address (Contacts) or type one here."})
    if PortalAccount.objects.filter(contact=contact, kind=AccountKind.FAMILY).exists():
        raise ValidationError({"contact": "This contact already has a family login (reactivate it if it is off)."})
    now = timezone.now()
    _withdraw_pending(
        Invitation.objects.filter(contact=contact, kind=AccountKind.FAMILY), acting_user=acting_user, now=now
    )
    return _create_invitation(
        kind=AccountKind.FAMILY,
        patient=contact.patient,
        contact=contact,
        email=address,
        acting_user=acting_user,
        notify=notify,
    )


def _locked_invitation(invitation: Invitation) -> Invitation:
    # Locks the invitation row only: the contact is an outer join, which PostgreSQL cannot lock.
    return Invitation.objects.select_for_update(of=("self",)).select_related("patient", "contact").get(pk=invitation.pk)


@transaction.atomic
def do_resend_invitation(invitation: Invitation, *, acting_user: User) -> tuple[Invitation, str]:
    """Send a pending (or expired) invitation again with a new link and a new expiry; the old link stops working."""
    _require_staff(acting_user)
    invitation = _locked_invitation(invitation)
    if not invitation.is_pending:
        raise ValidationError({"invitation": f"This invitation is {invitation.state_label.lower()}."})
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
    invitation.expires_at = now + invitation_lifetime()
    invitation.last_sent_at = now
    invitation.save(update_fields=["token_hash", "expires_at", "last_sent_at", "updated_at"])
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=acting_user,
        patient=invitation.patient,
        obj=invitation,
        changed_fields=["token_hash", "expires_at", "last_sent_at"],
    )
    _email_on_commit(invitation, token)
    return invitation, token


@transaction.atomic
def do_withdraw_invitation(invitation: Invitation, *, acting_user: User) -> Invitation:
    _require_staff(acting_user)
    invitation = _locked_invitation(invitation)
    if invitation.is_pending:
        _withdraw_pending(Invitation.objects.filter(pk=invitation.pk), acting_user=acting_user, now=timezone.now())
        invitation.refresh_from_db()
    return invitation


def find_invitation(token: str, *, now: datetime | None = None) -> Invitation | None:
    """The usable invitation for ``token``: unknown, used, withdrawn, expired, or for a deactivated record all give
    None, so every such link answers the same 404."""
    if not token or len(token) > TOKEN_MAX:
        return None
    invitation = (
        Invitation.objects.select_related("patient__organization", "contact")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None or not invitation.usable_at(now) or not invitation.patient.is_active:
        return None
    if invitation.contact is not None and not invitation.contact.is_active:
        return None
    return invitation


def _email_on_commit(invitation: Invitation, token: str) -> None:
    """Send once the invitation is committed. A mail server that is down or refuses must not fail the staff
    request that already made the invitation: the failure is logged (the invitation's id and the error's class,
    never the address) and marked on the instance (``mail_failed``) so the page says to press Resend, which
    makes a new link, once mail works again. The token itself is never stored anywhere to retry with."""
    invitation.mail_failed = False

    def send() -> None:
        try:
            send_invitation(invitation.pk, token)
        except Exception as exc:  # any SMTP or connection failure
            invitation.mail_failed = True
            logger.warning(
                "invitation email not sent: invitation=%s error=%s", invitation.public_id, type(exc).__name__
            )

    transaction.on_commit(send)


def send_invitation(invitation_id: int, token: str) -> None:
    """The invitation email: the organization's name, the link and its expiry. Nothing about care."""
    invitation = Invitation.objects.select_related("patient__organization").get(pk=invitation_id)
    organization = invitation.patient.organization
    context = {
        "organization": organization,
        "url": invitation_url(token),
        "expires_at": invitation.expires_at,
        "family": invitation.kind == AccountKind.FAMILY,
    }
    subject = f"Your invitation from {organization.name}"
    body = render_to_string("portal/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email], fail_silently=False)


def suggested_username(invitation: Invitation) -> str:
    """The invited email address, lower-cased, unless someone already has it as a username."""
    candidate = invitation.email.strip().lower()[:150]
    if not User.objects.filter(username__iexact=candidate).exists():
        return candidate
    return ""


def _check_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": "Choose a username."})
    try:
        User.username_validator(username)
    except ValidationError:
        raise ValidationError(
            {"username": "Use letters, digits and @ . + - _ only (an email address works)."}
        ) from None
    if len(username) > 150:
        raise ValidationError({"username": "Use at most 150 characters."})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "That username is taken; choose another."})
    return username


@transaction.atomic
def do_accept_invitation(invitation: Invitation, *, username: str, password: str) -> PortalAccount:
    """Create the login and its portal account from a usable invitation, which is then used up.

    The login has no organization and no role, so it holds no staff capability.
    """
    invitation = _locked_invitation(invitation)
    if not invitation.usable_at(timezone.now()):
        raise ValidationError({"invitation": "This invitation link no longer works; ask the clinic for a new one."})
    username = _check_username(username)
    patient = invitation.patient
    if invitation.kind == AccountKind.PATIENT:
        first_name, last_name = patient.preferred_name or patient.legal_first_name, patient.legal_last_name
    else:
        first_name, last_name = (invitation.contact.name if invitation.contact else "")[:150], ""
    user = User(username=username, email=invitation.email, first_name=first_name[:150], last_name=last_name[:150])
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            account = PortalAccount.objects.create(
                user=user, kind=invitation.kind, patient=patient, contact=invitation.contact
            )
    except IntegrityError:
        # A concurrent acceptance took the username, or another invitation already made this person's login.
        raise ValidationError(
            {"username": "That username was just taken, or this login already exists; try another username."}
        ) from None
    invitation.accepted_at = timezone.now()
    invitation.account = account
    invitation.save(update_fields=["accepted_at", "account", "updated_at"])
    audit.record(
        action=AuditAction.CREATED,
        acting_user=user,
        patient=patient,
        obj=account,
        changed_fields=["invitation", "kind", "user", *(["contact"] if account.contact_id else [])],
        organization_id=patient.organization_id,
    )
    return account


@transaction.atomic
def do_set_portal_access(account: PortalAccount, *, acting_user: User, active: bool) -> PortalAccount:
    """Turn a portal login off (or back on). Off also deactivates its user, so its sessions end at the next
    request and the login page refuses it like any wrong password."""
    _require_staff(acting_user)
    account = (
        PortalAccount.objects.select_for_update(of=("self",))
        .select_related("user", "patient", "contact")
        .get(pk=account.pk)
    )
    if active and (not account.patient.is_active or (account.contact is not None and not account.contact.is_active)):
        raise ValidationError({"account": "Reactivate the record (and the contact) first."})
    if account.is_active == active and account.user.is_active == active:
        return account
    account.is_active = active
    account.save(update_fields=["is_active", "updated_at"])
    account.user.is_active = active
    account.user.save(update_fields=["is_active"])
    audit.record(
        action=AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
        acting_user=acting_user,
        patient=account.patient,
        obj=account,
        changed_fields=["is_active"],
    )
    return account


# --- The program's portal policy ----------------------------------------------------------------------------------


@transaction.atomic
def do_set_portal_policy(program: Program, *, acting_user: User, **fields: Any) -> list[str]:
    """Save the program's portal policy (created from the defaults on first save); returns the changed fields."""
    _require_staff(acting_user, Cap.MANAGE_PROGRAMS)
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"PortalPolicy does not accept {sorted(unknown)}")
    policy = PortalPolicy.objects.select_for_update().filter(program=program).first()
    if policy is None:
        policy = default_policy(program)
    changed = [name for name, value in fields.items() if getattr(policy, name) != value]
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean(exclude=["program"])
    if changed or policy.pk is None:
        policy.save()
        audit.record(
            action=AuditAction.CONFIG_CHANGED,
            acting_user=acting_user,
            obj=program,
            object_type="portalpolicy",
            changed_fields=changed,
            organization_id=program.site.organization_id,
        )
    program.__dict__.pop("_openiop_portal_policy", None)
    return changed


# --- The patient's own bookings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelRule:
    """Whether a booking may be cancelled online now, and if not, why (shown instead of the button)."""

    allowed: bool
    reason: str = ""


def cancel_rule(booking: Booking, *, now: datetime, policy: PortalPolicy | None = None) -> CancelRule:
    session = booking.session
    if booking.status != Booking.Status.BOOKED or session.status != Session.Status.SCHEDULED:
        return CancelRule(False, "This booking is no longer active.")
    if session.starts_at <= now:
        return CancelRule(False, "This session has started.")
    notice = (policy or policy_for(session.program)).cancel_notice_hours
    if session.starts_at - now < timedelta(hours=notice):
        return CancelRule(
            False, f"Less than {notice} hours to go: please call the clinic to cancel, so your place can be offered."
        )
    return CancelRule(True)


def do_portal_book(account: PortalAccount, session: Session, *, idempotency_key: str = "") -> Booking:
    """Book one of the sessions the portal offers this patient (a suggested make-up, or an open individual
    session where the program allows it) through the staff booking action.

    Raises ValidationError (keyed ``session``) when the session is not on offer any more, clashes or is over, and
    the booking action's SessionFull / BookingConflict as they are.
    """
    from openiop.portal.queries import portal_offers

    if account.kind != AccountKind.PATIENT or not account.is_active:
        raise PermissionDenied
    key = f"{IDEMPOTENCY_PREFIX}{idempotency_key}" if idempotency_key else None
    if key is not None and len(key) > booking_actions.IDEMPOTENCY_KEY_MAX:
        raise ValidationError({"idempotency_key": "Use at most 72 characters."})
    if key is not None:
        earlier = Booking.objects.filter(idempotency_key=key, patient=account.patient, session=session).first()
        if earlier is not None:
            return earlier  # a repeated click: the first request booked it, and that is the answer
    offer = portal_offers(account, now=timezone.now()).find(session.pk)
    if offer is None:
        raise ValidationError(
            {"session": "That session is no longer open to book (full, started, clashing or outside the dates)."}
        )
    source = Booking.Source.MAKEUP if offer.kind == "makeup" else Booking.Source.PORTAL
    return booking_actions.do_book_seat(
        offer.session, episode=offer.episode, acting_user=account.user, source=source, idempotency_key=key
    )


def do_portal_cancel(account: PortalAccount, booking: Booking) -> Booking:
    """Cancel the patient's own booking when the program's notice rules allow it online."""
    if account.kind != AccountKind.PATIENT or booking.patient_id != account.patient_id:
        raise PermissionDenied
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update()
            .select_related("session__program__site", "session__session_type", "patient")
            .get(pk=booking.pk)
        )
        rule = cancel_rule(booking, now=timezone.now())
        if not rule.allowed:
            raise ValidationError({"booking": rule.reason})
        return booking_actions.do_cancel_booking(booking, acting_user=account.user, reason=PORTAL_CANCEL_REASON)


# --- The portal user's second factor ------------------------------------------------------------------------------


@transaction.atomic
def do_remove_own_mfa(*, acting_user: User) -> bool:
    """A portal user turns their optional second factor off (the view has checked a current code first)."""
    organization_id = (
        PortalAccount.objects.filter(user=acting_user).values_list("patient__organization_id", flat=True).first()
    )
    removed, _ = TOTPDevice.objects.filter(user=acting_user).delete()
    removed_static, _ = StaticDevice.objects.filter(user=acting_user).delete()
    acting_user._openiop_has_totp = False  # type: ignore[attr-defined]
    if not (removed or removed_static):
        return False
    audit.record(
        action=AuditAction.MFA_RESET,
        acting_user=acting_user,
        obj=acting_user,
        changed_fields=["totp", "backup_codes"],
        organization_id=organization_id,
    )
    return True
