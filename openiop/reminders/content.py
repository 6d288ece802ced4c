"""What a reminder says: nothing clinical, safe under 42 CFR Part 2.

A reminder may be read by anyone who sees the patient's phone or inbox, so it names only the site (never the
program, whose name may say "substance use"), a date and a time. No session type, no questionnaire or instrument
name, no diagnosis, no clinician. Links go to the portal's front door or the preferences page, never to a record
and never with a token: the portal asks the patient to sign in and shows the details there. (A questionnaire's own
secret link is not used: making one needs a staff member, replaces the link staff may have sent, and a link that
opens a questionnaire without a login should not sit in an inbox.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from openiop.reminders.models import Kind


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    sms: str


@dataclass(frozen=True)
class Facts:
    """All a reminder may know: the site's name, the program's zone, and a time or a date."""

    kind: str
    site_name: str
    tz: ZoneInfo
    starts_at: datetime | None = None
    on_date: date | None = None


def portal_url() -> str:
    return f"{settings.SITE_URL}/portal/"


def preferences_url() -> str:
    return f"{settings.SITE_URL}{reverse('reminders:portal_preferences')}"


def _clock(at: datetime) -> str:
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


def _day(day: date, today: date) -> str:
    if day == today:
        return "today"
    if (day - today).days == 1:
        return "tomorrow"
    return f"on {day:%A}, {day:%B} {day.day}"


def render(facts: Facts, now: datetime) -> Rendered:
    today = now.astimezone(facts.tz).date()
    site = facts.site_name
    if facts.kind == Kind.SESSION:
        assert facts.starts_at is not None
        local = facts.starts_at.astimezone(facts.tz)
        line = f"You have an appointment at {site} {_day(local.date(), today)} at {_clock(local)}."
        subject = f"Appointment reminder: {site}"
    elif facts.kind == Kind.QUESTIONNAIRE:
        line = f"{site} has a short form for you to fill in. It takes a few minutes."
        subject = f"A form is waiting for you: {site}"
    elif facts.kind == Kind.PLAN_SIGNATURE:
        line = f"{site} has a document waiting for your signature."
        subject = f"A document is waiting for your signature: {site}"
    elif facts.kind == Kind.FOLLOW_UP:
        assert facts.on_date is not None
        line = f"{site} will be in touch to check in with you {_day(facts.on_date, today)}."
        subject = f"Checking in: {site}"
    else:  # pragma: no cover - Kind is closed
        raise ValueError(f"unknown reminder kind {facts.kind!r}")
    portal = portal_url()
    text = (
        f"{line}\n\n"
        f"Sign in for details: {portal}\n\n"
        f"To change how and when you get reminders: {preferences_url()}\n"
        f"This message was sent automatically; please do not reply.\n"
    )
    sms = f"{line} Details: {portal}"
    return Rendered(subject=subject, text=text, sms=sms)
