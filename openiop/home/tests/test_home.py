"""The home page: today's census of the user's programs and their caseload."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.actions import do_update_staff
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.patients.actions import do_change_episode_status, do_open_episode
from openiop.patients.models import EpisodeOfCare
from openiop.programs.actions import do_create_program, do_create_site, do_create_track
from openiop.testing.fixtures import make_patient

HOME = reverse("core:home")
# Tuesday 10 November 2026, 10:00 in New York (EST) and already Wednesday 11 November in Tokyo.
NOW = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
Status = EpisodeOfCare.Status
ACTIVE, ON_HOLD, WAITLIST, DISCHARGED = Status.ACTIVE, Status.ON_HOLD, Status.WAITLIST, Status.DISCHARGED


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


def _admit(clinic, first, *, program=None, track=None, admitted=None, expected=None, primary=None, team=(), **kw):
    program = program or clinic.mh
    patient = make_patient(clinic, program, admit=False, legal_first_name=first, legal_last_name="Census")
    status = WAITLIST if admitted is None else ACTIVE
    return do_open_episode(
        patient,
        acting_user=None,
        program=program,
        status=status,
        track=track,
        admitted_on=admitted,
        waitlisted_on=date(2026, 10, 20) if admitted is None else None,
        expected_discharge_on=expected,
        primary_clinician=primary,
        care_team=team,
    )


@pytest.fixture
def census_example(clinic, frozen):
    """Adult MH on 10 November 2026, by hand:

    name   status      track    admitted  expected   primary    counts as
    Ava    active      Day      Nov 2     (12 wks)   clinician  active; admitted 8 days ago: not recent
    Ben    active      Evening  Nov 9     Nov 16     clinician  active, recent, discharge due (last day of window)
    Cal    active      Day      Nov 4     Nov 17     director   active, recent (6 days ago); Nov 17 is outside
    Dee    on hold     Evening  Oct 1     Nov 5      clinician  on hold, past expected discharge
    Eve    waitlist    -        -         -          clinician  waitlist
    Fay    discharged  Day      Nov 5     -          clinician  recent admission only
    Gus    active      -        Nov 10    Nov 10     -          active (no track), recent, due today
    Hal    active      Day      Nov 3     -          -          active; 7 days ago: not recent
    Ivy    active      -        Nov 9     -          director   in Substance Use, not Adult MH
    """
    c = clinic.clinician
    episodes = {
        "Ava": _admit(clinic, "Ava", track=clinic.day, admitted=date(2026, 11, 2), primary=c),
        "Ben": _admit(
            clinic, "Ben", track=clinic.evening, admitted=date(2026, 11, 9), expected=date(2026, 11, 16), primary=c
        ),
        "Cal": _admit(
            clinic,
            "Cal",
            track=clinic.day,
            admitted=date(2026, 11, 4),
            expected=date(2026, 11, 17),
            primary=clinic.director,
            team=[(c, "therapist")],
        ),
        "Dee": _admit(
            clinic, "Dee", track=clinic.evening, admitted=date(2026, 10, 1), expected=date(2026, 11, 5), primary=c
        ),
        "Eve": _admit(clinic, "Eve", primary=c),
        "Fay": _admit(clinic, "Fay", track=clinic.day, admitted=date(2026, 11, 5), primary=c),
        "Gus": _admit(clinic, "Gus", admitted=date(2026, 11, 10), expected=date(2026, 11, 10)),
        "Hal": _admit(clinic, "Hal", track=clinic.day, admitted=date(2026, 11, 3)),
        "Ivy": _admit(clinic, "Ivy", program=clinic.su, admitted=date(2026, 11, 9), primary=clinic.director),
    }
    do_change_episode_status(episodes["Dee"], acting_user=clinic.director, status=ON_HOLD, on_date=date(2026, 11, 1))
    do_change_episode_status(
        episodes["Fay"],
        acting_user=clinic.director,
        status=DISCHARGED,
        on_date=date(2026, 11, 8),
        discharge_reason="2",
    )
    return episodes


def _census(response, program):
    return next(entry for entry in response.context["census"] if entry.program == program)


def test_census_numbers_match_the_hand_built_example(client, clinic, census_example):
    response = login(client, clinic.director).get(HOME)
    assert response.status_code == 200
    mh = _census(response, clinic.mh)
    assert mh.today == date(2026, 11, 10)
    assert (mh.active, mh.on_hold, mh.waitlist) == (5, 1, 1)
    assert mh.admitted_recently == 4  # Ben, Cal, Fay, Gus
    assert mh.discharges_due == 2  # Ben, Gus
    assert mh.past_expected_discharge == 1  # Dee
    assert [(t.name, t.active, t.on_hold) for t in mh.tracks] == [
        ("Day", 3, 0),
        ("Evening", 1, 1),
        ("No track yet", 1, 0),
    ]
    su = _census(response, clinic.su)
    assert (su.active, su.on_hold, su.waitlist, su.admitted_recently) == (1, 0, 0, 1)


def test_census_is_rendered_with_the_programs_date(client, clinic, census_example):
    page = login(client, clinic.director).get(HOME).content.decode()
    assert "Tue 10 Nov 2026" in page
    assert '<dd class="stat mb-0" data-count="active">5</dd>' in page
    assert '<strong data-count="discharges_due">2</strong>' in page


def test_census_covers_only_the_users_programs(client, clinic, census_example):
    response = login(client, clinic.clinician).get(HOME)
    assert [entry.program for entry in response.context["census"]] == [clinic.mh]
    outsider = login(client, clinic.outsider).get(HOME)
    assert [(e.program, e.active) for e in outsider.context["census"]] == [(clinic.teen, 0)]


def test_today_is_the_programs_own_date(client, clinic, frozen):
    tokyo_site = do_create_site(acting_user=None, organization=clinic.org, name="Tokyo", time_zone="Asia/Tokyo")
    tokyo = do_create_program(acting_user=None, site=tokyo_site, name="Tokyo IOP")
    do_update_staff(clinic.director, acting_user=clinic.sysadmin, programs=[clinic.mh, clinic.su, tokyo])
    # Admitted on the 11th, due on the 17th: both fall in Tokyo's week, neither in New York's.
    for program in (clinic.mh, tokyo):
        _admit(clinic, "Kim", program=program, admitted=date(2026, 11, 11), expected=date(2026, 11, 17))
    response = login(client, clinic.director).get(HOME)
    tokyo_census = _census(response, tokyo)
    mh_census = _census(response, clinic.mh)
    assert (tokyo_census.today, mh_census.today) == (date(2026, 11, 11), date(2026, 11, 10))
    assert (tokyo_census.admitted_recently, tokyo_census.discharges_due) == (1, 1)
    assert (mh_census.admitted_recently, mh_census.discharges_due) == (0, 0)


def test_caseload_lists_primary_and_care_team_episodes(client, clinic, census_example):
    response = login(client, clinic.clinician).get(HOME)
    rows = response.context["caseload"]
    names = [row.episode.patient.legal_first_name for row in rows]
    assert sorted(names) == ["Ava", "Ben", "Cal", "Dee", "Eve"]
    page = response.content.decode()
    for name in ("Fay", "Gus", "Hal", "Ivy"):
        assert f"{name} Census" not in page
    ava = next(row for row in rows if row.episode.patient.legal_first_name == "Ava")
    assert ava.week == 2
    assert f'<a href="{ava.episode.patient.get_absolute_url()}">Ava Census</a>' in page
    assert "Week 2 of 12" in page
    assert "Jan 25, 2027" in page  # Ava's expected discharge: 12 weeks after admission
    eve = next(row for row in rows if row.episode.patient.legal_first_name == "Eve")
    assert eve.week is None


def test_caseload_view_writes_one_audit_row_without_names(client, clinic, census_example):
    login(client, clinic.clinician)
    before = AuditEvent.objects.count()
    client.get(HOME)
    rows = list(AuditEvent.objects.filter(chain_index__gt=before).order_by("chain_index"))
    assert [(e.action, e.actor, e.object_type, e.patient) for e in rows] == [
        (AuditAction.PATIENTS_LISTED, clinic.clinician, "caseload", None)
    ]
    assert "Census" not in str(rows[0].changed_fields) + rows[0].object_id


def test_no_audit_row_when_no_names_are_shown(client, clinic, census_example):
    for who in ("frontdesk", "outsider", "sysadmin"):
        login(client, getattr(clinic, who))
        before = AuditEvent.objects.count()
        assert client.get(HOME).status_code == 200
        assert AuditEvent.objects.count() == before, who


def test_front_desk_sees_the_census_without_a_caseload_section(client, clinic, census_example):
    page = login(client, clinic.frontdesk).get(HOME).content.decode()
    assert "Census" in page
    assert "My caseload" not in page


def test_clinician_with_an_empty_caseload_is_told_so(client, clinic):
    page = login(client, clinic.outsider).get(HOME).content.decode()
    assert "No open episodes where you are the primary clinician" in page


def test_sysadmin_gets_the_administration_home(client, clinic):
    TOTPDevice.objects.create(user=clinic.director, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=clinic.clinician, name="half set up", confirmed=False)
    response = login(client, clinic.sysadmin).get(HOME)
    page = response.content.decode()
    assert "census" not in response.context
    assert reverse("programs:index") in page and reverse("programs:staff_list") in page
    assert reverse("core:audit_report") in page
    assert response.context["staff_active"] == 9
    assert response.context["staff_without_mfa"] == 8


@pytest.mark.parametrize(
    "who", ["director", "clinician", "intern", "intake", "frontdesk", "billing", "auditor", "sysadmin", "stranger"]
)
def test_every_role_gets_a_home_page(client, clinic, who):
    assert login(client, getattr(clinic, who)).get(HOME).status_code == 200


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_query_count_does_not_grow_with_patients_or_programs(client, clinic, frozen):
    login(client, clinic.clinician)
    _admit(clinic, "First", track=clinic.day, admitted=date(2026, 11, 2), primary=clinic.clinician)
    with CaptureQueriesContext(connection) as few:
        client.get(HOME)
    extra = do_create_program(acting_user=None, site=clinic.other_site, name="Second IOP")
    track = do_create_track(
        acting_user=None, program=extra, name="Day", weekdays=[0, 2, 4], start_time=time(9), end_time=time(12)
    )
    do_update_staff(clinic.clinician, acting_user=clinic.sysadmin, programs=[clinic.mh, extra])
    for n in range(6):
        _admit(clinic, f"More{n}", track=clinic.evening, admitted=date(2026, 11, 9), primary=clinic.clinician)
        _admit(clinic, f"Other{n}", program=extra, track=track, admitted=date(2026, 11, 5), primary=clinic.clinician)
    with CaptureQueriesContext(connection) as many:
        response = client.get(HOME)
    assert len(response.context["caseload"]) == 13
    assert len(response.context["census"]) == 2
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
