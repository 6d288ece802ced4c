"""The demo clinic's referral pipeline: two weeks of published intake slots for every program and a dozen
referrals across sources and stages. Invented people (555-01xx numbers, example.org addresses), built through the
real actions, deterministic.

Each referral's story is dated: :func:`plan_demo_referrals` puts it on the demo's timeline (``core.clock``), received
days or weeks before today, screened the next morning, closed or waitlisted days later, and the assessed ones seen
at an intake appointment in the past, so the board shows how long each has waited and its "referral to first
service" median is not empty. :func:`ensure_demo_referrals` runs afterwards at the real time: it publishes the coming
two weeks of slots and books the referrals still to be scheduled; a second run publishes only missing slots.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta

from django.db import transaction

from openiop.accounts.models import User
from openiop.core.clock import Timeline
from openiop.core.roles import Role
from openiop.demo.clinic import DemoClinic, local_moment
from openiop.programs.models import Organization, Program
from openiop.referrals.actions import do_change_stage, do_create_referral, do_mark_assessed
from openiop.referrals.booking import do_book_intake, do_publish_slot, do_publish_slots, free_slots
from openiop.referrals.models import IntakeAppointment, Referral

SLOT_DAYS = 14
SLOT_TIMES = (time(10), time(14), time(17, 30))
Source = Referral.Source
Stage = Referral.Stage


@dataclass(frozen=True)
class DemoReferral:
    program: str  # index into the organization's programs, by name order
    source: str
    first: str
    last: str
    born: date
    stage: str
    referrer: tuple[str, str] = ("", "")
    reason: str = ""


REFERRALS = [
    DemoReferral("mh", Source.SELF, "Wren", "Delgado", date(1991, 3, 14), Stage.INQUIRY),
    DemoReferral("su", Source.FAMILY, "Jory", "McAllister", date(1986, 11, 2), Stage.INQUIRY),
    DemoReferral("mh", Source.THERAPIST, "Ines", "Kovacs", date(1979, 7, 23), Stage.SCREENING,
                 ("Dr. Alba Moreno", "Northside Counseling")),
    DemoReferral("su", Source.EAP, "Teo", "Adeyemi", date(1994, 1, 30), Stage.SCREENING,
                 ("Dana Lane, EAP counselor", "Hudson Valley EAP Services")),
    DemoReferral("mh", Source.INPATIENT, "Marlo", "Fairbanks", date(1983, 5, 5), Stage.SCHEDULED,
                 ("Unit 4 Social Work", "Riverside General (fictional)")),
    DemoReferral("mh", Source.BOOK_NOW, "Sky", "Huang", date(2000, 9, 9), Stage.SCHEDULED),
    DemoReferral("su", Source.COURT, "Rafe", "Calloway", date(1990, 12, 12), Stage.SCHEDULED,
                 ("Probation Officer Dunmore", "County Court (fictional)")),
    DemoReferral("mh", Source.PHYSICIAN, "Nell", "Sutherland", date(1975, 2, 18), Stage.ASSESSED,
                 ("Dr. Hal Patterson", "Valley Family Practice")),
    DemoReferral("su", Source.SELF, "Cass", "Beaumont", date(1988, 8, 8), Stage.ASSESSED),
    DemoReferral("mh", Source.THERAPIST, "Bo", "Lindgren", date(1997, 4, 1), Stage.WAITLISTED,
                 ("Lee Harmon, LPC", "Cedar Point Therapy Group")),
    DemoReferral("su", Source.PHYSICIAN, "Ari", "Mehta", date(1969, 10, 10), Stage.REFERRED_ELSEWHERE,
                 ("Dr. Ina Strand", "Lakeside Clinic (fictional)"), "Needs residential detox first"),
    DemoReferral("mh", Source.SELF, "Pim", "Verhoeven", date(1999, 6, 6), Stage.DECLINED,
                 reason="Chose weekly therapy closer to home"),
    DemoReferral("mh", Source.FAMILY, "Lux", "Okoro", date(1993, 3, 3), Stage.NO_RESPONSE),
]  # fmt: skip
# Days before today each referral (same order) was received: the open ones recently, the closed ones within the
# board's 30 days of closed referrals, the assessed ones early enough for their intake appointment to be past.
RECEIVED_DAYS_AGO = (1, 2, 5, 4, 6, 3, 8, 12, 9, 18, 10, 14, 21)
RECEIVED_AT = time(10)
SCREENED_AT = time(9, 30)  # the next morning
INTAKE_AFTER_DAYS = 2  # an assessed referral's intake appointment, two days after screening
INTAKE_AT = time(10)
CLOSED_AT = time(15)


def _program(programs: list[Program], key: str) -> Program:
    focus = Program.Focus.SUBSTANCE_USE if key == "su" else Program.Focus.MENTAL_HEALTH
    adults = [p for p in programs if p.population == Program.Population.ADULT]
    return next((p for p in adults if p.focus == focus), adults[0] if adults else programs[0])


def plan_demo_referrals(timeline: Timeline, clinic: DemoClinic, today: date) -> None:
    """Put every referral's story on ``timeline``, each step at its own date (all before today); the ones to be
    scheduled stay in screening for :func:`ensure_demo_referrals` to book into a coming slot."""
    organization = clinic.organization
    programs = list(Program.objects.filter(site__organization=organization, is_active=True).order_by("name"))
    if not programs:
        return
    intake = next((u for u in clinic.staff if u.role == Role.INTAKE), None)
    for index, spec in enumerate(REFERRALS):
        _plan_one(timeline, spec, index, organization, _program(programs, spec.program), intake, today)


def _plan_one(
    timeline: Timeline,
    spec: DemoReferral,
    index: int,
    organization: Organization,
    program: Program,
    intake: User | None,
    today: date,
) -> None:
    received = today - timedelta(days=RECEIVED_DAYS_AGO[index])
    zone = program.site.time_zone
    made: list[Referral] = []

    def at(day: date, moment: time, step: Callable[[], None]) -> None:
        timeline.at(local_moment(day, moment, zone), step)

    def receive() -> None:
        made.append(_create(spec, organization, program, intake))

    def move(stage: str) -> None:
        do_change_stage(made[0], acting_user=intake, stage=stage, reason=spec.reason)  # type: ignore[arg-type]

    def book_intake() -> None:
        starts = local_moment(received + timedelta(days=1 + INTAKE_AFTER_DAYS), INTAKE_AT, zone)
        slot = do_publish_slot(
            acting_user=intake, program=program, starts_at=starts, ends_at=starts + timedelta(minutes=60)
        )
        do_book_intake(slot, referral=made[0], acting_user=intake, send_email=False)

    def assessed() -> None:
        # The appointment took place: marking the referral assessed records it as attended.
        do_mark_assessed(made[0], acting_user=intake, reason="Assessed at the intake appointment")

    # A few minutes apart, so the referrals received on one day arrive one after another.
    at(received, time(RECEIVED_AT.hour, RECEIVED_AT.minute + index), receive)
    if spec.stage == Stage.INQUIRY:
        return
    if spec.stage in (Stage.NO_RESPONSE, Stage.DECLINED, Stage.REFERRED_ELSEWHERE):
        at(received + timedelta(days=RECEIVED_DAYS_AGO[index] // 2), CLOSED_AT, lambda: move(spec.stage))
        return
    screened = received + timedelta(days=1)
    at(screened, SCREENED_AT, lambda: move(Stage.SCREENING))
    if spec.stage == Stage.WAITLISTED:
        at(screened + timedelta(days=3), CLOSED_AT, lambda: move(Stage.WAITLISTED))
    elif spec.stage == Stage.ASSESSED:
        at(screened, time(SCREENED_AT.hour, SCREENED_AT.minute + 5), book_intake)
        at(screened + timedelta(days=INTAKE_AFTER_DAYS), time(INTAKE_AT.hour + 1, 30), assessed)


@transaction.atomic
def ensure_demo_referrals(organization: Organization, today: date) -> bool:
    """Publish missing slots; book the referrals still to be scheduled (their story is on the timeline:
    ``plan_demo_referrals``). True when this call booked them."""
    programs = list(Program.objects.filter(site__organization=organization, is_active=True).order_by("name"))
    if not programs:
        return False
    intake = User.objects.filter(organization=organization, role=Role.INTAKE, is_active=True).order_by("pk").first()
    for program in programs:
        do_publish_slots(
            acting_user=intake,
            program=program,
            first_day=today + timedelta(days=1),
            last_day=today + timedelta(days=SLOT_DAYS),
            weekdays=range(5),
            times=SLOT_TIMES,
            minutes=60,
        )
    booked = False
    for spec in REFERRALS:
        if spec.stage != Stage.SCHEDULED:
            continue
        referral = Referral.objects.filter(
            organization=organization, first_name=spec.first, last_name=spec.last, stage=Stage.SCREENING
        ).first()
        if referral is None or IntakeAppointment.objects.filter(referral=referral).exists():
            continue
        slot = free_slots(_program(programs, spec.program)).first()
        if slot is not None:
            do_book_intake(slot, referral=referral, acting_user=intake, send_email=False)
            booked = True
    return booked


def _create(spec: DemoReferral, organization: Organization, program: Program, intake: User | None) -> Referral:
    slug = spec.first.lower()
    return do_create_referral(
        acting_user=intake,
        organization=organization,
        source=spec.source,
        program=program,
        first_name=spec.first,
        last_name=spec.last,
        date_of_birth=spec.born,
        phone=f"555-01{40 + REFERRALS.index(spec):02d}",
        email=f"{slug}@example.org",
        preferred_contact=Referral.Contact.PHONE,
        payer_kind="commercial",
        payer_name="Lakeshore Health Plan",
        member_id=f"EXD{REFERRALS.index(spec):05d}",
        referrer_name=spec.referrer[0],
        referrer_organization=spec.referrer[1],
        prescreen={"danger": "no", "moderate_symptoms": "yes", "stable_home": "yes"}
        if spec.source == Source.BOOK_NOW
        else {},
        prescreen_result=Referral.ScreenResult.LIKELY_FIT if spec.source == Source.BOOK_NOW else "",
    )
