"""Setup pages for a program's education curriculum and a track's groups."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.scheduling.actions.groups import do_create_group, do_create_topic
from openiop.scheduling.models import CurriculumTopic, Group


@pytest.fixture
def topic(clinic):
    return do_create_topic(clinic.mh, acting_user=clinic.director, name="Coping skills")


@pytest.fixture
def group(clinic):
    return do_create_group(clinic.day, acting_user=clinic.director, name="Day group A")


def urls(clinic, topic, group):
    return {
        "curriculum": reverse("scheduling:config_curriculum", args=[clinic.mh.public_id]),
        "topic_new": reverse("scheduling:config_topic_create", args=[clinic.mh.public_id]),
        "topic_edit": reverse("scheduling:config_topic_edit", args=[clinic.mh.public_id, topic.public_id]),
        "groups": reverse("scheduling:config_groups", args=[clinic.day.public_id]),
        "group_new": reverse("scheduling:config_group_create", args=[clinic.day.public_id]),
        "group_edit": reverse("scheduling:config_group_edit", args=[clinic.day.public_id, group.public_id]),
    }


@pytest.mark.parametrize("page", ["curriculum", "topic_new", "topic_edit", "groups", "group_new", "group_edit"])
def test_director_of_the_program_opens_every_page(client, clinic, topic, group, page):
    assert login(client, clinic.director).get(urls(clinic, topic, group)[page]).status_code == 200


@pytest.mark.parametrize("page", ["curriculum", "topic_new", "topic_edit", "groups", "group_new", "group_edit"])
@pytest.mark.parametrize("who", ["clinician", "frontdesk", "billing", "intake"])
def test_roles_that_do_not_configure_get_403(client, clinic, topic, group, page, who):
    assert login(client, getattr(clinic, who)).get(urls(clinic, topic, group)[page]).status_code == 403


@pytest.mark.parametrize(("listing", "form"), [("curriculum", "topic_new"), ("groups", "group_new")])
def test_auditor_reads_lists_but_not_forms(client, clinic, topic, group, listing, form):
    login(client, clinic.auditor)
    assert client.get(urls(clinic, topic, group)[listing]).status_code == 200
    assert client.get(urls(clinic, topic, group)[form]).status_code == 403


@pytest.mark.parametrize("page", ["curriculum", "topic_edit", "groups", "group_edit"])
def test_outsiders_get_404(client, clinic, topic, group, page):
    from openiop.core.roles import Role
    from openiop.testing.fixtures import staff

    other_director = staff(clinic.org, "teendirector", Role.DIRECTOR, [clinic.teen])
    assert login(client, other_director).get(urls(clinic, topic, group)[page]).status_code == 404
    assert login(client, clinic.stranger).get(urls(clinic, topic, group)[page]).status_code == 404


def test_add_topic_appends_to_the_rotation_and_is_audited(client, clinic, topic):
    response = login(client, clinic.director).post(
        reverse("scheduling:config_topic_create", args=[clinic.mh.public_id]),
        {"name": "Stress management", "sequence": "2", "is_active": "on"},
    )
    assert response.status_code == 302
    assert list(CurriculumTopic.objects.filter(program=clinic.mh).values_list("name", flat=True)) == [
        "Coping skills",
        "Stress management",
    ]
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, object_type="curriculumtopic").count() == 2


def test_duplicate_topic_keeps_input_and_names_the_field(client, clinic, topic):
    response = login(client, clinic.director).post(
        reverse("scheduling:config_topic_create", args=[clinic.mh.public_id]),
        {"name": "coping SKILLS", "description": "typed text", "sequence": "5"},
    )
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert "typed text" in response.content.decode()
    assert CurriculumTopic.objects.filter(program=clinic.mh).count() == 1


def test_group_capacity_defaults_to_the_program_cap_and_edits_are_audited(client, clinic, group):
    login(client, clinic.director)
    response = client.post(
        reverse("scheduling:config_group_create", args=[clinic.day.public_id]),
        {"name": "Day group B", "is_open": "on", "is_active": "on"},
    )
    assert response.status_code == 302
    created = Group.objects.get(name="Day group B")
    assert created.capacity == clinic.mh.group_size_cap
    client.post(
        reverse("scheduling:config_group_edit", args=[clinic.day.public_id, created.public_id]),
        {"name": "Day group B", "capacity": "8", "is_active": "on"},
    )
    created.refresh_from_db()
    assert (created.capacity, created.is_open) == (8, False)
    assert AuditEvent.objects.filter(action=AuditAction.UPDATED, object_type="group").count() == 1


def test_bad_group_capacity_shows_a_field_error(client, clinic, group):
    response = login(client, clinic.director).post(
        reverse("scheduling:config_group_create", args=[clinic.day.public_id]), {"name": "Tiny", "capacity": "0"}
    )
    assert response.status_code == 200
    assert "capacity" in response.context["form"].errors
    assert not Group.objects.filter(name="Tiny").exists()
