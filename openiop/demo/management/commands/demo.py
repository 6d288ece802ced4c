"""`openiop demo`: seed the invented Riverside Behavioral Health clinic once, then print how to log in."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from openiop.attendance.models import AttendanceCorrection, AttendanceRecord
from openiop.billing.models import BillableDay
from openiop.core.roles import Role
from openiop.demo.attendance import build_demo
from openiop.demo.clinic import (
    DEMO_PASSWORD,
    DemoBuildError,
    DemoClinic,
    build_demo_clinic,
    existing_demo_clinic,
    seed_demo_records,
)
from openiop.demo.family import demo_login_lines
from openiop.demo.portal import demo_login_line
from openiop.demo.recovery import demo_login_line as recovery_login_line
from openiop.demo.scheduling import HISTORY_WEEKS, ensure_demo_schedule, horizon_label
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.models import Organization, Program, Track
from openiop.scheduling.models import Booking, Session
from openiop.worklist.models import WorkTask


class Command(BaseCommand):
    help = "Create the demo clinic (idempotent: a second run changes nothing) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--skip-schedule",
            action="store_true",
            help="build only the clinic, without its calendar, enrollments and attendance history (much faster)",
        )
        parser.add_argument(
            "--history-weeks",
            type=int,
            default=HISTORY_WEEKS,
            metavar="N",
            help=(
                f"start the calendar at most N weeks before this one (default {HISTORY_WEEKS}: the earliest "
                "admission's week) and replay its past attendance; 0 replays only this week's days so far"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["history_weeks"] < 0:
            raise CommandError("--history-weeks must be 0 or more.")
        today = timezone.localdate()
        demo = existing_demo_clinic()
        built = False
        try:
            if demo is None and options["skip_schedule"]:
                demo = build_demo_clinic(today)
            elif demo is None:
                demo = build_demo(today, history_weeks=options["history_weeks"]).clinic
                built = True
        except DemoBuildError as exc:
            raise CommandError(f"Cannot build the demo clinic: {exc}") from exc
        if not demo.created and not options["skip_schedule"]:
            built = ensure_demo_schedule(demo.organization, today)
        seed_demo_records(demo.organization, today)
        self.stdout.write(self._summary(demo))
        if not options["skip_schedule"]:
            self.stdout.write(self._calendar(demo.organization, today, built))
            self.stdout.write(self._history(demo.organization, today, built))
        self.stdout.write(self._logins(demo))

    def _calendar(self, org: Organization, today: Any, built: bool) -> str:
        sessions = Session.objects.filter(program__site__organization=org)
        bookings = Booking.objects.filter(session__in=sessions, status=Booking.Status.BOOKED)
        first = sessions.order_by("starts_at").first()
        start = first.starts_at.astimezone(first.program.tz()).date() if first is not None else today
        return (
            f"Calendar {'created' if built else 'already there'}: {sessions.count()} sessions "
            f"({horizon_label(start, today)}), {bookings.count()} bookings from track enrollments."
        )

    def _history(self, org: Organization, today: Any, built: bool) -> str:
        records = AttendanceRecord.objects.filter(session__program__site__organization=org)
        attended = records.filter(status__in=AttendanceRecord.ATTENDED).count()
        absent = records.filter(
            status__in=[AttendanceRecord.Status.ABSENT_EXCUSED, AttendanceRecord.Status.ABSENT_UNEXCUSED]
        )
        sessions = records.values("session").distinct().count()
        corrections = AttendanceCorrection.objects.filter(record__in=records).exclude(reason="").count()
        tasks = WorkTask.objects.filter(organization=org)
        days = BillableDay.objects.filter(program__site__organization=org)
        verb = "replayed" if built else "already there, nothing changed"
        return (
            f"Attendance history {verb}: {sessions} past sessions checked in ({attended} attended, "
            f"{absent.count()} absences, {corrections} corrections with a reason); work queue: {tasks.count()} "
            f"tasks raised ({tasks.filter(status=WorkTask.Status.OPEN).count()} open); billable days: "
            f"{days.filter(is_billable=True).count()} billable, {days.filter(is_billable=False).count()} not. "
            "Today's sessions are left for you to check in."
        )

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
        lines += demo_login_lines(width)
        portal = demo_login_line(demo.organization, width)
        if portal:
            lines.append(portal)
        recovery = recovery_login_line(demo.organization, width)
        if recovery:
            lines.append(recovery)
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
