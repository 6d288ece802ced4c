"""Staff screens for attendance: the roster check-in (one tap per person, HTMX swaps that row), a record's history
and its correction form, "cancelled by program" for a cancelled session, and today's sessions with live counts.

Role first (403), then lookups scoped to the user's programs (404 outside them). The roster names patients, so
each view of it writes PATIENTS_LISTED (object = the session); a record's history writes RECORD_VIEWED. Today's
page shows counts only (no names) and refreshes itself, so it is not audited. Writes need RECORD_ATTENDANCE:
auditors and billing read the roster but get 403 on every write.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.attendance import actions, queries
from openiop.attendance.forms import PARTICIPATION_CHOICES, CheckInForm, CorrectionForm, initial_for
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.queries import RosterRow
from openiop.core import audit
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.permissions import require, staff_view
from openiop.core.roles import Cap
from openiop.scheduling.models import Session
from openiop.scheduling.queries import get_session_for_user

Status = AttendanceRecord.Status
# The one-tap buttons, in the order staff meet them; "cancelled by program" is a whole-session action.
TAPS = [
    (Status.PRESENT, "Present", "success"),
    (Status.LATE, "Late", "warning"),
    (Status.LEFT_EARLY, "Left early", "info"),
    (Status.ABSENT_EXCUSED, "Absent, excused", "secondary"),
    (Status.ABSENT_UNEXCUSED, "Absent, unexcused", "danger"),
]
BADGES: dict[str, str] = {
    Status.PRESENT: "text-bg-success",
    Status.LATE: "text-bg-warning",
    Status.LEFT_EARLY: "text-bg-info",
    Status.ABSENT_EXCUSED: "text-bg-secondary",
    Status.ABSENT_UNEXCUSED: "text-bg-danger",
    Status.CANCELLED: "text-bg-dark",
}
TODAY_REFRESH_SECONDS = 30


def _add_errors(form: CheckInForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, errors in error.message_dict.items():
        target = form.field_for(name)
        if name == "reason" and "reason" not in form.fields:
            form.add_error(None, [*errors, "Use “Correct” on this row to change it now."])
        elif target in form.fields and target != "details":
            form.add_error(target, errors)
        else:
            form.add_error(None, errors)


def _session_context(session: Session, user: User) -> dict[str, Any]:
    tz = session.program.tz()
    now = timezone.now()
    return {
        "session": session,
        "local_start": session.starts_at.astimezone(tz),
        "local_end": session.ends_at.astimezone(tz),
        "tz_name": str(tz),
        "can_record": user.can(Cap.RECORD_ATTENDANCE),
        "checkin_open": actions.checkin_is_open(session, now),
        "not_started": now < actions.checkin_opens_at(session),
        "opens_at": actions.checkin_opens_at(session).astimezone(tz),
        "closes_at": actions.checkin_closes_at(session).astimezone(tz),
        "is_cancelled": session.status == Session.Status.CANCELLED,
        "taps": TAPS,
        "badges": BADGES,
        "participation_choices": PARTICIPATION_CHOICES,
    }


def _row_context(row: RosterRow, session: Session, form: CheckInForm | None = None) -> dict[str, Any]:
    if form is None:
        initial = initial_for(row.record, session) if row.record is not None else {"details": True}
        form = CheckInForm(initial=initial, session=session, auto_id=f"id_{row.patient.public_id}_%s")
    return {
        "row": row,
        "form": form,
        "open_panel": form.is_bound and bool(form.errors),
        "cells": _cells(row, session, form),
    }


def _cells(row: RosterRow, session: Session, form: CheckInForm) -> dict[str, Any]:
    """What the row's buttons and menus show, worked out once here: in the template, twelve rows of per-option
    comparisons cost more than the rest of the roster page."""
    current = row.record.status if row.record is not None else None
    chosen_status, chosen_participation = form["status"].value(), form["participation"].value()
    return {
        "badge": BADGES.get(current, "") if current is not None else "",
        "tap_url": reverse("attendance:check_in", args=[session.public_id, row.patient.public_id]),
        "taps": [
            (value, label, f"btn-{color}" if current == value else f"btn-outline-{color}", current == value)
            for value, label, color in TAPS
        ],
        "status_options": [(value, label, chosen_status == value) for value, label, _ in TAPS],
        "participation_options": [
            (value, label, chosen_participation == value) for value, label in PARTICIPATION_CHOICES
        ],
        "values": {
            name: _shown(form, name) for name in ("late_minutes", "left_early_minutes", "arrived", "departed", "remark")
        },
        "errors": {name: " ".join(str(e) for e in errors) for name, errors in form.errors.items()}
        if form.is_bound
        else {},
    }


def _shown(form: CheckInForm, name: str) -> Any:
    """An input's value as typed (bound) or as recorded (unbound: times as HH:MM, blanks for nothing)."""
    if not form.is_bound and name in ("arrived", "departed"):
        moment = form.initial.get(name)
        return moment.strftime("%H:%M") if moment is not None else ""
    value = form[name].value()
    return "" if value is None else value


def _roster_page(request: HttpRequest, session: Session, errors: dict[int, CheckInForm] | None = None) -> HttpResponse:
    user = request_user(request)
    rows = queries.session_roster(session)
    audit.record(
        action=AuditAction.PATIENTS_LISTED, acting_user=user, obj=session, organization_id=user.organization_id
    )
    errors = errors or {}
    context = _session_context(session, user)
    recorded = sum(1 for r in rows if r.record is not None)
    context.update(
        {
            "nav": "today",
            "rows": [_row_context(r, session, errors.get(r.patient.pk)) for r in rows],
            "recorded": recorded,
            "not_recorded": len(rows) - recorded,
            "released_unrecorded": context["is_cancelled"] and recorded < len(rows),
        }
    )
    with timezone.override(session.program.tz()):
        return render(request, "attendance/roster.html", context, status=422 if errors else 200)


@require_GET
@staff_view(Cap.VIEW_PATIENTS)
def roster(request: HttpRequest, public_id: UUID) -> HttpResponse:
    session = get_session_for_user(request_user(request), public_id, Cap.VIEW_PATIENTS)
    return _roster_page(request, session)


@require_POST
@staff_view(Cap.RECORD_ATTENDANCE)
def check_in(request: HttpRequest, public_id: UUID, patient_id: UUID) -> HttpResponse:
    """One tap (status only) or the row's details panel; answers HTMX with the new row, others with a redirect."""
    user = request_user(request)
    session = queries.get_session_for_check_in(user, public_id)
    row = queries.tap_row(session, patient_id)
    form = CheckInForm(request.POST, session=session, auto_id=f"id_{row.patient.public_id}_%s")
    saved = False
    if form.is_valid():
        try:
            row.record = actions.do_check_in(
                session,
                row.patient,
                acting_user=user,
                status=form.cleaned_data["status"],
                seat=row.booking,
                **form.action_fields(),
            )
            saved = True
        except ValidationError as exc:
            _add_errors(form, exc)
    if not is_htmx(request):
        if saved:
            return redirect(f"{reverse('attendance:roster', args=[session.public_id])}#{row.dom_id}")
        return _roster_page(request, session, errors={row.patient.pk: form})
    if not saved:
        queries.with_record(session, row)  # the row shows what is recorded next to the errors
    context = {**_session_context(session, user), **_row_context(row, session, None if saved else form)}
    with timezone.override(session.program.tz()):
        # 200 even with errors: HTMX swaps only successful answers, and the row must show what is wrong.
        return render(request, "attendance/partials/roster_row.html", context)


@require_POST
@staff_view(Cap.RECORD_ATTENDANCE)
def record_cancelled(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    session = get_session_for_user(user, public_id, Cap.RECORD_ATTENDANCE)
    try:
        created = actions.do_record_session_cancelled(session, acting_user=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Recorded {len(created)} people as cancelled by program.")
    return redirect("attendance:roster", session.public_id)


@require_http_methods(["GET", "POST"])
@staff_view(Cap.VIEW_PATIENTS)
def record_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A record's versions, newest first, and (for those who record attendance) the correction form."""
    user = request_user(request)
    if request.method == "POST":
        require(user, Cap.RECORD_ATTENDANCE)
    record = queries.get_record_for_user(user, public_id)
    session = Session.objects.select_related("program__site", "session_type").get(pk=record.session_id)
    form = CorrectionForm(initial=initial_for(record, session), session=session)
    status = 200
    if request.method == "POST":
        form = CorrectionForm(request.POST, session=session)
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.do_correct_attendance(
                    record,
                    acting_user=user,
                    reason=data.get("reason") or "",
                    expected_version=data["version"],
                    status=data["status"],
                    **form.action_fields(),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Correction saved; the earlier version is kept below.")
                return redirect("attendance:record", record.public_id)
        status = 422
    else:
        audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=record.patient, obj=record)
    context = {
        **_session_context(session, user),
        "nav": "today",
        "record": record,
        "history": list(reversed(queries.record_history(record))),
        "form": form,
    }
    with timezone.override(session.program.tz()):
        return render(request, "attendance/record.html", context, status=status)


@require_GET
@staff_view(Cap.VIEW_CENSUS)
def today(request: HttpRequest) -> HttpResponse:
    """The user's programs' sessions of their local today with live counts (a program with none today shows its
    next session day); HTMX polls the body."""
    user = request_user(request)
    days = queries.todays_sessions(user)
    counts = queries.roster_counts([s for d in days for s in d.sessions])
    now = timezone.now()
    programs = []
    for day in days:
        tz = day.program.tz()
        items = []
        for session in day.sessions:
            items.append(
                {
                    "session": session,
                    "local_start": session.starts_at.astimezone(tz),
                    "local_end": session.ends_at.astimezone(tz),
                    "counts": counts[session.pk],
                    "running": session.starts_at <= now < session.ends_at,
                    "over": session.ends_at <= now,
                }
            )
        programs.append(
            {"program": day.program, "day": day.day, "is_today": day.is_today, "items": items, "tz_name": str(tz)}
        )
    context = {
        "nav": "today",
        "programs": programs,
        "refreshed_at": now,
        "refresh_seconds": TODAY_REFRESH_SECONDS,
        "can_open_roster": user.can(Cap.VIEW_PATIENTS),
        "can_record": user.can(Cap.RECORD_ATTENDANCE),
    }
    template = "attendance/partials/today_body.html" if is_htmx(request) else "attendance/today.html"
    return render(request, template, context)
