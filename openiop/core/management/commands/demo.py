"""`openiop demo`: seed the invented Riverside Behavioral Health clinic once, then print how to log in."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from openiop.core.demo import DEMO_PASSWORD, DemoBuildError, DemoClinic, ensure_demo_clinic
from openiop.core.roles import Role
from openiop.discharge.demo import ensure_demo_discharges
from openiop.notes.demo import ensure_demo_notes
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.plans.demo import ensure_demo_plans
from openiop.programs.models import Program, Track
from openiop.referrals.demo import ensure_demo_referrals
from openiop.scheduling.demo import ensure_demo_schedule, horizon_label
from openiop.scheduling.models import Booking, Session


class Command(BaseCommand):
    help = "Create the demo clinic (idempotent: a second run changes nothing) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--skip-schedule",
            action="store_true",
            help="build only the clinic, without its twelve-week calendar and enrollments (much faster)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            demo = ensure_demo_clinic()
        except DemoBuildError as exc:
            raise CommandError(f"Cannot build the demo clinic: {exc}") from exc
        today = timezone.localdate()
        built = False if options["skip_schedule"] else ensure_demo_schedule(demo.organization, today)
        ensure_demo_referrals(demo.organization, today)
        ensure_demo_discharges(demo.organization, today)
        ensure_demo_plans(demo.organization, today)
        ensure_demo_notes(demo.organization, today)
        self.stdout.write(self._summary(demo))
        sessions = Session.objects.filter(program__site__organization=demo.organization)
        bookings = Booking.objects.filter(session__in=sessions, status=Booking.Status.BOOKED)
        self.stdout.write(
            f"Calendar {'created' if built else 'already there'}: {sessions.count()} sessions "
            f"({horizon_label(today)}), {bookings.count()} bookings from track enrollments."
        )
        self.stdout.write(self._logins(demo))

    def _summary(self, demo: DemoClinic) -> str:
        org = demo.organization
        programs = Program.objects.filter(site__organization=org)
        episodes = EpisodeOfCare.objects.filter(patient__organization=org)
        status = EpisodeOfCare.Status
        count = {s: episodes.filter(status=s).count() for s in status}
        verb = "created" if demo.created else "is already there, nothing changed"
        return (
            f'Demo clinic "{org.name}" {verb}: {org.sites.count()} sites, {programs.count()} programs, '
            f"{Track.objects.filter(program__in=programs).count()} tracks, {len(demo.staff)} staff, "
            f"{Patient.objects.filter(organization=org).count()} patients ({count[status.ACTIVE]} active, "
            f"{count[status.WAITLIST]} waitlisted, {count[status.DISCHARGED]} discharged)."
        )

    def _logins(self, demo: DemoClinic) -> str:
        url = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
        required = set(settings.MFA_REQUIRED_ROLES)
        lines = ["", f"Open {url} and log in as any of these users; the password is {DEMO_PASSWORD}", ""]
        width = max(len(u.username) for u in demo.staff) if demo.staff else 8
        # Sysadmins configure the clinic but read no charts, so the people who do come first.
        for user in sorted(demo.staff, key=lambda u: u.role == Role.SYSADMIN):
            role = Role(user.role).label if user.role else "no role"
            mfa = "  (asked to enrol an authenticator app at first login)" if user.role in required else ""
            lines.append(f"  {user.username:<{width}}  {role:<30}  {user.display_name}{mfa}")
        lines.append("")
        if required:
            lines.append(
                "MFA: MFA_REQUIRED_ROLES is "
                f"{','.join(settings.MFA_REQUIRED_ROLES)}, so users in those roles are asked to enrol an "
                "authenticator app (TOTP) at their first login and to enter a code at every login after that."
            )
            lines.append('Set MFA_REQUIRED_ROLES="" in the environment to turn enforcement off for a local demo.')
        else:
            lines.append(
                "MFA: MFA_REQUIRED_ROLES is empty, so no role has to use a second factor "
                "(a user who enrols one anyway is asked for a code at login)."
            )
        return "\n".join(lines)
