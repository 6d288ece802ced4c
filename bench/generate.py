"""Synthetic data at scale: sites, programs, tracks, staff, and years of patients moving through them.

Speed matters more than history here, so rows go in with bulk_create and no audit rows are written (the
audit chain stays valid: it is simply empty until the measured pages add to it through audit.record).
Everything is invented and reproducible from the seed; "today" anchors the dates.
"""

from __future__ import annotations

import random
import time as clock
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from bench import BENCH_API_TOKEN, BENCH_ORGANIZATION, BENCH_PASSWORD, BENCH_USERNAME
from openiop.accounts.models import ProgramMembership, User
from openiop.api.models import ApiToken, hash_token
from openiop.attendance.models import AttendanceRecord
from openiop.billing import days as billing_days
from openiop.billing import models as billing
from openiop.billing.models import BillableDay, PayerRule
from openiop.billing.rules import precedence
from openiop.claims.models import SubmissionProfile
from openiop.core.roles import Role
from openiop.demo.specs import FEMALE_NAMES, LAST_NAMES, MALE_NAMES, MIDDLE_INITIALS, NEUTRAL_NAMES, STREETS
from openiop.intake.models import Diagnosis
from openiop.lib.identifiers import make_npi
from openiop.patients.models import CareTeamMember, Coverage, EpisodeOfCare, Patient, Payer, SupportContact
from openiop.programs.models import Organization, Program, Site, Track
from openiop.scheduling.models import Booking, Enrollment, Group, Room, Session, SessionType

BATCH = 5000
FLUSH_ROWS = 50_000  # rows kept in memory per table before they are written

Status = EpisodeOfCare.Status
Reason = EpisodeOfCare.DischargeReason
Kin = SupportContact.Relationship
ADULT_KIN = [Kin.PARTNER, Kin.SIBLING, Kin.FRIEND, Kin.SPONSOR]

# Syllables for surnames, so search terms hit realistic numbers of rows rather than a few dozen names.
SURNAME_HEADS = [
    "Ash", "Bel", "Car", "Dal", "Eld", "Fair", "Gar", "Hal", "Ing", "Kel", "Lan", "Mar", "Nor", "Oak", "Pem",
    "Quin", "Rad", "Stan", "Thorn", "Vale", "Wes", "York", "Brook", "Clay", "Dun", "Fen", "Glen", "Hart",
]  # fmt: skip
SURNAME_TAILS = [
    "ford", "ton", "wood", "field", "by", "more", "well", "ridge", "stone", "worth", "ley", "wick", "ham",
    "croft", "dale", "mont", "holt", "ing", "son", "er",
]  # fmt: skip
SURNAMES = sorted({*LAST_NAMES, *(h + t for h in SURNAME_HEADS for t in SURNAME_TAILS)})
FIRST_NAMES = [*FEMALE_NAMES, *MALE_NAMES, *NEUTRAL_NAMES]
TIME_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
]
CITIES = ["Riverside", "Fairview", "Georgetown", "Springfield", "Franklin", "Greenville", "Madison", "Salem"]
STATES = ["NY", "IL", "CO", "CA", "AZ", "OH", "PA", "GA", "WA", "MN"]
# (reason, weight, shortest and longest stay in weeks)
OUTCOMES = [
    (Reason.COMPLETED, 55, 9, 12),
    (Reason.DROPPED_OUT, 25, 1, 5),
    (Reason.TRANSFERRED, 10, 2, 8),
    (Reason.TERMINATED, 4, 2, 6),
    (Reason.OTHER, 6, 1, 8),
]
PAYERS = [
    (Coverage.PayerKind.COMMERCIAL, "Lakeshore Health Plan", 40),
    (Coverage.PayerKind.COMMERCIAL, "Evergreen Mutual", 15),
    (Coverage.PayerKind.MEDICAID, "State Medicaid", 25),
    (Coverage.PayerKind.MEDICARE, "Medicare", 10),
    (Coverage.PayerKind.SELF_PAY, "Self-pay", 7),
    (Coverage.PayerKind.TRICARE, "TRICARE", 3),
]
PROGRAMS = [
    # key, name, focus, population, tracks: (name, kind, weekdays, start hour/minute, end hour/minute)
    ("mh", "Adult Mental Health IOP", Program.Focus.MENTAL_HEALTH, Program.Population.ADULT, [
        ("MH Day", Track.Kind.DAY, [0, 2, 4], (9, 0), (12, 0)),
        ("MH Evening", Track.Kind.EVENING, [0, 1, 3], (18, 0), (21, 0)),
    ]),
    ("su", "Adult Substance Use IOP", Program.Focus.SUBSTANCE_USE, Program.Population.ADULT, [
        ("SU Day", Track.Kind.DAY, [1, 3, 4], (9, 0), (12, 0)),
        ("SU Evening", Track.Kind.EVENING, [0, 2, 3], (18, 0), (21, 0)),
    ]),
    ("teen", "Adolescent IOP", Program.Focus.MENTAL_HEALTH, Program.Population.ADOLESCENT, [
        ("After-school", Track.Kind.DAY, [0, 2, 3], (15, 30), (17, 30)),
    ]),
]  # fmt: skip
# Each site's staff: (username suffix, role, credentials, program keys).
SITE_STAFF = [
    ("director", Role.DIRECTOR, "MD", ("mh", "su", "teen")),
    ("clinician1", Role.CLINICIAN, "LCSW", ("mh",)),
    ("clinician2", Role.CLINICIAN, "LPC", ("mh", "teen")),
    ("clinician3", Role.CLINICIAN, "LADC", ("su",)),
    ("intake", Role.INTAKE, "", ("mh", "su", "teen")),
    ("frontdesk", Role.FRONT_DESK, "", ("mh", "su", "teen")),
    ("billing", Role.BILLING, "", ("mh", "su", "teen")),
    ("auditor", Role.AUDITOR, "", ("mh", "su", "teen")),
]
INTERN = ("intern", Role.SUPERVISED_CLINICIAN, "MSW", ("mh",))

# --- The calendar and its history ---------------------------------------------------------------------------

FUTURE_WEEKS = 4  # sessions ahead of today, booked for the active patients
Kind = SessionType.Kind
Service = SessionType.ServiceKind
# Each track day is one group block over the track's hours (the 180 minutes the payer rules below ask for); the
# block's kind turns with the track's weekdays, so a patient's week has a process, a skills and an education group.
BLOCKS = [
    ("Process group", Kind.PROCESS_GROUP, Service.GROUP_PSYCHOTHERAPY),
    ("Skills group", Kind.SKILLS_GROUP, Service.GROUP_PSYCHOTHERAPY),
    ("Education workshop", Kind.EDUCATION, Service.PSYCHOEDUCATION),
]
INDIVIDUAL = ("Individual counseling", Kind.INDIVIDUAL, Service.INDIVIDUAL_PSYCHOTHERAPY)
INDIVIDUAL_MINUTES = 50
INDIVIDUAL_EVERY_WEEKS = 4  # each patient sees their primary clinician alone every fourth week of the stay
ROOMS = [("Group Room A", 14), ("Group Room B", 14), ("Counseling Room 1", 2)]
GROUP_ROOM = {"mh": "Group Room A", "su": "Group Room B", "teen": "Group Room A"}
Attended = AttendanceRecord.Status
ATTENDANCE_MIX = [
    (Attended.PRESENT, 78),
    (Attended.LATE, 8),
    (Attended.LEFT_EARLY, 3),
    (Attended.ABSENT_EXCUSED, 5),
    (Attended.ABSENT_UNEXCUSED, 6),
]
PARTICIPATION = [
    (AttendanceRecord.Participation.ENGAGED, 70),
    (AttendanceRecord.Participation.PASSIVE, 18),
    (AttendanceRecord.Participation.DISTRACTED, 8),
    (AttendanceRecord.Participation.DISRUPTIVE, 2),
    (AttendanceRecord.Participation.WITHDRAWN, 2),
]
CANCELLED_BOOKINGS = 0.03  # of past seats, given back before the day (no attendance record)
CANCEL_REASONS = ["Patient cancelled", "Illness", "Transportation", "Work conflict"]
# The organization's payer rules (billing.models.PayerRule): a day is one 3-hour block, so the per diem asks for one
# service and the block's minutes (as H0015's "3 hours a day"); Medicare pays a higher tier for a day that also
# has individual counseling. The adolescent day is two hours: a program rule stands in for an adolescent contract.
PAYER_RULES: list[dict[str, Any]] = [
    {"name": "IOP per diem", "code": "S9480", "min_services_per_day": 1, "min_minutes_per_day": 180},
    {
        "name": "Medicare IOP (CMHC)",
        "payer_kind": Coverage.PayerKind.MEDICARE,
        "code": "APC 5851/5852",
        "min_services_per_day": 1,
        "min_minutes_per_day": 180,
        "high_tier_services": 2,
        "weekly_dose_hours": Decimal("9"),
    },
]
ADOLESCENT_RULE: dict[str, Any] = {
    "name": "Adolescent IOP",
    "code": "S9480",
    "min_services_per_day": 1,
    "min_minutes_per_day": 120,
}

# --- What the write paths draw on (live_pools) --------------------------------------------------------------

LIVE_POOL = 50_000  # check-ins and bookings each: 3 repeats x (1, 8, 32) clients x 15 s at ~300 req/s, and warm-up
CHECKIN_TYPE = "Bench check-in group"  # sessions running now; the check-in path taps through their rosters
SLOT_TYPE = "Bench booking slot"  # short future sessions with free seats; the booking path books them
ROSTER_TITLE = "Bench roster group"
ROSTER_SIZE = 12
CHECKIN_MINUTES = 60
SLOT_MINUTES = 5
SLOT_HOURS = (0, 8)  # program-local night hours, so a slot never overlaps a track's group or counseling
SLOT_FIRST_DAY = 2  # days after today: clear of the sessions running now, whatever the hour
OPEN_FOR = timedelta(hours=1)
# The write paths' people: a drop-in program of the first site whose only clinician is the measured user, with
# LIVE_COHORT active patients and nothing else. Tens of thousands of taps and bookings on the handful of a real
# track's patients would give each of them hundreds of sessions today, which every page about them (and the
# billable-day decision of each tap, which reads the person's day) would then carry.
LIVE_PROGRAM = "Bench drop-in program"
LIVE_COHORT = 500  # a live session must stay open for check-in at least this long to be used


@dataclass(frozen=True)
class Scale:
    sites: int
    years: int
    seed: int = 1


@dataclass
class Counts:
    values: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int) -> None:
        self.values[name] = self.values.get(name, 0) + n

    def __str__(self) -> str:
        return ", ".join(f"{n:,} {name}" for name, n in self.values.items())


@dataclass
class _Stay:
    patient: Patient
    episode: EpisodeOfCare


class _Table:
    """Rows of one table with ids assigned here, written in big batches: COPY on PostgreSQL, ``executemany`` on
    SQLite (where only small sets are built). ``Generator.run`` moves the id sequences past them at the end."""

    def __init__(self, model: type[models.Model], names: Sequence[str]) -> None:
        meta = model._meta
        self.model = model
        self.fields = [cast("models.Field[Any, Any]", meta.get_field(name)) for name in ["id", *names]]
        self.rows: list[tuple[Any, ...]] = []
        self.next_id = 1 + (model._default_manager.aggregate(top=models.Max("id"))["top"] or 0)
        self.added = 0

    def take_id(self) -> int:
        pk = self.next_id
        self.next_id += 1
        return pk

    def add(self, pk: int, *values: Any) -> int:
        self.rows.append((pk, *values))
        self.added += 1
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()
        return pk

    def flush(self) -> None:
        if not self.rows:
            return
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(quote(f.get_attname_column()[1]) for f in self.fields)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.fields))
                prepared = [
                    tuple(f.get_db_prep_save(v, connection) for f, v in zip(self.fields, row, strict=True))
                    for row in self.rows
                ]
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", prepared)
        self.rows = []


class _Held:
    """What ``billing.days.decide`` reads of a record's session: scheduled, of a type that counts toward the dose."""

    status = Session.Status.SCHEDULED

    class session_type:  # stands in for the attribute of that name
        counts_toward_dose = True


@dataclass(frozen=True)
class _DayRecord:
    """An attendance record as ``billing.days.decide`` reads it."""

    status: str
    minutes_attended: int
    session: type[_Held] = _Held


class Generator:
    def __init__(self, scale: Scale, today: date | None = None, progress: Callable[[str], None] = print) -> None:
        self.scale = scale
        self.today = today or timezone.localdate()
        self.start = self.today - timedelta(days=365 * scale.years)
        self.rng = random.Random(scale.seed)
        self.progress = progress
        self.counts = Counts()
        self.password = make_password(BENCH_PASSWORD)  # hashed once: every synthetic account shares it
        self.next_mrn = 1
        self.organization: Organization | None = None
        self.now = timezone.now()
        self.rules: list[PayerRule] = []
        self.tables: dict[str, _Table] = {}
        self.payer_kinds: dict[int, str] = {}
        self._statuses = [s for s, _ in ATTENDANCE_MIX]
        self._status_weights = list(accumulate(w for _, w in ATTENDANCE_MIX))
        self._participations = [p for p, _ in PARTICIPATION]
        self._participation_weights = list(accumulate(w for _, w in PARTICIPATION))

    def run(self) -> Counts:
        if Organization.objects.filter(name=BENCH_ORGANIZATION).exists():
            raise RuntimeError(f'"{BENCH_ORGANIZATION}" already exists: start from an empty database')
        org = Organization(name=BENCH_ORGANIZATION, phone="555-555-0100", mrn_prefix="BEN")
        Organization.objects.bulk_create([org])
        self.organization = org
        self._users([User(username="bench.sysadmin", role=Role.SYSADMIN, first_name="Sam", last_name="Admin")])
        self.rules = PayerRule.objects.bulk_create([PayerRule(organization=org, **spec) for spec in PAYER_RULES])
        self.tables = self._tables()
        for number in range(self.scale.sites):
            with transaction.atomic():
                self._site(org, number)
                for table in self.tables.values():
                    table.flush()
            for name, table in self.tables.items():
                if not name.startswith("_"):
                    self.counts.values[name] = table.added
            self.progress(f"  site {number + 1}/{self.scale.sites}: {self.counts}")
        Organization.objects.filter(pk=org.pk).update(next_mrn=self.next_mrn)
        # The rows above came with their own ids: move each id sequence past them.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [t.model for t in self.tables.values()]):
                cursor.execute(sql)
        pools = live_pools(seed=self.scale.seed)
        self.counts.add("check-ins ready", len(pools.checkins))
        self.counts.add("bookings ready", len(pools.bookings))
        for name, added in billing_setup().items():
            self.counts.add(name, added)
        # Planner statistics, as a long-running database would have them (autovacuum lags a bulk load).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return self.counts

    # --- configuration and staff --------------------------------------------------------------------------

    def _users(self, users: list[User]) -> list[User]:
        org = self.organization
        for user in users:
            user.organization = org
            user.password = self.password
            user.email = f"{user.username}@example.org"
        created = User.objects.bulk_create(users)
        self.counts.add("staff", len(created))
        return created

    def _site(self, org: Organization, number: int) -> None:
        rng = self.rng
        tz = TIME_ZONES[number % len(TIME_ZONES)]
        site = Site(organization=org, name=f"Site {number + 1:03d}", city=rng.choice(CITIES), time_zone=tz)
        site.state = rng.choice(STATES)
        Site.objects.bulk_create([site])
        programs: dict[str, Program] = {}
        tracks: dict[str, list[Track]] = {}
        defaults = settings.OPENIOP_DEFAULTS
        for key, name, focus, population, _tracks in PROGRAMS:
            programs[key] = Program(
                site=site,
                name=name,
                focus=focus,
                population=population,
                time_zone=tz,
                weekly_dose_hours=Program.default_dose_hours(population),
                max_length_weeks=defaults["max_length_weeks"],
                group_size_cap=defaults["group_size_cap"],
            )
        Program.objects.bulk_create(programs.values())
        for key, _name, _focus, _population, track_specs in PROGRAMS:
            tracks[key] = Track.objects.bulk_create(
                [
                    Track(
                        program=programs[key],
                        name=name,
                        kind=kind,
                        weekdays=days,
                        start_time=time(*start),
                        end_time=time(*end),
                    )
                    for name, kind, days, start, end in track_specs
                ]
            )
        self.counts.add("programs", len(programs))
        self.counts.add("tracks", sum(len(t) for t in tracks.values()))

        prefix = f"s{number + 1:03d}"
        specs = list(SITE_STAFF)
        if number == 0:
            # The measured user: a clinician in every program of the first site, with a full caseload.
            specs.append((BENCH_USERNAME, Role.CLINICIAN, "LCSW", ("mh", "su", "teen")))
        staff = self._users(
            [
                User(
                    username=s[0] if s[0] == BENCH_USERNAME else f"{prefix}.{s[0]}",
                    role=s[1],
                    credentials=s[2],
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(SURNAMES),
                )
                for s in specs
            ]
        )
        by_key = {spec[0]: user for spec, user in zip(specs, staff, strict=True)}
        intern = User(username=f"{prefix}.{INTERN[0]}", role=INTERN[1], credentials=INTERN[2])
        intern.first_name, intern.last_name = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        intern.supervisor = by_key["clinician1"]
        self._users([intern])
        by_key[INTERN[0]] = intern
        memberships = [
            ProgramMembership(user=by_key[spec[0]], program=programs[key])
            for spec in [*specs, INTERN]
            for key in spec[3]
        ]
        ProgramMembership.objects.bulk_create(memberships)
        clinicians = {
            "mh": [by_key["clinician1"], by_key["clinician2"], intern],
            "su": [by_key["clinician3"]],
            "teen": [by_key["clinician2"]],
        }
        if number == 0:
            for key in clinicians:
                clinicians[key].append(by_key[BENCH_USERNAME])
        self._patients(programs, tracks, clinicians, by_key["director"])
        if number == 0:
            self._live_cohort(site, by_key[BENCH_USERNAME])

    def _live_cohort(self, site: Site, user: User) -> None:
        """The write paths' drop-in program (see LIVE_PROGRAM): active patients admitted in the last week."""
        defaults = settings.OPENIOP_DEFAULTS
        program = Program(
            site=site,
            name=LIVE_PROGRAM,
            focus=Program.Focus.MENTAL_HEALTH,
            population=Program.Population.ADULT,
            time_zone=site.time_zone,
            weekly_dose_hours=Program.default_dose_hours(Program.Population.ADULT),
            max_length_weeks=defaults["max_length_weeks"],
            group_size_cap=defaults["group_size_cap"],
        )
        Program.objects.bulk_create([program])
        ProgramMembership.objects.bulk_create([ProgramMembership(user=user, program=program)])
        patients, episodes = [], []
        # A generator of its own, so the clinic's sites are the same with or without the cohort.
        clinic_rng, self.rng = self.rng, random.Random(f"{self.scale.seed}-live")
        for _ in range(LIVE_COHORT):
            admitted_on = self.today - timedelta(days=self.rng.randint(0, 6))
            patient = self._new_patient(program, admitted_on)
            patients.append(patient)
            episodes.append(
                EpisodeOfCare(
                    patient=patient,
                    program=program,
                    status=Status.ACTIVE,
                    admitted_on=admitted_on,
                    waitlisted_on=admitted_on - timedelta(days=self.rng.randint(0, 14)),
                    expected_discharge_on=admitted_on + timedelta(weeks=program.max_length_weeks),
                    primary_clinician=user,
                )
            )
        coverages = self._coverages(patients)
        self.rng = clinic_rng
        Patient.objects.bulk_create(patients, batch_size=BATCH)
        EpisodeOfCare.objects.bulk_create(episodes, batch_size=BATCH)
        Coverage.objects.bulk_create(coverages, batch_size=BATCH)
        self.counts.add("programs", 1)
        self.counts.add("patients", len(patients))
        self.counts.add("episodes", len(episodes))

    # --- patients and episodes ----------------------------------------------------------------------------

    def _patients(
        self,
        programs: dict[str, Program],
        tracks: dict[str, list[Track]],
        clinicians: dict[str, list[User]],
        director: User,
    ) -> None:
        stays: list[_Stay] = []
        patients: list[Patient] = []
        for key, program in programs.items():
            returning: list[tuple[Patient, date]] = []  # discharged patients who may come back later
            for track in tracks[key]:
                stays += self._simulate_track(program, track, clinicians[key], patients, returning)
            for _ in range(self.rng.randint(0, 5)):
                patient = self._new_patient(program, self.today)
                patients.append(patient)
                episode = EpisodeOfCare(
                    patient=patient,
                    program=program,
                    status=Status.WAITLIST,
                    waitlisted_on=self.today - timedelta(days=self.rng.randint(1, 30)),
                    track=self.rng.choice([*tracks[key], None]),
                )
                stays.append(_Stay(patient, episode))
        Patient.objects.bulk_create(patients, batch_size=BATCH)
        episodes = [s.episode for s in stays]
        EpisodeOfCare.objects.bulk_create(episodes, batch_size=BATCH)
        team: list[CareTeamMember] = []
        for episode in episodes:
            if episode.primary_clinician is not None:
                team.append(CareTeamMember(episode=episode, user=episode.primary_clinician, team_role="primary"))
                if self.rng.random() < 0.3:
                    team.append(CareTeamMember(episode=episode, user=director, team_role="prescriber"))
        CareTeamMember.objects.bulk_create(team, batch_size=BATCH)
        coverages = self._coverages(patients)
        Coverage.objects.bulk_create(coverages, batch_size=BATCH)
        # Coverages are open-ended here, so the primary one is the payer on every day.
        self.payer_kinds = {c.patient.pk: c.payer_kind for c in coverages if c.priority == 1}
        SupportContact.objects.bulk_create(self._contacts(patients), batch_size=BATCH)
        self.counts.add("patients", len(patients))
        self.counts.add("episodes", len(episodes))
        self._calendar(programs, tracks, clinicians, episodes, patients)

    # --- the calendar: sessions, bookings, attendance, billable days -----------------------------------------

    def _tables(self) -> dict[str, _Table]:
        """Tables written in bulk; names starting with "_" are not counted in the progress line."""
        base = ["public_id", "created_at", "updated_at"]
        return {
            "sessions": _Table(
                Session,
                [
                    *base,
                    "program",
                    "track",
                    "group",
                    "session_type",
                    "title",
                    "starts_at",
                    "ends_at",
                    "room",
                    "capacity",
                    "booked_count",
                    "mode",
                    "video_link",
                    "status",
                    "cancel_reason",
                    "detached",
                ],
            ),
            "_facilitators": _Table(Session.facilitators.through, ["session", "user"]),
            "_enrollments": _Table(Enrollment, [*base, "episode", "track", "starts_on", "ends_on"]),
            "_enrollment_groups": _Table(Enrollment.groups.through, ["enrollment", "group"]),
            "bookings": _Table(
                Booking,
                [
                    *base,
                    "session",
                    "episode",
                    "patient",
                    "status",
                    "source",
                    "booked_by",
                    "cancelled_at",
                    "cancel_reason",
                ],
            ),
            "attendance": _Table(
                AttendanceRecord,
                [
                    *base,
                    "session",
                    "booking",
                    "episode",
                    "patient",
                    "status",
                    "late_minutes",
                    "left_early_minutes",
                    "minutes_attended",
                    "participation",
                    "remark",
                    "recorded_by",
                    "version",
                ],
            ),
            "billable days": _Table(
                BillableDay,
                [
                    *base,
                    "episode",
                    "patient",
                    "program",
                    "date",
                    "rule",
                    "payer_kind",
                    "is_billable",
                    "tier",
                    "service_count",
                    "minutes_attended",
                    "reason",
                    "evaluated_at",
                ],
            ),
        }

    def _calendar(
        self,
        programs: dict[str, Program],
        tracks: dict[str, list[Track]],
        clinicians: dict[str, list[User]],
        episodes: list[EpisodeOfCare],
        patients: list[Patient],
    ) -> None:
        """Each track's group blocks from the first simulated week to FUTURE_WEEKS ahead, counseling every fourth
        week, everyone booked on the sessions of their stay, and for the past their attendance and billable days."""
        site = next(iter(programs.values())).site
        rooms = {name: Room(site=site, name=name, capacity=seats) for name, seats in ROOMS}
        Room.objects.bulk_create(rooms.values())
        types: dict[tuple[int, str], SessionType] = {}
        for program in programs.values():
            for name, kind, service in [*BLOCKS, INDIVIDUAL]:
                individual = kind == Kind.INDIVIDUAL
                types[(program.pk, name)] = SessionType(
                    program=program,
                    name=name,
                    kind=kind,
                    service_kind=service,
                    default_duration_minutes=INDIVIDUAL_MINUTES if individual else 60,
                    capacity=1 if individual else None,
                )
        SessionType.objects.bulk_create(types.values())
        groups = {
            track.pk: Group(track=track, name=f"{track.name} group", capacity=programs[key].group_size_cap)
            for key in programs
            for track in tracks[key]
        }
        Group.objects.bulk_create(groups.values())
        teen = [p for p in programs.values() if p.population == Program.Population.ADOLESCENT]
        self.rules += PayerRule.objects.bulk_create(
            [PayerRule(organization=self.organization, program=p, **ADOLESCENT_RULE) for p in teen]
        )
        by_track: dict[int, list[EpisodeOfCare]] = defaultdict(list)
        for episode in episodes:
            if episode.track_id is not None and episode.admitted_on is not None:
                by_track[episode.track_id].append(episode)
        enrollments, enrollment_groups = self.tables["_enrollments"], self.tables["_enrollment_groups"]
        for episode in episodes:
            if episode.track_id is None or episode.admitted_on is None:
                continue
            pk = enrollments.add(
                enrollments.take_id(), uuid.uuid4(), self.now, self.now, episode.pk, episode.track_id,
                episode.admitted_on, episode.discharged_on,
            )  # fmt: skip
            enrollment_groups.add(enrollment_groups.take_id(), pk, groups[episode.track_id].pk)
        days: dict[tuple[int, date], list[_DayRecord]] = defaultdict(list)
        tz = ZoneInfo(site.time_zone)
        for key, program in programs.items():
            for track in tracks[key]:
                self._track_calendar(
                    program, track, groups[track.pk], types, rooms, GROUP_ROOM[key], clinicians[key],
                    by_track[track.pk], days, tz,
                )  # fmt: skip
        self._billable_days({e.pk: e for e in episodes}, days)

    def _last_day(self, episode: EpisodeOfCare) -> date:
        """The day after the last one the episode is booked on."""
        if episode.status == Status.DISCHARGED:
            assert episode.discharged_on is not None
            return episode.discharged_on
        if episode.status == Status.ACTIVE and episode.expected_discharge_on is not None:
            return episode.expected_discharge_on + timedelta(days=1)
        return self.today  # on hold: nothing from today on

    def _track_calendar(
        self,
        program: Program,
        track: Track,
        group: Group,
        types: dict[tuple[int, str], SessionType],
        rooms: dict[str, Room],
        room_name: str,
        clinicians: list[User],
        episodes: list[EpisodeOfCare],
        days: dict[tuple[int, date], list[_DayRecord]],
        tz: ZoneInfo,
    ) -> None:
        weekdays = sorted(track.weekdays)
        horizon = self.today + timedelta(weeks=FUTURE_WEEKS)
        episodes.sort(key=lambda e: (e.admitted_on, e.pk))
        room = rooms[room_name]
        waiting = 0
        current: list[EpisodeOfCare] = []
        day = self.start
        while day < horizon:
            if day.weekday() not in weekdays:
                day += timedelta(days=1)
                continue
            while waiting < len(episodes) and episodes[waiting].admitted_on <= day:  # type: ignore[operator]
                current.append(episodes[waiting])
                waiting += 1
            current = [e for e in current if day < self._last_day(e)]
            position = weekdays.index(day.weekday())
            name = BLOCKS[position % len(BLOCKS)][0]
            starts = datetime.combine(day, track.start_time, tzinfo=tz)
            ends = datetime.combine(day, track.end_time, tzinfo=tz)
            facilitator = clinicians[(day.toordinal() // 7) % len(clinicians)]
            self._session(
                program, track, group, types[(program.pk, name)], f"{track.name}: {name}", starts, ends, room,
                program.group_size_cap, facilitator.pk, current, days,
            )  # fmt: skip
            if position == 0:
                # Counseling an hour at a time before the group, each patient in their fourth weeks.
                slot = 0
                for episode in current:
                    assert episode.admitted_on is not None
                    if ((day - episode.admitted_on).days // 7) % INDIVIDUAL_EVERY_WEEKS != 1:
                        continue
                    slot += 1
                    begins = starts - timedelta(hours=slot)
                    counseling = rooms["Counseling Room 1"]
                    clinician = episode.primary_clinician_id
                    self._session(
                        program, track, None, types[(program.pk, INDIVIDUAL[0])], INDIVIDUAL[0], begins,
                        begins + timedelta(minutes=INDIVIDUAL_MINUTES), counseling if slot == 1 else None, 1,
                        clinician or facilitator.pk, [episode], days,
                    )  # fmt: skip
            day += timedelta(days=1)

    def _session(
        self,
        program: Program,
        track: Track,
        group: Group | None,
        kind: SessionType,
        title: str,
        starts: datetime,
        ends: datetime,
        room: Room | None,
        capacity: int,
        facilitator_id: int,
        participants: Iterable[EpisodeOfCare],
        days: dict[tuple[int, date], list[_DayRecord]],
    ) -> None:
        rng = self.rng
        t = self.tables
        session_id = t["sessions"].take_id()
        day = starts.date()
        past = day < self.today
        minutes = int((ends - starts).total_seconds() // 60)
        checked_in = ends + timedelta(minutes=5)
        booked = 0
        for episode in participants:
            booking_id = t["bookings"].take_id()
            if past and rng.random() < CANCELLED_BOOKINGS:
                t["bookings"].add(
                    booking_id, uuid.uuid4(), self.now, self.now, session_id, episode.pk, episode.patient_id,
                    Booking.Status.CANCELLED, Booking.Source.ENROLLMENT, None, starts - timedelta(hours=18),
                    rng.choice(CANCEL_REASONS),
                )  # fmt: skip
                continue
            booked += 1
            t["bookings"].add(
                booking_id, uuid.uuid4(), self.now, self.now, session_id, episode.pk, episode.patient_id,
                Booking.Status.BOOKED, Booking.Source.ENROLLMENT, None, None, "",
            )  # fmt: skip
            if not past:
                continue
            status = rng.choices(self._statuses, cum_weights=self._status_weights)[0]
            late = left_early = 0
            if status == Attended.LATE:
                late = rng.randint(5, 30)
            elif status == Attended.LEFT_EARLY:
                left_early = rng.randint(15, min(60, minutes - 5))
            attended = minutes - late - left_early if status in AttendanceRecord.ATTENDED else 0
            participation = (
                rng.choices(self._participations, cum_weights=self._participation_weights)[0]
                if status in AttendanceRecord.ATTENDED
                else ""
            )
            t["attendance"].add(
                t["attendance"].take_id(), uuid.uuid4(), checked_in, checked_in, session_id, booking_id, episode.pk,
                episode.patient_id, status, late, left_early, attended, participation, "", facilitator_id, 1,
            )  # fmt: skip
            days[(episode.pk, day)].append(_DayRecord(status, attended))
        t["sessions"].add(
            session_id, uuid.uuid4(), self.now, self.now, program.pk, track.pk, group.pk if group else None, kind.pk,
            title, starts, ends, room.pk if room else None, capacity, booked, SessionType.Mode.IN_PERSON, "",
            Session.Status.SCHEDULED, "", False,
        )  # fmt: skip
        t["_facilitators"].add(t["_facilitators"].take_id(), session_id, facilitator_id)

    def _billable_days(
        self, episodes: dict[int, EpisodeOfCare], days: dict[tuple[int, date], list[_DayRecord]]
    ) -> None:
        """Each past day with attendance, decided by the project's own rule (``billing.days.decide``)."""
        table = self.tables["billable days"]
        chosen: dict[tuple[int, str], PayerRule | None] = {}
        for (episode_id, day), records in sorted(days.items(), key=lambda item: (item[0][1], item[0][0])):
            episode = episodes[episode_id]
            kind = self.payer_kinds.get(episode.patient_id, "")
            key = (episode.program_id, kind)
            if key not in chosen:
                candidates = [
                    r for r in self.rules if r.program_id in (None, episode.program_id) and r.payer_kind in ("", kind)
                ]
                chosen[key] = max(candidates, key=precedence, default=None)
            rule = chosen[key]
            decision = billing_days.decide(cast(list[AttendanceRecord], records), rule, kind)
            evaluated = datetime.combine(day, time(23), tzinfo=UTC)
            table.add(
                table.take_id(), uuid.uuid4(), evaluated, evaluated, episode_id, episode.patient_id,
                episode.program_id, day, rule.pk if rule else None, kind, decision.is_billable, decision.tier,
                decision.service_count, decision.minutes_attended, decision.reason, evaluated,
            )  # fmt: skip

    def _simulate_track(
        self,
        program: Program,
        track: Track,
        clinicians: list[User],
        patients: list[Patient],
        returning: list[tuple[Patient, date]],
    ) -> list[_Stay]:
        """Rolling admission week by week: open places fill with new or returning patients."""
        rng = self.rng
        stays: list[_Stay] = []
        occupancy = rng.randint(8, program.group_size_cap)
        in_treatment: list[date] = []  # the day each current participant leaves
        week = self.start - timedelta(days=self.start.weekday())
        while week < self.today:
            in_treatment = [end for end in in_treatment if end > week]
            admissions = min(occupancy - len(in_treatment), rng.choice([0, 1, 1, 2, 2, 3]))
            for _ in range(max(admissions, 0)):
                admitted_on = week + timedelta(days=rng.choice(track.weekdays))
                if admitted_on >= self.today:
                    continue
                reason, _weight, shortest, longest = rng.choices(OUTCOMES, weights=[o[1] for o in OUTCOMES])[0]
                ends = admitted_on + timedelta(weeks=rng.randint(shortest, longest), days=rng.randint(0, 4))
                in_treatment.append(ends)
                patient = self._returning_patient(returning, admitted_on)
                if patient is None:
                    patient = self._new_patient(program, admitted_on)
                    patients.append(patient)
                episode = EpisodeOfCare(
                    patient=patient,
                    program=program,
                    track=track,
                    admitted_on=admitted_on,
                    waitlisted_on=admitted_on - timedelta(days=rng.randint(0, 21)),
                    expected_discharge_on=admitted_on + timedelta(weeks=program.max_length_weeks),
                    primary_clinician=rng.choice(clinicians),
                )
                if ends < self.today:
                    episode.status = Status.DISCHARGED
                    episode.discharged_on = ends
                    episode.discharge_reason = reason
                    returning.append((patient, ends))
                else:
                    episode.status = Status.ON_HOLD if rng.random() < 0.03 else Status.ACTIVE
                stays.append(_Stay(patient, episode))
            week += timedelta(days=7)
        return stays

    def _returning_patient(self, returning: list[tuple[Patient, date]], admitted_on: date) -> Patient | None:
        """About one admission in twelve is a readmission of someone discharged at least a month before."""
        if not returning or self.rng.random() >= 0.08:
            return None
        candidates = [i for i, (_, left) in enumerate(returning) if left < admitted_on - timedelta(days=30)]
        if not candidates:
            return None
        patient, _left = returning.pop(self.rng.choice(candidates))
        return patient

    def _new_patient(self, program: Program, first_seen: date) -> Patient:
        """A new patient whose age fits the program on the day they first come."""
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        ages = (13, 17) if program.population == Program.Population.ADOLESCENT else (19, 78)
        age = rng.randint(*ages)
        mrn = f"BEN-{self.next_mrn:07d}"
        self.next_mrn += 1
        return Patient(
            organization=self.organization,
            home_program=program,
            mrn=mrn,
            legal_first_name=first,
            legal_middle_name=rng.choice(MIDDLE_INITIALS) if rng.random() < 0.5 else "",
            legal_last_name=last,
            search_first=first.lower(),
            search_last=last.lower(),
            date_of_birth=first_seen - timedelta(days=365 * age + rng.randint(0, 364)),
            sex_assigned_at_birth=rng.choice([Patient.Sex.FEMALE, Patient.Sex.MALE]),
            email=f"{first.lower()}.{last.lower()}.{self.next_mrn}@example.org" if rng.random() < 0.7 else "",
            phone_mobile=f"555-555-01{rng.randrange(100):02d}",
            address_line1=f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
            city=rng.choice(CITIES),
            state=rng.choice(STATES),
            postal_code=f"{rng.randrange(10000, 99999)}",
        )

    def _coverages(self, patients: list[Patient]) -> list[Coverage]:
        rng = self.rng
        rows: list[Coverage] = []
        weights = [p[2] for p in PAYERS]
        for patient in patients:
            kind, payer, _weight = rng.choices(PAYERS, weights=weights)[0]
            rows.append(
                Coverage(
                    patient=patient,
                    priority=1,
                    payer_kind=kind,
                    payer_name=payer,
                    member_id=f"M{rng.randrange(10**9, 10**10)}",
                )
            )
            if kind == Coverage.PayerKind.MEDICARE and rng.random() < 0.4:
                rows.append(
                    Coverage(
                        patient=patient,
                        priority=2,
                        payer_kind=Coverage.PayerKind.MEDICAID,
                        payer_name="State Medicaid",
                        member_id=f"D{rng.randrange(10**9, 10**10)}",
                    )
                )
        self.counts.add("coverages", len(rows))
        return rows

    def _contacts(self, patients: list[Patient]) -> list[SupportContact]:
        rng = self.rng
        rows: list[SupportContact] = []
        for patient in patients:
            adolescent = patient.home_program.population == Program.Population.ADOLESCENT
            for i in range(rng.choice([1, 2]) if adolescent else rng.choice([0, 1, 1, 2])):
                relationship = Kin.PARENT if adolescent else rng.choice(ADULT_KIN)
                rows.append(
                    SupportContact(
                        patient=patient,
                        name=f"{rng.choice(FIRST_NAMES)} {patient.legal_last_name}",
                        relationship=relationship,
                        phone=f"555-555-01{rng.randrange(100):02d}",
                        involved_in_treatment=(adolescent and i == 0) or rng.random() < 0.3,
                    )
                )
        self.counts.add("contacts", len(rows))
        return rows


def generate(scale: Scale, *, name: str) -> Counts:
    """Generate the bench organization at ``scale``, saying how long it took under ``name``."""
    began = clock.perf_counter()
    print(f"{name}: generating {scale.sites} site(s) x {scale.years} year(s), seed {scale.seed}")
    counts = Generator(scale).run()
    print(f"{name}: generated {counts} in {clock.perf_counter() - began:.1f}s")
    return counts


# --- What the write paths draw on -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LivePools:
    """Unused (session, person) pairs for the write paths and the pages the read paths ask for; public ids."""

    checkins: list[tuple[str, str]]  # (session, patient): booked on a session open for check-in, not checked in
    bookings: list[tuple[str, str]]  # (session, episode): a future seat free to book, clear of the person's others
    roster_id: str  # a session running now with 12 people booked, half of them checked in
    site_id: str  # the measured user's site
    busy_day: date  # the day of the last week with the most sessions there


def live_pools(need: int = LIVE_POOL, seed: int = 1) -> LivePools:
    """Make sure the measured user's programs have ``need`` check-ins and bookings waiting, adding what is missing.

    Runs at the end of generation and again before each measurement (with ``--reuse`` the data may be days old,
    or used up by earlier runs): sessions running now whose check-in stays open for ``OPEN_FOR``, with the
    programs' active patients booked; short night-time slots from the day after tomorrow with a seat for each of
    them. Each pair is handed out once, so every tap is a first check-in and every booking a new seat. The lists
    are shuffled (``seed``), so clients seldom wait on the same person's or session's lock.
    """
    rng = random.Random(seed)
    now = timezone.now()
    user = User.objects.get(username=BENCH_USERNAME)
    programs = list(Program.objects.filter(memberships__user=user).select_related("site").order_by("pk"))
    live = [p for p in programs if p.name == LIVE_PROGRAM]
    clinic = [p for p in programs if p.name != LIVE_PROGRAM]
    if not live or not clinic:
        raise RuntimeError(f"{BENCH_USERNAME} is not in {LIVE_PROGRAM!r} and a program of the clinic: generate again")
    active = list(
        EpisodeOfCare.objects.filter(program__in=programs, status=Status.ACTIVE)
        .select_related("patient")
        .order_by("pk")
    )
    if len(active) < ROSTER_SIZE:
        raise RuntimeError(f"{BENCH_USERNAME}'s programs have only {len(active)} active episodes")
    by_program: dict[int, list[EpisodeOfCare]] = defaultdict(list)
    for episode in active:
        by_program[episode.program_id].append(episode)
    with transaction.atomic():
        if not ApiToken.objects.filter(token_hash=hash_token(BENCH_API_TOKEN)).exists():
            ApiToken.objects.create(
                user=user, name="bench", token_hash=hash_token(BENCH_API_TOKEN), hint=BENCH_API_TOKEN[:12]
            )
        types = {p.pk: _live_types(p) for p in programs}
        # The roster is a real group's: twelve of the first program's active patients.
        roster_id = _roster(clinic[0], types[clinic[0].pk][0], by_program[clinic[0].pk], user, now)
        checkins = _checkin_pool(live, types, by_program, need, now)
        bookings = _booking_pool(live, types, by_program, need, now)
    rng.shuffle(checkins)
    rng.shuffle(bookings)
    site = clinic[0].site
    return LivePools(checkins, bookings, roster_id, str(site.public_id), _busy_day(site, now))


def _live_types(program: Program) -> tuple[SessionType, SessionType]:
    checkin = _live_type(program, CHECKIN_TYPE, Kind.PROCESS_GROUP, Service.GROUP_PSYCHOTHERAPY, CHECKIN_MINUTES)
    slot = _live_type(program, SLOT_TYPE, Kind.EDUCATION, Service.PSYCHOEDUCATION, SLOT_MINUTES)
    return checkin, slot


def _live_type(program: Program, name: str, kind: str, service: str, minutes: int) -> SessionType:
    defaults = {"kind": kind, "service_kind": service, "default_duration_minutes": minutes}
    return SessionType.objects.get_or_create(program=program, name=name, defaults=defaults)[0]


def _open_sessions(kind_ids: list[int], now: datetime) -> list[Session]:
    """Sessions of these types whose check-in is open now and stays open for OPEN_FOR."""
    from openiop.attendance.actions import checkin_is_open

    candidates = Session.objects.filter(
        session_type_id__in=kind_ids, starts_at__gt=now - timedelta(days=1), starts_at__lt=now + OPEN_FOR
    ).select_related("program")
    return [s for s in candidates if checkin_is_open(s, now) and checkin_is_open(s, now + OPEN_FOR)]


def _new_live_sessions(
    program: Program, kind: SessionType, title: str, count: int, seats: int, now: datetime
) -> list[Session]:
    starts = now.replace(second=0, microsecond=0) - timedelta(minutes=5)
    made = Session.objects.bulk_create(
        [
            Session(
                program=program,
                session_type=kind,
                title=title,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=CHECKIN_MINUTES),
                capacity=seats,
            )
            for _ in range(count)
        ]
    )
    if made and made[0].pk is None:  # a backend without RETURNING: read them back
        made = list(Session.objects.filter(session_type=kind, starts_at=starts, title=title).order_by("pk"))
    return made


def _book_all(sessions: Sequence[Session], episodes: Sequence[EpisodeOfCare]) -> None:
    Booking.objects.bulk_create(
        [
            Booking(session=s, episode=e, patient_id=e.patient_id, source=Booking.Source.STAFF)
            for s in sessions
            for e in episodes
        ],
        batch_size=BATCH,
    )
    Session.objects.filter(pk__in=[s.pk for s in sessions]).update(booked_count=len(episodes))


def _roster(program: Program, kind: SessionType, episodes: list[EpisodeOfCare], user: User, now: datetime) -> str:
    """A group of 12 running now, half of them checked in (present for the whole session so far)."""
    for session in _open_sessions([kind.pk], now):
        if session.title == ROSTER_TITLE:
            return str(session.public_id)
    people = episodes[:ROSTER_SIZE]
    if len(people) < ROSTER_SIZE:
        raise RuntimeError(f"{program.name} has only {len(people)} active episodes for a roster of {ROSTER_SIZE}")
    session = _new_live_sessions(program, kind, ROSTER_TITLE, 1, ROSTER_SIZE, now)[0]
    _book_all([session], people)
    seats = {b.patient_id: b for b in Booking.objects.filter(session=session)}
    AttendanceRecord.objects.bulk_create(
        [
            AttendanceRecord(
                session=session,
                booking=seats[e.patient_id],
                episode=e,
                patient_id=e.patient_id,
                status=Attended.PRESENT,
                arrived_at=session.starts_at,
                recorded_by=user,
                participation=AttendanceRecord.Participation.ENGAGED,
            )
            for e in people[: ROSTER_SIZE // 2]
        ]
    )
    return str(session.public_id)


def _checkin_pool(
    programs: list[Program],
    types: dict[int, tuple[SessionType, SessionType]],
    by_program: dict[int, list[EpisodeOfCare]],
    need: int,
    now: datetime,
) -> list[tuple[str, str]]:
    kinds = [types[p.pk][0].pk for p in programs]
    open_ids = [s.pk for s in _open_sessions(kinds, now) if s.title != ROSTER_TITLE]
    waiting = Booking.objects.filter(session_id__in=open_ids, status=Booking.Status.BOOKED, attendance__isnull=True)
    pairs = [(str(s), str(p)) for s, p in waiting.values_list("session__public_id", "patient__public_id")]
    missing = need - len(pairs)
    if missing > 0:
        # Every active person of a program is booked on each new session of it; the sessions are shared out over
        # the programs by their number of active people.
        people = sum(len(by_program[p.pk]) for p in programs)
        rounds = -(-missing // people)
        for program in programs:
            episodes = by_program[program.pk]
            if not episodes:
                continue
            made = _new_live_sessions(program, types[program.pk][0], CHECKIN_TYPE, rounds, len(episodes), now)
            _book_all(made, episodes)
            pairs += [(str(s.public_id), str(e.patient.public_id)) for s in made for e in episodes]
    return pairs


def _booking_pool(
    programs: list[Program],
    types: dict[int, tuple[SessionType, SessionType]],
    by_program: dict[int, list[EpisodeOfCare]],
    need: int,
    now: datetime,
) -> list[tuple[str, str]]:
    """Future slots x the program's active episodes whose stay covers the slot's day and who hold no seat there."""
    pairs: list[tuple[str, str]] = []
    last_day: dict[int, date] = {}
    for program in programs:
        tz = program.tz()
        slots = list(
            Session.objects.filter(session_type=types[program.pk][1], starts_at__gte=now + timedelta(days=1)).order_by(
                "starts_at"
            )
        )
        taken = set(
            Booking.objects.filter(session__in=slots, status=Booking.Status.BOOKED).values_list(
                "session_id", "patient_id"
            )
        )
        pairs += _slot_pairs(slots, by_program[program.pk], taken, tz)
        first = timezone.localtime(now, tz).date() + timedelta(days=SLOT_FIRST_DAY)
        last_day[program.pk] = max([first - timedelta(days=1), *(s.starts_at.astimezone(tz).date() for s in slots)])
    # Slots are added a day at a time until the pool is full or no active stay reaches the next day.
    staffed = [p for p in programs if by_program[p.pk]]
    stays_end = max(
        (e.expected_discharge_on for p in staffed for e in by_program[p.pk] if e.expected_discharge_on),
        default=None,
    )
    while len(pairs) < need and stays_end is not None and min(last_day[p.pk] for p in staffed) < stays_end:
        for program in staffed:
            episodes = by_program[program.pk]
            day = last_day[program.pk] = last_day[program.pk] + timedelta(days=1)
            tz = program.tz()
            first = datetime.combine(day, time(SLOT_HOURS[0]), tzinfo=tz)
            count = (SLOT_HOURS[1] - SLOT_HOURS[0]) * 60 // SLOT_MINUTES
            kind = types[program.pk][1]
            made = Session.objects.bulk_create(
                [
                    Session(
                        program=program,
                        session_type=kind,
                        title=SLOT_TYPE,
                        starts_at=first + timedelta(minutes=SLOT_MINUTES * i),
                        ends_at=first + timedelta(minutes=SLOT_MINUTES * (i + 1)),
                        capacity=len(episodes),
                    )
                    for i in range(count)
                ]
            )
            if made and made[0].pk is None:
                made = list(Session.objects.filter(session_type=kind, starts_at__gte=first).order_by("starts_at"))
            pairs += _slot_pairs(made, episodes, set(), tz)
    return pairs


def _slot_pairs(
    slots: list[Session], episodes: list[EpisodeOfCare], taken: set[tuple[int, int]], tz: ZoneInfo
) -> list[tuple[str, str]]:
    pairs = []
    for slot in slots:
        day = slot.starts_at.astimezone(tz).date()
        free = slot.capacity - slot.booked_count
        for episode in episodes:
            if free <= 0:
                break
            last = episode.discharged_on or episode.expected_discharge_on
            if episode.admitted_on is None or day < episode.admitted_on or (last is not None and day > last):
                continue
            if (slot.pk, episode.patient_id) in taken:
                continue
            pairs.append((str(slot.public_id), str(episode.public_id)))
            free -= 1
    return pairs


def _busy_day(site: Site, now: datetime) -> date:
    """The day of the week before today with the most sessions at the site (the bench's own sessions left out)."""
    tz = ZoneInfo(site.time_zone)
    today = timezone.localtime(now, tz).date()
    since = datetime.combine(today - timedelta(days=7), time(0), tzinfo=tz)
    until = datetime.combine(today, time(0), tzinfo=tz)
    starts = (
        Session.objects.filter(program__site=site, starts_at__gte=since, starts_at__lt=until)
        .exclude(session_type__name__in=[CHECKIN_TYPE, SLOT_TYPE])
        .values_list("starts_at", flat=True)
    )
    per_day: dict[date, int] = defaultdict(int)
    for start in starts:
        per_day[start.astimezone(tz).date()] += 1
    return max(sorted(per_day), key=lambda d: per_day[d], default=today - timedelta(days=1))


# --- What claims draw on (billing_setup) ------------------------------------------------------------------------

# The payers the coverages name (PAYERS), as the billing setup records them: (EDI payer id, claim filing indicator,
# timely-filing days). Self-pay is nobody's claim. Ids and rates are invented, shaped like real ones.
CLAIM_PAYERS: dict[str, tuple[str, str, int]] = {
    "Lakeshore Health Plan": ("LKSHP", Payer.ClaimFilingIndicator.COMMERCIAL, 90),
    "Evergreen Mutual": ("EVGRN", Payer.ClaimFilingIndicator.PPO, 120),
    "State Medicaid": ("STMCD", Payer.ClaimFilingIndicator.MEDICAID, 180),
    "Medicare": ("13001", Payer.ClaimFilingIndicator.MEDICARE_A, 365),
    "TRICARE": ("TRCRE", Payer.ClaimFilingIndicator.TRICARE, 365),
}
CLAIM_PROVIDER: dict[str, str] = {
    "legal_name": "Bench Behavioral Health, Inc.", "npi": make_npi("154800001"), "tax_id": "14-5550100",
    "taxonomy_code": "261QM0801X", "address_line1": "100 Bench Street", "city": "Riverside", "state": "NY",
    "postal_code": "12601-0100",
}  # fmt: skip
# The organization's default fee and the payers' contracted ones: (payer name or None, code, rate).
CLAIM_RATES: list[tuple[str | None, str, str]] = [
    (None, "S9480", "275.00"),
    (None, "H0015", "225.00"),
    ("Lakeshore Health Plan", "S9480", "310.00"),
    ("State Medicaid", "S9480", "182.50"),
    ("State Medicaid", "H0015", "151.20"),
    ("Medicare", "S9480", "298.00"),
]
RATES_FROM = date(2000, 1, 1)  # before any generated day, whatever the --years
# One principal diagnosis per episode, by program focus (the episode's pk picks one, so a rerun picks the same).
CLAIM_DIAGNOSES: dict[str, list[tuple[str, str]]] = {
    Program.Focus.MENTAL_HEALTH: [
        ("F33.1", "Major depressive disorder, recurrent, moderate"),
        ("F41.1", "Generalized anxiety disorder"),
        ("F43.10", "Post-traumatic stress disorder, unspecified"),
        ("F31.81", "Bipolar II disorder"),
    ],
    Program.Focus.SUBSTANCE_USE: [
        ("F10.20", "Alcohol dependence, uncomplicated"),
        ("F11.20", "Opioid dependence, uncomplicated"),
        ("F12.20", "Cannabis dependence, uncomplicated"),
        ("F15.20", "Other stimulant dependence, uncomplicated"),
    ],
}
# Staff with an NPI: (attending, rendering, supervising). The supervised intern has none (as in the demo: their
# services are billed under the supervisor), so the professional claims of their patients stay drafts.
CLAIM_IDENTITIES = {
    Role.DIRECTOR: ("2084P0800X", True, True, True),
    Role.CLINICIAN: ("1041C0700X", False, True, True),
}


def _claim_setting(payer: Payer, program: Program) -> dict[str, Any]:
    """How the bench bills a payer for a program. Medicaid on the professional claim (place of service 53 or 57),
    the others on the institutional one (type of bill 076, a CMHC; revenue code 0905 or 0906; Medicare with
    condition code 92). Every payer has a per-diem code, as the claim builder writes one line a day. No payer
    requires an authorization: the generator records none, and every claim would stay a draft."""
    su = program.focus == Program.Focus.SUBSTANCE_USE
    code = "H0015" if su else "S9480"
    if payer.kind == Coverage.PayerKind.MEDICAID:
        return {"claim_type": "837P", "place_of_service": "57" if su else "53", "code_standard": code}
    return {
        "claim_type": "837I",
        "type_of_bill": "076",
        "revenue_code": "0906" if su else "0905",
        "code_standard": code,
        "condition_code_92": payer.kind == Coverage.PayerKind.MEDICARE,
    }


def billing_setup() -> dict[str, int]:
    """Give the bench organization what claims need, adding only what is missing (so it runs again on a reused or
    older database): its billing identity and submission profile, each site's NPI, the directors' and clinicians'
    NPIs, a payer for each payer the coverages name (and the coverages pointed at it), each payer's setting for each
    of the clinic's programs, a fee schedule, and a principal diagnosis on every episode with a clinician. Rows go
    in without audit rows, like the rest of the generated data. Returns what it added, by kind."""
    org = Organization.objects.get(name=BENCH_ORGANIZATION)
    added: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        if not billing.BillingProvider.objects.filter(organization=org).exists():
            billing.BillingProvider.objects.create(organization=org, **CLAIM_PROVIDER)
            added["billing identities"] += 1
        _, made = SubmissionProfile.objects.get_or_create(
            organization=org,
            defaults={
                "sender_id": "BENCHBH",
                "receiver_id": "CLEARBENCH",
                "submitter_name": "Bench Behavioral Health",
                "submitter_id": "BENCHBH",
                "contact_name": "Billing office",
                "contact_phone": "5555550100",
                "receiver_name": "Bench Clearinghouse",
                "receiver_etin": "CLEARBENCH",
                "usage": SubmissionProfile.Usage.TEST,
            },
        )
        added["billing identities"] += made
        # NPIs from the row's id, so they are unique, valid (check digit) and the same on every rerun.
        sites = Site.objects.filter(organization=org, billing_identity__isnull=True)
        added["billing identities"] += len(
            billing.SiteBillingIdentity.objects.bulk_create(
                [
                    billing.SiteBillingIdentity(site=s, npi=make_npi(f"16{s.pk:07d}"), taxonomy_code="261QM0801X")
                    for s in sites
                ]
            )
        )
        staff = User.objects.filter(organization=org, role__in=CLAIM_IDENTITIES, billing_identity__isnull=True)
        identities = []
        for user in staff.only("pk", "role"):
            taxonomy, attend, render, supervise = CLAIM_IDENTITIES[Role(user.role)]
            identities.append(
                billing.ClinicianBillingIdentity(
                    organization=org, user=user, npi=make_npi(f"12{user.pk:07d}"), taxonomy_code=taxonomy,
                    may_attend=attend, may_render=render, may_supervise=supervise,
                )
            )  # fmt: skip
        added["billing identities"] += len(
            billing.ClinicianBillingIdentity.objects.bulk_create(identities, batch_size=BATCH)
        )
        payers = {p.name: p for p in Payer.objects.filter(organization=org)}
        kinds = {name: kind for kind, name, _weight in PAYERS}
        for name, (payer_id, filing, days) in CLAIM_PAYERS.items():
            if name not in payers:
                payers[name] = Payer.objects.create(
                    organization=org, name=name, payer_id=payer_id, kind=kinds[name],
                    claim_filing_indicator=filing, timely_filing_days=days,
                )  # fmt: skip
                added["payers"] += 1
            added["coverages given a payer"] += Coverage.objects.filter(
                patient__organization=org, payer__isnull=True, payer_name=name
            ).update(payer=payers[name])
        programs = list(Program.objects.filter(site__organization=org).exclude(name=LIVE_PROGRAM).order_by("pk"))
        existing = set(
            billing.PayerProgramSetting.objects.filter(program__in=programs).values_list("payer_id", "program_id")
        )
        settings_ = [
            billing.PayerProgramSetting(payer=payer, program=program, **_claim_setting(payer, program))
            for payer in payers.values()
            for program in programs
            if (payer.pk, program.pk) not in existing
        ]
        added["payer settings"] += len(billing.PayerProgramSetting.objects.bulk_create(settings_, batch_size=BATCH))
        for payer_name, code, amount in CLAIM_RATES:
            rate_payer = payers[payer_name] if payer_name else None
            _, made = billing.FeeScheduleRate.objects.get_or_create(
                organization=org, payer=rate_payer, code=code, modifier="", tier="", effective_from=RATES_FROM,
                is_active=True, defaults={"rate": Decimal(amount)},
            )  # fmt: skip
            added["fee schedule rates"] += made
        added["diagnoses"] += _diagnoses(org)
    return {name: n for name, n in added.items() if n}


def _diagnoses(org: Organization) -> int:
    undiagnosed = (
        EpisodeOfCare.objects.filter(program__site__organization=org, primary_clinician__isnull=False)
        .exclude(models.Exists(Diagnosis.objects.filter(episode=models.OuterRef("pk"))))
        .values_list("pk", "program__focus", "primary_clinician_id")
        .order_by("pk")
    )
    rows = []
    for pk, focus, clinician_id in undiagnosed.iterator(chunk_size=BATCH):
        choices = CLAIM_DIAGNOSES.get(focus, CLAIM_DIAGNOSES[Program.Focus.MENTAL_HEALTH])
        code, description = choices[pk % len(choices)]
        rows.append(
            Diagnosis(episode_id=pk, code=code, description=description, is_primary=True, recorded_by_id=clinician_id)
        )
    return len(Diagnosis.objects.bulk_create(rows, batch_size=BATCH))
