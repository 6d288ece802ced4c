"""Sign-in, second factor, password and account-security pages.

Views validate input and call the actions; the sign-in audit rows come from the auth signals (signals.py)
and the second-factor rows from the actions.
"""

from __future__ import annotations

import time
from typing import Any, cast
from uuid import UUID

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
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
    do_regenerate_backup_codes,
    do_reset_mfa,
    do_set_password,
    do_start_mfa_enrolment,
    do_verify_mfa,
)
from openiop.accounts.forms import AuthenticatorCodeForm, LoginForm, MFACodeForm, PasswordChangeForm
from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.accounts.queries import SIGN_IN_HISTORY_DAYS, recent_sign_in_events
from openiop.core.forms import add_action_errors
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap


def _safe_next(request: HttpRequest, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def _home() -> str:
    return reverse(settings.LOGIN_REDIRECT_URL)


def _continue_url(request: HttpRequest) -> str:
    """Where the user was going before sign-in, once both steps are done."""
    return _safe_next(request, request.session.pop(mfa.NEXT_KEY, None)) or _home()


# --- Password step ------------------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated:
        # Reached only when no second factor is pending: the MFA middleware sends those users on first.
        return redirect(next_url or _home())
    form = LoginForm(request, data=request.POST if request.method == "POST" else None)
    if form.is_valid():
        user = cast(User, form.get_user())
        auth_login(request, user)
        if next_url:
            request.session[mfa.NEXT_KEY] = next_url
        if mfa.has_confirmed_device(user):
            return redirect("accounts:mfa_verify")
        if mfa.mfa_required_for(user):
            return redirect("accounts:mfa_enroll")
        return redirect(_continue_url(request))
    expired = request.GET.get("expired")
    return render(
        request,
        "accounts/login.html",
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
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- Second factor ------------------------------------------------------------------------------------------


def _check_code(request: HttpRequest, form: MFACodeForm) -> Any:
    """Check the form's code; returns the device that accepted it, a response that ends the session after
    too many wrong codes, or None with the reason put on the form."""
    user = request_user(request)
    result = do_verify_mfa(acting_user=user, code=form.cleaned_data["code"])
    if result.ok:
        request.session.pop(mfa.FAILURES_KEY, None)
        return result.device
    if result.retry_after:
        form.add_error(
            "code",
            f"Too many wrong codes in a row. Wait {result.retry_after} seconds, then enter the code your app shows.",
        )
        return None
    failures = int(request.session.get(mfa.FAILURES_KEY, 0)) + 1
    if failures >= mfa.failure_limit():
        do_lock_mfa_step(acting_user=user)
        auth_logout(request)
        return render(request, "accounts/mfa_locked.html", {"failure_limit": mfa.failure_limit()}, status=429)
    request.session[mfa.FAILURES_KEY] = failures
    left = mfa.failure_limit() - failures
    form.add_error(
        "code",
        f"That code is not right. {left} {'try' if left == 1 else 'tries'} left before you are signed out.",
    )
    return None


@login_required
@never_cache
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(_continue_url(request))
    if not mfa.has_confirmed_device(user):
        return redirect("accounts:mfa_enroll" if mfa.mfa_required_for(user) else _home())
    form = MFACodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        outcome = _check_code(request, form)
        if isinstance(outcome, HttpResponse):
            return outcome
        if outcome is not None:
            django_otp.login(request, outcome)
            # A new session key for the stronger sign-in, as django.contrib.auth does at the password step.
            request.session.cycle_key()
            if isinstance(outcome, StaticDevice):
                left = mfa.backup_codes_left(user)
                messages.warning(
                    request,
                    f"You signed in with a backup code; {left} left. "
                    "Make new ones under Security & sign-in when you run low.",
                )
            return redirect(_continue_url(request))
    return render(request, "accounts/mfa_verify.html", {"form": form})


def _reenrol_allowed(request: HttpRequest) -> bool:
    started = request.session.get(mfa.REENROL_KEY)
    return started is not None and time.time() - float(started) < mfa.REENROL_WINDOW_SECONDS


def _backup_codes_page(request: HttpRequest, codes: list[str], *, continue_url: str, enrolled: bool) -> HttpResponse:
    return render(
        request,
        "accounts/backup_codes.html",
        {"codes": codes, "continue_url": continue_url, "enrolled": enrolled},
    )


@login_required
@never_cache
def mfa_enroll(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    replacing = mfa.has_confirmed_device(user)
    if replacing:
        # Someone holding only the password must never add their own authenticator to this account.
        if not user.is_verified():  # type: ignore[attr-defined]
            return redirect("accounts:mfa_verify")
        if not _reenrol_allowed(request):
            messages.info(request, "To replace your authenticator app, confirm a current code first.")
            return redirect("accounts:security")
    device = do_start_mfa_enrolment(acting_user=user)
    form = AuthenticatorCodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            codes = do_confirm_mfa_enrolment(device, acting_user=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            django_otp.login(request, device)
            request.session.pop(mfa.REENROL_KEY, None)
            request.session.pop(mfa.FAILURES_KEY, None)
            continue_url = reverse("accounts:security") if replacing else _continue_url(request)
            return _backup_codes_page(request, codes, continue_url=continue_url, enrolled=True)
    return render(
        request,
        "accounts/mfa_enroll.html",
        {
            "form": form,
            "qr_svg": mfa.qr_svg(device),
            "secret": mfa.secret_for_display(device),
            "replacing": replacing,
            "required": mfa.mfa_required_for(user),
        },
    )


# --- Own account pages --------------------------------------------------------------------------------------


def _security_page(
    request: HttpRequest,
    *,
    reenrol_form: MFACodeForm | None = None,
    backup_form: MFACodeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request_user(request)
    device = mfa.confirmed_totp_device(user)
    return render(
        request,
        "accounts/security.html",
        {
            "device": device,
            "backup_codes_left": mfa.backup_codes_left(user) if device is not None else 0,
            "backup_code_count": mfa.BACKUP_CODE_COUNT,
            "required": mfa.mfa_required_for(user),
            "reenrol_form": reenrol_form or MFACodeForm(prefix="reenrol"),
            "backup_form": backup_form or MFACodeForm(prefix="backup"),
            "events": recent_sign_in_events(user),
            "history_days": SIGN_IN_HISTORY_DAYS,
        },
        status=status,
    )


@login_required
@never_cache
def security(request: HttpRequest) -> HttpResponse:
    return _security_page(request)


@require_POST
@login_required
@never_cache
def mfa_reenroll(request: HttpRequest) -> HttpResponse:
    """Replacing the authenticator needs a current code: a borrowed session cannot swap in another phone."""
    if not mfa.has_confirmed_device(request_user(request)):
        return redirect("accounts:mfa_enroll")
    form = MFACodeForm(request.POST, prefix="reenrol")
    if form.is_valid():
        outcome = _check_code(request, form)
        if isinstance(outcome, HttpResponse):
            return outcome
        if outcome is not None:
            request.session[mfa.REENROL_KEY] = time.time()
            return redirect("accounts:mfa_enroll")
    return _security_page(request, reenrol_form=form)


@require_POST
@login_required
@never_cache
def backup_codes(request: HttpRequest) -> HttpResponse:
    form = MFACodeForm(request.POST, prefix="backup")
    if form.is_valid():
        outcome = _check_code(request, form)
        if isinstance(outcome, HttpResponse):
            return outcome
        if outcome is not None:
            try:
                codes = do_regenerate_backup_codes(acting_user=request_user(request))
            except ValidationError as error:
                add_action_errors(form, error)
            else:
                return _backup_codes_page(request, codes, continue_url=reverse("accounts:security"), enrolled=False)
    return _security_page(request, backup_form=form)


@sensitive_post_parameters()
@login_required
@never_cache
def password_change(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = PasswordChangeForm(user, request.POST if request.method == "POST" else None)
    if form.is_valid():
        do_set_password(user, acting_user=user, password=form.cleaned_data["new_password1"])
        # The new password changes the session hash: this session is re-keyed to it, every other one ends.
        update_session_auth_hash(request, user)
        messages.success(request, "Password changed. You stay signed in here; other devices are signed out.")
        return redirect("accounts:security")
    return render(request, "accounts/password_change.html", {"form": form})


# --- Administration -----------------------------------------------------------------------------------------


@require_POST
@staff_view(Cap.MANAGE_ORGANIZATION)
def mfa_reset(request: HttpRequest, public_id: UUID) -> HttpResponse:
    admin = request_user(request)
    if admin.organization_id is None:
        raise Http404
    person = get_object_or_404(User, public_id=public_id, organization_id=admin.organization_id)
    try:
        removed = do_reset_mfa(person, acting_user=admin)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if removed:
            messages.success(
                request,
                f"Two-step sign-in was reset for {person.display_name}. "
                "They set up a new authenticator app at their next sign-in.",
            )
        else:
            messages.info(request, f"{person.display_name} had no two-step sign-in to reset.")
    return HttpResponseRedirect(_safe_next(request, request.POST.get("next")) or _home())
