"""Who may open which administration page: the role check answers 403, the scope 404."""

from __future__ import annotations

from datetime import time

import pytest
from django.urls import reverse

from openiop.conftest import login
from openiop.programs.actions import do_create_track

# (url name, the object its path names, method). The object is resolved against the clinic fixture.
Route = tuple[str, str | None, str]

READ_PROGRAMS: list[Route] = [
    ("programs:index", None, "get"),
    ("programs:program_detail", "mh", "get"),
]
READ_ORGANIZATION: list[Route] = [
    ("programs:site_list", None, "get"),
    ("programs:staff_list", None, "get"),
]
WRITE_PROGRAMS: list[Route] = [
    ("programs:program_edit", "mh", "get"),
    ("programs:program_edit", "mh", "post"),
    ("programs:track_create", "mh", "get"),
    ("programs:track_create", "mh", "post"),
    ("programs:track_edit", "day", "get"),
    ("programs:track_edit", "day", "post"),
    ("programs:track_set_active", "day", "post"),
    ("programs:program_signing", "mh", "get"),
    ("programs:program_signing", "mh", "post"),
    ("plans:program_policy", "mh", "get"),
    ("plans:program_policy", "mh", "post"),
]
WRITE_ORGANIZATION: list[Route] = [
    ("programs:organization_edit", None, "get"),
    ("programs:organization_edit", None, "post"),
    ("programs:site_create", None, "get"),
    ("programs:site_create", None, "post"),
    ("programs:site_edit", "site", "get"),
    ("programs:site_edit", "site", "post"),
    ("programs:site_set_active", "site", "post"),
    ("programs:program_create", None, "get"),
    ("programs:program_create", None, "post"),
    ("programs:program_set_active", "mh", "post"),
    ("programs:staff_create", None, "get"),
    ("programs:staff_create", None, "post"),
    ("programs:staff_edit", "clinician", "get"),
    ("programs:staff_edit", "clinician", "post"),
    ("programs:staff_set_active", "clinician", "post"),
]
EVERY_PAGE = READ_PROGRAMS + READ_ORGANIZATION + WRITE_PROGRAMS + WRITE_ORGANIZATION
WITH_OBJECT = [route for route in EVERY_PAGE if route[1] is not None]
PROGRAM_OBJECT_PAGES = [route for route in READ_PROGRAMS + WRITE_PROGRAMS if route[1] is not None]
SWITCHES = [route for route in EVERY_PAGE if route[0].endswith("_set_active")]

# A write that was refused must not have reached the action: these posts would change something.
SAMPLE_POST = {"active": "0", "name": "Changed", "time_zone": "America/Denver"}


def _request(client, clinic, route, obj_name=None):
    name, obj, method = route
    target = getattr(clinic, obj_name or obj) if obj else None
    url = reverse(name, args=[target.public_id] if target is not None else [])
    return client.post(url, SAMPLE_POST) if method == "post" else client.get(url)


def _ids(routes):
    return [f"{method} {name.split(':')[1]}" for name, _, method in routes]


@pytest.mark.parametrize("route", EVERY_PAGE, ids=_ids(EVERY_PAGE))
@pytest.mark.parametrize("who", ["clinician", "intern", "intake", "frontdesk", "billing", "outsider"])
def test_roles_without_configuration_rights_get_403_everywhere(client, clinic, route, who):
    login(client, getattr(clinic, who))
    assert _request(client, clinic, route).status_code == 403


@pytest.mark.parametrize("route", EVERY_PAGE, ids=_ids(EVERY_PAGE))
def test_anonymous_is_sent_to_login(client, clinic, route):
    response = _request(client, clinic, route)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("route", READ_PROGRAMS + READ_ORGANIZATION, ids=_ids(READ_PROGRAMS + READ_ORGANIZATION))
def test_auditor_reads_every_page(client, clinic, route):
    login(client, clinic.auditor)
    assert _request(client, clinic, route).status_code == 200


@pytest.mark.parametrize("route", WRITE_PROGRAMS + WRITE_ORGANIZATION, ids=_ids(WRITE_PROGRAMS + WRITE_ORGANIZATION))
def test_auditor_gets_403_on_every_write(client, clinic, route):
    login(client, clinic.auditor)
    assert _request(client, clinic, route).status_code == 403


@pytest.mark.parametrize("route", EVERY_PAGE, ids=_ids(EVERY_PAGE))
def test_sysadmin_reaches_every_page(client, clinic, route):
    login(client, clinic.sysadmin)
    response = _request(client, clinic, route)
    # A valid-enough post saves and redirects; an incomplete one comes back as the form with errors.
    assert response.status_code in ((302, 200) if route[2] == "post" else (200,))


@pytest.mark.parametrize("route", READ_PROGRAMS + WRITE_PROGRAMS, ids=_ids(READ_PROGRAMS + WRITE_PROGRAMS))
def test_director_reaches_own_program_pages(client, clinic, route):
    login(client, clinic.director)
    assert _request(client, clinic, route).status_code in ((302, 200) if route[2] == "post" else (200,))


@pytest.mark.parametrize(
    "route", READ_ORGANIZATION + WRITE_ORGANIZATION, ids=_ids(READ_ORGANIZATION + WRITE_ORGANIZATION)
)
def test_director_gets_403_on_organization_pages(client, clinic, route):
    login(client, clinic.director)
    assert _request(client, clinic, route).status_code == 403


@pytest.fixture
def teen_track(clinic):
    return do_create_track(
        acting_user=None,
        program=clinic.teen,
        name="After school",
        weekdays=[0, 2, 4],
        start_time=time(15),
        end_time=time(18),
    )


@pytest.mark.parametrize("route", PROGRAM_OBJECT_PAGES, ids=_ids(PROGRAM_OBJECT_PAGES))
def test_director_gets_404_for_a_program_they_do_not_belong_to(client, clinic, teen_track, route):
    clinic.people["teen_track"] = teen_track
    login(client, clinic.director)
    assert _request(client, clinic, route, "teen_track" if route[1] == "day" else "teen").status_code == 404


@pytest.mark.parametrize("route", WITH_OBJECT, ids=_ids(WITH_OBJECT))
def test_sysadmin_of_another_organization_gets_404(client, clinic, other_sysadmin, route):
    login(client, other_sysadmin)
    assert _request(client, clinic, route).status_code == 404


@pytest.mark.parametrize("route", PROGRAM_OBJECT_PAGES, ids=_ids(PROGRAM_OBJECT_PAGES))
def test_director_of_another_organization_gets_404(client, clinic, route):
    login(client, clinic.stranger)
    assert _request(client, clinic, route).status_code == 404


def test_sysadmin_of_another_organization_sees_only_their_own_lists(client, clinic, other_sysadmin):
    login(client, other_sysadmin)
    index = client.get(reverse("programs:index"))
    assert clinic.mh.name not in index.content.decode()
    assert "Elsewhere IOP" in index.content.decode()
    staff = client.get(reverse("programs:staff_list")).content.decode()
    assert "clinician" not in staff
    assert "stranger" in staff
    sites = client.get(reverse("programs:site_list")).content.decode()
    assert clinic.site.name not in sites


def test_refused_writes_change_nothing(client, clinic):
    login(client, clinic.director)
    client.post(reverse("programs:site_set_active", args=[clinic.site.public_id]), {"active": "0"})
    client.post(reverse("programs:staff_set_active", args=[clinic.clinician.public_id]), {"active": "0"})
    login(client, clinic.auditor)
    client.post(reverse("programs:program_edit", args=[clinic.mh.public_id]), {"name": "Renamed"})
    clinic.site.refresh_from_db()
    clinic.clinician.refresh_from_db()
    clinic.mh.refresh_from_db()
    assert clinic.site.is_active and clinic.clinician.is_active
    assert clinic.mh.name == "Adult Mental Health IOP"


@pytest.mark.parametrize("route", SWITCHES, ids=_ids(SWITCHES))
def test_switches_answer_405_to_get(client, clinic, route):
    login(client, clinic.sysadmin)
    name, obj, _ = route
    assert client.get(reverse(name, args=[getattr(clinic, obj).public_id])).status_code == 405
