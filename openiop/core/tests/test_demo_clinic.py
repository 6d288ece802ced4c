"""The demo clinic as `openiop demo` builds it, checked by many read-only tests.

Building it takes a while, so it is built once and shared (the seeded_demo fixture, openiop/testing/demo.py); what
a test changes is rolled back before the next. The command's output, its refusals, a second run and two builds
compared are in test_demo.py.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.audit import verify_chain
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.roles import Role
from openiop.demo.clinic import DEMO_PASSWORD
from openiop.patients.models import CareTeamMember, Coverage, EpisodeOfCare, Patient, SupportContact
from openiop.programs.models import Organization, Program, Site, Track

FICTIONAL_PHONE = re.compile(r"^\d{3}-555-01\d\d$")


@pytest.fixture
def demo(seeded_demo) -> Organization:
    return seeded_demo.organization


def test_demo_builds_the_clinic_as_specified(demo):
    assert [s.name for s in Site.objects.filter(organization=demo).order_by("name")] == [
        "Hillcrest",
        "Riverside Main",
    ]
    assert {s.name: s.time_zone for s in demo.sites.all()} == {
        "Riverside Main": "America/New_York",
        "Hillcrest": "America/Chicago",
    }
    programs = {p.name: p for p in Program.objects.filter(site__organization=demo)}
    assert set(programs) == {"Adult Mental Health IOP", "Adult Substance Use IOP", "Adolescent IOP"}
    assert programs["Adult Substance Use IOP"].focus == Program.Focus.SUBSTANCE_USE
    assert programs["Adolescent IOP"].population == Program.Population.ADOLESCENT
    assert programs["Adolescent IOP"].weekly_dose_hours == 6
    assert programs["Adolescent IOP"].time_zone == "America/Chicago"
    assert Track.objects.filter(program__site__organization=demo).count() == 5
    assert User.objects.filter(organization=demo).count() == 11
    assert Patient.objects.filter(organization=demo).count() == 60
    statuses = Counter(EpisodeOfCare.objects.filter(patient__organization=demo).values_list("status", flat=True))
    assert statuses == {"active": 45, "waitlist": 8, "discharged": 7}


def test_demo_is_written_through_actions_so_the_audit_chain_verifies(demo):
    assert verify_chain() == []
    patients = Patient.objects.filter(organization=demo)
    created = AuditEvent.objects.filter(object_type="patient", patient__in=patients, action=AuditAction.CREATED)
    assert created.count() == 60


def test_every_track_meets_its_programs_weekly_dose(demo):
    tracks = Track.objects.filter(program__site__organization=demo).select_related("program")
    assert {t.name: t.hours_per_week for t in tracks} == {
        "MH Day": 9,
        "MH Evening": 9,
        "SU Day": 9,
        "SU Evening": 9,
        "Adolescent After-school": 6,
    }
    assert all(t.meets_dose for t in tracks)


def test_staff_cover_every_role_and_use_the_demo_password(demo):
    staff = list(User.objects.filter(organization=demo))
    assert {u.role for u in staff} == set(Role.values)
    assert {u.credentials for u in staff if u.role == Role.CLINICIAN} == {"LCSW", "LPC", "LADC"}
    intern = next(u for u in staff if u.role == Role.SUPERVISED_CLINICIAN)
    assert intern.supervisor is not None and intern.supervisor.role == Role.CLINICIAN
    assert all(u.check_password(DEMO_PASSWORD) for u in staff)
    for user in staff:
        validate_password(DEMO_PASSWORD, user)
    # Sysadmins and the privacy officer work across the organization, in no program.
    everywhere = (Role.SYSADMIN, Role.PRIVACY_OFFICER)
    assert not any(u.memberships.exists() for u in staff if u.role in everywhere)
    assert all(u.memberships.exists() for u in staff if u.role not in everywhere)


def test_active_episodes_are_admitted_over_the_last_twelve_weeks_with_a_care_team(demo):
    today = timezone.localdate()
    active = EpisodeOfCare.objects.filter(patient__organization=demo, status="active").select_related("track")
    admitted = sorted(e.admitted_on for e in active if e.admitted_on is not None)
    assert len(admitted) == 45
    assert admitted[0] >= today - timedelta(weeks=12)
    assert admitted[-1] < today
    assert (admitted[-1] - admitted[0]).days > 60
    for episode in active:
        assert episode.track is not None and episode.admitted_on is not None
        assert episode.admitted_on.weekday() in episode.track.weekdays
        assert episode.expected_discharge_on is not None and episode.expected_discharge_on > today
        assert episode.primary_clinician is not None
        assert episode.team_members.filter(user=episode.primary_clinician, team_role="primary").exists()
    assert CareTeamMember.objects.filter(episode__in=active).exclude(team_role="primary").exists()


def test_discharged_and_waitlisted_episodes_are_coded(demo):
    episodes = EpisodeOfCare.objects.filter(patient__organization=demo)
    discharged = list(episodes.filter(status="discharged"))
    assert all(e.discharge_reason in EpisodeOfCare.DischargeReason.values for e in discharged)
    assert {e.discharge_reason for e in discharged} >= {"1", "2"}
    for episode in discharged:
        assert episode.admitted_on is not None and episode.discharged_on is not None
        assert episode.admitted_on <= episode.discharged_on < timezone.localdate()
    waitlisted = list(episodes.filter(status="waitlist"))
    assert all(e.waitlisted_on is not None and e.admitted_on is None for e in waitlisted)


def test_patients_are_varied_and_visibly_fictional(demo):
    patients = list(Patient.objects.filter(organization=demo))
    assert len({(p.legal_first_name, p.legal_last_name) for p in patients}) == 60
    coverages = Coverage.objects.filter(patient__organization=demo)
    contacts = SupportContact.objects.filter(patient__organization=demo)
    assert set(coverages.values_list("payer_kind", flat=True)) >= {
        "medicare",
        "medicaid",
        "commercial",
        "self_pay",
    }
    assert all(p.coverages.exists() for p in patients)
    assert contacts.filter(involved_in_treatment=True).exists()
    assert contacts.filter(involved_in_treatment=False).exists()
    assert len({p.sex_assigned_at_birth for p in patients}) >= 2
    assert len({p.preferred_language for p in patients}) >= 2
    assert len({p.date_of_birth.year for p in patients}) >= 20
    phones = [p.phone_mobile for p in patients] + [p.phone_home for p in patients if p.phone_home]
    phones += list(contacts.values_list("phone", flat=True)) + [u.phone for u in User.objects.filter(organization=demo)]
    assert all(FICTIONAL_PHONE.match(phone) for phone in phones)
    emails = [p.email for p in patients if p.email] + list(contacts.exclude(email="").values_list("email", flat=True))
    assert emails and all(e.endswith("@example.org") for e in emails)
    teens = Patient.objects.filter(organization=demo, home_program__population="adolescent")
    assert all(13 <= p.age_on(timezone.localdate()) <= 17 for p in teens)
    assert all(p.support_contacts.filter(relationship="parent", involved_in_treatment=True).exists() for p in teens)
