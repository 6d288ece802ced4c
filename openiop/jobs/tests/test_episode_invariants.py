"""The episode invariants hold whatever order the real actions run in (hypothesis stateful testing).

One program with two tracks: Day (groups A and B of two seats each, and whole-track sessions of two seats) and
Evening (one group of two), sessions over the next two weeks, five patients opted in to email reminders. Each rule is
a real action: admission from a referral (new, or a waitlisted episode; a readmission after a discharge), hold (today
or dated ahead), resume, discharge (every reason), change of groups, track move, joining a group's or a full
session's waitlist, a cancelled seat offered to the next person, an offer accepted, withdrawn or expired, a staff
booking, the daily booking of enrollments into new sessions, and the reminder planner. After every step the checks of
``jobs.integrity`` run and no error may show.

Each example runs inside a savepoint rolled back at its end, so the data built once (the clinic, sessions, patients)
is clean at the start of every example, on SQLite and PostgreSQL alike. A new transition is one more ``@rule``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from openiop.jobs import integrity
from openiop.patients.actions import do_change_episode_status, do_open_episode
from openiop.patients.models import EpisodeOfCare
from openiop.referrals.actions import do_link_patient, do_mark_assessed
from openiop.referrals.admission import do_admit
from openiop.reminders.actions import do_set_reminder_preferences
from openiop.reminders.planner import plan_reminders
from openiop.scheduling.actions import booking as booking_actions
from openiop.scheduling.actions.enrollment import (
    current_enrollment,
    do_book_new_sessions,
    do_change_groups,
    do_move_track,
)
from openiop.scheduling.models import Booking, Enrollment, Group, Session, WaitlistEntry
from openiop.testing.fixtures import make_patient
from openiop.testing.referrals import make_referral
from openiop.testing.scheduling import local_at, make_group, make_session

pytestmark = pytest.mark.django_db

MACHINE = settings(
    max_examples=20,
    stateful_step_count=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
PATIENTS = 5
S = EpisodeOfCare.Status
REASONS = list(EpisodeOfCare.DischargeReason.values)
GROUP_CHOICES = [(), ("a",), ("b",), ("a", "b")]
# Any action may refuse (a full group, nothing to book, a status that does not allow it): it is atomic, so a refusal
# changes nothing and the machine goes on.
REFUSALS = (ValidationError, booking_actions.SessionFull)


class Setting:
    """What every example starts from, built once per test through the actions and factories."""

    def __init__(self, clinic: Any) -> None:
        self.clinic = clinic
        program = clinic.mh
        self.program = program
        self.day_a = make_group(clinic.day, "Day A", capacity=2)
        self.day_b = make_group(clinic.day, "Day B", capacity=2)
        self.evening = make_group(clinic.evening, "Evening E", capacity=2)
        sessions = []
        for group, days, hour in ((self.day_a, (1, 3, 8), 9), (self.day_b, (2, 4, 9), 9), (self.evening, (1, 8), 18)):
            for day in days:
                sessions.append(
                    make_session(
                        program, local_at(program, day, hour), track=group.track, group=group, capacity=group.capacity
                    )
                )
        for day in (5, 10):  # whole-track sessions: every Day enrollee is booked
            sessions.append(make_session(program, local_at(program, day, 11), track=clinic.day, capacity=2))
        self.sessions = sessions
        self.patients = []
        for n in range(PATIENTS):
            patient = make_patient(
                clinic, admit=False, legal_first_name=f"Person{n}", legal_last_name="Machine", email=f"p{n}@example.org"
            )
            do_set_reminder_preferences(patient, acting_user=clinic.frontdesk, email_opt_in=True, sms_opt_in=False)
            self.patients.append(patient)

    def today(self) -> date:
        return self.program.now().date()


def has(*statuses: str | None) -> Any:
    """Precondition: some patient's current episode is in one of ``statuses`` (None: no open episode)."""
    return precondition(lambda self: bool(self.who(*statuses)))


class EpisodeMachine(RuleBasedStateMachine):
    setting: Setting  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.steps: list[str] = []
        self.status: list[str | None] = [None] * PATIENTS

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    # --- helpers ------------------------------------------------------------------------------------------------

    @property
    def clinic(self) -> Any:
        return self.setting.clinic

    def who(self, *statuses: str | None) -> list[int]:
        return [n for n, status in enumerate(self.status) if status in statuses]

    def pick(self, data: Any, *statuses: str | None) -> tuple[int, EpisodeOfCare | None]:
        """A patient whose current episode is in one of ``statuses``, and that episode."""
        who = data.draw(st.sampled_from(self.who(*statuses)), label="patient")
        episode = (
            EpisodeOfCare.objects.filter(patient=self.setting.patients[who], program=self.setting.program)
            .exclude(status=S.DISCHARGED)
            .select_related("patient", "program")
            .first()
        )
        return who, episode

    def refresh(self) -> None:
        """Each patient's open episode's status (None: none), one query."""
        open_ = dict(
            EpisodeOfCare.objects.filter(patient__in=self.setting.patients, program=self.setting.program)
            .exclude(status=S.DISCHARGED)
            .values_list("patient_id", "status")
        )
        self.status = [open_.get(p.pk) for p in self.setting.patients]

    def attempt(self, label: str, action: Any, *args: Any, **kwargs: Any) -> None:
        try:
            action(*args, **kwargs)
            self.steps.append(label)
        except REFUSALS:
            self.steps.append(f"{label} (refused)")
        self.refresh()

    def admit_from_referral(self, who: int, track: Any) -> None:
        """A referral's admission: a new episode, the waitlisted one, or a readmission after a discharge."""
        patient = self.setting.patients[who]
        referral = make_referral(
            self.clinic, first_name=patient.legal_first_name, last_name="Machine", email=patient.email
        )
        do_link_patient(referral, acting_user=self.clinic.intake, patient=patient)
        do_mark_assessed(referral, acting_user=self.clinic.clinician)
        self.attempt(
            f"admit {who}", do_admit, referral, acting_user=self.clinic.intake, program=self.setting.program,
            track=track, primary_clinician=self.clinic.clinician, admitted_on=self.setting.today(),
        )  # fmt: skip

    # --- admission --------------------------------------------------------------------------------------------

    @initialize()
    def two_admitted_one_waiting(self) -> None:
        """Material for every example: two people in the Day track, a third on the program's waitlist waiting for
        Day A (patients 3 and 4 start with nothing)."""
        for who in (0, 1):
            self.admit_from_referral(who, self.clinic.day)
        waiting = do_open_episode(
            self.setting.patients[2], acting_user=self.clinic.intake, program=self.setting.program, status=S.WAITLIST
        )
        booking_actions.do_join_waitlist(waiting, acting_user=self.clinic.intake, group=self.setting.day_a)
        self.steps.append("waitlist 2 for day_a")
        self.refresh()

    @has(None)
    @rule(data=st.data())
    def put_on_program_waitlist(self, data: Any) -> None:
        who, _ = self.pick(data, None)
        self.attempt(
            f"waitlist {who}", do_open_episode, self.setting.patients[who], acting_user=self.clinic.intake,
            program=self.setting.program, status=S.WAITLIST,
        )  # fmt: skip

    @has(None, S.WAITLIST)
    @rule(data=st.data(), evening=st.booleans())
    def admit(self, data: Any, evening: bool) -> None:
        who, _ = self.pick(data, None, S.WAITLIST)
        self.admit_from_referral(who, self.clinic.evening if evening else self.clinic.day)

    # --- status changes ---------------------------------------------------------------------------------------

    @has(S.ACTIVE)
    @rule(data=st.data(), ahead=st.sampled_from([0, 0, 2]))
    def hold(self, data: Any, ahead: int) -> None:
        who, episode = self.pick(data, S.ACTIVE)
        self.attempt(
            f"hold {who} +{ahead}d", do_change_episode_status, episode, acting_user=self.clinic.director,
            status=S.ON_HOLD, on_date=self.setting.today() + timedelta(days=ahead),
        )  # fmt: skip

    @has(S.ON_HOLD)
    @rule(data=st.data())
    def resume(self, data: Any) -> None:
        who, episode = self.pick(data, S.ON_HOLD)
        self.attempt(
            f"resume {who}", do_change_episode_status, episode, acting_user=self.clinic.director, status=S.ACTIVE,
            on_date=self.setting.today(),
        )  # fmt: skip

    @has(S.WAITLIST, S.ACTIVE, S.ON_HOLD)
    @rule(data=st.data(), reason=st.sampled_from(REASONS))
    def discharge(self, data: Any, reason: str) -> None:
        who, episode = self.pick(data, S.WAITLIST, S.ACTIVE, S.ON_HOLD)
        self.attempt(
            f"discharge {who} ({reason})", do_change_episode_status, episode, acting_user=self.clinic.director,
            status=S.DISCHARGED, on_date=self.setting.today(), discharge_reason=reason,
        )  # fmt: skip

    # --- enrollment -------------------------------------------------------------------------------------------

    @has(S.ACTIVE)
    @rule(data=st.data(), groups=st.sampled_from(GROUP_CHOICES), later=st.booleans())
    def change_groups(self, data: Any, groups: tuple[str, ...], later: bool) -> None:
        who, episode = self.pick(data, S.ACTIVE)
        enrollment = current_enrollment(episode) if episode is not None else None
        if enrollment is None or enrollment.track_id != self.clinic.day.pk:
            return
        chosen = [self.setting.day_a if g == "a" else self.setting.day_b for g in groups]
        self.attempt(
            f"change groups {who} to {''.join(groups) or 'none'}", do_change_groups, enrollment, chosen,
            acting_user=self.clinic.clinician, effective_on=self.setting.today() + timedelta(days=int(later)),
        )  # fmt: skip

    @has(S.ACTIVE)
    @rule(data=st.data())
    def move_track(self, data: Any) -> None:
        who, episode = self.pick(data, S.ACTIVE)
        enrollment = current_enrollment(episode) if episode is not None else None
        if enrollment is None:
            return
        to_day = enrollment.track_id != self.clinic.day.pk
        group: Group = self.setting.day_b if to_day else self.setting.evening
        self.attempt(
            f"move track {who}", do_move_track, episode, acting_user=self.clinic.clinician,
            track=self.clinic.day if to_day else self.clinic.evening, groups=[group],
            on=max(self.setting.today(), enrollment.starts_on) + timedelta(days=1),
        )  # fmt: skip

    # --- seats and waitlists ----------------------------------------------------------------------------------

    @has(S.WAITLIST, S.ACTIVE, S.ON_HOLD)
    @rule(data=st.data(), which=st.integers(0, 9))
    def book_a_seat(self, data: Any, which: int) -> None:
        who, episode = self.pick(data, S.WAITLIST, S.ACTIVE, S.ON_HOLD)
        session = self.setting.sessions[which]
        self.attempt(
            f"book {who} in {which}", booking_actions.do_book_seat, session, episode=episode,
            acting_user=self.clinic.intake,
        )  # fmt: skip

    @has(S.WAITLIST, S.ACTIVE, S.ON_HOLD)
    @rule(data=st.data())
    def wait_for_a_full_session(self, data: Any) -> None:
        who, episode = self.pick(data, S.WAITLIST, S.ACTIVE, S.ON_HOLD)
        full = list(
            Session.objects.filter(pk__in=[s.pk for s in self.setting.sessions], booked_count__gte=F("capacity"))
            .select_related("program")
            .order_by("starts_at", "pk")
        )
        if full:
            session = data.draw(st.sampled_from(full), label="session")
            self.attempt(
                f"wait {who} for a full session", booking_actions.do_join_waitlist, episode,
                acting_user=self.clinic.intake, session=session,
            )  # fmt: skip

    @has(S.WAITLIST, S.ACTIVE)
    @rule(data=st.data(), group=st.sampled_from(["day_a", "day_b", "evening"]))
    def wait_for_a_group(self, data: Any, group: str) -> None:
        who, episode = self.pick(data, S.WAITLIST, S.ACTIVE)
        self.attempt(
            f"wait {who} for {group}", booking_actions.do_join_waitlist, episode, acting_user=self.clinic.intake,
            group=getattr(self.setting, group),
        )  # fmt: skip

    @has(S.ACTIVE)
    @rule(data=st.data(), which=st.integers(0, 9))
    def free_a_seat(self, data: Any, which: int) -> None:
        who, _ = self.pick(data, S.ACTIVE)
        booked = list(
            Booking.objects.filter(
                patient=self.setting.patients[who], status=Booking.Status.BOOKED, session__starts_at__gt=timezone.now()
            ).order_by("session__starts_at", "pk")
        )
        if booked:
            booking = booked[which % len(booked)]
            self.attempt(
                f"cancel a seat of {who}", booking_actions.do_cancel_booking, booking, acting_user=self.clinic.intake
            )

    @has(S.WAITLIST, S.ACTIVE, S.ON_HOLD)
    @rule(data=st.data(), accept=st.booleans())
    def answer_an_offer(self, data: Any, accept: bool) -> None:
        who, episode = self.pick(data, S.WAITLIST, S.ACTIVE, S.ON_HOLD)
        entry = WaitlistEntry.objects.filter(episode=episode, status=WaitlistEntry.Status.OFFERED).first()
        if entry is None:
            return
        if accept:
            self.attempt(f"accept offer {who}", booking_actions.do_accept_offer, entry, acting_user=self.clinic.intake)
        else:
            self.attempt(f"withdraw {who}", booking_actions.do_withdraw, entry, acting_user=self.clinic.intake)

    @has(S.ACTIVE, S.ON_HOLD)
    @rule(job=st.sampled_from(["book new sessions", "offers expire", "plan reminders"]))
    def background(self, job: str) -> None:
        """The worker's jobs that touch seats and reminders: extend_schedule's booking of every current enrollment
        into new sessions (held ones must get nothing), expire_offers (run as if the offers' time had passed), and
        the reminder planner."""
        if job == "book new sessions":
            for enrollment in Enrollment.objects.filter(ends_on__isnull=True, episode__program=self.setting.program):
                do_book_new_sessions(enrollment, acting_user=None)
        elif job == "offers expire":
            booking_actions.expire_offers(now=timezone.now() + timedelta(hours=booking_actions.offer_hours() + 1))
        else:
            plan_reminders()
        self.steps.append(job)

    # --- the invariants ---------------------------------------------------------------------------------------

    @invariant()
    def no_broken_invariant(self) -> None:
        errors = integrity.run_checks().errors
        assert not errors, "\n".join([" -> ".join(self.steps), *(v.line() for v in errors)])


def test_the_actions_keep_the_episode_invariants(clinic):
    EpisodeMachine.setting = Setting(clinic)
    run_state_machine_as_test(EpisodeMachine, settings=MACHINE)
