"""Two check-ins of one person at the same moment (two sessions, two threads, two database connections): the
receivers must neither miss the trigger the two make together nor raise it twice, and the billable day must end
up counting both sessions. Real threads and connections, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from openiop.attendance.actions import do_check_in
from openiop.billing.actions import do_create_payer_rule
from openiop.billing.models import BillableDay
from openiop.testing.fixtures import build_clinic
from openiop.testing.scheduling import make_booking, make_session
from openiop.testing.threads import together
from openiop.worklist.models import WorkTask
from openiop.worklist.tests.conftest import PRESENT, UNEXCUSED, local_day, person_with_sessions

pytestmark = pytest.mark.django_db(transaction=True)
REPETITIONS = 5


def _check_in_together(sessions, patient, user, status):
    return together([lambda s=s: do_check_in(s, patient, acting_user=user, status=status) for s in sessions])


def test_two_misses_recorded_at_once_raise_exactly_one_outreach_task():
    clinic = build_clinic()
    for repetition in range(REPETITIONS):
        person = person_with_sessions(clinic, [6, 4], f"Racer{repetition}")
        _check_in_together(person.sessions, person.patient, clinic.clinician, UNEXCUSED)
        tasks = WorkTask.objects.filter(episode=person.episode, kind=WorkTask.Kind.OUTREACH)
        assert tasks.count() == 1, f"repetition {repetition}"


def test_two_sessions_of_one_day_checked_in_at_once_count_both():
    clinic = build_clinic()
    do_create_payer_rule(acting_user=None, organization=clinic.org, name="Default", min_services_per_day=2)
    for repetition in range(REPETITIONS):
        person = person_with_sessions(clinic, [], f"Pair{repetition}")
        day = local_day(clinic.mh, 2 + repetition)
        sessions = [
            make_session(clinic.mh, datetime.combine(day, time(hour), tzinfo=clinic.mh.tz())) for hour in (9, 10)
        ]
        for session in sessions:
            make_booking(session, person.patient, episode=person.episode)
        _check_in_together(sessions, person.patient, clinic.clinician, PRESENT)
        decided = BillableDay.objects.get(episode=person.episode, date=day)
        assert (decided.service_count, decided.is_billable) == (2, True), f"repetition {repetition}"
