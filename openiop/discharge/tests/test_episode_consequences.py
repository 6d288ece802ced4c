"""A discharge and all its consequences commit together: bookings, enrollment, waitlists, reminders, tasks and
measures (each app's handler on ``EpisodeDischarged``), the counts shown on the confirmation, and a failing handler
rolling everything back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.measures.actions import do_start_administration
from openiop.measures.models import Administration
from openiop.patients import events
from openiop.patients.actions import do_change_episode_status
from openiop.patients.models import EpisodeOfCare
from openiop.reminders.models import Channel, Kind, Reminder
from openiop.scheduling.actions.booking import do_join_waitlist
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.scheduling.models import Booking, Enrollment, Session, WaitlistEntry
from openiop.testing.discharge import drafted
from openiop.testing.scheduling import admit, local_at, make_booking, make_session
from openiop.worklist.actions import do_raise_task
from openiop.worklist.models import WorkTask

DISCHARGED = EpisodeOfCare.Status.DISCHARGED


class Boom(Exception):
    pass


def _boom(event: events.EpisodeEvent) -> None:
    raise Boom


@dataclass
class Stay:
    clinic: Any
    ana: EpisodeOfCare  # enrolled in the day track, about to be discharged
    ben: EpisodeOfCare  # waiting for Ana's seat in the full first session
    upcoming: list[Session]
    past: Session
    elsewhere: WaitlistEntry  # Ana waiting for a seat in someone else's full session


def _reminder(episode: EpisodeOfCare, kind: str, object_id: int, n: int) -> Reminder:
    return Reminder.objects.create(
        patient=episode.patient, program=episode.program, kind=kind, channel=Channel.EMAIL, object_type=kind,
        object_id=object_id, dedupe_key=f"test:{kind}:{object_id}:{n}", send_after=timezone.now() + timedelta(days=1),
    )  # fmt: skip


@pytest.fixture
def stay(clinic) -> Stay:
    user = clinic.clinician
    ana = admit(clinic, "Ana", admitted_days_ago=20)
    ben = admit(clinic, "Ben")
    cleo = admit(clinic, "Cleo")
    past = make_session(clinic.mh, local_at(clinic.mh, -2, 9), capacity=12)
    make_booking(past, ana.patient, episode=ana)
    # The first upcoming session has one seat, so Ben can only wait for it.
    upcoming = [
        make_session(clinic.mh, local_at(clinic.mh, d, 9), track=clinic.day, capacity=1 if d == 1 else 12)
        for d in (1, 3, 5)
    ]
    do_enroll(ana, acting_user=user, track=clinic.day, starts_on=timezone.localdate())
    assert Booking.objects.filter(episode=ana, status=Booking.Status.BOOKED).count() == 4
    do_join_waitlist(ben, acting_user=user, session=upcoming[0])
    full = make_session(clinic.mh, local_at(clinic.mh, 2, 14), capacity=1)
    make_booking(full, cleo.patient, episode=cleo)
    elsewhere = do_join_waitlist(ana, acting_user=user, session=full)
    booking = Booking.objects.filter(episode=ana, session=upcoming[1]).get()
    for n, kind in enumerate([Kind.SESSION, Kind.QUESTIONNAIRE, Kind.PLAN_SIGNATURE, Kind.FOLLOW_UP]):
        _reminder(ana, kind, booking.pk if kind == Kind.SESSION else ana.pk, n)
    today = timezone.localdate()
    for task_kind in (WorkTask.Kind.OUTREACH, WorkTask.Kind.PLAN_DUE, WorkTask.Kind.NOTE_DUE):
        do_raise_task(
            acting_user=None, episode=ana, kind=task_kind, trigger_key=f"{task_kind}:{ana.pk}", reason="T", due_on=today
        )
    do_start_administration(ana, acting_user=user, instrument_code="phq9")
    return Stay(clinic, ana, ben, upcoming, past, elsewhere)


def _discharge(stay: Stay, done: list[events.Consequence] | None = None) -> EpisodeOfCare:
    return do_change_episode_status(
        stay.ana, acting_user=stay.clinic.clinician, status=DISCHARGED, on_date=timezone.localdate(),
        discharge_reason=EpisodeOfCare.DischargeReason.DROPPED_OUT, consequences=done,
    )  # fmt: skip


def test_discharge_cancels_future_bookings_ends_enrollment_and_offers_the_seats(stay):
    done: list[events.Consequence] = []
    _discharge(stay, done)
    ana = stay.ana
    booked = Booking.objects.filter(episode=ana, status=Booking.Status.BOOKED)
    # The session already held keeps its booking (attendance hangs off it); none upcoming is left.
    assert list(booked.values_list("session_id", flat=True)) == [stay.past.pk]
    cancelled = Booking.objects.filter(episode=ana, status=Booking.Status.CANCELLED)
    assert cancelled.count() == 3 and set(cancelled.values_list("cancel_reason", flat=True)) == {"Episode discharged"}
    enrollment = Enrollment.objects.get(episode=ana)
    assert enrollment.ends_on == timezone.localdate()
    for session in Session.objects.filter(pk__in=[s.pk for s in stay.upcoming]):
        assert session.booked_count == session.bookings.filter(status=Booking.Status.BOOKED).count() == 0
    offer = WaitlistEntry.objects.get(episode=stay.ben)
    assert offer.status == WaitlistEntry.Status.OFFERED and offer.session_id == stay.upcoming[0].pk
    stay.elsewhere.refresh_from_db()
    assert stay.elsewhere.status == WaitlistEntry.Status.WITHDRAWN
    counts = {c.key: c.count for c in done}
    assert counts["bookings_cancelled"] == 3
    assert counts["seats_offered"] == 1
    assert counts["waitlist_withdrawn"] == 1
    assert counts["enrollments_ended"] == 1
    audited = AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED, object_type="booking")
    assert set(audited.values_list("object_id", flat=True)) == {str(b.public_id) for b in cancelled}
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATED, object_type="enrollment", object_id=str(enrollment.public_id)
    ).exists()
    assert AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED, object_type="worktask").count() == 2


def test_discharge_cancels_reminders_tasks_and_measures_but_keeps_follow_ups_and_notes(stay):
    done: list[events.Consequence] = []
    _discharge(stay, done)
    pending = Reminder.objects.filter(patient=stay.ana.patient, status=Reminder.Status.PENDING)
    assert list(pending.values_list("kind", flat=True)) == [Kind.FOLLOW_UP]
    dropped = Reminder.objects.filter(patient=stay.ana.patient, status=Reminder.Status.DROPPED)
    assert dropped.count() == 3
    tasks = {t.kind: t for t in WorkTask.objects.filter(episode=stay.ana)}
    assert tasks[WorkTask.Kind.OUTREACH].status == WorkTask.Status.DONE
    assert tasks[WorkTask.Kind.OUTREACH].outcome_note == "Episode discharged"
    assert tasks[WorkTask.Kind.PLAN_DUE].status == WorkTask.Status.DONE
    assert tasks[WorkTask.Kind.NOTE_DUE].status == WorkTask.Status.OPEN  # the session's note is still owed
    assert not Administration.objects.filter(episode=stay.ana, status__in=Administration.OPEN).exists()
    counts = {c.key: c.count for c in done}
    assert counts["reminders_cancelled"] == 3
    assert counts["tasks_closed"] == 2
    assert counts["measures_stopped"] == 1


def test_a_failing_handler_rolls_the_discharge_and_every_consequence_back(stay):
    with events.registered(events.EpisodeDischarged, _boom, order=1000, app="test"), pytest.raises(Boom):
        _discharge(stay)
    stay.ana.refresh_from_db()
    assert stay.ana.status == EpisodeOfCare.Status.ACTIVE
    assert Booking.objects.filter(episode=stay.ana, status=Booking.Status.BOOKED).count() == 4
    assert Enrollment.objects.get(episode=stay.ana).ends_on is None
    assert WaitlistEntry.objects.get(episode=stay.ben).status == WaitlistEntry.Status.WAITING
    assert Reminder.objects.filter(patient=stay.ana.patient, status=Reminder.Status.PENDING).count() == 4
    assert WorkTask.objects.filter(episode=stay.ana, status=WorkTask.Status.OPEN).count() == 3
    assert Session.objects.get(pk=stay.upcoming[0].pk).booked_count == 1


def test_the_sign_confirmation_shows_what_the_discharge_did(client, stay):
    summary = drafted(stay.ana, stay.clinic.clinician)
    login(client, stay.clinic.clinician)
    response = client.post(reverse("discharge:sign", args=[summary.public_id]), follow=True)
    html = response.content.decode()
    assert "3 future sessions cancelled" in html
    assert "1 freed seat offered to the waitlist" in html
    assert "1 waitlist entry withdrawn" in html
    assert "3 pending reminders cancelled" in html
    assert "2 open tasks closed" in html
    stay.ana.refresh_from_db()
    assert stay.ana.status == DISCHARGED
    # The follow-up check-ins raised after the transition stay open.
    assert WorkTask.objects.filter(episode=stay.ana, kind=WorkTask.Kind.FOLLOW_UP, status=WorkTask.Status.OPEN).exists()


def test_the_sign_api_answers_with_the_consequences(client, stay):
    summary = drafted(stay.ana, stay.clinic.clinician)
    login(client, stay.clinic.clinician)
    response = client.post(f"/api/v1/discharge/{summary.public_id}/sign")
    assert response.status_code == 200, response.content
    keys = {c["key"]: c["count"] for c in response.json()["consequences"]}
    assert keys["bookings_cancelled"] == 3 and keys["tasks_closed"] == 2


def test_the_episode_status_api_answers_with_the_consequences(client, stay):
    login(client, stay.clinic.clinician)
    response = client.post(
        f"/api/v1/episodes/{stay.ana.public_id}/status",
        {"status": "discharged", "on_date": timezone.localdate().isoformat(), "discharge_reason": "1"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == DISCHARGED and body["id"] == str(stay.ana.public_id)
    keys = {c["key"]: c for c in body["consequences"]}
    assert keys["bookings_cancelled"]["count"] == 3 and keys["bookings_cancelled"]["app"] == "scheduling"
    assert keys["bookings_cancelled"]["label"] == "future sessions cancelled"
    assert keys["waitlist_withdrawn"]["count"] == 1
    assert keys["waitlist_withdrawn"]["label"] == "waitlist entry withdrawn"  # a count of 1 reads in the singular
    # The contract names the shape.
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/episodes/{episode_id}/status"]["post"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "consequences" in schema["components"]["schemas"][ref]["properties"]
    # A hold reports what it released; a transition that does nothing elsewhere lists nothing.
    other = admit(stay.clinic, "Dana")
    quiet = client.post(
        f"/api/v1/episodes/{other.public_id}/status",
        {"status": "on_hold", "on_date": timezone.localdate().isoformat()},
        content_type="application/json",
    )
    assert quiet.status_code == 200 and quiet.json()["consequences"] == []


def test_the_portal_lists_no_sessions_after_discharge(client, stay):
    from openiop.portal.tests.conftest import portal_login

    account = portal_login(stay.ana.patient, by=stay.clinic.frontdesk, username="ana")
    client.force_login(account.user)
    assert "Your next sessions" in client.get(reverse("portal:home")).content.decode()
    _discharge(stay)
    body = client.get(reverse("portal:home")).content.decode()
    assert "Your next sessions" not in body and "Your program has ended" in body
