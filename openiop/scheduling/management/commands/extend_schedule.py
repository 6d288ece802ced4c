from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from openiop.scheduling.actions.enrollment import do_book_new_sessions
from openiop.scheduling.actions.series import DEFAULT_HORIZON_WEEKS, expand_series
from openiop.scheduling.models import Enrollment, SessionSeries


class Command(BaseCommand):
    help = (
        "Keep the calendar ahead of today: expand every active series to the horizon and book current enrollments "
        "into the new sessions. Idempotent; run it daily (the background worker will schedule it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--weeks", type=int, default=DEFAULT_HORIZON_WEEKS, help="how far ahead to expand")

    def handle(self, *args: Any, **options: Any) -> None:
        horizon = timezone.localdate() + timedelta(weeks=options["weeks"])
        created = refused = 0
        for series in SessionSeries.objects.filter(is_active=True).order_by("pk"):
            if series.until is not None and series.until < timezone.localdate():
                continue
            try:
                created += len(expand_series(series, acting_user=None, horizon=horizon))
            except ValidationError as exc:
                # A clash (a room or facilitator taken meanwhile) refuses that series only; say which, go on.
                refused += 1
                self.stderr.write(f"series {series.public_id}: not extended: {'; '.join(exc.messages)}")
        booked = 0
        for enrollment in Enrollment.objects.filter(ends_on__isnull=True).select_related("track").order_by("pk"):
            booked += len(do_book_new_sessions(enrollment, acting_user=None))
        self.stdout.write(
            f"{created} sessions created up to {horizon}, {booked} seats booked, {refused} series refused"
        )
