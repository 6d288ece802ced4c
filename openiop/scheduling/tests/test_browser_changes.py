"""The series page's schedule forms and the Schedule tab's change-groups form, in headless Chromium."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from openiop.scheduling.actions.enrollment import do_enroll
from openiop.scheduling.actions.series import do_create_series
from openiop.scheduling.actions.setup import do_create_room, do_create_session_type
from openiop.scheduling.models import Enrollment, Group, SessionType
from openiop.testing.browser import screenshot, sign_in
from openiop.testing.fixtures import build_clinic
from openiop.testing.levels import add_php
from openiop.testing.scheduling import admit, local_at, make_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1024, "height": 1366}


def test_a_director_changes_a_series_schedule(page, live_server, settings):
    settings.MFA_REQUIRED_ROLES = []
    clinic = build_clinic()
    st = do_create_session_type(
        clinic.mh,
        acting_user=None,
        name="Process group",
        kind=SessionType.Kind.PROCESS_GROUP,
        service_kind=SessionType.ServiceKind.GROUP_PSYCHOTHERAPY,
        default_duration_minutes=55,
    )
    room = do_create_room(clinic.site, acting_user=None, name="Oak", capacity=12)
    today = timezone.localdate()
    series = do_create_series(
        clinic.mh,
        acting_user=None,
        session_type=st,
        track=clinic.day,
        rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
        starts_on=today,
        until=today + timedelta(days=20),
        start_time=time(9),
        room=room,
        facilitators=[clinic.clinician],
    )
    sign_in(page, live_server, "director", viewport=TABLET)
    page.goto(f"{live_server.url}/schedule/setup/series/{series.public_id}/")
    page.get_by_text("Change the schedule", exact=True).first.click()
    page.locator("label[for='id_rule-weekdays_0']").click()  # Monday off
    page.locator("label[for='id_rule-weekdays_1']").click()  # Tuesday on
    screenshot(page, "scheduling-series-change-schedule")
    page.get_by_role("button", name="Change the schedule").click()
    assert page.get_by_text("Schedule changed:").is_visible()
    series.refresh_from_db()
    assert series.rrule == "FREQ=WEEKLY;BYDAY=TU,WE,FR"
    screenshot(page, "scheduling-series-changed")


def test_a_clinician_changes_groups_on_the_schedule_tab(page, live_server, settings):
    settings.MFA_REQUIRED_ROLES = []
    clinic = build_clinic()
    a = Group.objects.create(track=clinic.day, name="Day A", capacity=8)
    b = Group.objects.create(track=clinic.day, name="Day B", capacity=8)
    for group, hour in ((a, 9), (b, 11)):
        make_session(clinic.mh, local_at(clinic.mh, 2, hour), track=clinic.day, group=group)
    episode = admit(clinic, "Ana")
    do_enroll(
        episode, acting_user=None, track=clinic.day, groups=[a], starts_on=timezone.localdate() - timedelta(days=2)
    )
    sign_in(page, live_server, "clinician", viewport=TABLET)
    page.goto(f"{live_server.url}{episode.patient.get_absolute_url()}?tab=schedule")
    page.get_by_text("Change groups", exact=True).first.click()
    page.get_by_label("Day A").uncheck()
    page.get_by_label("Day B").check()
    screenshot(page, "scheduling-tab-change-groups")
    page.get_by_role("button", name="Change groups").click()
    assert page.get_by_text("Groups changed: 1 session booked.").is_visible()
    assert Enrollment.objects.filter(episode=episode).count() == 2
    screenshot(page, "scheduling-tab-groups-changed")


def test_a_clinician_steps_a_patient_up_from_the_schedule_tab(page, live_server, settings):
    settings.MFA_REQUIRED_ROLES = []
    clinic = build_clinic()
    php = add_php(clinic)
    episode = admit(clinic, "Ana")
    assert episode.admitted_on is not None
    make_session(clinic.mh, local_at(clinic.mh, 2, 9), track=clinic.day)
    do_enroll(episode, acting_user=clinic.clinician, track=clinic.day, starts_on=episode.admitted_on)
    sign_in(page, live_server, "clinician", viewport=TABLET)
    page.goto(f"{live_server.url}{episode.patient.get_absolute_url()}?tab=schedule")
    page.get_by_role("link", name="Step down / step up").click()
    assert page.get_by_text("1 upcoming session in Adult Mental Health IOP is cancelled").is_visible()
    page.get_by_label("Move to").select_option(
        label="Step up to PHP: Adult Mental Health PHP · PHP day (Mon/Tue/Wed/Thu/Fri 09:00-15:00)"
    )
    page.get_by_label("Reason").fill("Needs more structure")
    screenshot(page, "scheduling-level-change")
    page.get_by_role("button", name="Change level of care").click()
    assert page.get_by_text("Step up: PHP in Adult Mental Health PHP").is_visible()
    episode.refresh_from_db()
    assert (episode.program, episode.level_of_care) == (php.program, "php")
    assert Enrollment.objects.get(episode=episode, ends_on__isnull=True).track == php.track
