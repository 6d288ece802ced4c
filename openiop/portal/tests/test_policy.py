"""A program's portal policy: the defaults from settings until saved, the administration page, and who may."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.portal.policy import policy_for

pytestmark = pytest.mark.django_db


def test_a_program_without_a_policy_uses_the_settings_defaults(clinic, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "portal_cancel_notice_hours": 48}
    policy = policy_for(clinic.mh)
    assert policy.pk is None
    assert (policy.makeup_booking, policy.self_booking, policy.cancel_notice_hours) == (True, False, 48)


def test_a_director_saves_the_programs_portal_settings(client, clinic):
    login(client, clinic.director)
    url = reverse("portal:program_policy", args=[clinic.mh.public_id])
    assert client.get(url).status_code == 200
    data = {"makeup_booking": "on", "self_booking": "on", "booking_horizon_days": "21", "cancel_notice_hours": "12"}
    response = client.post(url, data)
    assert response.status_code == 302
    clinic.mh.__dict__.pop("_openiop_portal_policy", None)
    policy = policy_for(clinic.mh)
    assert (policy.self_booking, policy.booking_horizon_days, policy.cancel_notice_hours) == (True, 21, 12)
    event = AuditEvent.objects.get(action=AuditAction.CONFIG_CHANGED, object_type="portalpolicy")
    assert event.changed_fields == ["booking_horizon_days", "cancel_notice_hours", "self_booking"]
    assert (
        reverse("portal:program_policy", args=[clinic.mh.public_id])
        in client.get(clinic.mh.get_absolute_url()).content.decode()
    )


def test_bad_values_re_render_with_the_field_error(client, clinic):
    login(client, clinic.director)
    url = reverse("portal:program_policy", args=[clinic.mh.public_id])
    response = client.post(url, {"booking_horizon_days": "0", "cancel_notice_hours": "500"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="500"' in body
    assert body.count("field-error") == 2


@pytest.mark.parametrize("who,status", [("clinician", 403), ("frontdesk", 403), ("stranger", 404), ("outsider", 403)])
def test_only_people_who_manage_the_program_may(client, clinic, who, status):
    login(client, getattr(clinic, who))
    assert client.get(reverse("portal:program_policy", args=[clinic.mh.public_id])).status_code == status


def test_a_director_of_other_programs_gets_404(client, clinic):
    login(client, clinic.director)
    assert client.get(reverse("portal:program_policy", args=[clinic.teen.public_id])).status_code == 404
