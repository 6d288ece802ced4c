"""A small clinic built through the real actions, with a named person for every access case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from openiop.accounts.actions import do_create_staff
from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.patients.actions import do_create_patient, do_open_episode
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.actions import do_create_organization, do_create_program, do_create_site, do_create_track
from openiop.programs.models import Organization, Program, Site, Track

PASSWORD = "correct horse battery staple"  # noqa: S105 (test fixture)


@dataclass
class Clinic:
    org: Organization
    site: Site
    other_site: Site
    mh: Program  # adult mental health, where most of the named people work
    su: Program  # adult substance use
    teen: Program  # adolescent, at the other site
    day: Track
    evening: Track
    people: dict[str, User] = field(default_factory=dict)
    other_org: Organization | None = None

    def __getattr__(self, name: str) -> User:
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None


def staff(org: Organization, username: str, role: str, programs: list[Program], **extra: Any) -> User:
    return do_create_staff(
        acting_user=None,
        organization=org,
        username=username,
        password=PASSWORD,
        programs=programs,
        role=role,
        first_name=username.capitalize(),
        last_name="Tester",
        email=f"{username}@example.org",
        **extra,
    )


def build_clinic() -> Clinic:
    org = do_create_organization(acting_user=None, name="Riverside Recovery", phone="555-0100")
    site = do_create_site(acting_user=None, organization=org, name="Riverside", time_zone="America/New_York")
    other_site = do_create_site(acting_user=None, organization=org, name="Hillcrest", time_zone="America/Chicago")
    mh = do_create_program(acting_user=None, site=site, name="Adult Mental Health IOP", focus="mental_health")
    su = do_create_program(acting_user=None, site=site, name="Adult Substance Use IOP", focus="substance_use")
    teen = do_create_program(acting_user=None, site=other_site, name="Adolescent IOP", population="adolescent")
    day = do_create_track(
        acting_user=None, program=mh, name="Day", kind="day", weekdays=[0, 2, 4], start_time=time(9), end_time=time(12)
    )
    evening = do_create_track(
        acting_user=None,
        program=mh,
        name="Evening",
        kind="evening",
        weekdays=[0, 1, 3],
        start_time=time(18),
        end_time=time(21),
    )
    clinic = Clinic(org=org, site=site, other_site=other_site, mh=mh, su=su, teen=teen, day=day, evening=evening)
    p = clinic.people
    p["director"] = staff(org, "director", Role.DIRECTOR, [mh, su], credentials="PhD")
    p["clinician"] = staff(org, "clinician", Role.CLINICIAN, [mh], credentials="LCSW")
    p["intern"] = staff(org, "intern", Role.SUPERVISED_CLINICIAN, [mh], credentials="MSW", supervisor=p["clinician"])
    p["intake"] = staff(org, "intake", Role.INTAKE, [mh, su])
    p["frontdesk"] = staff(org, "frontdesk", Role.FRONT_DESK, [mh])
    p["billing"] = staff(org, "billing", Role.BILLING, [mh, su])
    p["auditor"] = staff(org, "auditor", Role.AUDITOR, [mh, su])
    p["sysadmin"] = staff(org, "sysadmin", Role.SYSADMIN, [])
    # Same organization, another program: must not see Adult MH patients.
    p["outsider"] = staff(org, "outsider", Role.CLINICIAN, [teen], credentials="LPC")
    other_org = do_create_organization(acting_user=None, name="Elsewhere Health")
    other_site_2 = do_create_site(acting_user=None, organization=other_org, name="Elsewhere")
    other_program = do_create_program(acting_user=None, site=other_site_2, name="Elsewhere IOP")
    p["stranger"] = staff(other_org, "stranger", Role.DIRECTOR, [other_program], credentials="MD")
    clinic.other_org = other_org
    return clinic


def make_patient(clinic: Clinic, program: Program | None = None, *, admit: bool = True, **fields: Any) -> Patient:
    program = program or clinic.mh
    values: dict[str, Any] = {
        "legal_first_name": "Jordan",
        "legal_last_name": "Rivera",
        "date_of_birth": date(1990, 4, 12),
        "email": "jordan@example.org",
        "phone_mobile": "555-0142",
    }
    values.update(fields)
    patient = do_create_patient(acting_user=None, home_program=program, **values)
    if admit:
        clinician = clinic.people.get("clinician") if program == clinic.mh else None
        do_open_episode(
            patient,
            acting_user=None,
            program=program,
            status=EpisodeOfCare.Status.ACTIVE,
            admitted_on=date(2026, 11, 2),
            track=clinic.day if program == clinic.mh else None,
            primary_clinician=clinician,
        )
    return patient
