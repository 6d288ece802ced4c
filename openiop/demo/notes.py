"""The demo clinic's progress notes, in the adult mental-health program: three signed individual notes, one draft
long past its deadline (the overdue queue), one by the intern waiting for the supervisor's co-signature, and a group
note. The group note is for the latest group session with attendance that has ended, written and signed by every
facilitator (locked); when the demo has no such session (its history is not seeded), the first group session from
today on gets a draft group note with its shared part written: its booked people are checked in when check-in is open,
and otherwise each gets a part as the front desk checks them in (the ``attendance_recorded`` hook adds it).

Everything goes through the real actions; an episode without a plan in force gets one (a problem tied to its
primary diagnosis, a goal, an objective) so its notes can be signed. Deterministic and idempotent: an organization
that has notes already is left alone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.attendance.actions import checkin_is_open, do_check_in
from openiop.attendance.models import AttendanceRecord
from openiop.intake.actions import do_add_diagnosis, do_start_assessment
from openiop.notes import actions, group_actions
from openiop.notes.common import active_objectives
from openiop.notes.diagnoses import episode_diagnoses
from openiop.notes.models import GroupNote, ProgressNote
from openiop.patients.models import EpisodeOfCare
from openiop.plans.models import PlanVersion, TreatmentPlan
from openiop.programs.models import Organization, Program
from openiop.scheduling.models import Booking, Session, SessionType

# (behavior, intervention, response, plan) of each signed or drafted individual note, used in turn.
TEXTS = [
    ("Arrived on time; said the week was hard after an argument at home.",
     "CBT thought record on the argument; reviewed the sleep routine.",
     "Named the thought 'I always ruin things' and found two facts against it.",
     "Complete one thought record a day; review at the next session."),
    ("Quiet at first, then described two good days.",
     "Behavioral activation: scheduled three pleasant activities.",
     "Chose a walk with a friend and cooking on Sunday.",
     "Log the activities and mood ratings; review next week."),
    ("Reported cravings on payday and one skipped group.",
     "Motivational interviewing; a plan for payday evenings.",
     "Agreed to call a support person before going out.",
     "Check in on the payday plan on Monday."),
]  # fmt: skip
SHARED = ("Coping with difficult emotions", "Psychoeducation on the emotion cycle; a distress-tolerance skill "
          "(paced breathing) practised in pairs; homework reviewed.")  # fmt: skip
PART = (
    "Took part in the check-in and the practice.",
    "Distress-tolerance skill practice; feedback on homework.",
    "Practised paced breathing and said it helped with tension.",
    "Use the skill once a day and note it.",
)


def _staff(organization: Organization) -> dict[str, User]:
    return {u.username: u for u in User.objects.filter(organization=organization)}


def _at(program: Program, day: date, hour: int, minutes: int) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(hour), tzinfo=program.tz())
    return start, start + timedelta(minutes=minutes)


def _business_days_before(day: date, count: int) -> date:
    while count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _ready(episode: EpisodeOfCare, clinician: User, today: date) -> None:
    """A diagnosis and a plan in force, so the episode's notes can be signed."""
    from openiop.plans import actions as plans
    from openiop.plans import content_actions as plans_content

    if not episode_diagnoses(episode):
        assessment = do_start_assessment(
            episode.patient, acting_user=clinician, program=episode.program, episode=episode
        )
        do_add_diagnosis(
            assessment, acting_user=clinician, code="F33.1", description="Major depressive disorder, recurrent, "
            "moderate", is_primary=True,
        )  # fmt: skip
    if active_objectives(episode):
        return
    plan, _ = plans.do_ensure_plan(episode, acting_user=clinician)
    version = plan.versions.filter(status="draft").first() or plans.do_start_version(plan, acting_user=clinician)
    plans.do_update_version_text(
        version, acting_user=clinician, strengths="Keeps a job; a supportive sibling.", patient_words="I want to "
        "feel like myself again.",
    )  # fmt: skip
    primary = episode_diagnoses(episode)[0]
    problem = plans_content.do_add_problem(
        version, acting_user=clinician, statement="Low mood most days.", diagnosis=primary
    )
    goal = plans_content.do_add_goal(
        problem, acting_user=clinician, statement="Mood improves enough to work full days."
    )
    objective = plans_content.do_add_objective(
        goal, acting_user=clinician, statement="Uses two coping skills daily, by self-report, 5 of 7 days.",
        target_date=(episode.admitted_on or today) + timedelta(days=28),
    )  # fmt: skip
    plans_content.do_add_intervention(
        objective, acting_user=clinician, modality="cbt_skills", frequency="3x weekly", responsible=clinician
    )
    plans.do_sign_version(version, acting_user=clinician)
    plans.do_patient_sign(
        version, acting_user=clinician, name=episode.patient.display_name, method="typed", agreed=True
    )


def _note(episode: EpisodeOfCare, author: User, day: date, text: tuple[str, str, str, str]) -> ProgressNote:
    start, stop = _at(episode.program, day, 10, 50)
    behavior, intervention, response, plan = text
    return actions.do_create_note(
        episode.patient, acting_user=author, episode=episode, objectives=active_objectives(episode)[:1],
        format="birp", service_date=day, start_time=start, stop_time=stop, behavior=behavior,
        intervention=intervention, response=response, plan=plan, risk_level="none",
    )  # fmt: skip


def _can_ready(episode: EpisodeOfCare) -> bool:
    """Whether _ready can give the episode a plan in force: it has one, or none, or only a draft in progress (a
    version waiting for a co-signature or the patient is the plans demo's own case, left as it is)."""
    if active_objectives(episode):
        return True
    waiting = (PlanVersion.Status.AWAITING_COSIGN, PlanVersion.Status.AWAITING_PATIENT)
    return not PlanVersion.objects.filter(plan__episode=episode, status__in=waiting).exists()


def _group_session(program: Program, now: datetime) -> tuple[Session | None, bool]:
    """The latest ended group session with attendance whose participants can all have a plan in force (to lock),
    else today's first group session (a draft)."""
    groups = Session.objects.filter(
        program=program, status=Session.Status.SCHEDULED, session_type__kind__in=SessionType.GROUP_KINDS
    ).exclude(group_note__isnull=False)
    attended = AttendanceRecord.objects.filter(status__in=AttendanceRecord.ATTENDED)
    recent = groups.filter(ends_at__lte=now, pk__in=attended.values("session_id")).order_by("-starts_at")[:20]
    for past in recent:
        records = attended.filter(session=past).select_related("episode")
        if all(_can_ready(r.episode) for r in records):
            return past, True
    # Today's first group session, or the next day's with groups when today has none (a weekend), so the demo
    # always has a group note to show whatever day it is seeded on.
    local = now.astimezone(program.tz()).date()
    start, _ = _at(program, local, 0, 0)
    return groups.filter(starts_at__gte=start).order_by("starts_at").first(), False


def _group_note(program: Program, staff: dict[str, User], now: datetime) -> GroupNote | None:
    session, lock = _group_session(program, now)
    if session is None:
        return None
    facilitators = list(session.facilitators.all()) or [staff["clinician"]]
    writer = facilitators[0]
    if not lock and checkin_is_open(session, now):
        bookings = Booking.objects.filter(session=session, status=Booking.Status.BOOKED).select_related("patient")
        for booking in bookings.order_by("pk")[:6]:
            do_check_in(session, booking.patient, acting_user=staff["frontdesk"], status="present",
                        participation="engaged")  # fmt: skip
    gn = group_actions.do_start_group_note(session, acting_user=writer)
    group_actions.do_save_group_note(gn, acting_user=writer, topic=SHARED[0], interventions=SHARED[1])
    for part in gn.parts.select_related("episode__program__site", "patient"):
        if lock:
            _ready(part.episode, writer, now.date())
        behavior, intervention, response, plan = PART
        # The part was prefilled before _ready gave the episode its diagnosis: name it now.
        group_actions.do_save_part(
            part, acting_user=writer, objectives=active_objectives(part.episode)[:1],
            diagnoses=episode_diagnoses(part.episode)[:1], behavior=behavior, intervention=intervention,
            response=response, plan=plan, risk_level="none",
        )  # fmt: skip
    if lock:
        for facilitator in facilitators:
            group_actions.do_sign_group_note(gn, acting_user=facilitator)
    return gn


@transaction.atomic
def ensure_demo_notes(organization: Organization, today: date) -> int:
    """Seed the notes once; returns how many progress notes were made (0 when the demo has notes already)."""
    if ProgressNote.objects.filter(patient__organization=organization).exists():
        return 0
    program = (
        Program.objects.filter(site__organization=organization, population="adult", focus=Program.Focus.MENTAL_HEALTH)
        .select_related("site")
        .order_by("pk")
        .first()
    )
    staff = _staff(organization)
    if program is None or not {"clinician", "intern", "frontdesk"} <= staff.keys():
        return 0
    # Episodes with a plan in force, or with no plan at all: a plan the plans demo keeps as a draft or waiting for
    # co-signature is left as it is.
    episodes = [
        e
        for e in EpisodeOfCare.objects.filter(program=program, status=EpisodeOfCare.Status.ACTIVE)
        .select_related("patient", "program__site")
        .order_by("admitted_on", "pk")
        if active_objectives(e) or not TreatmentPlan.objects.filter(episode=e).exists()
    ][:5]
    clinician, intern = staff["clinician"], staff["intern"]
    for i, episode in enumerate(episodes[:3]):
        _ready(episode, clinician, today)
        actions.do_sign_note(_note(episode, clinician, _business_days_before(today, 1 + i), TEXTS[i]),
                             acting_user=clinician)  # fmt: skip
    if len(episodes) > 3:
        # Seen two weeks ago and never signed: past its deadline, so it tops the overdue queue.
        _ready(episodes[3], clinician, today)
        _note(episodes[3], clinician, _business_days_before(today, 10), TEXTS[0])
    if len(episodes) > 4:
        _ready(episodes[4], clinician, today)
        actions.do_sign_note(_note(episodes[4], intern, _business_days_before(today, 1), TEXTS[1]), acting_user=intern)
    _group_note(program, staff, timezone.now())
    return ProgressNote.objects.filter(patient__organization=organization).count()
