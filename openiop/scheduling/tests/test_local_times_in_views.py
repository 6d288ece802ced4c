"""Pages show a session in its own program's zone, not the server's (settings.TIME_ZONE is New York)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.testing.scheduling import make_session

CHICAGO = ZoneInfo("America/Chicago")


def _next_monday_at(hour: int, minute: int) -> datetime:
    today = timezone.now().astimezone(CHICAGO).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime(monday.year, monday.month, monday.day, hour, minute, tzinfo=CHICAGO)


def test_session_page_and_calendar_use_the_program_zone(client, clinic):
    assert clinic.teen.time_zone == "America/Chicago"
    starts = _next_monday_at(15, 30)
    session = make_session(clinic.teen, starts, title="After-school group")
    login(client, clinic.outsider)  # the outsider fixture is the Adolescent program's clinician
    page = client.get(reverse("scheduling:session", args=[session.public_id])).content.decode()
    assert "3:30" in page and "4:30" not in page
    week = client.get(
        reverse("scheduling:calendar"), {"site": clinic.other_site.public_id, "date": starts.date().isoformat()}
    ).content.decode()
    assert "3:30" in week and "4:30" not in week
