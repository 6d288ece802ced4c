"""Portal and staff are separate houses: a patient or family login asking for any staff URL gets its portal home."""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.resolvers import RoutePattern

from openiop.conftest import login
from openiop.patients.actions import do_add_support_contact
from openiop.portal.middleware import OPEN_PREFIXES, OPEN_VIEWS
from openiop.testing.family import family_account, family_release, patient_account


def _named_patterns(resolvers, namespace: str = "", route: str = "/", prefix_converters=None):
    """Every named URL pattern as (view name, its route, its converters, the pattern), through the includes."""
    for entry in resolvers:
        converters = dict(prefix_converters or {})
        if isinstance(entry.pattern, RoutePattern):
            converters.update(entry.pattern.converters)
        here = route + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_patterns(entry.url_patterns, inner, here, converters)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", here, converters, entry


def _fill(converter) -> object:
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    if isinstance(converter, IntConverter):
        return 1
    return "x"


def staff_urls() -> list[str]:
    urls = []
    for name, route, converters, entry in _named_patterns(get_resolver().url_patterns):
        if route.startswith(OPEN_PREFIXES) or name in OPEN_VIEWS:
            continue
        if not isinstance(entry.pattern, RoutePattern):
            continue  # the public regex route (calendar feeds) is a token page, open to anyone
        urls.append(reverse(name, kwargs={key: _fill(conv) for key, conv in converters.items()}))
    return urls


STAFF_URLS = staff_urls()


def test_the_loop_covers_the_staff_pages():
    assert {"/", "/accounts/security/", "/accounts/password/", "/accounts/mfa/enroll/"} <= set(STAFF_URLS)
    assert len(STAFF_URLS) > 100


@pytest.fixture
def contact(patient):
    return do_add_support_contact(patient, acting_user=None, name="Sam Rivera", relationship="partner")


@pytest.mark.parametrize("kind", ["patient", "family"])
def test_a_portal_login_gets_its_portal_for_every_staff_url(client, clinic, patient, contact, kind):
    if kind == "patient":
        account, home = patient_account(patient), reverse("portal:home")
    else:
        family_release(patient, clinic.clinician, contact)
        account, home = family_account(patient, contact), reverse("family:home")
    login(client, account.user)
    wrong = {}
    for url in STAFF_URLS:
        response = client.get(url)
        if response.status_code != 302 or response["Location"] != home:
            wrong[url] = response.status_code
    assert wrong == {}
    assert client.get(home).status_code == 200


def test_htmx_requests_get_a_full_page_redirect(client, clinic, patient):
    login(client, patient_account(patient).user)
    response = client.get(reverse("core:home"), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("portal:home")


def test_portal_pages_under_staff_prefixes_still_open(client, clinic, patient):
    login(client, patient_account(patient).user)
    assert client.get(reverse("reminders:portal_preferences")).status_code == 200


def test_a_portal_login_cannot_use_the_staff_api(client, clinic, patient):
    login(client, patient_account(patient).user)
    response = client.get(f"/api/v1/patients/{patient.public_id}/attendance")
    assert response.status_code in {401, 403, 404}


def test_staff_are_not_redirected(client, clinic):
    assert login(client, clinic.clinician).get(reverse("core:home")).status_code == 200
