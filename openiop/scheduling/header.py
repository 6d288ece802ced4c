"""The chart header's next-session flag (registered in scheduling/apps.py): the patient's next booked session in
the user's programs, in the program's time zone, with its group. One query."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.http import request_user
from openiop.core.permissions import program_ids_for
from openiop.patients.models import Patient
from openiop.scheduling.models import Booking, Session


def next_session_flag(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    user = request_user(request)
    booking = (
        Booking.objects.filter(
            patient=patient,
            status=Booking.Status.BOOKED,
            session__program_id__in=program_ids_for(user),
            session__status=Session.Status.SCHEDULED,
            session__ends_at__gt=timezone.now(),
        )
        .select_related("session__program", "session__session_type", "session__group")
        # The few columns the badge shows: the wide rows cost more to compile and load than to query.
        .only(
            "session__starts_at",
            "session__title",
            "session__program__name",
            "session__program__time_zone",
            "session__session_type__name",
            "session__group__name",
        )
        .order_by("session__starts_at", "pk")
        .first()
    )
    if booking is None:
        return None
    session = booking.session
    return {
        "session": session,
        # A session under way is still the one to know about, but it is not "next".
        "under_way": session.starts_at <= timezone.now(),
        "starts_at": session.starts_at.astimezone(session.program.tz()),
        "name": session.group.name if session.group else (session.title or session.session_type.name),
        "schedule_url": f"{patient.get_absolute_url()}?tab=schedule",
    }
