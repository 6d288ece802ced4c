"""Changing groups from the chart's Schedule tab and through the API: access, errors, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.scheduling.models import Booking, Enrollment, Group
from openiop.testing.scheduling import admit, local_at, make_session


@pytest.fixture
def groups(clinic):
    return {
        "a": Group.objects.create(track=clinic.day, name="Day A", capacity=5),
        "b": Group.objects.create(track=clinic.day, name="Day B", capacity=1),
    }


@pytest.fixture
def enrolled(clinic, groups):
    for key, hour in (("a", 9), ("b", 11)):
        for day in (2, 4):
            make_session(
                clinic.mh,
                local_at(clinic.mh, day, hour),
                capacity=groups[key].capacity,
                track=clinic.day,
                group=groups[key],
            )
    episode = admit(clinic, "Ana")
    result = do_enroll(
        episode,
        acting_user=clinic.clinician,
        track=clinic.day,
        groups=[groups["a"]],
        starts_on=timezone.localdate() - timedelta(days=2),
    )
    return episode, result.enrollment


def page(episode, enrollment):
    return reverse("scheduling:enrollment_groups", args=[episode.patient.public_id, enrollment.public_id])


def tab(client, episode):
    return client.get(
        reverse("patients:chart_tab", args=[episode.patient.public_id, "schedule"]), headers={"HX-Request": "true"}
    )


def test_the_schedule_tab_offers_the_change_to_clinical_editors_only(client, clinic, groups, enrolled):
    episode, enrollment = enrolled
    body = tab(login(client, clinic.clinician), episode).content.decode()
    assert page(episode, enrollment) in body and "Day B" in body
    body = tab(login(client, clinic.frontdesk), episode).content.decode()
    assert page(episode, enrollment) not in body


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("outsider", 404),
        ("stranger", 404),
        ("frontdesk", 403),
        ("auditor", 403),
        ("billing", 403),
        ("clinician", 200),
        ("intern", 200),
    ],
)
def test_access_to_the_change_groups_page(client, clinic, groups, enrolled, who, status):
    episode, enrollment = enrolled
    login(client, getattr(clinic, who))
    assert client.get(page(episode, enrollment)).status_code == status
    posted = client.post(
        page(episode, enrollment),
        {
            f"groups-{enrollment.public_id}-groups": [str(groups["b"].public_id)],
            f"groups-{enrollment.public_id}-effective_on": str(timezone.localdate()),
        },
    )
    assert posted.status_code == (302 if status == 200 else status)
    assert Enrollment.objects.filter(episode=episode).count() == (2 if status == 200 else 1)


def test_changing_groups_from_the_tab_books_the_new_group_and_keeps_the_old_row(client, clinic, groups, enrolled):
    episode, enrollment = enrolled
    prefix = f"groups-{enrollment.public_id}"
    login(client, clinic.clinician)
    response = client.post(
        page(episode, enrollment),
        {f"{prefix}-groups": [str(groups["b"].public_id)], f"{prefix}-effective_on": str(timezone.localdate())},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith("?tab=schedule")
    assert "Groups changed: 2 sessions booked." in response.content.decode()
    rows = Enrollment.objects.filter(episode=episode).order_by("starts_on")
    assert [list(e.groups.values_list("name", flat=True)) for e in rows] == [["Day A"], ["Day B"]]
    booked = Booking.objects.filter(episode=episode, status="booked")
    assert set(booked.values_list("session__group__name", flat=True)) == {"Day B"}
    body = tab(client, episode).content.decode()
    assert "Day A" in body and "Day B" in body  # both enrollments listed, with their dates


def test_a_refused_change_comes_back_with_the_field_error_and_the_input(client, clinic, groups, enrolled):
    episode, enrollment = enrolled
    prefix = f"groups-{enrollment.public_id}"
    too_early = str(enrollment.starts_on - timedelta(days=1))
    response = login(client, clinic.clinician).post(
        page(episode, enrollment),
        {f"{prefix}-groups": [str(groups["b"].public_id)], f"{prefix}-effective_on": too_early},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["effective_on"] == ["Change on or after the day the enrollment started."]
    assert f'value="{too_early}"' in response.content.decode()
    assert Enrollment.objects.filter(episode=episode).count() == 1


def test_opening_the_page_is_audited(client, clinic, enrolled):
    episode, enrollment = enrolled
    login(client, clinic.clinician).get(page(episode, enrollment))
    assert AuditEvent.objects.filter(
        action=AuditAction.RECORD_VIEWED, patient=episode.patient, object_type="enrollment"
    ).exists()


# --- API ---------------------------------------------------------------------------------------------------


def _put(client, episode, body):
    return client.put(f"/api/v1/episodes/{episode.public_id}/enrollment/groups", body, content_type="application/json")


@pytest.mark.parametrize(
    ("who", "status"), [("outsider", 404), ("stranger", 404), ("frontdesk", 403), ("auditor", 403), ("clinician", 200)]
)
def test_api_access_to_changing_groups(client, clinic, groups, enrolled, who, status):
    episode, _ = enrolled
    body = {"groups": [str(groups["b"].public_id)], "effective_on": str(timezone.localdate())}
    response = _put(login(client, getattr(clinic, who)), episode, body)
    assert response.status_code == status


def test_api_change_groups_with_a_full_session_goes_to_the_waitlist(client, clinic, groups, enrolled):
    episode, _ = enrolled
    first_b = Group.objects.get(pk=groups["b"].pk).sessions.earliest("starts_at")
    from openiop.scheduling.actions.booking import do_book_seat

    do_book_seat(first_b, episode=admit(clinic, "Ben"), acting_user=clinic.clinician)
    body = {
        "groups": [str(groups["a"].public_id), str(groups["b"].public_id)],
        "effective_on": str(timezone.localdate()),
    }
    response = _put(login(client, clinic.clinician), episode, body)
    assert response.status_code == 200
    data = response.json()
    assert set(data["groups"]) == {str(groups["a"].public_id), str(groups["b"].public_id)}
    assert data["full_sessions"] == [str(first_b.public_id)] and len(data["waitlist_entries"]) == 1
    assert data["starts_on"] == str(timezone.localdate())


def test_api_unknown_group_and_no_enrollment_are_422s_naming_groups(client, clinic, groups, enrolled):
    episode, _ = enrolled
    login(client, clinic.clinician)
    response = _put(client, episode, {"groups": [str(episode.public_id)], "effective_on": str(timezone.localdate())})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "groups"
    other = admit(clinic, "Cal")
    response = _put(client, other, {"groups": [], "effective_on": str(timezone.localdate())})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "groups"
