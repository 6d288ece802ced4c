"""What a program asks of the recovery supports log: whether recovery capital check-ins are on and how often they
are due (the program's ``RecoveryPolicy`` row; off without one), and the meeting log's backdating limit and edit
window (``OPENIOP_DEFAULTS`` ``recovery_meeting_backdate_days`` 14 and ``recovery_meeting_edit_hours`` 24, read at
call time)."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings

from openiop.programs.models import Program
from openiop.recovery.models import RecoveryPolicy

# Meetings are logged from memory, often at the next group: two weeks back, longer than a practice entry's week.
BACKDATE_DAYS = 14
EDIT_HOURS = 24


def policy_for(program: Program) -> RecoveryPolicy:
    """The program's saved policy, else an unsaved one with check-ins off."""
    return RecoveryPolicy.objects.filter(program=program).first() or RecoveryPolicy(program=program)


def asks_capital(program: Program) -> bool:
    return policy_for(program).capital_check_ins


def capital_due(program: Program, last_taken_on: date | None, today: date) -> bool:
    """A check-in is due when the program asks them and the last one is at least the interval old (or none yet)."""
    policy = policy_for(program)
    if not policy.capital_check_ins:
        return False
    return last_taken_on is None or (today - last_taken_on).days >= policy.capital_every_days


def backdate_limit() -> timedelta:
    return timedelta(days=int(settings.OPENIOP_DEFAULTS.get("recovery_meeting_backdate_days", BACKDATE_DAYS)))


def edit_window() -> timedelta:
    return timedelta(hours=int(settings.OPENIOP_DEFAULTS.get("recovery_meeting_edit_hours", EDIT_HOURS)))
