"""A hold releases the upcoming seats (offered to the waitlist) and stops their reminders; a resume books the
enrollment again."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from openiop.accounts.models import User
from openiop.patients import events
from openiop.patients.actions import do_change_episode_status
from openiop.patients.models import EpisodeOfCare
from openiop.reminders.models import Channel, Kind, Reminder
from openiop.scheduling.actions.booking import do_join_waitlist
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.scheduling.models import Booking, Enrollment, Session, WaitlistEntry
from openiop.testing.scheduling import admit, local_at, make_session

S = EpisodeOfCare.Status


def _status(episode: EpisodeOfCare, status: str, on_date, done=None) -> EpisodeOfCare:
    user = User.objects.get(username="clinician")
    return do_change_episode_status(episode, acting_user=user, status=status, on_date=on_date, consequences=done)


def test_hold_releases_seats_and_reminders_and_resume_books_again(clinic):
    user = clinic.clinician
    ana, ben = admit(clinic, "Ana"), admit(clinic, "Ben")
    sessions = [
        make_session(clinic.mh, local_at(clinic.mh, d, 9), track=clinic.day, capacity=1 if d == 1 else 12)
        for d in (1, 3)
    ]
    do_enroll(ana, acting_user=user, track=clinic.day, starts_on=timezone.localdate())
    do_join_waitlist(ben, acting_user=user, session=sessions[0])
    booking = Booking.objects.get(episode=ana, session=sessions[0])
    Reminder.objects.create(
        patient=ana.patient, program=clinic.mh, kind=Kind.SESSION, channel=Channel.EMAIL, object_type="booking",
        object_id=booking.pk, dedupe_key="hold-test", send_after=timezone.now() + timedelta(hours=2),
    )  # fmt: skip
    done: list[events.Consequence] = []
    _status(ana, S.ON_HOLD, timezone.localdate(), done)

    assert not Booking.objects.filter(episode=ana, status=Booking.Status.BOOKED).exists()
    assert Enrollment.objects.get(episode=ana).ends_on is None  # still enrolled, only not attending
    assert Session.objects.get(pk=sessions[0].pk).booked_count == 0
    assert WaitlistEntry.objects.get(episode=ben).status == WaitlistEntry.Status.OFFERED
    assert Reminder.objects.get(dedupe_key="hold-test").status == Reminder.Status.DROPPED
    assert {c.key: c.count for c in done} == {"bookings_cancelled": 2, "seats_offered": 1, "reminders_cancelled": 1}

    done = []
    _status(ana, S.ACTIVE, timezone.localdate(), done)
    # Ben took nothing yet (an offer holds no seat), so both sessions have room for Ana again.
    rebooked = Booking.objects.filter(episode=ana, status=Booking.Status.BOOKED)
    assert set(rebooked.values_list("session_id", flat=True)) == {s.pk for s in sessions}
    assert {c.key: c.count for c in done} == {"sessions_booked": 2}


def test_the_schedule_tab_lists_a_session_released_and_booked_again_once(clinic, client):
    from openiop.conftest import login

    ana = admit(clinic, "Ana")
    sessions = [make_session(clinic.mh, local_at(clinic.mh, d, 9), track=clinic.day) for d in (1, 3)]
    do_enroll(ana, acting_user=clinic.clinician, track=clinic.day, starts_on=timezone.localdate())
    for status in (S.ON_HOLD, S.ACTIVE, S.ON_HOLD):
        _status(ana, status, timezone.localdate())
    assert Booking.objects.filter(episode=ana).count() == 2 * len(sessions)  # each session: a row per booking
    login(client, clinic.clinician)
    upcoming = client.get(f"{ana.patient.get_absolute_url()}?tab=schedule").context["upcoming"]
    assert [b.session_id for b in upcoming] == [s.pk for s in sessions]
    assert {b.status for b in upcoming} == {Booking.Status.CANCELLED}
    _status(ana, S.ACTIVE, timezone.localdate())
    upcoming = client.get(f"{ana.patient.get_absolute_url()}?tab=schedule").context["upcoming"]
    assert [(b.session_id, b.status) for b in upcoming] == [(s.pk, Booking.Status.BOOKED) for s in sessions]
