"""Sites and the organization record (system administrators only)."""

from __future__ import annotations

from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.programs.models import Site
from openiop.programs.tests.pages import messages_of


def _site_data(**overrides):
    data = {
        "name": "Lakeside",
        "address_line1": "1 Shore Rd",
        "address_line2": "",
        "city": "Lakeside",
        "state": "MI",
        "postal_code": "49116",
        "phone": "555-0199",
        "time_zone": "America/Detroit",
    }
    data.update(overrides)
    return data


def test_sysadmin_adds_a_site_and_it_is_audited(client, clinic):
    login(client, clinic.sysadmin)
    response = client.post(reverse("programs:site_create"), _site_data())
    assert response.status_code == 302
    site = Site.objects.get(name="Lakeside")
    assert site.organization == clinic.org
    assert site.time_zone == "America/Detroit"
    event = AuditEvent.objects.get(object_id=str(site.public_id))
    assert (event.action, event.actor, event.organization_id_ref) == (
        AuditAction.CREATED,
        clinic.sysadmin,
        clinic.org.pk,
    )


def test_site_with_unknown_time_zone_keeps_the_typed_values(client, clinic):
    login(client, clinic.sysadmin)
    response = client.post(reverse("programs:site_create"), _site_data(time_zone="Eastern"))
    assert list(response.context["form"].errors) == ["time_zone"]
    page = response.content.decode()
    assert 'value="Eastern"' in page and 'value="1 Shore Rd"' in page
    assert not Site.objects.filter(name="Lakeside").exists()


def test_site_names_are_unique_in_the_organization(client, clinic):
    login(client, clinic.sysadmin)
    response = client.post(reverse("programs:site_create"), _site_data(name="riverside"))
    assert response.context["form"].errors["name"] == ["The organization already has a site with this name."]


def test_another_organization_may_reuse_a_site_name(client, clinic, other_sysadmin):
    login(client, other_sysadmin)
    client.post(reverse("programs:site_create"), _site_data(name="Riverside"))
    assert Site.objects.filter(name="Riverside").count() == 2


def test_edit_site_records_the_changed_fields(client, clinic):
    login(client, clinic.sysadmin)
    url = reverse("programs:site_edit", args=[clinic.site.public_id])
    initial = client.get(url).context["form"].initial
    assert initial["name"] == "Riverside"
    response = client.post(url, {**initial, "city": "Springfield", "phone": "555-0111"})
    assert response.status_code == 302
    clinic.site.refresh_from_db()
    assert clinic.site.city == "Springfield"
    event = AuditEvent.objects.filter(object_id=str(clinic.site.public_id)).latest("chain_index")
    assert (event.action, event.changed_fields) == (AuditAction.CONFIG_CHANGED, ["city", "phone"])


def test_a_site_with_active_programs_stays_on(client, clinic):
    login(client, clinic.sysadmin)
    url = reverse("programs:site_set_active", args=[clinic.other_site.public_id])
    response = client.post(url, {"active": "0"}, follow=True)
    clinic.other_site.refresh_from_db()
    assert clinic.other_site.is_active
    assert "Deactivate this site's programs first." in messages_of(response)


def test_site_is_switched_off_and_back_on(client, clinic):
    login(client, clinic.sysadmin)
    client.post(reverse("programs:program_set_active", args=[clinic.teen.public_id]), {"active": "0"})
    url = reverse("programs:site_set_active", args=[clinic.other_site.public_id])
    client.post(url, {"active": "0"})
    clinic.other_site.refresh_from_db()
    assert not clinic.other_site.is_active
    assert "Reactivate" in client.get(reverse("programs:site_list")).content.decode()
    client.post(url, {"active": "1"})
    clinic.other_site.refresh_from_db()
    assert clinic.other_site.is_active
    actions = AuditEvent.objects.filter(object_id=str(clinic.other_site.public_id)).values_list("action", flat=True)
    assert list(actions)[-2:] == [AuditAction.DEACTIVATED, AuditAction.REACTIVATED]


def test_site_list_shows_no_buttons_to_the_auditor(client, clinic):
    page = login(client, clinic.auditor).get(reverse("programs:site_list")).content.decode()
    assert "Riverside" in page and "Hillcrest" in page
    assert reverse("programs:site_edit", args=[clinic.site.public_id]) not in page
    assert reverse("programs:site_create") not in page


def test_organization_edit_is_audited_and_keeps_input_on_error(client, clinic):
    login(client, clinic.sysadmin)
    url = reverse("programs:organization_edit")
    data = {"name": "Riverside Recovery Center", "phone": "555-0100", "website": "not a url", "mrn_prefix": "RRC"}
    response = client.post(url, data)
    assert list(response.context["form"].errors) == ["website"]
    assert 'value="Riverside Recovery Center"' in response.content.decode()
    response = client.post(url, {**data, "website": "riverside.example.org"})
    assert response.status_code == 302
    clinic.org.refresh_from_db()
    assert clinic.org.website == "https://riverside.example.org"
    assert clinic.org.mrn_prefix == "RRC"
    event = AuditEvent.objects.filter(object_id=str(clinic.org.public_id)).latest("chain_index")
    assert (event.action, event.changed_fields) == (AuditAction.CONFIG_CHANGED, ["mrn_prefix", "name", "website"])
