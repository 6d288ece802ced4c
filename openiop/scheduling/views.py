"""Staff screens for the calendar: week and day grids, the session page with its roster, the chart's schedule
tab with the curriculum panel, and the calendar feed pages.

Role first (403), then lookups scoped to the user's programs (404 outside them). Calendars show no patient
names, so they are not audited; the roster and the schedule tab are (PATIENTS_LISTED, RECORD_VIEWED).
"""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.forms import DateInput, ReadOnceChoiceIterator, StyledFormMixin, add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.roles import Cap
from openiop.patients.emergency import grant_of
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_patient_for_user, patients_for_user
from openiop.programs.models import Site, Track
from openiop.scheduling import calendar as cal
from openiop.scheduling import feeds
from openiop.scheduling.actions.enrollment import do_change_groups
from openiop.scheduling.curriculum import curriculum_report
from openiop.scheduling.level_views import can_change_level
from openiop.scheduling.models import Booking, CalendarFeed, Enrollment, Group, Room
from openiop.scheduling.queries import get_session_for_user

WEEK = "week"
DAY = "day"


# --- Calendars --------------------------------------------------------------------------------------------------


class CalendarFilterForm(StyledFormMixin, forms.Form):
    date = forms.DateField(required=False, widget=DateInput())
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), to_field_name="public_id", required=False, empty_label=None
    )
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(), to_field_name="public_id", required=False, empty_label="All rooms"
    )
    facilitator = forms.ModelChoiceField(
        queryset=User.objects.none(), to_field_name="public_id", required=False, empty_label="Everyone"
    )
    track = forms.ModelChoiceField(
        queryset=Track.objects.none(), to_field_name="public_id", required=False, empty_label="All tracks"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["site"].queryset = cal.sites_for_user(user)
        fields["room"].queryset = cal.rooms_for_user(user)
        fields["room"].label_from_instance = lambda r: f"{r.name} · {r.site.name}"
        fields["facilitator"].queryset = cal.facilitators_for_user(user)
        fields["facilitator"].label_from_instance = lambda u: u.display_name
        fields["track"].queryset = cal.tracks_for_user(user)
        fields["track"].label_from_instance = lambda t: f"{t.program.name} · {t.name}"
        # The view reads the sites to pick a default and the template renders every select: read each list once.
        for name in ("site", "room", "facilitator", "track"):
            fields[name].iterator = ReadOnceChoiceIterator
            fields[name].widget.choices = fields[name].choices  # the widget took Django's iterator with the queryset


def _calendar(request: HttpRequest, view: str) -> HttpResponse:
    user = request_user(request)
    form = CalendarFilterForm(request.GET, user=user)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    sites = list(form.fields["site"].queryset)  # type: ignore[attr-defined]
    site: Site | None = data.get("site") or (sites[0] if sites else None)
    if site is None:
        # Staff in no program: nothing to show, and nothing to reveal.
        raise Http404
    tz = zoneinfo.ZoneInfo(site.time_zone)
    today = cal.local_today(tz)
    anchor: date = data.get("date") or today
    if view == WEEK:
        first = anchor - timedelta(days=anchor.weekday())
        days = [first + timedelta(days=i) for i in range(7)]
        step = timedelta(days=7)
    else:
        days = [anchor]
        step = timedelta(days=1)
    start, end = cal.local_range(days, tz)
    filters = cal.CalendarFilter(
        site=site, room=data.get("room"), facilitator=data.get("facilitator"), track=data.get("track")
    )
    sessions = cal.calendar_sessions(user, start, end, filters)
    grid = cal.build_grid(sessions, days, tz, today)
    if view == WEEK:
        # An empty weekend takes two columns a tablet cannot spare; a weekend with sessions (or today) stays.
        grid = cal.Grid(
            days=[c for c in grid.days if c.blocks or c.is_today or c.day.weekday() < 5],
            first_hour=grid.first_hour,
            last_hour=grid.last_hour,
        )
    url_name = "scheduling:calendar" if view == WEEK else "scheduling:day"

    def link(day: date, **overrides: Any) -> str:
        query = request.GET.copy()
        query["date"] = day.isoformat()
        for key, value in overrides.items():
            query[key] = value
        query.setdefault("site", str(site.public_id))
        return f"{reverse(url_name)}?{query.urlencode()}"

    context = {
        "nav": "schedule",
        "view": view,
        "form": form,
        "site": site,
        "tz_name": str(tz),
        "grid": grid,
        "days": days,
        "session_count": len(sessions),
        "filters": filters,
        "prev_url": link(days[0] - step),
        "next_url": link(days[0] + step),
        "today_url": link(today),
        "week_url": f"{reverse('scheduling:calendar')}?{_switch_query(request, days[0])}",
        "day_url": f"{reverse('scheduling:day')}?{_switch_query(request, days[0] if view == DAY else anchor)}",
        "form_url": reverse(url_name),
    }
    fragment = is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"
    template = "scheduling/partials/calendar_body.html" if fragment else "scheduling/calendar.html"
    with timezone.override(tz):  # templates render aware datetimes in the active zone
        return render(request, template, context)


def _switch_query(request: HttpRequest, day: date) -> str:
    query = request.GET.copy()
    query["date"] = day.isoformat()
    return query.urlencode()


@require_GET
@staff_view(Cap.VIEW_CENSUS)
def calendar_week(request: HttpRequest) -> HttpResponse:
    return _calendar(request, WEEK)


@require_GET
@staff_view(Cap.VIEW_CENSUS)
def calendar_day(request: HttpRequest) -> HttpResponse:
    return _calendar(request, DAY)


# --- The session page -------------------------------------------------------------------------------------------


@require_GET
@staff_view(Cap.VIEW_CENSUS)
def session_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    session = get_session_for_user(user, public_id)
    tz = session.program.tz()
    show_roster = user.can(Cap.VIEW_PATIENTS) or user.can(Cap.VIEW_CLINICAL)
    bookings = cal.roster(session) if show_roster else []
    waitlist = cal.session_waitlist(session) if show_roster else []
    if show_roster:
        audit.record(
            action=AuditAction.PATIENTS_LISTED, acting_user=user, obj=session, organization_id=user.organization_id
        )
    week_query = f"site={session.program.site.public_id}&date={session.starts_at.astimezone(tz).date().isoformat()}"
    with timezone.override(tz):  # the roster's and bookings' times, in the program's zone
        return render(
            request,
            "scheduling/session.html",
            {
                "nav": "schedule",
                "session": session,
                "local_start": session.starts_at.astimezone(tz),
                "local_end": session.ends_at.astimezone(tz),
                "tz_name": str(tz),
                "show_roster": show_roster,
                "booked": [b for b in bookings if b.status == b.Status.BOOKED],
                "cancelled": [b for b in bookings if b.status != b.Status.BOOKED],
                "waitlist": waitlist,
                "week_url": f"{reverse('scheduling:calendar')}?{week_query}",
            },
        )


# --- The chart's Schedule tab (registered in scheduling/apps.py) -----------------------------------


# Who may create or revoke a patient's calendar feed (any one of these, on top of VIEW_PATIENTS).
PATIENT_FEED_CAPS = (Cap.EDIT_DEMOGRAPHICS, Cap.EDIT_CLINICAL)


def _can_manage_patient_feed(user: User) -> bool:
    return any(user.can(cap) for cap in PATIENT_FEED_CAPS)


class GroupChangeForm(StyledFormMixin, forms.Form):
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Groups",
        help_text="Closed groups are offered only to their current members.",
    )
    effective_on = forms.DateField(widget=DateInput(), label="From", help_text="Bookings from this day change.")

    def __init__(self, *args: Any, enrollment: Enrollment, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"groups-{enrollment.public_id}")
        kwargs.setdefault(
            "initial",
            {
                "groups": [g.public_id for g in enrollment.groups.all()],
                "effective_on": timezone.localdate(timezone=enrollment.episode.program.tz()),
            },
        )
        super().__init__(*args, **kwargs)
        member_ids = [g.pk for g in enrollment.groups.all()]
        choices = Group.objects.filter(track_id=enrollment.track_id, is_active=True).filter(
            Q(is_open=True) | Q(pk__in=member_ids)
        )
        self.fields["groups"].queryset = choices.order_by("name")  # type: ignore[attr-defined]


def _can_change_groups(user: User) -> bool:
    return user.can(Cap.EDIT_CLINICAL)


def _group_forms(user: User, enrollments: list[Enrollment]) -> None:
    """Attach a change-groups form to each current enrollment the user may change (one per episode at most)."""
    if not _can_change_groups(user):
        return
    for enrollment in enrollments:
        if enrollment.ends_on is None and enrollment.episode.status == EpisodeOfCare.Status.ACTIVE:
            enrollment.group_form = GroupChangeForm(enrollment=enrollment)  # type: ignore[attr-defined]


def _enrollment_for_user(user: User, patient_id: UUID, enrollment_id: UUID) -> tuple[Patient, Enrollment]:
    patient = get_patient_for_user(user, patient_id, Cap.EDIT_CLINICAL)
    enrollment = get_object_or_404(
        Enrollment.objects.filter(episode__patient=patient, episode__program_id__in=program_ids_for(user))
        .select_related("track__program", "episode__program", "episode__patient")
        .prefetch_related("groups"),
        public_id=enrollment_id,
    )
    return patient, enrollment


@staff_view(Cap.EDIT_CLINICAL)
def enrollment_groups(request: HttpRequest, public_id: UUID, enrollment_id: UUID) -> HttpResponse:
    """Change a current enrollment's groups (posted from the chart's Schedule tab; this page shows the errors)."""
    user = request_user(request)
    patient, enrollment = _enrollment_for_user(user, public_id, enrollment_id)
    if enrollment.ends_on is not None:
        raise Http404
    form = GroupChangeForm(request.POST or None, enrollment=enrollment)
    back = f"{patient.get_absolute_url()}?tab=schedule"
    if request.method == "POST" and form.is_valid():
        try:
            result = do_change_groups(
                enrollment,
                list(form.cleaned_data["groups"]),
                acting_user=user,
                effective_on=form.cleaned_data["effective_on"],
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            count = len(result.booked)
            note = f"Groups changed: {count} session{'' if count == 1 else 's'} booked"
            if result.full:
                note += f", {len(result.full)} full (on the waitlist)"
            messages.success(request, note + ".")
            return redirect(back)
    if request.method != "POST":
        audit.record(
            action=AuditAction.RECORD_VIEWED,
            acting_user=user,
            patient=patient,
            obj=enrollment,
            organization_id=user.organization_id,
        )
    return render(
        request,
        "scheduling/enrollment_groups.html",
        {"nav": "patients", "patient": patient, "enrollment": enrollment, "form": form, "back_url": back},
    )


def one_row_per_session(bookings: list[Booking]) -> list[Booking]:
    """A seat released and booked again (a hold and a resume, a step down) leaves several rows for one session; the
    schedule shows one: the live booking, else the latest of the others."""
    chosen: dict[int, Booking] = {}
    for booking in bookings:
        kept = chosen.get(booking.session_id)
        live = booking.status == Booking.Status.BOOKED
        if kept is None or (live, booking.pk) > (kept.status == Booking.Status.BOOKED, kept.pk):
            chosen[booking.session_id] = booking
    return [b for b in bookings if chosen[b.session_id] is b]


def schedule_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for patients/…/tab_schedule: upcoming and past sessions, enrollments, curriculum, the feed."""
    user = request_user(request)
    now = timezone.now()
    bookings = one_row_per_session(cal.patient_bookings(user, patient))
    upcoming = sorted((b for b in bookings if b.session.ends_at > now), key=lambda b: b.session.starts_at)
    past = [b for b in bookings if b.session.ends_at <= now]
    if episodes is None:
        episodes = list(
            EpisodeOfCare.objects.filter(patient=patient, program_id__in=program_ids_for(user)).select_related(
                "program__site", "track"
            )
        )
    reports = []
    if user.can(Cap.VIEW_CLINICAL):
        reports = [curriculum_report(e, now=now) for e in episodes if e.status == EpisodeOfCare.Status.ACTIVE]
    enrollments = cal.patient_enrollments(user, patient)
    read_only = grant_of(patient) is not None  # emergency access reads only (patients/emergency.py)
    if not read_only:
        _group_forms(user, enrollments)
    return {
        "upcoming": upcoming,
        "past": past,
        "enrollments": enrollments,
        "curriculum_reports": reports,
        # Only the episodes the user may step (a query per active episode: there is one, rarely two).
        "level_change_episodes": [] if read_only else [e for e in episodes if can_change_level(user, e)],
        **_patient_feed_context(user, patient),
        **({"feed_can_manage": False} if read_only else {}),
    }


def _patient_feed_context(user: User, patient: Patient, token: str = "", request: HttpRequest | None = None) -> dict:
    feed = feeds.active_feed_for(patient=patient)
    return {
        "feed": feed,
        "feed_owner": "patient",
        "feed_can_manage": _can_manage_patient_feed(user) and patient.is_active,
        "feed_create_url": reverse("scheduling:patient_feed_create", args=[patient.public_id]),
        "feed_revoke_url": (
            reverse("scheduling:patient_feed_revoke", args=[patient.public_id, feed.public_id]) if feed else ""
        ),
        "feed_new_url": _feed_url(request, token) if token and request is not None else "",
        "feed_form": FeedForm(),
    }


# --- Calendar feeds -----------------------------------------------------------------------------------------------


class FeedForm(StyledFormMixin, forms.Form):
    detailed = forms.BooleanField(
        required=False,
        label="Show session names in the calendar",
        help_text="Off by default: events then say only “Session at <site>”. Turn on only if the person asks.",
    )


def _feed_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("scheduling:feed", args=[token]))


def _feed_panel(request: HttpRequest, context: dict[str, Any], page_title: str, back_url: str) -> HttpResponse:
    if is_htmx(request):
        return render(request, "scheduling/partials/feed_panel.html", context)
    return render(request, "scheduling/feed_page.html", {**context, "page_title": page_title, "back_url": back_url})


@require_POST
@staff_view(Cap.VIEW_PATIENTS, any_of=PATIENT_FEED_CAPS)
def patient_feed_create(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id)
    if not patient.is_active:
        raise PermissionDenied
    form = FeedForm(request.POST)
    form.is_valid()
    _, token = feeds.do_create_feed(acting_user=user, patient=patient, detailed=bool(form.cleaned_data.get("detailed")))
    context = {"patient": patient, **_patient_feed_context(user, patient, token, request)}
    return _feed_panel(request, context, "Calendar feed", f"{patient.get_absolute_url()}?tab=schedule")


@require_POST
@staff_view(Cap.VIEW_PATIENTS, any_of=PATIENT_FEED_CAPS)
def patient_feed_revoke(request: HttpRequest, public_id: UUID, feed_id: UUID) -> HttpResponse:
    user = request_user(request)
    feed = get_object_or_404(
        CalendarFeed.objects.filter(patient__in=patients_for_user(user), patient__public_id=public_id),
        public_id=feed_id,
    )
    feeds.do_revoke_feed(feed, acting_user=user)
    patient = get_patient_for_user(user, public_id)
    context = {"patient": patient, **_patient_feed_context(user, patient)}
    return _feed_panel(request, context, "Calendar feed", f"{patient.get_absolute_url()}?tab=schedule")


def _my_feed_context(request: HttpRequest, token: str = "") -> dict[str, Any]:
    user = request_user(request)
    feed = feeds.active_feed_for(user=user)
    return {
        "feed": feed,
        "feed_owner": "staff",
        "feed_can_manage": True,
        "feed_create_url": reverse("scheduling:my_feed_create"),
        "feed_revoke_url": reverse("scheduling:my_feed_revoke", args=[feed.public_id]) if feed else "",
        "feed_new_url": _feed_url(request, token) if token else "",
        "feed_form": FeedForm(),
    }


def _staff_only(user: User) -> None:
    # Any staff member may subscribe to the sessions they facilitate; accounts outside an organization may not.
    if user.organization_id is None:
        raise PermissionDenied


@require_GET
@login_required
@never_cache
def my_feed(request: HttpRequest) -> HttpResponse:
    _staff_only(request_user(request))
    return _feed_panel(request, _my_feed_context(request), "My calendar feed", reverse("accounts:security"))


@require_POST
@login_required
@never_cache
def my_feed_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _staff_only(user)
    form = FeedForm(request.POST)
    form.is_valid()
    _, token = feeds.do_create_feed(acting_user=user, user=user, detailed=bool(form.cleaned_data.get("detailed")))
    return _feed_panel(request, _my_feed_context(request, token), "My calendar feed", reverse("accounts:security"))


@require_POST
@login_required
@never_cache
def my_feed_revoke(request: HttpRequest, feed_id: UUID) -> HttpResponse:
    user = request_user(request)
    _staff_only(user)
    feed = get_object_or_404(CalendarFeed, user=user, public_id=feed_id)
    feeds.do_revoke_feed(feed, acting_user=user)
    return _feed_panel(request, _my_feed_context(request), "My calendar feed", reverse("accounts:security"))


@require_GET
@never_cache
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The subscribed calendar. No login: the token is the credential, so it is never logged or audited."""
    found = feeds.find_feed(token)
    if found is None:
        raise Http404
    now = timezone.now()
    feeds.record_fetch(found, now)
    body = feeds.build_calendar(found, feeds.feed_sessions(found, now))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="sessions.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
