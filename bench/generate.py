"""Synthetic data at scale: sites, programs, tracks, staff, and years of patients moving through them.

Speed matters more than history here, so rows go in with bulk_create and no audit rows are written (the
audit chain stays valid: it is simply empty until the measured pages add to it through audit.record).
Everything is invented and reproducible from the seed; "today" anchors the dates.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from bench import BENCH_ORGANIZATION, BENCH_PASSWORD, BENCH_USERNAME
from openiop.accounts.models import ProgramMembership, User
from openiop.core.roles import Role
from openiop.demo.specs import FEMALE_NAMES, LAST_NAMES, MALE_NAMES, MIDDLE_INITIALS, NEUTRAL_NAMES, STREETS
from openiop.patients.models import CareTeamMember, Coverage, EpisodeOfCare, Patient, SupportContact
from openiop.programs.models import Organization, Program, Site, Track

BATCH = 2000

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

    def run(self) -> Counts:
        if Organization.objects.filter(name=BENCH_ORGANIZATION).exists():
            raise RuntimeError(f'"{BENCH_ORGANIZATION}" already exists: start from an empty database')
        org = Organization(name=BENCH_ORGANIZATION, phone="555-555-0100", mrn_prefix="BEN")
        Organization.objects.bulk_create([org])
        self.organization = org
        self._users([User(username="bench.sysadmin", role=Role.SYSADMIN, first_name="Sam", last_name="Admin")])
        for number in range(self.scale.sites):
            with transaction.atomic():
                self._site(org, number)
            self.progress(f"  site {number + 1}/{self.scale.sites}: {self.counts}")
        Organization.objects.filter(pk=org.pk).update(next_mrn=self.next_mrn)
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
        Coverage.objects.bulk_create(self._coverages(patients), batch_size=BATCH)
        SupportContact.objects.bulk_create(self._contacts(patients), batch_size=BATCH)
        self.counts.add("patients", len(patients))
        self.counts.add("episodes", len(episodes))

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
