"""Due dates: business days skipping weekends and closures (organization-wide and the site's own, never another
site's), crisis hours, per-program policy, program-local days across a DST change; overdue in the queue."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from openiop.notes.deadlines import add_business_days, note_due_at
from openiop.notes.models import NotePolicy
from openiop.scheduling.models import Closure

pytestmark = pytest.mark.django_db
NY_END = time(23, 59)


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        (date(2026, 11, 2), date(2026, 11, 5)),  # Monday -> Thursday
        (date(2026, 11, 6), date(2026, 11, 11)),  # Friday -> Wednesday
        (date(2026, 11, 7), date(2026, 11, 11)),  # Saturday: Mon, Tue, Wed
        (date(2026, 11, 4), date(2026, 11, 9)),  # Wednesday -> Monday
    ],
)
def test_three_business_days_skip_weekends(service, expected):
    assert add_business_days(service, 3) == expected


def test_closures_are_skipped_like_weekends():
    # Thanksgiving Thursday and the Friday after: a Wednesday service is due the next Tuesday.
    closed = {date(2026, 11, 26), date(2026, 11, 27)}
    assert add_business_days(date(2026, 11, 25), 3, closed) == date(2026, 12, 2)
    assert add_business_days(date(2026, 11, 25), 3) == date(2026, 11, 30)


def _closure(clinic, day, site=None):
    return Closure.objects.create(organization=clinic.org, site=site, date=day, name="Closed")


def test_due_at_uses_the_organizations_and_the_sites_closures_only(clinic):
    _closure(clinic, date(2026, 11, 26))  # every site
    _closure(clinic, date(2026, 11, 30), site=clinic.site)  # this program's site
    _closure(clinic, date(2026, 12, 1), site=clinic.other_site)  # another site: does not count here
    due = note_due_at(clinic.mh, date(2026, 11, 25))
    # Thu 26 closed, Fri 27 (1), weekend, Mon 30 closed, Tue 1 (2), Wed 2 (3).
    assert due == datetime.combine(date(2026, 12, 2), NY_END, tzinfo=clinic.mh.tz())
    teen_due = note_due_at(clinic.teen, date(2026, 11, 25))  # the other site: Tue 1 Dec is its closure
    assert teen_due.date() == date(2026, 12, 2)
    assert teen_due.tzinfo == clinic.teen.tz()


def test_other_organizations_closures_do_not_count(clinic):
    Closure.objects.create(organization=clinic.other_org, date=date(2026, 11, 3), name="Theirs")
    assert note_due_at(clinic.mh, date(2026, 11, 2)).date() == date(2026, 11, 5)


def test_crisis_notes_are_due_24_hours_after_the_service_ends(clinic):
    ends = datetime(2026, 11, 6, 15, 30, tzinfo=clinic.mh.tz())
    assert note_due_at(clinic.mh, date(2026, 11, 6), ends_at=ends, is_crisis=True) == ends + timedelta(hours=24)


def test_crisis_hours_are_real_hours_across_dst(clinic):
    # The clocks fall back on Sunday 1 Nov 2026: 24 real hours after Saturday noon EDT is Sunday 11:00 EST.
    ends = datetime(2026, 10, 31, 12, 0, tzinfo=clinic.mh.tz())
    due = note_due_at(clinic.mh, date(2026, 10, 31), ends_at=ends, is_crisis=True)
    assert due.astimezone(UTC) - ends.astimezone(UTC) == timedelta(hours=24)
    assert due.astimezone(clinic.mh.tz()).hour == 11  # wall clock moved: 12:00 EDT + 24 h = 11:00 EST


def test_business_day_deadline_is_the_local_end_of_day_in_a_dst_week(clinic):
    # Friday 30 Oct 2026 -> Wednesday 4 Nov, with the change on Sunday 1 Nov: still 23:59 local.
    due = note_due_at(clinic.mh, date(2026, 10, 30))
    local = due.astimezone(clinic.mh.tz())
    assert (local.date(), local.time()) == (date(2026, 11, 4), NY_END)
    assert local.utcoffset() == timedelta(hours=-5)


def test_a_programs_policy_overrides_the_defaults(clinic, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "note_due_business_days": 5}
    assert note_due_at(clinic.mh, date(2026, 11, 2)).date() == date(2026, 11, 9)
    NotePolicy.objects.create(program=clinic.su, note_due_business_days=1, crisis_note_due_hours=12)
    assert note_due_at(clinic.su, date(2026, 11, 2)).date() == date(2026, 11, 3)
    ends = datetime(2026, 11, 2, 10, tzinfo=clinic.su.tz())
    assert note_due_at(clinic.su, date(2026, 11, 2), ends_at=ends, is_crisis=True) == ends + timedelta(hours=12)


def test_due_items_mark_overdue_against_now(clinic):
    from openiop.notes.queries import due_items
    from openiop.testing.notes import individual_session, participants

    session = individual_session(clinic.mh, days_ago=10, facilitators=(clinic.clinician,))
    participants(clinic, session, 1)
    recent = individual_session(clinic.mh, days_ago=0, facilitators=(clinic.clinician,))
    participants(clinic, recent, 1)
    items = due_items([clinic.mh.pk], facilitator=clinic.clinician)
    assert [i.kind for i in items] == ["missing", "missing"]
    now = timezone.now()
    assert [i.overdue(now) for i in items] == [True, False]
