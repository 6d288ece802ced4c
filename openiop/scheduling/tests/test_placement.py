"""The placement page: availability, the optimizer run over a program's tracks and groups, and enrolling."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_open_episode
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling import placement
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.scheduling.actions.series import do_create_series
from openiop.scheduling.models import Booking, Enrollment, Group, PlacementRequest
from openiop.scheduling.optimizer import Block
from openiop.testing.fixtures import make_patient
from openiop.testing.scheduling import admit, make_session_type

EVENINGS = [(d, time(17), time(22)) for d in range(5)]
MORNINGS = [(d, time(8), time(13)) for d in range(5)]


@pytest.fixture
def groups(clinic):
    """One 9-hour group per track of Adult MH, two seats each, with two weeks of sessions."""
    today = timezone.localdate()
    session_type = make_session_type(clinic.mh)
    made = {}
    for track, days, start in ((clinic.day, "MO,WE,FR", time(9)), (clinic.evening, "MO,TU,TH", time(18))):
        group = Group.objects.create(track=track, name=f"{track.name} process group", capacity=2)
        do_create_series(
            clinic.mh,
            acting_user=None,
            session_type=session_type,
            rrule=f"FREQ=WEEKLY;BYDAY={days}",
            starts_on=today,
            start_time=start,
            track=track,
            group=group,
            duration_minutes=180,
            capacity=2,
            horizon=today + timedelta(days=14),
        )
        made[track.kind] = group
    return made


def with_availability(clinic, name, windows, preferred_kind=""):
    episode = admit(clinic, name)
    placement.do_save_placement_request(
        episode, acting_user=clinic.clinician, availability=windows, preferred_kind=preferred_kind
    )
    return episode


def url(clinic):
    return reverse("scheduling:placement", args=[clinic.mh.public_id])


def availability_url(clinic, episode):
    return reverse("scheduling:placement_availability", args=[clinic.mh.public_id, episode.public_id])


def test_weekly_blocks_read_the_series_rrule(clinic, groups):
    series = groups["evening"].series.get()
    assert placement.weekly_blocks(series) == [
        Block(0, time(18), time(21)),
        Block(1, time(18), time(21)),
        Block(3, time(18), time(21)),
    ]


def test_a_worker_is_placed_in_the_evening_group_with_a_reason(clinic, groups):
    ann = with_availability(clinic, "Ann", EVENINGS)
    run = placement.run_placement(clinic.mh)
    row = run.rows()[0]
    assert row["episode"] == ann
    assert row["track"] == clinic.evening
    assert row["groups"] == [groups["evening"]]
    assert row["placement"].reason == "Evening track: 9.0 h/week within your availability"
    assert row["can_enroll"]


def test_free_seats_count_current_members(clinic, groups):
    for name in ("Bea", "Cy"):
        episode = admit(clinic, name)
        do_enroll(episode, acting_user=None, track=clinic.evening, groups=[groups["evening"]],
                  starts_on=timezone.localdate())  # fmt: skip
    with_availability(clinic, "Ann", EVENINGS)
    row = placement.run_placement(clinic.mh).rows()[0]
    assert not row["placement"].placed
    assert row["placement"].reason == "all fitting groups are full"


def test_without_availability_nothing_fits(clinic, groups):
    admit(clinic, "Ann")
    row = placement.run_placement(clinic.mh).rows()[0]
    assert row["placement"].reason == "no track reaches 9 h within availability"
    assert not row["has_availability"]


def test_enrolled_and_discharged_people_are_not_waiting(clinic, groups):
    enrolled = admit(clinic, "Ann")
    do_enroll(enrolled, acting_user=None, track=clinic.day, starts_on=timezone.localdate())
    waiting = admit(clinic, "Bea")
    assert list(placement.waiting_episodes(clinic.mh)) == [waiting]


def test_saving_availability_is_audited_and_refuses_overlaps(clinic):
    ann = admit(clinic, "Ann")
    request = placement.do_save_placement_request(
        ann, acting_user=clinic.clinician, availability=[(0, time(17), time(22))], preferred_kind="evening"
    )
    assert request.availability == [[0, "17:00", "22:00"]]
    assert AuditEvent.objects.filter(action=AuditAction.CREATED, object_id=str(request.public_id)).exists()
    with pytest.raises(ValidationError) as caught:
        placement.do_save_placement_request(
            ann, acting_user=clinic.clinician, availability=[(0, time(17), time(22)), (0, time(21), time(23))]
        )
    assert caught.value.message_dict == {"day_0": ["Windows on the same day overlap."]}
    request.refresh_from_db()
    assert request.preferred_kind == "evening"


@pytest.mark.parametrize("who", ["outsider", "stranger", "sysadmin"])
def test_outsiders_get_404(client, clinic, who):
    # The sysadmin configures programs but is no member of one, and this page lists patients.
    ann = admit(clinic, "Ann")
    login(client, getattr(clinic, who))
    assert client.get(url(clinic)).status_code == 404
    assert client.get(availability_url(clinic, ann)).status_code == 404


@pytest.mark.parametrize("who", ["frontdesk", "billing", "auditor"])
def test_roles_without_clinical_or_program_rights_get_403(client, clinic, who):
    ann = admit(clinic, "Ann")
    login(client, getattr(clinic, who))
    assert client.get(url(clinic)).status_code == 403
    assert client.post(url(clinic), {"action": "run"}).status_code == 403
    assert client.get(availability_url(clinic, ann)).status_code == 403


def test_anonymous_is_sent_to_login(client, clinic):
    assert client.get(url(clinic)).status_code == 302


@pytest.mark.parametrize("who", ["clinician", "director"])
def test_members_see_who_is_waiting(client, clinic, who):
    with_availability(clinic, "Ann", EVENINGS)
    login(client, getattr(clinic, who))
    response = client.get(url(clinic))
    assert response.status_code == 200
    assert "Ann Rivera" in response.content.decode()
    assert "Mon 17:00-22:00" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, actor=getattr(clinic, who)).exists()


def test_an_episode_of_another_program_is_404_on_the_availability_page(client, clinic):
    other = admit(clinic, "Sam", program=clinic.su)
    login(client, clinic.director)
    assert client.get(availability_url(clinic, other)).status_code == 404


def test_the_list_page_keeps_a_constant_number_of_queries(client, clinic, groups):
    login(client, clinic.clinician)
    with_availability(clinic, "Ann", EVENINGS)
    client.get(url(clinic))  # warm the session and per-user caches
    with CaptureQueriesContext(connection) as few:
        client.get(url(clinic))
    for name in ("Bea", "Cy", "Dee", "Eve", "Fay"):
        with_availability(clinic, name, MORNINGS)
    admit(clinic, "Gus")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url(clinic))
    assert response.status_code == 200
    assert "Gus Rivera" in response.content.decode()
    assert len(many) == len(few)


def test_the_availability_form_saves_and_comes_back_to_the_page(client, clinic):
    ann = admit(clinic, "Ann")
    login(client, clinic.clinician)
    assert client.get(availability_url(clinic, ann)).status_code == 200
    response = client.post(
        availability_url(clinic, ann),
        {"day_0_start": "17:00", "day_0_end": "22:00", "day_2_start": "18:00", "day_2_end": "21:30",
         "preferred_kind": "evening"},
    )  # fmt: skip
    assert response.status_code == 302
    saved = PlacementRequest.objects.get(episode=ann)
    assert saved.availability == [[0, "17:00", "22:00"], [2, "18:00", "21:30"]]
    assert saved.preferred_kind == "evening"


def test_the_availability_form_names_the_bad_field_and_keeps_input(client, clinic):
    ann = admit(clinic, "Ann")
    login(client, clinic.clinician)
    response = client.post(availability_url(clinic, ann), {"day_1_start": "17:00", "preferred_kind": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Give both times, or leave both empty." in body
    assert 'aria-describedby="id_day_1_end_error"' in body
    assert 'value="17:00"' in body
    response = client.post(availability_url(clinic, ann), {"day_1_start": "17:00", "day_1_end": "16:00"})
    assert "The window must end after it starts." in response.content.decode()
    assert not PlacementRequest.objects.filter(episode=ann).exists()


def test_running_shows_the_proposal_with_reasons(client, clinic, groups):
    with_availability(clinic, "Ann", EVENINGS)
    with_availability(clinic, "Bea", [(5, time(9), time(12))])
    login(client, clinic.clinician)
    response = client.post(url(clinic), {"action": "run"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Evening track: 9.0 h/week within your availability" in body
    assert "no track reaches 9 h within availability" in body
    assert "Day track: meets Mon 09:00 outside availability" in body
    assert "Best possible placement (proven)." in body


def apply_data(clinic, *rows):
    data: dict[str, object] = {"action": "apply", "starts_on": timezone.localdate().isoformat()}
    data["episode"] = [str(episode.public_id) for episode, _, _ in rows]
    for episode, track, groups in rows:
        data[f"track_{episode.public_id}"] = str(track.public_id)
        data[f"groups_{episode.public_id}"] = ",".join(str(g.public_id) for g in groups)
    return data


def test_applying_enrolls_the_ticked_people_through_enrollment(client, clinic, groups):
    ann = with_availability(clinic, "Ann", EVENINGS)
    bea = with_availability(clinic, "Bea", MORNINGS)
    login(client, clinic.clinician)
    page = client.post(url(clinic), {"action": "run"}).content.decode()
    # The page carries what it proposed, and applying enrolls exactly that.
    assert f'name="track_{ann.public_id}" value="{clinic.evening.public_id}"' in page
    assert f'name="groups_{ann.public_id}" value="{groups["evening"].public_id}"' in page
    response = client.post(url(clinic), apply_data(clinic, (ann, clinic.evening, [groups["evening"]])))
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(episode=ann)
    assert enrollment.track == clinic.evening
    assert list(enrollment.groups.all()) == [groups["evening"]]
    assert Booking.objects.filter(episode=ann, status=Booking.Status.BOOKED).exists()
    assert not Enrollment.objects.filter(episode=bea).exists()
    assert list(placement.waiting_episodes(clinic.mh)) == [bea]


def test_applying_a_group_of_another_track_is_refused_by_enrollment(client, clinic, groups):
    ann = with_availability(clinic, "Ann", EVENINGS)
    login(client, clinic.clinician)
    response = client.post(url(clinic), apply_data(clinic, (ann, clinic.evening, [groups["day"]])), follow=True)
    assert "Every group must belong to the chosen track." in response.content.decode()
    assert not Enrollment.objects.filter(episode=ann).exists()


def test_applying_ignores_episodes_outside_the_program(client, clinic, groups):
    other = admit(clinic, "Sam", program=clinic.su)
    login(client, clinic.director)
    response = client.post(url(clinic), apply_data(clinic, (other, clinic.evening, [groups["evening"]])))
    assert response.status_code == 302
    assert not Enrollment.objects.exists()


def test_malformed_choices_are_a_bad_request(client, clinic, groups):
    ann = with_availability(clinic, "Ann", EVENINGS)
    login(client, clinic.clinician)
    data = apply_data(clinic, (ann, clinic.evening, []))
    data[f"track_{ann.public_id}"] = "not-a-uuid"
    assert client.post(url(clinic), data).status_code == 400


def test_applying_needs_someone_ticked(client, clinic, groups):
    with_availability(clinic, "Ann", EVENINGS)
    login(client, clinic.clinician)
    response = client.post(url(clinic), {"action": "apply", "starts_on": timezone.localdate().isoformat()})
    assert response.status_code == 200
    assert "Tick at least one person to enroll." in response.content.decode()
    assert not Enrollment.objects.exists()


def test_a_waitlisted_person_is_proposed_but_must_be_admitted_first(clinic, groups):
    patient = make_patient(clinic, admit=False, legal_first_name="Wren")
    episode = do_open_episode(
        patient, acting_user=None, program=clinic.mh, status=EpisodeOfCare.Status.WAITLIST,
        waitlisted_on=timezone.localdate(),
    )  # fmt: skip
    placement.do_save_placement_request(episode, acting_user=None, availability=MORNINGS)
    row = placement.run_placement(clinic.mh).rows()[0]
    assert row["placement"].placed and not row["can_enroll"]
    choice = placement.Choice(str(episode.public_id), str(row["track"].public_id), (str(row["groups"][0].public_id),))
    applied = placement.do_apply_placements(
        clinic.mh, acting_user=clinic.clinician, choices=[choice], starts_on=timezone.localdate()
    )
    assert applied[0].error == "Admit the episode before enrolling it."
    assert not Enrollment.objects.filter(episode=episode).exists()


def test_whole_track_sessions_count_toward_the_dose(clinic, groups):
    # A 3-hour Tuesday community meeting for everyone in the day track, on top of its 9-hour group.
    today = timezone.localdate()
    do_create_series(
        clinic.mh,
        acting_user=None,
        session_type=make_session_type(clinic.mh, "Community meeting"),
        rrule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=today,
        start_time=time(9),
        track=clinic.day,
        duration_minutes=180,
        capacity=12,
        horizon=today + timedelta(days=14),
    )
    ann = admit(clinic, "Ann")
    _, tracks, specs, _, _ = placement.build_input(clinic.mh, [ann], today)
    day = next(t for t in tracks if t.id == str(clinic.day.public_id))
    assert day.required_meetings == (Block(1, time(9), time(12)),)
    assert day.name == "Day track"
    assert {g.free_seats for g in specs} == {2}
    placement.do_save_placement_request(ann, acting_user=None, availability=MORNINGS)
    row = placement.run_placement(clinic.mh).rows()[0]
    # 9 h of the group plus 3 h of the whole-track meeting.
    assert row["placement"].weekly_hours == 12.0
    assert row["placement"].reason == "Day track: 12.0 h/week within your availability"
