"""Shared by the portal care tests: portal logins made directly (the invitation flow belongs to the portal pages),
and a URLconf with a stand-in portal login for the anonymous-redirect tests when the branch has none yet."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from openiop.accounts.models import User
from openiop.patients.actions import do_add_support_contact
from openiop.patients.models import Patient
from openiop.portal.models import AccountKind, PortalAccount


def portal_user(username: str) -> User:
    """A login with no organization and no role: no staff capability at all."""
    return User.objects.create_user(username=username, password=None, first_name=username.capitalize())


def patient_account(patient: Patient, username: str = "pat") -> PortalAccount:
    return PortalAccount.objects.create(user=portal_user(username), kind=AccountKind.PATIENT, patient=patient)


def family_account(patient: Patient, username: str = "fam") -> PortalAccount:
    contact = do_add_support_contact(patient, acting_user=None, name="Sam Rivera", relationship="sibling")
    return PortalAccount.objects.create(
        user=portal_user(username), kind=AccountKind.FAMILY, patient=patient, contact=contact
    )


def _login_stand_in(request: HttpRequest) -> HttpResponse:
    return HttpResponse("portal login")


def _portal_patterns() -> list:
    from openiop.portal import urls as portal_urls

    patterns = list(portal_urls.urlpatterns)
    if not any(getattr(p, "name", None) == "login" for p in patterns):
        patterns.append(path("login/", _login_stand_in, name="login"))
    return patterns


def _urlpatterns() -> list:
    from openiop import urls as project

    others = [p for p in project.urlpatterns if str(p.pattern) != "portal/"]
    return [path("portal/", include((_portal_patterns(), "portal"))), *others]


urlpatterns = _urlpatterns()
