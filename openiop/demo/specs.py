"""What the demo clinic is made of, as data: its sites, programs, tracks and staff, the mix of episodes and their
timings, and the lists invented patients are drawn from (names, streets, languages, payers, contacts, discharge
reasons). Nothing here is real: see ``clinic.py``, which builds the clinic from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from openiop.core.roles import Role
from openiop.patients.models import CareTeamMember, Coverage, EpisodeOfCare, SupportContact
from openiop.programs.models import Program, Track

Status = EpisodeOfCare.Status
Reason = EpisodeOfCare.DischargeReason
Payer = Coverage.PayerKind
Kin = SupportContact.Relationship
TeamRole = CareTeamMember.TeamRole

# (program, episode status, patients): 45 active, 8 waitlisted, 7 discharged.
ENROLMENT = [
    ("mh", Status.ACTIVE, 20),
    ("su", Status.ACTIVE, 15),
    ("teen", Status.ACTIVE, 10),
    ("mh", Status.WAITLIST, 3),
    ("su", Status.WAITLIST, 3),
    ("teen", Status.WAITLIST, 2),
    ("mh", Status.DISCHARGED, 3),
    ("su", Status.DISCHARGED, 2),
    ("teen", Status.DISCHARGED, 2),
]
# Admissions fall within the last 12 weeks (77 days, then back to a track day, at most 6 more), so every
# active episode's expected discharge is still ahead.
ACTIVE_WINDOW_DAYS = 77
# The clinic is set up before its earliest admission (discharged episodes go back 30 weeks, then to a track day).
SETUP_WEEKS = 32
REGISTERED_DAYS_BEFORE_ADMISSION = 3
ADMITTED_AT = time(7, 30)  # local: before the first session of the day, so the day's groups can be booked
DISCHARGED_AT = time(16)


@dataclass(frozen=True)
class SiteSpec:
    key: str
    name: str
    address_line1: str
    city: str
    state: str
    postal_code: str
    time_zone: str
    area_codes: tuple[str, ...]
    towns: tuple[str, ...]


SITES = [
    SiteSpec(
        "main", "Riverside Main", "410 River Road", "Riverside", "NY", "12601", "America/New_York",
        ("845", "914", "518"), ("Riverside", "Maple Falls", "Eastbrook", "Cedar Point"),
    ),
    SiteSpec(
        "hill", "Hillcrest", "2200 Hillcrest Avenue", "Hillcrest", "IL", "60601", "America/Chicago",
        ("312", "773", "630"), ("Hillcrest", "Oak Hollow", "Lakeview Park", "Prairie Glen"),
    ),
]  # fmt: skip


@dataclass(frozen=True)
class ProgramSpec:
    key: str
    site: str
    name: str
    focus: str
    population: str
    description: str


PROGRAMS = [
    ProgramSpec(
        "mh", "main", "Adult Mental Health IOP", Program.Focus.MENTAL_HEALTH, Program.Population.ADULT,
        "Group and individual therapy for adults with depression, anxiety, trauma and mood disorders.",
    ),
    ProgramSpec(
        "su", "main", "Adult Substance Use IOP", Program.Focus.SUBSTANCE_USE, Program.Population.ADULT,
        "ASAM level 2.1 treatment for alcohol and other substance use, with relapse prevention.",
    ),
    ProgramSpec(
        "teen", "hill", "Adolescent IOP", Program.Focus.MENTAL_HEALTH, Program.Population.ADOLESCENT,
        "After-school program for 13 to 17 year olds, with a weekly family session.",
    ),
]  # fmt: skip


@dataclass(frozen=True)
class TrackSpec:
    program: str
    name: str
    kind: str
    weekdays: tuple[int, ...]  # Monday = 0
    start: time
    end: time


TRACKS = [
    TrackSpec("mh", "MH Day", Track.Kind.DAY, (0, 2, 4), time(9), time(12)),
    TrackSpec("mh", "MH Evening", Track.Kind.EVENING, (0, 1, 3), time(18), time(21)),
    TrackSpec("su", "SU Day", Track.Kind.DAY, (1, 3, 4), time(9), time(12)),
    TrackSpec("su", "SU Evening", Track.Kind.EVENING, (0, 2, 3), time(18), time(21)),
    TrackSpec("teen", "Adolescent After-school", Track.Kind.DAY, (0, 2, 3), time(15, 30), time(17, 30)),
]


@dataclass(frozen=True)
class StaffSpec:
    username: str
    role: str
    first_name: str
    last_name: str
    credentials: str
    title: str
    programs: tuple[str, ...]
    supervisor: str = ""


EVERY_PROGRAM = ("mh", "su", "teen")
# Eleven people cover every role: the medical director is the prescriber, so there is no separate psychiatrist.
# The sysadmin comes first because it creates everything else; sysadmins configure, they do not read charts.
STAFF = [
    StaffSpec("sysadmin", Role.SYSADMIN, "Owen", "Price", "", "System administrator", ()),
    StaffSpec("director", Role.DIRECTOR, "Dana", "Whitfield", "MD", "Medical director", EVERY_PROGRAM),
    StaffSpec("clinician", Role.CLINICIAN, "Marcus", "Bell", "LCSW", "Lead clinician", ("mh",)),
    StaffSpec("therapist", Role.CLINICIAN, "Priya", "Raman", "LPC", "Therapist", ("mh", "teen")),
    StaffSpec("counselor", Role.CLINICIAN, "Tomas", "Herrera", "LADC", "Addictions counselor", ("su",)),
    StaffSpec("intern", Role.SUPERVISED_CLINICIAN, "Kelsey", "Ward", "MSW", "Clinical intern", ("mh",),
              supervisor="clinician"),
    StaffSpec("intake", Role.INTAKE, "Renee", "Alvarez", "", "Intake coordinator", EVERY_PROGRAM),
    StaffSpec("frontdesk", Role.FRONT_DESK, "Sam", "Okafor", "", "Front desk", EVERY_PROGRAM),
    StaffSpec("billing", Role.BILLING, "Linda", "Cho", "", "Billing and utilization review", EVERY_PROGRAM),
    StaffSpec("auditor", Role.AUDITOR, "Grace", "Feldman", "", "Compliance auditor", EVERY_PROGRAM),
    # Organization-wide: signs off emergency (break-the-glass) access and reads the audit trail; no program.
    StaffSpec("privacy", Role.PRIVACY_OFFICER, "Helen", "Nakagawa", "", "Privacy officer", ()),
]  # fmt: skip

FEMALE_NAMES = [
    "Amara", "Beatriz", "Chloe", "Danielle", "Elena", "Fatima", "Gabriela", "Hannah", "Imani", "Jasmine",
    "Keiko", "Leah", "Mariana", "Nadia", "Olivia", "Paige", "Rosa", "Sofia", "Tamika", "Valentina", "Whitney",
    "Yasmin", "Zoe", "Brianna", "Ingrid", "Lucia", "Maya", "Noor", "Renata", "Theresa",
]  # fmt: skip
MALE_NAMES = [
    "Aaron", "Andre", "Caleb", "Darnell", "Emilio", "Farid", "Gavin", "Hector", "Isaac", "Jamal", "Kenji",
    "Luis", "Malik", "Nathan", "Omar", "Pedro", "Quentin", "Rafael", "Samuel", "Trevor", "Victor", "Wesley",
    "Xavier", "Yusuf", "Ezra", "Dmitri", "Marcus", "Owen", "Tobias", "Rohan",
]  # fmt: skip
NEUTRAL_NAMES = ["Alex", "Jordan", "Riley", "Avery", "Quinn", "Rowan", "Sage", "Casey"]
NICKNAMES = {
    "Danielle": "Dani", "Gabriela": "Gabi", "Valentina": "Val", "Theresa": "Tess", "Nathan": "Nate",
    "Samuel": "Sam", "Rafael": "Rafa", "Tobias": "Toby", "Emilio": "Milo", "Isaac": "Ike",
}  # fmt: skip
LAST_NAMES = [
    "Abernathy", "Okonkwo", "Bianchi", "Castillo", "Dubois", "Eriksen", "Fitzgerald", "Gallagher", "Haddad",
    "Ibarra", "Jablonski", "Kowalczyk", "Lindqvist", "Mbeki", "Nakamura", "Oyelaran", "Pellegrino",
    "Quintero", "Rasmussen", "Sandoval", "Tanaka", "Underwood", "Vasquez", "Whitaker", "Xiong", "Yamamoto",
    "Zielinski", "Ashworth", "Brennan", "Carmichael", "Delacroix", "Esposito", "Ferreira", "Goldberg",
    "Hollister", "Iverson", "Jaramillo", "Kaminski", "Lombardi", "Moreau", "Nguyen", "Oduya", "Petrov",
    "Ramirez", "Sorensen", "Thibodeaux", "Valdez", "Winslow", "Yilmaz", "Zamora",
]  # fmt: skip
MIDDLE_INITIALS = "ABCDEFGHJKLMNPRSTW"
STREETS = [
    "Maple Street", "Oak Avenue", "Birch Lane", "Willow Court", "Elm Street", "Chestnut Drive", "Spruce Way",
    "Hawthorn Road", "Juniper Place", "Linden Boulevard", "Sycamore Terrace", "Magnolia Circle",
]  # fmt: skip
# (language, needs an interpreter, weight)
LANGUAGES = [
    ("English", False, 46), ("Spanish", False, 6), ("Spanish", True, 4), ("Vietnamese", True, 1),
    ("Polish", True, 1), ("Arabic", False, 1), ("American Sign Language", True, 1),
]  # fmt: skip
COMMERCIAL_PAYERS = [
    ("Lakeshore Health Plan", ("PPO", "HMO Select")),
    ("Evergreen Mutual", ("Choice POS", "Bronze EPO")),
    ("Keystone Benefits", ("Open Access PPO",)),
    ("Harborview Insurance", ("Gold HMO", "Silver PPO")),
]
MEDICAID_PAYERS = {
    "NY": ("New York Medicaid", "Fee-for-service"),
    "IL": ("Illinois Medicaid", "HealthChoice"),
}
ADULT_CONTACT_KINDS = [Kin.PARTNER, Kin.SIBLING, Kin.FRIEND, Kin.CHILD, Kin.RELATIVE]
DISCHARGE_REASONS = [
    Reason.COMPLETED, Reason.DROPPED_OUT, Reason.COMPLETED, Reason.TRANSFERRED, Reason.COMPLETED,
    Reason.DROPPED_OUT, Reason.COMPLETED,
]  # fmt: skip
STAY_WEEKS = {Reason.COMPLETED: (10, 12), Reason.DROPPED_OUT: (2, 5), Reason.TRANSFERRED: (3, 8)}
DIGITS = "0123456789"
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"  # the Medicare Beneficiary Identifier leaves out S, L, O, I, B and Z
