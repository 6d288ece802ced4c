"""Units used, counted live from billing's decisions; never stored, so nothing can fall out of step.

- **Days**: the episode's billable days (``BillableDay.is_billable``) from the start date to the end date, inclusive.
  A day billing did not find billable (too few services or minutes for the payer's rule) uses no unit.
- **Sessions**: the services billing counted on the episode's days in that window (``BillableDay.service_count``:
  attended, in a session not cancelled whose type counts toward the dose, with at least the payer rule's minutes
  per service), whether or not the day reached the per-diem threshold: a session authorization pays per session.

Before counting, the billable days of the window still pending (a check-in or correction whose decision has not run
yet: billing/README.md) are decided (``settle``), so a correction from present to absent lowers the count at once,
with no manual step. One query when nothing is pending.
"""

from __future__ import annotations

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce

from openiop.billing.days import decide_pending_day
from openiop.billing.models import BillableDay, PendingBillableDay
from openiop.utilization.models import Authorization


def settle(authorizations: QuerySet[Authorization]) -> int:
    """Decide the pending billable days that fall in any of these authorizations' windows (one query to find them,
    then each decision in its own transaction, or the caller's). Returns how many were decided."""
    covering = Authorization.objects.filter(
        pk__in=authorizations.order_by().values("pk"),
        episode_id=OuterRef("episode_id"),
        start_date__lte=OuterRef("date"),
        end_date__gte=OuterRef("date"),
    )
    pairs = list(
        PendingBillableDay.objects.filter(Exists(covering))
        .order_by("date", "episode_id")
        .values_list("episode_id", "date")
    )
    return sum(decide_pending_day(episode_id, day)[0] for episode_id, day in pairs)


def _window_days() -> QuerySet[BillableDay]:
    return BillableDay.objects.filter(
        episode_id=OuterRef("episode_id"), date__gte=OuterRef("start_date"), date__lte=OuterRef("end_date")
    ).order_by()


def with_usage(authorizations: QuerySet[Authorization]) -> QuerySet[Authorization]:
    """Annotate ``units_used`` (two correlated subqueries in the same query: a list stays one query)."""
    days = _window_days().filter(is_billable=True).values("episode_id").annotate(n=Count("pk")).values("n")[:1]
    services = _window_days().values("episode_id").annotate(n=Sum("service_count")).values("n")[:1]
    return authorizations.annotate(
        units_used=Case(
            When(
                unit_kind=Authorization.UnitKind.SESSIONS,
                then=Coalesce(Subquery(services, output_field=IntegerField()), 0),
            ),
            default=Coalesce(Subquery(days, output_field=IntegerField()), 0),
            output_field=IntegerField(),
        )
    )


def units_used(authorization: Authorization) -> int:
    """The units the authorization's window has used, after deciding its pending days."""
    one = Authorization.objects.filter(pk=authorization.pk)
    settle(one)
    annotated = with_usage(one).first()
    return annotated.used if annotated is not None else 0


def refreshed(authorization: Authorization) -> Authorization:
    """``authorization`` again, settled and annotated (what a detail page or the API shows)."""
    settle(Authorization.objects.filter(pk=authorization.pk))
    return with_usage(
        Authorization.objects.select_related("episode__patient", "episode__program__site", "coverage")
    ).get(pk=authorization.pk)
