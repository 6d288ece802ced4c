from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from openiop.attendance.models import AttendanceRecord
from openiop.patients.actions import do_add_support_contact
from openiop.patients.models import EpisodeOfCare, Patient, SupportContact
from openiop.portal.models import PortalAccount
from openiop.scheduling.models import Session, SessionType
from openiop.testing import measures as mt
from openiop.testing import plans as pt
from openiop.testing.family import family_account
from openiop.testing.notes import attend, diagnose, group_session
from openiop.testing.scheduling import local_at, make_booking, make_room, make_session, make_session_type

# Text of the patient's record that no family page may show unless the release names it (some never).
REMARK = "Talked about the argument with Sam"
SECRETS_NEVER = [REMARK, "Disruptive", "unexcused", "excused", "Depressed mood most days", "Supportive sister",
                 "I want my life back", "Major depressive disorder", "F33.1", "Process group"]  # fmt: skip
PLAN_TEXT = "Mood improves."
SCORE_TEXT = "PHQ-9"


@pytest.fixture(autouse=True)
def _private_store(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture(autouse=True)
def _portal_login_route(settings):
    """The portal login comes from the portal app; on a branch without it, a stand-in route answers the redirect
    (``portal_view`` reverses ``portal:login`` for anonymous visitors)."""
    try:
        reverse("portal:login")
    except NoReverseMatch:
        settings.ROOT_URLCONF = "openiop.family.tests.urls"


@pytest.fixture
def contact(patient) -> SupportContact:
    return do_add_support_contact(patient, acting_user=None, name="Sam Rivera", relationship="sibling")


@pytest.fixture
def account(patient, contact) -> PortalAccount:
    return family_account(patient, contact)


@dataclass
class Record:
    """A patient record with something in every data class, so pages can be checked for what they must not show."""

    patient: Patient
    episode: EpisodeOfCare
    family_session: Session
    past: list[Session]


def fill_record(clinic: Any, patient: Patient) -> Record:
    episode = patient.episodes.get(program=clinic.mh)
    family = make_session_type(
        clinic.mh,
        "Family session",
        kind=SessionType.Kind.FAMILY,
        service_kind=SessionType.ServiceKind.FAMILY_PSYCHOTHERAPY,
    )
    room = make_room(clinic.site, "Family Room")
    upcoming = make_session(clinic.mh, local_at(clinic.mh, 3, 17, 30), minutes=60, session_type=family, room=room)
    make_booking(upcoming, patient, episode=episode)
    # A family session of another patient's program that this patient is not booked into.
    make_session(clinic.mh, local_at(clinic.mh, 4, 17, 30), minutes=60, session_type=family, room=room)
    first = group_session(clinic.mh, days_ago=2)
    second = group_session(clinic.mh, days_ago=1)
    attend(first, episode, clinic.frontdesk, participation="disruptive", remark=REMARK)
    attend(second, episode, clinic.frontdesk, status=AttendanceRecord.Status.ABSENT_UNEXCUSED)
    pt.active(patient, clinic.clinician)
    mt.completed(patient, clinic.clinician, "phq9", mt.phq9(12), today=timezone.localdate() - timedelta(days=1))
    diagnose(episode, clinic.clinician, "F33.1")
    return Record(patient, episode, upcoming, [first, second])


@pytest.fixture
def record(clinic, patient) -> Record:
    return fill_record(clinic, patient)
