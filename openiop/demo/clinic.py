"""The demo clinic seeded by `openiop demo`: invented, deterministic, and built only through the actions.

Nothing here is real: names come from the lists in ``specs.py``, telephone numbers from the 555-0100..0199 range
reserved for fiction, e-mail addresses from example.org. A fixed seed and dates counted back from "today"
make two runs on the same day produce the same clinic.

The clinic is built as it would have happened: the organization, its programs and staff ``SETUP_WEEKS`` before
today, then each patient registered a few days before admission (or when waitlisted), admitted, and discharged, each
at its own date. The builder draws every random value at once, in a fixed order, and schedules the writes on a
``core.clock.Timeline``, which replays them in time order under the demo's simulated clock; the calendar and the
attendance history (``scheduling.demo``, ``attendance.demo``) add their steps to the same timeline, so the audit
trail reads in the order things happened.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from openiop.accounts.actions import do_create_staff
from openiop.accounts.models import User
from openiop.core.clock import Timeline, simulated_clock
from openiop.demo.billing import (
    MEDICARE_PAYERS,
    ensure_demo_billing_setup,
    ensure_demo_payer_rules,
    ensure_demo_payers,
)
from openiop.demo.specs import (
    ACTIVE_WINDOW_DAYS,
    ADMITTED_AT,
    ADULT_CONTACT_KINDS,
    COMMERCIAL_PAYERS,
    DIGITS,
    DISCHARGE_REASONS,
    DISCHARGED_AT,
    ENROLMENT,
    FEMALE_NAMES,
    LANGUAGES,
    LAST_NAMES,
    MALE_NAMES,
    MBI_LETTERS,
    MEDICAID_PAYERS,
    MIDDLE_INITIALS,
    NEUTRAL_NAMES,
    NICKNAMES,
    PROGRAMS,
    REGISTERED_DAYS_BEFORE_ADMISSION,
    SETUP_WEEKS,
    SITES,
    STAFF,
    STAY_WEEKS,
    STREETS,
    TRACKS,
    Kin,
    Payer,
    SiteSpec,
    StaffSpec,
    Status,
    TeamRole,
)
from openiop.patients.actions import (
    do_add_coverage,
    do_add_support_contact,
    do_change_episode_status,
    do_create_patient,
    do_open_episode,
)
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.models import Payer as PayerModel
from openiop.programs.actions import (
    do_create_organization,
    do_create_program,
    do_create_site,
    do_create_track,
)
from openiop.programs.models import Organization, Program, Site, Track

DEMO_ORGANIZATION = "Riverside Behavioral Health"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105  (the published demo password, printed by the command)
SEED = 2026


class DemoBuildError(Exception):
    """The demo clinic cannot be built in this database (for example a demo username is already taken)."""


@dataclass
class PlannedPatient:
    """One invented patient as planned; ``patient`` and ``episode`` are filled in when the timeline writes them."""

    first_name: str
    last_name: str
    program_key: str
    status: str
    track_name: str | None
    admitted_on: date | None
    primary_clinician: str = ""  # username
    patient: Patient | None = None
    episode: EpisodeOfCare | None = None


@dataclass
class DemoClinic:
    organization: Organization
    created: bool
    staff: list[User]
    patients: list[PlannedPatient] = field(default_factory=list)


def fictional_phone(rng: random.Random, area_codes: tuple[str, ...]) -> str:
    """555-0100 through 555-0199 are reserved for fiction in every North American area code."""
    return f"{rng.choice(area_codes)}-555-01{rng.randrange(100):02d}"


def shift_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (earlier when negative); days after the 28th become the 28th."""
    return date(day.year + years, day.month, min(day.day, 28))


def latest_weekday_on_or_before(day: date, weekdays: Collection[int]) -> date:
    while day.weekday() not in weekdays:
        day -= timedelta(days=1)
    return day


def demo_staff(organization: Organization) -> list[User]:
    by_username = {u.username: u for u in User.objects.filter(organization=organization)}
    return [by_username[s.username] for s in STAFF if s.username in by_username]


def existing_demo_clinic() -> DemoClinic | None:
    existing = Organization.objects.filter(name=DEMO_ORGANIZATION).order_by("pk").first()
    if existing is None:
        return None
    return DemoClinic(organization=existing, created=False, staff=demo_staff(existing))


def ensure_demo_clinic(today: date | None = None) -> DemoClinic:
    """Build the demo clinic once; when its organization already exists, change nothing."""
    return existing_demo_clinic() or build_demo_clinic(today or timezone.localdate())


@transaction.atomic
def build_demo_clinic(today: date) -> DemoClinic:
    """The clinic alone, its past replayed at once (the command adds the calendar and history to the timeline)."""
    timeline = Timeline()
    clinic = plan_demo_clinic(today, timeline)
    timeline.run()
    return clinic


def plan_demo_clinic(
    today: date, timeline: Timeline, *, on_admitted: Callable[[EpisodeOfCare], None] | None = None
) -> DemoClinic:
    """Set up the organization (at once, under the clock at its setup date) and put every patient's registration,
    admission and discharge on ``timeline``; the caller runs it, inside a transaction. ``on_admitted`` is called
    with each active episode the moment it is opened (the calendar enrolls it). The admission-day consents go on
    the same timeline, so they are signed on the day, not when the demo is built; so do the referrals' stories."""
    # Imported here: these demos read the planned clinic this module defines.
    from openiop.demo.consents import plan_demo_consents
    from openiop.demo.referrals import plan_demo_referrals

    clinic = _Builder(today, timeline, on_admitted).build()
    plan_demo_consents(timeline, clinic.patients, today)
    plan_demo_referrals(timeline, clinic, today)
    return clinic


def local_moment(day: date, at: time, zone: str) -> datetime:
    """The wall-clock time ``at`` on ``day`` in ``zone`` (aware)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone))


class _Builder:
    def __init__(
        self, today: date, timeline: Timeline, on_admitted: Callable[[EpisodeOfCare], None] | None = None
    ) -> None:
        self.today = today
        self.timeline = timeline
        self.on_admitted = on_admitted
        self.planned: list[PlannedPatient] = []
        self.rng = random.Random(SEED)  # noqa: S311  (reproducible invented data, not secrets)
        self.sites: dict[str, Site] = {}
        self.programs: dict[str, Program] = {}
        self.tracks: dict[str, list[Track]] = {}
        self.staff: dict[str, User] = {}
        self.payers: dict[str, PayerModel] = {}
        self.used_names: set[tuple[str, str]] = set()
        self.discharges = 0

    def build(self) -> DemoClinic:
        usernames = [s.username for s in STAFF]
        taken = sorted(User.objects.filter(username__in=usernames).values_list("username", flat=True))
        if taken:
            raise DemoBuildError(f"these demo usernames already belong to other accounts: {', '.join(taken)}")
        setup_at = local_moment(self.today - timedelta(weeks=SETUP_WEEKS), time(9), SITES[0].time_zone)
        with simulated_clock(setup_at):
            org = self._set_up()
        slots = [(program, status) for program, status, count in ENROLMENT for _ in range(count)]
        self.rng.shuffle(slots)  # interleave programs and statuses, as registrations arrive in real life
        seen: dict[tuple[str, str], int] = {}
        for slot in slots:
            index = seen.get(slot, 0)
            seen[slot] = index + 1
            self._enrol(*slot, index)
        return DemoClinic(
            organization=org, created=True, staff=[self.staff[s.username] for s in STAFF], patients=self.planned
        )

    def _set_up(self) -> Organization:
        org = do_create_organization(
            acting_user=None,
            name=DEMO_ORGANIZATION,
            phone="845-555-0100",
            website="https://riverside.example.org",
            mrn_prefix="RBH",
        )
        sysadmin = self._create_staff(org, STAFF[0], acting_user=None)
        for number, site in enumerate(SITES):
            self.sites[site.key] = do_create_site(
                acting_user=sysadmin,
                organization=org,
                name=site.name,
                address_line1=site.address_line1,
                city=site.city,
                state=site.state,
                postal_code=site.postal_code,
                time_zone=site.time_zone,
                phone=f"{site.area_codes[0]}-555-01{10 * number:02d}",
            )
        for program in PROGRAMS:
            self.programs[program.key] = do_create_program(
                acting_user=sysadmin,
                site=self.sites[program.site],
                name=program.name,
                focus=program.focus,
                population=program.population,
                description=program.description,
            )
        for spec in TRACKS:
            track = do_create_track(
                acting_user=sysadmin,
                program=self.programs[spec.program],
                name=spec.name,
                kind=spec.kind,
                weekdays=list(spec.weekdays),
                start_time=spec.start,
                end_time=spec.end,
            )
            if not track.meets_dose:
                raise DemoBuildError(f"{track} does not meet the weekly dose of {track.program}")
            self.tracks.setdefault(spec.program, []).append(track)
        for staff in STAFF[1:]:
            self._create_staff(org, staff, acting_user=sysadmin)
        ensure_demo_payer_rules(org, self.programs, acting_user=sysadmin)
        self.payers = ensure_demo_payers(org, acting_user=sysadmin)
        ensure_demo_billing_setup(
            org, self.programs, self.sites, self.staff, self.payers, today=self.today, acting_user=sysadmin
        )
        return org

    def _create_staff(self, org: Organization, spec: StaffSpec, *, acting_user: User | None) -> User:
        email = f"{spec.first_name.lower()}.{spec.last_name.lower()}@example.org"
        person = User(username=spec.username, first_name=spec.first_name, last_name=spec.last_name, email=email)
        validate_password(DEMO_PASSWORD, person)
        extra: dict[str, Any] = {"supervisor": self.staff[spec.supervisor]} if spec.supervisor else {}
        user = do_create_staff(
            acting_user=acting_user,
            organization=org,
            username=spec.username,
            password=DEMO_PASSWORD,
            programs=[self.programs[key] for key in spec.programs],
            role=spec.role,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=email,
            credentials=spec.credentials,
            title=spec.title,
            phone=f"845-555-01{len(self.staff) + 1:02d}",
            **extra,
        )
        self.staff[spec.username] = user
        return user

    # --- registration ---------------------------------------------------------------------------------------

    def _enrol(self, program_key: str, status: str, index: int) -> None:
        program = self.programs[program_key]
        site = next(s for s in SITES if s.name == program.site.name)
        adolescent = program.population == Program.Population.ADOLESCENT
        payer = self._pick_payer(adolescent)
        age = self._pick_age(adolescent, payer)
        first, last, name_kind = self._pick_name()
        contacts = self._plan_contacts(last, site, age, adolescent, program.is_substance_use)
        planned = PlannedPatient(first, last, program_key, status, None, None)
        self.planned.append(planned)
        fields = self._register(site, age, first, last, name_kind, contacts)
        coverages = self._add_coverages(fields["date_of_birth"], site, payer, contacts)

        def register() -> None:
            patient = do_create_patient(acting_user=self.staff["intake"], home_program=program, **fields)
            planned.patient = patient
            for contact in contacts:
                do_add_support_contact(patient, acting_user=self.staff["intake"], **contact)
            for coverage in coverages:
                # Self-pay has no payer member number: the clinic's own account number (the MRN) stands in.
                given = dict(coverage)
                member_id = given.pop("member_id") or patient.mrn
                # Every coverage but self-pay (no payer to send a claim to) names one of the demo's payers.
                given["payer"] = self.payers.get(given["payer_name"])
                do_add_coverage(patient, acting_user=self.staff["billing"], member_id=member_id, **given)

        if status == Status.ACTIVE:
            registered_on = self._admit(planned, program_key, index)
        elif status == Status.WAITLIST:
            registered_on = self._waitlist(planned, program_key)
        else:
            registered_on = self._admit_and_discharge(planned, program_key, index)
        self.timeline.at(local_moment(registered_on, time(10), program.site.time_zone), register)

    def _pick_payer(self, adolescent: bool) -> str:
        if adolescent:
            return self.rng.choices([Payer.COMMERCIAL, Payer.MEDICAID, Payer.SELF_PAY], weights=[11, 8, 1])[0]
        kinds = [Payer.COMMERCIAL, Payer.MEDICAID, Payer.MEDICARE, Payer.SELF_PAY, Payer.TRICARE]
        return self.rng.choices(kinds, weights=[9, 5, 3, 2, 1])[0]

    def _pick_name(self) -> tuple[str, str, str]:
        """A first and last name not used yet, and whether the first name is female, male or neutral."""
        while True:
            kind = self.rng.choices(["female", "male", "neutral"], weights=[10, 9, 1])[0]
            pool = {"female": FEMALE_NAMES, "male": MALE_NAMES, "neutral": NEUTRAL_NAMES}[kind]
            first, last = self.rng.choice(pool), self.rng.choice(LAST_NAMES)
            if (first, last) not in self.used_names:
                self.used_names.add((first, last))
                return first, last, kind

    def _pick_identity(self, name_kind: str) -> tuple[str, str, str]:
        """Sex assigned at birth, gender identity (often left blank) and pronouns."""
        rng = self.rng
        if name_kind == "neutral":
            return rng.choice([Patient.Sex.FEMALE, Patient.Sex.MALE]), "Non-binary", "they/them"
        if rng.random() < 0.05:
            if name_kind == "female":
                return Patient.Sex.MALE, "Transgender woman", "she/her"
            return Patient.Sex.FEMALE, "Transgender man", "he/him"
        sex, identity, pronouns = {
            "female": (Patient.Sex.FEMALE, "Woman", "she/her"),
            "male": (Patient.Sex.MALE, "Man", "he/him"),
        }[name_kind]
        return sex, identity if rng.random() < 0.5 else "", pronouns if rng.random() < 0.6 else ""

    def _pick_age(self, adolescent: bool, payer: str) -> int:
        if adolescent:
            return self.rng.randint(13, 17)
        if payer == Payer.MEDICARE:
            return self.rng.randint(65, 79)
        return self.rng.randint(19, 63)

    def _register(
        self,
        site: SiteSpec,
        age: int,
        first: str,
        last: str,
        name_kind: str,
        contacts: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """The fields of the patient's registration."""
        rng = self.rng
        sex, gender_identity, pronouns = self._pick_identity(name_kind)
        language, interpreter, _ = rng.choices(LANGUAGES, weights=[w for *_, w in LANGUAGES])[0]
        fields: dict[str, Any] = {
            "legal_first_name": first,
            "legal_middle_name": rng.choice(MIDDLE_INITIALS) if rng.random() < 0.6 else "",
            "legal_last_name": last,
            "preferred_name": NICKNAMES.get(first, "") if rng.random() < 0.7 else "",
            "pronouns": pronouns,
            # A birthday 1 to 360 days ago, so the patient is exactly ``age`` today.
            "date_of_birth": shift_years(self.today, -age) - timedelta(days=rng.randint(1, 360)),
            "sex_assigned_at_birth": sex,
            "gender_identity": gender_identity,
            "email": f"{first.lower()}.{last.lower()}@example.org" if rng.random() < 0.8 else "",
            "phone_mobile": fictional_phone(rng, site.area_codes),
            "phone_home": fictional_phone(rng, site.area_codes) if rng.random() < 0.25 else "",
            "address_line1": f"{rng.randint(12, 2980)} {rng.choice(STREETS)}",
            "address_line2": f"Apt {rng.randint(1, 24)}{rng.choice('ABCD')}" if rng.random() < 0.3 else "",
            "city": rng.choice(site.towns),
            "state": site.state,
            "postal_code": f"{site.postal_code[:3]}{rng.randint(0, 99):02d}",
            "preferred_language": language,
            "interpreter_needed": interpreter,
        }
        if contacts:
            fields["emergency_contact_name"] = contacts[0]["name"]
            fields["emergency_contact_relationship"] = Kin(contacts[0]["relationship"]).label
            fields["emergency_contact_phone"] = contacts[0]["phone"]
        return fields

    def _plan_contacts(
        self, last_name: str, site: SiteSpec, age: int, adolescent: bool, substance_use: bool
    ) -> list[dict[str, Any]]:
        """Support contacts to add once the patient exists; the first is also the emergency contact."""
        rng = self.rng
        contacts: list[dict[str, Any]] = []
        if adolescent:
            for i, first in enumerate(rng.sample(FEMALE_NAMES + MALE_NAMES, rng.choice([1, 2]))):
                contacts.append(
                    {
                        "name": f"{first} {last_name}",
                        "relationship": Kin.PARENT,
                        "phone": fictional_phone(rng, site.area_codes),
                        "email": f"{first.lower()}.{last_name.lower()}@example.org",
                        "involved_in_treatment": True,
                        "notes": "Legal guardian; attends the weekly family session." if i == 0 else "",
                    }
                )
            return contacts
        for _ in range(rng.choices([0, 1, 2], weights=[2, 5, 3])[0]):
            kind = rng.choice([k for k in ADULT_CONTACT_KINDS if age >= 40 or k != Kin.CHILD])
            family_name = rng.choice(LAST_NAMES) if kind == Kin.FRIEND else last_name
            involved = rng.random() < 0.4
            contacts.append(
                {
                    "name": f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {family_name}",
                    "relationship": kind,
                    "phone": fictional_phone(rng, site.area_codes),
                    "involved_in_treatment": involved,
                    "notes": "Consented to join family sessions." if involved else "",
                }
            )
        if substance_use and rng.random() < 0.4:
            contacts.append(
                {
                    "name": f"{rng.choice(MALE_NAMES + FEMALE_NAMES)} {rng.choice(LAST_NAMES)}",
                    "relationship": Kin.SPONSOR,
                    "phone": fictional_phone(rng, site.area_codes),
                    "involved_in_treatment": False,
                    "notes": "Twelve-step sponsor.",
                }
            )
        return contacts

    def _add_coverages(
        self, date_of_birth: date, site: SiteSpec, payer: str, contacts: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The patient's coverages, as ``do_add_coverage`` arguments (an empty member id: use the MRN)."""
        rng = self.rng
        coverages: list[dict[str, Any]] = []
        start = date(self.today.year, 1, 1) if rng.random() < 0.6 else self.today - timedelta(rng.randint(200, 900))
        medicaid_name, medicaid_plan = MEDICAID_PAYERS[site.state]
        if payer == Payer.MEDICARE:
            self._coverage(
                coverages,
                Payer.MEDICARE,
                MEDICARE_PAYERS[site.state],
                "Part B",
                self._mbi(),
                effective_from=shift_years(date_of_birth, 65),
            )
            if rng.random() < 0.5:  # dual eligible
                self._coverage(
                    coverages,
                    Payer.MEDICAID,
                    medicaid_name,
                    medicaid_plan,
                    self._medicaid_id(site.state),
                    priority=2,
                    effective_from=start,
                )
        elif payer == Payer.MEDICAID:
            self._coverage(
                coverages,
                Payer.MEDICAID,
                medicaid_name,
                medicaid_plan,
                self._medicaid_id(site.state),
                effective_from=start,
            )
        elif payer == Payer.SELF_PAY:
            # No payer member number exists, so the clinic's own account number (the MRN) stands in.
            self._coverage(coverages, Payer.SELF_PAY, "Self-pay", "Sliding-scale fee", "")
        elif payer == Payer.TRICARE:
            self._coverage(
                coverages,
                Payer.TRICARE,
                "TRICARE East",
                "Select",
                str(rng.randrange(10**10, 10**11)),
                effective_from=start,
            )
        else:
            name, plans = rng.choice(COMMERCIAL_PAYERS)
            guardian = next((c for c in contacts if c["relationship"] == Kin.PARENT), None)
            partner = next((c for c in contacts if c["relationship"] == Kin.PARTNER), None)
            subscriber: dict[str, Any] = {}
            if guardian is not None:
                subscriber = {
                    "subscriber_name": guardian["name"],
                    "relationship_to_subscriber": "child",
                    "subscriber_date_of_birth": shift_years(self.today, -rng.randint(38, 55)),
                }
            elif partner is not None and rng.random() < 0.5:
                subscriber = {
                    "subscriber_name": partner["name"],
                    "relationship_to_subscriber": "spouse",
                    "subscriber_date_of_birth": date_of_birth - timedelta(rng.randint(-900, 900)),
                }
            self._coverage(
                coverages,
                Payer.COMMERCIAL,
                name,
                rng.choice(plans),
                f"{name[:3].upper()}{rng.randrange(10**8, 10**9)}",
                group_number=f"G{rng.randrange(10**5, 10**6)}",
                effective_from=start,
                **subscriber,
            )
        return coverages

    def _coverage(
        self,
        coverages: list[dict[str, Any]],
        kind: str,
        payer_name: str,
        plan_name: str,
        member_id: str,
        priority: int = 1,
        **fields: Any,
    ) -> None:
        coverages.append(
            {
                "priority": priority,
                "payer_kind": kind,
                "payer_name": payer_name,
                "plan_name": plan_name,
                "member_id": member_id,
                **fields,
            }
        )

    def _mbi(self) -> str:
        """A Medicare Beneficiary Identifier in the official 11-character shape."""
        shape = [
            "123456789",
            MBI_LETTERS,
            MBI_LETTERS + DIGITS,
            DIGITS,
            MBI_LETTERS,
            MBI_LETTERS + DIGITS,
            DIGITS,
            MBI_LETTERS,
            MBI_LETTERS,
            DIGITS,
            DIGITS,
        ]
        return "".join(self.rng.choice(chars) for chars in shape)

    def _medicaid_id(self, state: str) -> str:
        rng = self.rng
        if state == "NY":  # the New York client identification number: 2 letters, 5 digits, 1 letter
            prefix = "".join(rng.choice(MBI_LETTERS) for _ in range(2))
            return f"{prefix}{rng.randrange(10**4, 10**5)}{rng.choice(MBI_LETTERS)}"
        return str(rng.randrange(10**8, 10**9))

    # --- episodes of care ----------------------------------------------------------------------------------

    def _care_team(self, program_key: str, index: int) -> tuple[User, list[tuple[User, str]]]:
        """The primary clinician and the rest of the team, rotating through the program's clinicians."""
        s = self.staff
        team: list[tuple[User, str]] = []
        if program_key == "mh":
            primary = [s["clinician"], s["therapist"], s["intern"]][index % 3]
            if primary == s["intern"]:
                team.append((s["clinician"], TeamRole.THERAPIST))  # the intern's supervisor stays on the case
        else:
            primary = s["counselor"] if program_key == "su" else s["therapist"]
        if index % 3 == 0:
            team.append((s["director"], TeamRole.PRESCRIBER))
        if index % 4 == 1:
            team.append((s["intake"], TeamRole.CASE_MANAGER))
        return primary, team

    def _open(self, planned: PlannedPatient, program_key: str, index: int, admitted_on: date, track: Track) -> None:
        """Open the episode on the morning of its admission (a step on the timeline)."""
        primary, team = self._care_team(program_key, index)
        program = self.programs[program_key]
        planned.track_name, planned.admitted_on = track.name, admitted_on
        planned.primary_clinician = primary.username

        def admit() -> None:
            assert planned.patient is not None  # registered days before
            planned.episode = do_open_episode(
                planned.patient,
                acting_user=self.staff["intake"],
                program=program,
                status=Status.ACTIVE,
                track=track,
                admitted_on=admitted_on,
                primary_clinician=primary,
                care_team=team,
            )
            if planned.status == Status.ACTIVE and self.on_admitted is not None:
                self.on_admitted(planned.episode)

        self.timeline.at(local_moment(admitted_on, ADMITTED_AT, program.site.time_zone), admit)

    def _admit(self, planned: PlannedPatient, program_key: str, index: int) -> date:
        """Plan an admission within the last twelve weeks; returns the registration date."""
        count = next(n for p, status, n in ENROLMENT if p == program_key and status == Status.ACTIVE)
        tracks = self.tracks[program_key]
        track = tracks[index % len(tracks)]
        # Stratified over the window, so admissions are spread out rather than bunched by chance.
        days_ago = 1 + int((index + self.rng.random()) * ACTIVE_WINDOW_DAYS / count)
        admitted_on = latest_weekday_on_or_before(self.today - timedelta(days=days_ago), track.weekdays)
        self._open(planned, program_key, index, admitted_on, track)
        return admitted_on - timedelta(days=REGISTERED_DAYS_BEFORE_ADMISSION)

    def _waitlist(self, planned: PlannedPatient, program_key: str) -> date:
        program = self.programs[program_key]
        track = self.rng.choice([*self.tracks[program_key], None])  # some state a preferred track
        waitlisted_on = self.today - timedelta(days=self.rng.randint(1, 20))
        planned.track_name = track.name if track is not None else None

        def waitlist() -> None:
            assert planned.patient is not None
            planned.episode = do_open_episode(
                planned.patient,
                acting_user=self.staff["intake"],
                program=program,
                status=Status.WAITLIST,
                track=track,
                waitlisted_on=waitlisted_on,
            )

        self.timeline.at(local_moment(waitlisted_on, time(10, 30), program.site.time_zone), waitlist)
        return waitlisted_on

    def _admit_and_discharge(self, planned: PlannedPatient, program_key: str, index: int) -> date:
        rng = self.rng
        reason = DISCHARGE_REASONS[self.discharges % len(DISCHARGE_REASONS)]
        self.discharges += 1
        tracks = self.tracks[program_key]
        track = tracks[index % len(tracks)]
        admitted_on = latest_weekday_on_or_before(self.today - timedelta(weeks=rng.randint(14, 30)), track.weekdays)
        low, high = STAY_WEEKS[reason]
        discharged_on = admitted_on + timedelta(weeks=rng.randint(low, high), days=rng.randint(0, 4))
        self._open(planned, program_key, index, admitted_on, track)

        def discharge() -> None:
            episode = planned.episode
            assert episode is not None
            do_change_episode_status(
                episode,
                acting_user=episode.primary_clinician or self.staff["director"],
                status=Status.DISCHARGED,
                on_date=discharged_on,
                discharge_reason=reason,
            )

        zone = self.programs[program_key].site.time_zone
        self.timeline.at(local_moment(discharged_on, DISCHARGED_AT, zone), discharge)
        return admitted_on - timedelta(days=REGISTERED_DAYS_BEFORE_ADMISSION)


def seed_demo_records(org: Organization, today: date) -> dict[str, object]:
    """The clinic's other records, each through its own app's actions; every seeder is idempotent, so a second run
    changes nothing. They run after the replayed past, at the real time (the consents are on the timeline, signed on
    each admission day: ``plan_demo_clinic``). Returns what each seeder returned, by app (the tests read it)."""
    # Imported here: these apps' demos read the clinic this module builds.
    from openiop.demo.claims import ensure_demo_claims
    from openiop.demo.discharge import ensure_demo_discharges
    from openiop.demo.eligibility import ensure_demo_eligibility
    from openiop.demo.family import ensure_demo_family
    from openiop.demo.intake import seed_demo_intake
    from openiop.demo.labs import ensure_demo_labs
    from openiop.demo.measures import ensure_demo_measures
    from openiop.demo.medications import ensure_demo_medications
    from openiop.demo.notes import ensure_demo_notes
    from openiop.demo.plans import ensure_demo_plans
    from openiop.demo.portal import ensure_demo_portal
    from openiop.demo.recovery import ensure_demo_recovery
    from openiop.demo.referrals import ensure_demo_referrals
    from openiop.demo.reminders import ensure_demo_reminders
    from openiop.demo.skills import ensure_demo_practice
    from openiop.demo.utilization import ensure_demo_authorizations

    return {
        "intake": seed_demo_intake(org, today),
        "medications": ensure_demo_medications(org, today),  # early: the drug-test demo reads what patients take
        "measures": ensure_demo_measures(org, today),
        "referrals": ensure_demo_referrals(org, today),
        "discharge": ensure_demo_discharges(org, today),
        "plans": ensure_demo_plans(org, today),  # before the notes: notes link the objectives of plans in force
        "notes": ensure_demo_notes(org, today),
        "portal": ensure_demo_portal(org, today),
        "skills": ensure_demo_practice(org, today),  # after the plans: one plan in force gets a revision to sign
        "recovery": ensure_demo_recovery(org, today),  # after the portal login: its own login for an SU patient
        "utilization": ensure_demo_authorizations(org, today),  # after the attendance history: units used
        "claims": ensure_demo_claims(org, today),  # after the authorizations: claims carry their numbers
        "eligibility": ensure_demo_eligibility(org, today),  # after the claims: it uses their submission profile
        "labs": ensure_demo_labs(org, today),  # after the episodes and primary clinicians: random draws of the past
        "family": ensure_demo_family(org, today),  # after the consents and the calendar: a release and family sessions
        "reminders": ensure_demo_reminders(org, today),  # last: it plans reminders for what the others seeded
    }
