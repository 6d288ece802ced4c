"""Factories for the check-in, roster and correction tests: a session with people booked on it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program
from openiop.scheduling.models import Booking, Session
from openiop.testing.scheduling import admit, make_booking, make_session

NAMES = [
    "Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indy", "Jules", "Kai", "Logan",
    "Morgan", "Noel", "Oakley", "Parker",
]  # fmt: skip


def session_at(program: Program, starts_at: datetime, minutes: int = 60, **fields: Any) -> Session:
    return make_session(program, starts_at, minutes=minutes, capacity=16, **fields)


def running_session(program: Program, minutes_ago: int = 10, minutes: int = 60, **fields: Any) -> Session:
    """A session that started ``minutes_ago`` minutes ago (whole minutes, so lateness is exact)."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=minutes_ago)
    return session_at(program, start, minutes, **fields)


def book_people(clinic: Any, session: Session, count: int, *, prefix: str = "") -> list[Booking]:
    """``count`` newly admitted people booked on the session, in name order."""
    bookings = []
    for index in range(count):
        episode: EpisodeOfCare = admit(
            clinic,
            f"{prefix}{NAMES[index % len(NAMES)]}",
            program=session.program,
            legal_last_name=f"Tester{index:02d}",
        )
        bookings.append(make_booking(session, episode.patient, episode=episode))
    return bookings
