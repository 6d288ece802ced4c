"""The step down / step up page: access, what it shows before and after, and where the change shows on the chart."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.models import EpisodeOfCare
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.scheduling.models import Booking
from openiop.testing.intake import signed
from openiop.testing.levels import add_php
from openiop.testing.scheduling import local_at, make_session


def _setup(clinic, patient):
    php = add_php(clinic)
    episode = EpisodeOfCare.objects.get(patient=patient)
    make_session(clinic.mh, local_at(clinic.mh, 2, 9), track=clinic.day)
    assert episode.admitted_on is not None
    do_enroll(episode, acting_user=clinic.clinician, track=clinic.day, starts_on=episode.admitted_on)
    url = reverse("scheduling:level_change", args=[patient.public_id, episode.public_id])
    return php, episode, url


def test_access(client, clinic, patient):
    _php, _episode, url = _setup(clinic, patient)
    assert login(client, clinic.outsider).get(url).status_code == 404
    assert login(client, clinic.frontdesk).get(url).status_code == 403
    assert login(client, clinic.billing).post(url, {}).status_code == 403
    assert login(client, clinic.clinician).get(url).status_code == 200


def test_the_page_says_what_will_happen_and_keeps_what_was_typed(client, clinic, patient):
    php, episode, url = _setup(clinic, patient)
    login(client, clinic.clinician)
    page = client.get(url).content.decode()
    assert "1 upcoming session in Adult Mental Health IOP is cancelled" in page
    assert "Step up to PHP: Adult Mental Health PHP · PHP day" in page
    assert "PHP day · PHP A, 8 free seats" in page
    assert AuditEvent.objects.filter(
        action=AuditAction.RECORD_VIEWED, object_type="episodeofcare", object_id=str(episode.public_id)
    ).exists()
    response = client.post(
        url, {"track": php.track.public_id, "effective_on": timezone.localdate().isoformat(), "reason": ""}
    )
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    response = client.post(
        url, {"track": php.track.public_id, "effective_on": "2020-01-01", "reason": "Needs a higher level"}
    )
    assert "today or later" in response.content.decode()
    assert "Needs a higher level" in response.content.decode()
    episode.refresh_from_db()
    assert episode.program == clinic.mh


def test_a_step_up_shows_on_the_schedule_episodes_tab_and_header(client, clinic, patient):
    php, episode, url = _setup(clinic, patient)
    signed(patient, clinic.clinician)  # ASAM 2.1 chosen at intake
    login(client, clinic.clinician)
    chart = patient.get_absolute_url()
    schedule = client.get(f"{chart}?tab=schedule").content.decode()
    assert url in schedule
    assert url not in login(client, clinic.frontdesk).get(f"{chart}?tab=schedule").content.decode()

    login(client, clinic.clinician)
    response = client.post(
        url,
        {
            "track": php.track.public_id,
            "groups": [php.group.public_id],
            "effective_on": timezone.localdate().isoformat(),
            "reason": "Needs a higher level",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Step up: PHP in Adult Mental Health PHP, PHP day track" in page
    assert "Also done: 1 future session in Adult Mental Health IOP cancelled; 3 sessions booked" in page
    assert Booking.objects.filter(episode=episode, session__in=php.sessions, status=Booking.Status.BOOKED).count() == 3
    assert 'data-flag="stay"' in page and "PHP · week" in page
    assert 'data-flag="intake-level"' in page and "ASAM 2.1" in page
    episodes = client.get(f"{chart}?tab=episodes").content.decode()
    assert "Level of care history" in episodes
    assert "PHP</strong> in Adult Mental Health PHP" in episodes and "Needs a higher level" in episodes
    assert "IOP</strong> in Adult Mental Health IOP (9 h a week)" in episodes
    # Stepping back down to the IOP is offered now.
    assert url in client.get(f"{chart}?tab=schedule").content.decode()
