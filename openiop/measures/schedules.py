"""Which instruments a program uses, when each falls due for an episode, and who is on call for its alerts.

A program without its own rows uses the defaults: every instrument the registry enables by default that fits the
program's focus, asked at intake, at discharge and at the 7, 30 and 90-day follow-ups, and the weekly symptom measures
(PHQ-9, GAD-7, C-SSRS) weekly on ``OPENIOP_DEFAULTS["measures_weekly_weekday"]``. Defaults are read at call time,
so a deployment changes them without a migration. AUDIT and DAST-10 (non-commercial licences) are only ever asked
where a program enables them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings

from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.measures import instruments
from openiop.measures.models import FOLLOW_UP_OCCASIONS, MeasureSchedule, MeasuresConfig, Occasion
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program


def _defaults() -> dict[str, int]:
    return settings.OPENIOP_DEFAULTS


def default_config(program: Program) -> MeasuresConfig:
    return MeasuresConfig(program=program, escalation_minutes=int(_defaults()["safety_alert_escalation_minutes"]))


def config_for(program: Program) -> MeasuresConfig:
    """The program's saved measures config, else the defaults (unsaved). Cached on the program instance."""
    cached = getattr(program, "_openiop_measures_config", None)
    if cached is not None:
        return cached
    config = MeasuresConfig.objects.filter(program=program).select_related("on_call").first() or default_config(program)
    program._openiop_measures_config = config  # type: ignore[attr-defined]
    return config


def fits_program(instrument: instruments.Instrument, program: Program) -> bool:
    if not instrument.focus:
        return True
    if program.focus == Program.Focus.CO_OCCURRING:
        return bool(instrument.focus & {Program.Focus.MENTAL_HEALTH, Program.Focus.SUBSTANCE_USE})
    return program.focus in instrument.focus


# The C-SSRS is scheduled under its "recent" code; every administration after a patient's first is given as the
# "since last visit" version (``version_for``). Both count as one instrument for schedules, charts and reports.
CSSRS = instruments.cssrs_for(first=True).code
CSSRS_SLV = instruments.cssrs_for(first=False).code
FAMILY = {CSSRS_SLV: CSSRS}

# Occasions of the default schedule: the weekly symptom measures and the suicide screen every week, the longer
# look-back instruments (past month and more) at the ends of the episode and the follow-ups only.
_WEEKLY = {"phq9", "gad7", CSSRS}
_NO_FOLLOW_UP = {CSSRS}


def family(code: str) -> str:
    return FAMILY.get(code, code)


def schedulable() -> list[instruments.Instrument]:
    """Instruments a program can switch on (the C-SSRS once, under its first-visit code)."""
    return [i for i in instruments.REGISTRY.values() if i.code not in FAMILY]


def default_schedules(program: Program) -> list[MeasureSchedule]:
    defaults = _defaults()
    return [
        MeasureSchedule(
            program=program,
            instrument_code=instrument.code,
            weekly=instrument.code in _WEEKLY,
            weekly_weekday=int(defaults["measures_weekly_weekday"]),
            follow_up_days=[] if instrument.code in _NO_FOLLOW_UP else sorted(FOLLOW_UP_OCCASIONS),
        )
        for instrument in instruments.enabled_by_default()
        if instrument.code not in FAMILY and fits_program(instrument, program)
    ]


def schedules_for(program: Program) -> list[MeasureSchedule]:
    """The instruments the program asks: its active rows, or the defaults when it has no rows at all."""
    rows = list(MeasureSchedule.objects.filter(program=program))
    if not rows:
        return default_schedules(program)
    return [row for row in rows if row.is_active and row.instrument_code in instruments.REGISTRY]


def enabled_codes(program: Program) -> list[str]:
    return [s.instrument_code for s in schedules_for(program)]


def on_call_recipients(program: Program) -> list[User]:
    """Who gets the escalation email: the configured on-call clinician, else the program's active directors."""
    config = config_for(program)
    if config.on_call is not None and config.on_call.is_active:
        return [config.on_call]
    return list(
        User.objects.filter(memberships__program=program, role=Role.DIRECTOR, is_active=True).order_by("username")
    )


@dataclass(frozen=True)
class Due:
    occasion: str
    due_on: date


def due_dates(schedule: MeasureSchedule, episode: EpisodeOfCare, *, until: date) -> Iterator[Due]:
    """Every occasion of ``schedule`` for ``episode`` due on or before ``until``, oldest first.

    Weekly occasions fall on the schedule's weekday strictly after admission (the intake measure covers the first
    days) while the episode is active, up to discharge. Discharge and follow-ups need a discharge date; nobody is
    asked after a death.
    """
    admitted = episode.admitted_on
    if admitted is None:
        return
    if schedule.at_intake and admitted <= until:
        yield Due(Occasion.INTAKE, admitted)
    end = episode.discharged_on or until
    if schedule.weekly and episode.status in (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.DISCHARGED):
        day = admitted + timedelta(days=(schedule.weekly_weekday - admitted.weekday()) % 7 or 7)
        # The discharge measure replaces a weekly one on the same day.
        last = end - timedelta(days=1) if episode.discharged_on and schedule.at_discharge else end
        while day <= min(last, until):
            yield Due(Occasion.WEEKLY, day)
            day += timedelta(days=7)
    discharged = episode.discharged_on
    if discharged is None or episode.discharge_reason == EpisodeOfCare.DischargeReason.DEATH:
        return
    if schedule.at_discharge and discharged <= until:
        yield Due(Occasion.DISCHARGE, discharged)
    for days in sorted(set(schedule.follow_up_days or [])):
        occasion = FOLLOW_UP_OCCASIONS.get(int(days))
        if occasion is not None and discharged + timedelta(days=int(days)) <= until:
            yield Due(occasion, discharged + timedelta(days=int(days)))
