"""A partial hospitalization program beside the clinic's IOP, for step-down and step-up tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from openiop.accounts.actions import do_update_staff
from openiop.programs.actions import do_create_program, do_create_track
from openiop.programs.models import Program, Track
from openiop.scheduling.models import Group, Session
from openiop.testing.scheduling import make_group, make_group_sessions


@dataclass
class Php:
    program: Program
    track: Track
    group: Group
    sessions: list[Session]


def add_php(clinic: Any, *, days_ahead: tuple[int, ...] = (1, 2, 3), capacity: int = 8) -> Php:
    """ "Adult Mental Health PHP" at the clinic's main site (level php, 20 h), its Mon-Fri day track with one group
    and upcoming group sessions at 10:00; the director and the clinician are its staff too."""
    program = do_create_program(acting_user=None, site=clinic.site, name="Adult Mental Health PHP", level_of_care="php")
    track = do_create_track(
        acting_user=None, program=program, name="PHP day", kind="day", weekdays=[0, 1, 2, 3, 4],
        start_time=time(9), end_time=time(15),
    )  # fmt: skip
    for user in (clinic.director, clinic.clinician):
        do_update_staff(user, acting_user=clinic.sysadmin, programs=[*user.programs.all(), program])
    group = make_group(track, "PHP A", capacity=capacity)
    return Php(program, track, group, make_group_sessions(group, days_ahead, hour=10))
