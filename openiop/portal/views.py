"""The portal's own pages: sign-in (password, optional second factor), accepting an invitation, the account's
security page, and the patient's home and schedule with booking, cancelling and the calendar feed.

Every page behind sign-in goes through ``access.portal_view`` and reads only the account's own patient; a lookup
of anything else is a 404. Page views of the patient's record are audited (RECORD_VIEWED, acting user = the
portal login). The staff side (invitations, access, the program policy) is in ``staff_views``.
"""

from __future__ import annotations

import uuid
from typing import Any, cast
from uuid import UUID

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from openiop.accounts import mfa
from openiop.accounts.actions import (
    do_confirm_mfa_enrolment,
    do_lock_mfa_step,
    do_set_password,
    do_start_mfa_enrolment,
    do_verify_mfa,
)
from openiop.accounts.forms import AuthenticatorCodeForm, MFACodeForm, PasswordChangeForm
from openiop.accounts.http import request_user
from openiop.accounts.middleware import PORTAL_SESSION_KEY
from openiop.accounts.models import User
from openiop.accounts.queries import SIGN_IN_HISTORY_DAYS, recent_sign_in_events
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.portal import actions, queries
from openiop.portal.access import account_for, portal_view
from openiop.portal.care import home_cards
from openiop.portal.forms import AcceptInvitationForm, PortalLoginForm
from openiop.portal.models import AccountKind, PortalAccount
from openiop.portal.policy import policies_for
from openiop.scheduling import feeds
from openiop.scheduling.actions import booking as booking_actions
from openiop.scheduling.models import CalendarFeed, Session
from openiop.scheduling.views import FeedForm

NEW_USERNAME_KEY = "openiop_portal_new_username"


def _account(request: HttpRequest) -> PortalAccount:
    return request.portal_account  # type: ignore[attr-defined]


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def family_home_url() -> str:
    """The family helper's home page when it exists, else this app's simple one."""
    try:
        return reverse("family:home")
    except NoReverseMatch:
        return reverse("portal:family_home")


def landing_url(account: PortalAccount) -> str:
    return reverse("portal:home") if account.kind == AccountKind.PATIENT else family_home_url()


def _safe_next(request: HttpRequest, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def _continue_url(request: HttpRequest, account: PortalAccount) -> str:
    return _safe_next(request, request.session.pop(mfa.NEXT_KEY, None)) or landing_url(account)


def _audit_view(request: HttpRequest, account: PortalAccount, object_type: str) -> None:
    audit.record(
        action=AuditAction.RECORD_VIEWED,
        acting_user=request_user(request),
        patient=account.patient,
        obj=account.patient,
        object_type=object_type,
    )


# --- Sign-in ------------------------------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    account = account_for(request.user)
    if account is not None:
        return redirect(next_url or landing_url(account))
    form = PortalLoginForm(
        request,
        data=request.POST if request.method == "POST" else None,
        initial={"username": request.session.pop(NEW_USERNAME_KEY, "")},
    )
    if form.is_valid():
        user = cast(User, form.get_user())
        auth_login(request, user)
        request.session[PORTAL_SESSION_KEY] = True
        if next_url:
            request.session[mfa.NEXT_KEY] = next_url
        if mfa.has_confirmed_device(user):
            return redirect("portal:mfa_verify")
        signed_in = account_for(user)
        assert signed_in is not None  # the form allowed only an active portal account
        return redirect(_continue_url(request, signed_in))
    expired = request.GET.get("expired")
    return render(
        request,
        "portal/login.html",
        {
            "form": form,
            "next": next_url or "",
            "expired": "absolute" if expired == "absolute" else ("idle" if expired else ""),
            "absolute_hours": round(settings.SESSION_ABSOLUTE_TIMEOUT_MINUTES / 60, 1),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
        },
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.info(request, "You are signed out.")
    return redirect("portal:login")


def _check_code(request: HttpRequest, form: MFACodeForm) -> Any:
    """The device that accepted the form's code; a response that ends the session after too many wrong codes; or
    None with the reason on the form (the staff pages' rules, with the portal's lock page)."""
    user = request_user(request)
    result = do_verify_mfa(acting_user=user, code=form.cleaned_data["code"])
    if result.ok:
        request.session.pop(mfa.FAILURES_KEY, None)
        return result.device
    if result.retry_after:
        form.add_error("code", f"Too many wrong codes in a row. Wait {result.retry_after} seconds, then try again.")
        return None
    failures = int(request.session.get(mfa.FAILURES_KEY, 0)) + 1
    if failures >= mfa.failure_limit():
        do_lock_mfa_step(acting_user=user)
        auth_logout(request)
        return render(request, "portal/mfa_locked.html", {"failure_limit": mfa.failure_limit()}, status=429)
    request.session[mfa.FAILURES_KEY] = failures
    left = mfa.failure_limit() - failures
    form.add_error("code", f"That code is not right. {left} {'try' if left == 1 else 'tries'} left.")
    return None


@never_cache
def mfa_verify(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("portal:login")
    account = account_for(request.user)
    if account is None:
        raise Http404
    user = request_user(request)
    if user.is_verified() or not mfa.has_confirmed_device(user):  # type: ignore[attr-defined]
        return redirect(_continue_url(request, account))
    form = MFACodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        outcome = _check_code(request, form)
        if isinstance(outcome, HttpResponse):
            return outcome
        if outcome is not None:
            django_otp.login(request, outcome)
            request.session.cycle_key()
            if isinstance(outcome, StaticDevice):
                messages.warning(request, f"You signed in with a backup code; {mfa.backup_codes_left(user)} left.")
            return redirect(_continue_url(request, account))
    return render(request, "portal/mfa_verify.html", {"form": form})


# --- Accepting an invitation --------------------------------------------------------------------------------------


@sensitive_post_parameters("password", "password_again")
@never_cache
def invite(request: HttpRequest, token: str) -> HttpResponse:
    """Choose a username and password. Unknown, used, withdrawn and expired links all answer the same 404 page."""
    invitation = actions.find_invitation(token)
    if invitation is None:
        return _private(render(request, "portal/invite_not_found.html", status=404))
    form = AcceptInvitationForm(
        request.POST if request.method == "POST" else None,
        initial={"username": actions.suggested_username(invitation)},
    )
    if form.is_valid():
        try:
            account = actions.do_accept_invitation(
                invitation, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Your login is ready. Sign in with your new username and password.")
            # Prefilled on the sign-in page from the session, never the URL (it can be an email address).
            request.session[NEW_USERNAME_KEY] = account.user.username
            return redirect("portal:login")
    context = {"form": form, "organization": invitation.patient.organization, "family": invitation.kind == "family"}
    return _private(render(request, "portal/invite.html", context))


# --- The account's security ---------------------------------------------------------------------------------------


def _security_page(request: HttpRequest, *, remove_form: MFACodeForm | None = None) -> HttpResponse:
    user = request_user(request)
    device = mfa.confirmed_totp_device(user)
    return render(
        request,
        "portal/security.html",
        {
            "nav": "security",
            "device": device,
            "backup_codes_left": mfa.backup_codes_left(user) if device is not None else 0,
            "remove_form": remove_form or MFACodeForm(prefix="remove"),
            "events": recent_sign_in_events(user),
            "history_days": SIGN_IN_HISTORY_DAYS,
        },
    )


@portal_view()
@never_cache
def security(request: HttpRequest) -> HttpResponse:
    return _security_page(request)


@portal_view()
@never_cache
def mfa_enroll(request: HttpRequest) -> HttpResponse:
    """Turn on the optional second step. Replacing a phone means removing the old app first (with its code)."""
    user = request_user(request)
    if mfa.has_confirmed_device(user):
        messages.info(request, "Two-step sign-in is already on. To use another phone, turn it off first.")
        return redirect("portal:security")
    device = do_start_mfa_enrolment(acting_user=user)
    form = AuthenticatorCodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            codes = do_confirm_mfa_enrolment(device, acting_user=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            django_otp.login(request, device)
            return render(
                request,
                "portal/backup_codes.html",
                {"nav": "security", "codes": codes, "continue_url": reverse("portal:security")},
            )
    return render(
        request,
        "portal/mfa_enroll.html",
        {"nav": "security", "form": form, "qr_svg": mfa.qr_svg(device), "secret": mfa.secret_for_display(device)},
    )


@require_POST
@portal_view()
@never_cache
def mfa_remove(request: HttpRequest) -> HttpResponse:
    """Turning the second step off needs a current code, so a borrowed session cannot switch it off."""
    if not mfa.has_confirmed_device(request_user(request)):
        return redirect("portal:security")
    form = MFACodeForm(request.POST, prefix="remove")
    if form.is_valid():
        outcome = _check_code(request, form)
        if isinstance(outcome, HttpResponse):
            return outcome
        if outcome is not None:
            actions.do_remove_own_mfa(acting_user=request_user(request))
            messages.success(request, "Two-step sign-in is off. You sign in with your password only.")
            return redirect("portal:security")
    return _security_page(request, remove_form=form)


@sensitive_post_parameters()
@portal_view()
@never_cache
def password_change(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = PasswordChangeForm(user, request.POST if request.method == "POST" else None)
    if form.is_valid():
        do_set_password(user, acting_user=user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, user)
        messages.success(request, "Password changed. You stay signed in here; other devices are signed out.")
        return redirect("portal:security")
    return render(request, "portal/password_change.html", {"nav": "security", "form": form})


@portal_view(AccountKind.FAMILY)
def family_home(request: HttpRequest) -> HttpResponse:
    """Where a family login lands until the family pages exist."""
    return render(request, "portal/family_home.html", {"nav": "home"})


# --- The patient's home -------------------------------------------------------------------------------------------


@portal_view(AccountKind.PATIENT)
def home(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    now = timezone.now()
    episodes = queries.open_episodes(account.patient)
    _audit_view(request, account, "portal_home")
    doses = queries.dose_summaries(episodes, now=now)
    context = {
        "nav": "home",
        "doses": doses,
        "multiple": len(doses) > 1,
        "needs_makeup": any(d.needs_makeup for d in doses),
        "upcoming": queries.next_bookings(account.patient, now=now),
        # After a discharge there is no "next sessions" to promise (discharge cancelled them): say the program ended.
        "in_care": bool(episodes),
        **home_cards(account),
    }
    return render(request, "portal/home.html", context)


# --- My schedule --------------------------------------------------------------------------------------------------


def _clinic_phone(account: PortalAccount, episodes: list[Any]) -> str:
    for episode in episodes:
        if episode.program.site.phone:
            return str(episode.program.site.phone)
    return str(account.patient.organization.phone or "")


def _schedule_body(account: PortalAccount, *, message: str = "", ok: bool = True) -> dict[str, Any]:
    """What the booking part of My schedule shows: offers to book and upcoming sessions with their cancel rules."""
    now = timezone.now()
    episodes = queries.open_episodes(account.patient)
    doses = queries.dose_summaries(episodes, now=now)
    offers = queries.portal_offers(account, now=now, episodes=episodes, doses=doses)
    schedule = queries.schedule_for(account.patient, now=now)
    policies = policies_for([b.session.program for b in schedule.upcoming])
    upcoming = [(b, actions.cancel_rule(b, now=now, policy=policies[b.session.program_id])) for b in schedule.upcoming]
    return {
        "episodes": episodes,
        "doses": doses,
        "multiple": len(doses) > 1,
        "offers": offers,
        # A fresh key per rendered button: a double click repeats the key and books once.
        "offer_rows": [(o, uuid.uuid4().hex) for o in [*offers.makeups, *offers.individual]],
        "upcoming": upcoming,
        "past": schedule.past,
        "clinic_phone": _clinic_phone(account, episodes),
        "message": message,
        "message_ok": ok,
    }


def _feed_context(request: HttpRequest, account: PortalAccount, token: str = "") -> dict[str, Any]:
    feed = feeds.active_feed_for(patient=account.patient)
    return {
        "feed": feed,
        "feed_owner": "patient",
        "feed_can_manage": True,
        "feed_create_url": reverse("portal:feed_create"),
        "feed_revoke_url": reverse("portal:feed_revoke", args=[feed.public_id]) if feed else "",
        "feed_new_url": request.build_absolute_uri(reverse("scheduling:feed", args=[token])) if token else "",
        "feed_form": FeedForm(),
    }


@portal_view(AccountKind.PATIENT)
def schedule(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    _audit_view(request, account, "portal_schedule")
    context = {"nav": "schedule", **_schedule_body(account), **_feed_context(request, account)}
    return render(request, "portal/schedule.html", context)


def _after_change(request: HttpRequest, account: PortalAccount, message: str, ok: bool) -> HttpResponse:
    if not is_htmx(request):
        (messages.success if ok else messages.error)(request, message)
        return redirect("portal:schedule")
    _audit_view(request, account, "portal_schedule")
    return render(request, "portal/partials/schedule_body.html", _schedule_body(account, message=message, ok=ok))


@require_POST
@portal_view(AccountKind.PATIENT)
def book(request: HttpRequest, session_id: UUID) -> HttpResponse:
    account = _account(request)
    # Only sessions of the patient's own active programs exist here; anything else is a 404.
    session = get_object_or_404(
        Session.objects.select_related("program", "session_type")
        .filter(program__episodes__patient=account.patient, program__episodes__status="active")
        .distinct(),
        public_id=session_id,
    )
    try:
        actions.do_portal_book(account, session, idempotency_key=request.POST.get("idempotency_key", "")[:64])
    except ValidationError as exc:
        return _after_change(request, account, " ".join(exc.messages), ok=False)
    except booking_actions.SessionFull:
        return _after_change(request, account, "That session filled up a moment ago; please pick another.", False)
    except booking_actions.BookingConflict as exc:
        return _after_change(request, account, exc.detail, ok=False)
    return _after_change(request, account, f"Booked: {booking_actions.session_label(session)}.", ok=True)


@require_POST
@portal_view(AccountKind.PATIENT)
def cancel(request: HttpRequest, booking_id: UUID) -> HttpResponse:
    account = _account(request)
    booking = queries.get_booking_for_account(account, booking_id)
    try:
        actions.do_portal_cancel(account, booking)
    except ValidationError as exc:
        return _after_change(request, account, " ".join(exc.messages), ok=False)
    return _after_change(request, account, f"Cancelled: {booking_actions.session_label(booking.session)}.", ok=True)


def _feed_panel(request: HttpRequest, account: PortalAccount, token: str = "") -> HttpResponse:
    context = _feed_context(request, account, token)
    if is_htmx(request):
        return render(request, "scheduling/partials/feed_panel.html", context)
    return render(request, "portal/feed.html", {"nav": "schedule", **context})


@require_POST
@portal_view(AccountKind.PATIENT)
def feed_create(request: HttpRequest) -> HttpResponse:
    """A new calendar address for the patient's own sessions; an earlier one stops working."""
    account = _account(request)
    form = FeedForm(request.POST)
    form.is_valid()
    _, token = feeds.do_create_feed(
        acting_user=request_user(request), patient=account.patient, detailed=bool(form.cleaned_data.get("detailed"))
    )
    return _feed_panel(request, account, token)


@require_POST
@portal_view(AccountKind.PATIENT)
def feed_revoke(request: HttpRequest, feed_id: UUID) -> HttpResponse:
    account = _account(request)
    found = get_object_or_404(CalendarFeed, patient=account.patient, public_id=feed_id)
    feeds.do_revoke_feed(found, acting_user=request_user(request))
    return _feed_panel(request, account)
