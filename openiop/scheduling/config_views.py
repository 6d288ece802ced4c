"""Calendar configuration pages: session types, rooms, closures, staff availability and time off, track templates
(series) and session edits with their three scopes.

Directors and sysadmins (MANAGE_PROGRAMS) configure their managed programs; auditors may read the pages and get
403 on any write; everyone else gets 403. Records outside the user's programs are 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core.forms import add_action_errors
from openiop.core.permissions import is_read_only, program_ids_for, staff_view
from openiop.core.roles import Cap, Role
from openiop.lib import recurrence
from openiop.programs.models import WEEKDAYS, Program, Site, Track
from openiop.programs.queries import managed_program_ids
from openiop.scheduling.actions import clashes
from openiop.scheduling.actions import groups as group_actions
from openiop.scheduling.actions import series as series_actions
from openiop.scheduling.actions import setup as setup_actions
from openiop.scheduling.config_forms import (
    AvailabilityForm,
    CancelSessionForm,
    ClosureForm,
    EndSeriesForm,
    GroupForm,
    RoomForm,
    SeriesForm,
    SeriesRuleForm,
    SessionEditForm,
    SessionTypeForm,
    TimeOffForm,
    TopicForm,
    weekdays_of,
)
from openiop.scheduling.models import (
    Closure,
    CurriculumTopic,
    Group,
    Room,
    Session,
    SessionSeries,
    SessionType,
    StaffAvailability,
    StaffTimeOff,
)

# Roles that lead sessions; the facilitator pickers offer only them.
FACILITATOR_ROLES = (Role.DIRECTOR, Role.CLINICIAN, Role.SUPERVISED_CLINICIAN, Role.INTAKE)


# --- Access ------------------------------------------------------------------------------------------------


def _program_ids(request: HttpRequest, *, write: bool) -> list[int]:
    """Role first (403), then the programs in reach. Auditors read what their membership shows."""
    user: User = request.user  # type: ignore[assignment]
    if user.can(Cap.MANAGE_PROGRAMS):
        return managed_program_ids(user)
    if not write and is_read_only(user):
        return program_ids_for(user)
    raise PermissionDenied


def _ids(request: HttpRequest) -> list[int]:
    return _program_ids(request, write=request.method == "POST")


def _one(qs: Any, **lookup: Any) -> Any:
    obj = qs.filter(**lookup).first()
    if obj is None:
        raise Http404
    return obj


def _can_edit(request: HttpRequest) -> bool:
    return request.user.can(Cap.MANAGE_PROGRAMS)  # type: ignore[union-attr]


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("nav", "admin")
    context["can_edit"] = _can_edit(request)
    # Templates print aware datetimes in the active zone: make it the program's, not the server's.
    program = context.get("program")
    for key in ("series", "session", "track"):
        if program is None and context.get(key) is not None:
            program = getattr(context[key], "program", None)
    if program is None:
        return render(request, f"scheduling/config/{template}", context)
    with timezone.override(program.time_zone):
        return render(request, f"scheduling/config/{template}", context)


def _people(program: Program) -> QuerySet[User]:
    return (
        User.objects.filter(memberships__program=program, is_active=True, role__in=FACILITATOR_ROLES)
        .order_by("last_name", "first_name")
        .distinct()
    )


def _save_failed(request: HttpRequest, form: Any, exc: ValidationError) -> None:
    add_action_errors(form, exc)


# --- Overview ----------------------------------------------------------------------------------------------


@login_required
def setup_index(request: HttpRequest) -> HttpResponse:
    ids = _ids(request)
    programs = (
        Program.objects.filter(pk__in=ids)
        .select_related("site")
        .prefetch_related(Prefetch("tracks", queryset=Track.objects.filter(is_active=True)))
        .order_by("site__name", "name")
    )
    sites = Site.objects.filter(programs__in=ids).distinct().annotate(room_count=Count("rooms", distinct=True))
    return _render(request, "index.html", {"programs": programs, "sites": sites})


# --- Session types -----------------------------------------------------------------------------------------


@login_required
def session_types(request: HttpRequest, public_id: Any) -> HttpResponse:
    program = _one(Program.objects.select_related("site"), pk__in=_ids(request), public_id=public_id)
    types = SessionType.objects.filter(program=program).order_by("-is_active", "name")
    return _render(request, "session_types.html", {"program": program, "types": types})


@staff_view(Cap.MANAGE_PROGRAMS)
def session_type_form(request: HttpRequest, public_id: Any, type_id: Any = None) -> HttpResponse:
    ids = _program_ids(request, write=True)
    program = _one(Program.objects.select_related("site"), pk__in=ids, public_id=public_id)
    st = _one(SessionType.objects, program=program, public_id=type_id) if type_id else None
    initial: dict[str, Any] = {}
    if st is not None:
        initial = {name: getattr(st, name) for name in SessionTypeForm.base_fields}
        initial["required_credentials"] = ", ".join(st.required_credentials or [])
    form = SessionTypeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if st is None:
                setup_actions.do_create_session_type(program, acting_user=request_user(request), **form.changes())
            else:
                setup_actions.do_update_session_type(st, acting_user=request_user(request), **form.changes())
        except ValidationError as exc:
            _save_failed(request, form, exc)
        else:
            messages.success(request, "Session type saved.")
            return redirect("scheduling:config_session_types", program.public_id)
    return _render(request, "session_type_form.html", {"program": program, "session_type": st, "form": form})


# --- Rooms -------------------------------------------------------------------------------------------------


def _sites(ids: list[int]) -> QuerySet[Site]:
    return Site.objects.filter(programs__in=ids).distinct()


@login_required
def rooms(request: HttpRequest, public_id: Any) -> HttpResponse:
    site = _one(_sites(_ids(request)), public_id=public_id)
    room_list = Room.objects.filter(site=site).order_by("-is_active", "name")
    return _render(request, "rooms.html", {"site": site, "rooms": room_list})


@staff_view(Cap.MANAGE_PROGRAMS)
def room_form(request: HttpRequest, public_id: Any, room_id: Any = None) -> HttpResponse:
    site = _one(_sites(_program_ids(request, write=True)), public_id=public_id)
    room = _one(Room.objects, site=site, public_id=room_id) if room_id else None
    initial = {"name": room.name, "capacity": room.capacity, "is_active": room.is_active} if room else {}
    form = RoomForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if room is None:
                setup_actions.do_create_room(site, acting_user=request_user(request), **form.cleaned_data)
            else:
                setup_actions.do_update_room(room, acting_user=request_user(request), **form.cleaned_data)
        except ValidationError as exc:
            _save_failed(request, form, exc)
        else:
            messages.success(request, "Room saved.")
            return redirect("scheduling:config_rooms", site.public_id)
    return _render(request, "room_form.html", {"site": site, "room": room, "form": form})


# --- Closures ----------------------------------------------------------------------------------------------


@login_required
def closures(request: HttpRequest) -> HttpResponse:
    ids = _ids(request)
    user = request_user(request)
    organization = user.organization
    if organization is None:
        raise Http404
    sites = _sites(ids).order_by("name")
    allow_all = user.can(Cap.MANAGE_ORGANIZATION)
    form = ClosureForm(request.POST or None, sites=sites, allow_all_sites=allow_all)
    if request.method == "POST" and form.is_valid():
        try:
            setup_actions.do_add_closure(organization, acting_user=user, **form.cleaned_data)
        except ValidationError as exc:
            _save_failed(request, form, exc)
        else:
            messages.success(request, "Closure added; that day's future sessions were cancelled or moved.")
            return redirect("scheduling:config_closures")
    rows = (
        Closure.objects.filter(organization=organization)
        .filter(Q(site__isnull=True) | Q(site__in=sites))
        .filter(date__gte=timezone.localdate() - timedelta(days=31))
        .select_related("site")
        .order_by("date")
    )
    return _render(request, "closures.html", {"closures": rows, "form": form, "can_close_all": allow_all})


@login_required
@require_POST
def closure_remove(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = request_user(request)
    ids = _ids(request)
    if user.organization_id is None:
        raise Http404
    reach = Q(site__in=_sites(ids))
    if user.can(Cap.MANAGE_ORGANIZATION):
        reach |= Q(site__isnull=True)
    closure = _one(Closure.objects.filter(reach), organization_id=user.organization_id, public_id=public_id)
    restore = request.POST.get("restore") == "on"
    try:
        restored = setup_actions.do_remove_closure(closure, acting_user=user, restore=restore)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        note = f"Closure removed; {len(restored)} cancelled sessions restored." if restore else "Closure removed."
        messages.success(request, note)
    return redirect("scheduling:config_closures")


# --- Staff availability and time off -----------------------------------------------------------------------


@login_required
def staff_list(request: HttpRequest, public_id: Any) -> HttpResponse:
    program = _one(Program.objects.select_related("site"), pk__in=_ids(request), public_id=public_id)
    soon = timezone.now() + timedelta(days=60)
    people = _people(program).prefetch_related(
        Prefetch(
            "availability",
            queryset=StaffAvailability.objects.filter(site_id=program.site_id),
            to_attr="windows",
        ),
        Prefetch(
            "time_off",
            queryset=StaffTimeOff.objects.filter(ends_at__gt=timezone.now(), starts_at__lt=soon),
            to_attr="upcoming_off",
        ),
    )
    return _render(request, "staff_list.html", {"program": program, "people": people, "weekday_names": dict(WEEKDAYS)})


@login_required
def staff_detail(request: HttpRequest, public_id: Any, user_id: Any) -> HttpResponse:
    program = _one(Program.objects.select_related("site"), pk__in=_ids(request), public_id=public_id)
    person = _one(_people(program), public_id=user_id)
    tz = recurrence.get_zone(program.time_zone)
    kind = request.POST.get("form")
    availability_form = AvailabilityForm(request.POST if kind == "availability" else None, prefix="av")
    time_off_form = TimeOffForm(request.POST if kind == "time_off" else None, prefix="off")
    if kind == "availability" and availability_form.is_valid():
        try:
            setup_actions.do_add_availability(
                person, acting_user=request_user(request), site=program.site, **availability_form.cleaned_data
            )
        except ValidationError as exc:
            _save_failed(request, availability_form, exc)
        else:
            messages.success(request, "Availability added.")
            return redirect("scheduling:config_staff_detail", program.public_id, person.public_id)
    if kind == "time_off" and time_off_form.is_valid():
        data = time_off_form.cleaned_data
        # The browser sends wall-clock times; they mean the program's zone, whatever the server's.
        starts = data["starts_at"].replace(tzinfo=None)
        ends = data["ends_at"].replace(tzinfo=None)
        try:
            setup_actions.do_add_time_off(
                person,
                acting_user=request_user(request),
                reason=data["reason"],
                starts_at=recurrence.localize(starts, tz),
                ends_at=recurrence.localize(ends, tz),
            )
        except ValidationError as exc:
            _save_failed(request, time_off_form, exc)
        else:
            messages.success(request, "Time off added.")
            return redirect("scheduling:config_staff_detail", program.public_id, person.public_id)
    windows = StaffAvailability.objects.filter(user=person, site_id=program.site_id).order_by("weekday", "start_time")
    offs = StaffTimeOff.objects.filter(user=person, ends_at__gt=timezone.now()).order_by("starts_at")
    return _render(
        request,
        "staff_detail.html",
        {
            "program": program,
            "person": person,
            "windows": windows,
            "offs": offs,
            "tz": tz,
            "availability_form": availability_form,
            "time_off_form": time_off_form,
            "weekday_names": dict(WEEKDAYS),
        },
    )


@login_required
@require_POST
def availability_remove(request: HttpRequest, public_id: Any, user_id: Any) -> HttpResponse:
    # Availability rows have no public id; the row is named in the POST body, never in the URL.
    program = _one(Program.objects.select_related("site"), pk__in=_ids(request), public_id=public_id)
    person = _one(_people(program), public_id=user_id)
    window_id = request.POST.get("window", "")
    if not window_id.isdigit():
        raise Http404
    window = _one(
        StaffAvailability.objects.select_related("site"), user=person, site_id=program.site_id, pk=int(window_id)
    )
    setup_actions.do_remove_availability(window, acting_user=request_user(request))
    messages.success(request, "Availability removed.")
    return redirect("scheduling:config_staff_detail", program.public_id, person.public_id)


@login_required
@require_POST
def time_off_remove(request: HttpRequest, public_id: Any, user_id: Any, off_id: Any) -> HttpResponse:
    program = _one(Program.objects.select_related("site"), pk__in=_ids(request), public_id=public_id)
    person = _one(_people(program), public_id=user_id)
    off = _one(StaffTimeOff.objects.select_related("user"), user=person, public_id=off_id)
    setup_actions.do_remove_time_off(off, acting_user=request_user(request))
    messages.success(request, "Time off removed.")
    return redirect("scheduling:config_staff_detail", program.public_id, person.public_id)


# --- Track template ----------------------------------------------------------------------------------------


def _week_grid(series_list: list[SessionSeries], tz: str) -> list[dict[str, Any]]:
    """One column per weekday with the blocks each active series puts there, from a representative week."""
    today = timezone.now().astimezone(recurrence.get_zone(tz)).date()
    columns: list[dict[str, Any]] = [{"name": name, "blocks": []} for _, name in WEEKDAYS]
    for s in series_list:
        if not s.is_active or (s.until is not None and s.until < today):
            continue
        start = max(today, s.starts_on)
        week_start = start - timedelta(days=start.weekday())
        for when in recurrence.expand(
            s.rrule, s.starts_on, s.start_time, tz, (week_start, week_start + timedelta(days=6)), s.until
        ):
            ends = when + timedelta(minutes=s.duration_minutes)
            columns[when.weekday()]["blocks"].append({"series": s, "starts": when, "ends": ends})
    for column in columns:
        column["blocks"].sort(key=lambda b: b["starts"].time())
    return columns


def _series_form(program: Program, track: Track, data: Any = None, **kwargs: Any) -> SeriesForm:
    return SeriesForm(
        data,
        session_types=SessionType.objects.filter(program=program, is_active=True),
        groups=Group.objects.filter(track=track, is_active=True),
        rooms=Room.objects.filter(site_id=program.site_id, is_active=True).select_related("site"),
        people=_people(program),
        **kwargs,
    )


@login_required
def track_template(request: HttpRequest, public_id: Any) -> HttpResponse:
    track = _one(Track.objects.select_related("program__site"), program_id__in=_ids(request), public_id=public_id)
    program = track.program
    form = _series_form(
        program,
        track,
        request.POST or None,
        initial={"starts_on": timezone.localdate(), "start_time": track.start_time},
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = series_actions.do_create_series(
                program, acting_user=request_user(request), track=track, **form.action_kwargs()
            )
        except ValidationError as exc:
            _save_failed(request, form, exc)
        else:
            count = created.sessions.count()
            messages.success(request, f"Series added with {count} sessions.")
            sessions = created.sessions.select_related("program").prefetch_related("facilitators")
            for warning in clashes.availability_warnings(sessions):
                messages.warning(request, warning)
            return redirect("scheduling:config_track", track.public_id)
    series_list = list(
        SessionSeries.objects.filter(track=track)
        .select_related("session_type", "room", "group")
        .prefetch_related("facilitators")
        .order_by("-is_active", "start_time", "starts_on")
    )
    return _render(
        request,
        "track_template.html",
        {
            "track": track,
            "program": program,
            "series_list": series_list,
            "form": form,
            "grid": _week_grid(series_list, program.time_zone),
        },
    )


@login_required
def series_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The series and its sessions; managers change its schedule (rule and last day) or end it from a date."""
    s = _one(
        SessionSeries.objects.select_related("program__site", "track", "group", "session_type", "room", "previous"),
        program_id__in=_ids(request),
        public_id=public_id,
    )
    kind = request.POST.get("form")
    days = weekdays_of(s.rrule)
    rule_form = SeriesRuleForm(
        request.POST if kind == "rule" else None,
        prefix="rule",
        initial={"weekdays": days or [], "rrule": "" if days is not None else s.rrule, "until": s.until},
    )
    end_form = EndSeriesForm(
        request.POST if kind == "end" else None,
        prefix="end",
        initial={"last_day": s.until or timezone.localdate(timezone=recurrence.get_zone(s.program.time_zone))},
    )
    if kind == "rule" and rule_form.is_valid():
        try:
            change = series_actions.do_change_recurrence(
                s,
                acting_user=request_user(request),
                rrule=rule_form.cleaned_data["rrule"],
                until=rule_form.cleaned_data["until"],
            )
        except ValidationError as exc:
            _save_failed(request, rule_form, exc)
        else:
            messages.success(
                request,
                f"Schedule changed: {len(change.cancelled)} sessions cancelled, {len(change.created)} added"
                f" ({change.booked} seats booked for current enrollments).",
            )
            return redirect("scheduling:config_series", s.public_id)
    if kind == "end" and end_form.is_valid():
        try:
            series_actions.do_end_series(
                s, acting_user=request_user(request), last_day=end_form.cleaned_data["last_day"]
            )
        except ValidationError as exc:
            named = exc.message_dict.get("until") if hasattr(exc, "error_dict") else None
            exc = ValidationError({"last_day": named or exc.messages})
            _save_failed(request, end_form, exc)
        else:
            messages.success(request, "Series ended; its later sessions were cancelled and their seats released.")
            return redirect("scheduling:config_series", s.public_id)
    sessions = (
        s.sessions.filter(ends_at__gt=timezone.now() - timedelta(days=14))
        .select_related("room", "topic", "session_type")
        .prefetch_related("facilitators")
        .order_by("starts_at")
    )
    return _render(
        request,
        "series_detail.html",
        {
            "series": s,
            "sessions": sessions,
            "tz": recurrence.get_zone(s.program.time_zone),
            "now": timezone.now(),
            "rule_form": rule_form,
            "end_form": end_form,
            "open_form": kind,
        },
    )


# --- Editing one session -----------------------------------------------------------------------------------


def _edit_initial(session: Session, tz: Any) -> dict[str, Any]:
    return {
        "scope": "this",
        "title": session.title,
        "start_time": session.starts_at.astimezone(tz).time().replace(tzinfo=None),
        "duration_minutes": int(session.duration.total_seconds() // 60),
        "room": session.room,
        "facilitators": list(session.facilitators.all()),
        "capacity": session.capacity,
        "mode": session.mode,
        "video_link": session.video_link,
    }


@staff_view(Cap.MANAGE_PROGRAMS)
def session_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    session = _one(
        Session.objects.select_related("program__site", "series", "session_type", "room", "track"),
        program_id__in=_program_ids(request, write=True),
        public_id=public_id,
    )
    program = session.program
    tz = recurrence.get_zone(program.time_zone)
    form = SessionEditForm(
        request.POST or None,
        initial=_edit_initial(session, tz),
        rooms=Room.objects.filter(site_id=program.site_id, is_active=True).select_related("site"),
        people=_people(program),
        in_series=session.series_id is not None,
    )
    past = session.ends_at <= timezone.now()
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, "Nothing changed.")
            return redirect("scheduling:config_session_edit", session.public_id)
        try:
            changed = series_actions.do_edit_session(
                session, form.cleaned_data["scope"], acting_user=request_user(request), **changes
            )
        except ValidationError as exc:
            _save_failed(request, form, exc)
        else:
            messages.success(request, f"Saved: {len(changed)} session{'s' if len(changed) != 1 else ''} changed.")
            for warning in clashes.availability_warnings(
                Session.objects.filter(pk__in=[c.pk for c in changed])
                .select_related("program")
                .prefetch_related("facilitators")
            ):
                messages.warning(request, warning)
            target = session.series.public_id if session.series else None
            if target:
                return redirect("scheduling:config_series", target)
            return redirect("scheduling:config_session_edit", session.public_id)
    return _render(
        request,
        "session_edit.html",
        {
            "session": session,
            "form": form,
            "cancel_form": CancelSessionForm(),
            "past": past,
            "local_start": session.starts_at.astimezone(tz),
        },
    )


@login_required
@require_POST
def session_cancel(request: HttpRequest, public_id: Any) -> HttpResponse:
    session = _one(
        Session.objects.select_related("program__site", "series", "session_type"),
        program_id__in=_ids(request),
        public_id=public_id,
    )
    form = CancelSessionForm(request.POST)
    if form.is_valid():
        try:
            series_actions.do_cancel_session(
                session, acting_user=request_user(request), reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Session cancelled.")
    else:
        messages.error(request, "Say why the session is cancelled.")
    return redirect("scheduling:config_session_edit", session.public_id)


# --- Curriculum topics and groups ---------------------------------------------------------------------------


@login_required
def curriculum(request: HttpRequest, public_id: Any) -> HttpResponse:
    program = _one(Program.objects.select_related("site"), pk__in=_ids(request), public_id=public_id)
    topics = CurriculumTopic.objects.filter(program=program).annotate(
        upcoming=Count("sessions", filter=Q(sessions__starts_at__gte=timezone.now(), sessions__status="scheduled"))
    )
    return _render(request, "curriculum.html", {"program": program, "topics": topics.order_by("sequence", "name")})


@staff_view(Cap.MANAGE_PROGRAMS)
def topic_form(request: HttpRequest, public_id: Any, topic_id: Any = None) -> HttpResponse:
    program = _one(
        Program.objects.select_related("site"), pk__in=_program_ids(request, write=True), public_id=public_id
    )
    topic = _one(CurriculumTopic.objects, program=program, public_id=topic_id) if topic_id else None
    if topic is not None:
        initial = {name: getattr(topic, name) for name in TopicForm.base_fields}
    else:
        last = CurriculumTopic.objects.filter(program=program).order_by("-sequence").first()
        initial = {"sequence": (last.sequence + 1) if last else 1}
    form = TopicForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if topic is None:
                group_actions.do_create_topic(program, acting_user=request_user(request), **form.cleaned_data)
            else:
                group_actions.do_update_topic(topic, acting_user=request_user(request), **form.cleaned_data)
        except ValidationError as exc:
            _save_failed(request, form, exc)
        else:
            messages.success(request, "Topic saved.")
            return redirect("scheduling:config_curriculum", program.public_id)
    return _render(request, "topic_form.html", {"program": program, "topic": topic, "form": form})


@login_required
def groups(request: HttpRequest, public_id: Any) -> HttpResponse:
    track = _one(Track.objects.select_related("program__site"), program_id__in=_ids(request), public_id=public_id)
    rows = Group.objects.filter(track=track).annotate(
        members=Count("enrollments", filter=Q(enrollments__ends_on__isnull=True), distinct=True)
    )
    return _render(request, "groups.html", {"track": track, "program": track.program, "groups": rows})


@staff_view(Cap.MANAGE_PROGRAMS)
def group_form(request: HttpRequest, public_id: Any, group_id: Any = None) -> HttpResponse:
    track = _one(
        Track.objects.select_related("program__site"),
        program_id__in=_program_ids(request, write=True),
        public_id=public_id,
    )
    group = _one(Group.objects, track=track, public_id=group_id) if group_id else None
    initial = {name: getattr(group, name) for name in GroupForm.base_fields} if group is not None else {}
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if data.get("capacity") is None:
            data["capacity"] = track.program.group_size_cap
        try:
            if group is None:
                group_actions.do_create_group(track, acting_user=request_user(request), **data)
            else:
                group_actions.do_update_group(group, acting_user=request_user(request), **data)
        except ValidationError as exc:
            _save_failed(request, form, exc)
        else:
            messages.success(request, "Group saved.")
            return redirect("scheduling:config_groups", track.public_id)
    return _render(request, "group_form.html", {"track": track, "program": track.program, "group": group, "form": form})
