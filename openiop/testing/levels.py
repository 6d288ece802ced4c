"""Programs of other levels of care beside the clinic's IOP (partial hospitalization, outpatient), for step-down and
step-up tests."""

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
    return _add_level(
        clinic, "php", "Adult Mental Health PHP", "PHP day", "day", [0, 1, 2, 3, 4], (time(9), time(15)), "PHP A",
        days_ahead=days_ahead, capacity=capacity, hour=10,
    )  # fmt: skip


def add_op(clinic: Any, *, days_ahead: tuple[int, ...] = (1, 3), capacity: int = 8) -> Php:
    """ "Adult Mental Health OP" (level op): a Tue/Thu evening track with one group meeting at 17:00, the step-down
    from the clinic's IOP; the director and the clinician are its staff too."""
    return _add_level(
        clinic, "op", "Adult Mental Health OP", "OP evening", "evening", [1, 3], (time(17), time(18, 30)), "OP A",
        days_ahead=days_ahead, capacity=capacity, hour=17,
    )  # fmt: skip


def _add_level(
    clinic: Any, level: str, name: str, track_name: str, kind: str, weekdays: list[int], hours: tuple[time, time],
    group_name: str, *, days_ahead: tuple[int, ...], capacity: int, hour: int,
) -> Php:  # fmt: skip
    program = do_create_program(acting_user=None, site=clinic.site, name=name, level_of_care=level)
    track = do_create_track(
        acting_user=None, program=program, name=track_name, kind=kind, weekdays=weekdays,
        start_time=hours[0], end_time=hours[1],
    )  # fmt: skip
    for user in (clinic.director, clinic.clinician):
        do_update_staff(user, acting_user=clinic.sysadmin, programs=[*user.programs.all(), program])
    group = make_group(track, group_name, capacity=capacity)
    return Php(program, track, group, make_group_sessions(group, days_ahead, hour=hour))
