"""The demo clinic's referral pipeline: two weeks of published intake slots for every program and a dozen
referrals across sources and stages. Invented people (555-01xx numbers, example.org addresses), built through the
real actions, deterministic, and idempotent: a second run publishes only slots that are missing and adds no
referral."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from django.db import transaction

from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.programs.models import Organization, Program
from openiop.referrals.actions import do_change_stage, do_create_referral, do_mark_assessed
from openiop.referrals.booking import do_book_intake, do_publish_slots, free_slots
from openiop.referrals.models import Referral

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


def _program(programs: list[Program], key: str) -> Program:
    focus = Program.Focus.SUBSTANCE_USE if key == "su" else Program.Focus.MENTAL_HEALTH
    adults = [p for p in programs if p.population == Program.Population.ADULT]
    return next((p for p in adults if p.focus == focus), adults[0] if adults else programs[0])


@transaction.atomic
def ensure_demo_referrals(organization: Organization, today: date) -> bool:
    """Publish missing slots; create the referrals once. True when the referrals were created by this call."""
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
    if Referral.objects.filter(organization=organization).exists():
        return False
    for spec in REFERRALS:
        _create(spec, organization, _program(programs, spec.program), intake)
    return True


def _create(spec: DemoReferral, organization: Organization, program: Program, intake: User | None) -> None:
    slug = spec.first.lower()
    referral = do_create_referral(
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
    if spec.stage == Stage.INQUIRY:
        return
    if spec.stage in (Stage.NO_RESPONSE, Stage.DECLINED, Stage.REFERRED_ELSEWHERE):
        do_change_stage(referral, acting_user=intake, stage=spec.stage, reason=spec.reason)  # type: ignore[arg-type]
        return
    do_change_stage(referral, acting_user=intake, stage=Stage.SCREENING)  # type: ignore[arg-type]
    if spec.stage == Stage.SCREENING:
        return
    if spec.stage == Stage.WAITLISTED:
        do_change_stage(referral, acting_user=intake, stage=Stage.WAITLISTED)  # type: ignore[arg-type]
        return
    slot = free_slots(program).first()
    if slot is not None and spec.stage == Stage.SCHEDULED:
        do_book_intake(slot, referral=referral, acting_user=intake, send_email=False)
    elif spec.stage == Stage.ASSESSED:
        do_mark_assessed(referral, acting_user=intake, reason="Assessed by phone")
