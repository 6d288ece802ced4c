"""Dose and attendance-report screens: the chart's Attendance tab (heatmap, dose bars, this week's panel with
make-up suggestions), booking a make-up, this week's at-risk list, the home page's at-risk counts, and a
program's attendance report with its CSV export.

Role first (403), then lookups scoped to the user's programs (404 outside them). The tab is audited by the chart
(RECORD_VIEWED, object type ``attendance``); the at-risk list writes PATIENTS_LISTED when it names anyone; the
report is aggregates only (no audit) and its export writes EXPORTED.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.attendance import reports
from openiop.attendance.dose import (
    STATUS_LABELS,
    DayState,
    DoseStatus,
    EpisodeDose,
    WeekDose,
    episode_doses,
    hours_label,
    week_start_for,
)
from openiop.attendance.makeup import MakeupPlan, makeup_candidates, plan_makeup
from openiop.attendance.policy import policy_for
from openiop.core import audit
from openiop.core.forms import DateInput, StyledFormMixin
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_episode_for_user
from openiop.programs.queries import get_program_for_user
from openiop.scheduling.actions import booking as booking_actions
from openiop.scheduling.models import Booking, Session

REPORT_DEFAULT_WEEKS = 8
REPORT_MAX_DAYS = 366
TAB_SLUG = "attendance"


# --- Drawing: the heatmap and the dose bars (inline SVG, geometry computed here) ------------------------------------

CELL, GAP, LABEL_W, HEADER_H = 26, 4, 92, 22
BAR_W, BAR_H = 200, 14
DAY_FILL = {
    DayState.ATTENDED: "#198754",
    DayState.PARTIAL: "#f0ad4e",
    DayState.MISSED: "#dc3545",
    DayState.UPCOMING: "#9ec5fe",
    DayState.UNRECORDED: "#adb5bd",
    DayState.NONE: "#f1f3f5",
    DayState.OUTSIDE: "#ffffff",
}
# A mark in each cell as well as a colour, so the map reads without colour vision.
DAY_MARK = {DayState.ATTENDED: "✓", DayState.PARTIAL: "½", DayState.MISSED: "✕", DayState.UNRECORDED: "?"}
DAY_WORDS = {
    DayState.ATTENDED: "attended",
    DayState.PARTIAL: "partly attended",
    DayState.MISSED: "missed",
    DayState.UPCOMING: "upcoming",
    DayState.UNRECORDED: "not recorded yet",
    DayState.NONE: "nothing scheduled",
    DayState.OUTSIDE: "outside the episode",
}
STATUS_BADGE = {
    DoseStatus.MET: "text-bg-success",
    DoseStatus.MISSED: "text-bg-danger",
    DoseStatus.UNREACHABLE: "text-bg-danger",
    DoseStatus.AT_RISK: "text-bg-warning",
    DoseStatus.TIGHT: "text-bg-info",
    DoseStatus.ON_TRACK: "text-bg-primary",
    DoseStatus.NOT_DUE: "text-bg-light border",
}


@dataclass(frozen=True)
class Cell:
    x: int
    fill: str
    mark: str
    title: str
    outside: bool


@dataclass(frozen=True)
class Bar:
    x: int
    attended_w: int
    remaining_w: int
    minimum_x: int
    label: str


@dataclass(frozen=True)
class HeatRow:
    y: int
    label: str
    week: WeekDose
    cells: list[Cell]
    bar: Bar
    status_class: str
    current: bool


@dataclass(frozen=True)
class Heatmap:
    width: int
    height: int
    day_labels: list[tuple[int, str]]
    bar_x: int
    rows: list[HeatRow]


def dose_bar(week: WeekDose, scale_minutes: int, x: int, width: int = BAR_W) -> Bar:
    per = width / max(scale_minutes, 1)
    attended = round(week.attended * per)
    remaining = round(week.remaining * per)
    return Bar(
        x=x,
        attended_w=attended,
        remaining_w=min(remaining, width - attended),
        minimum_x=x + round(week.minimum * per),
        label=f"{week.attended_hours} of {week.minimum_hours} h",
    )


def heatmap(dose: EpisodeDose) -> Heatmap:
    """Rows = weeks (newest first), columns = the week's days, then the week's dose bar against its minimum."""
    weeks = list(reversed(dose.weeks))
    scale = max([max(w.minimum, w.scheduled, w.attended) for w in weeks] or [1])
    bar_x = LABEL_W + 7 * (CELL + GAP) + 14
    rows = []
    for i, week in enumerate(weeks):
        y = HEADER_H + i * (CELL + GAP)
        cells = []
        for j, cell in enumerate(week.days()):
            hours = ""
            if cell.scheduled:
                hours = f": {hours_label(cell.attended)} of {hours_label(cell.scheduled)} h"
            cells.append(
                Cell(
                    x=LABEL_W + j * (CELL + GAP),
                    fill=DAY_FILL[cell.state],
                    mark=DAY_MARK.get(cell.state, ""),
                    title=f"{cell.day:%a %b} {cell.day.day}, {DAY_WORDS[cell.state]}{hours}",
                    outside=cell.state == DayState.OUTSIDE,
                )
            )
        rows.append(
            HeatRow(
                y=y,
                label=f"{week.start:%b} {week.start.day}",
                week=week,
                cells=cells,
                bar=dose_bar(week, scale, bar_x),
                status_class=week.status.value,
                current=week.start <= dose.today <= week.end,
            )
        )
    first = weeks[0].start if weeks else dose.today
    labels = [(LABEL_W + j * (CELL + GAP) + CELL // 2, f"{first + timedelta(days=j):%a}") for j in range(7)]
    return Heatmap(
        width=bar_x + BAR_W + 300,
        height=HEADER_H + len(rows) * (CELL + GAP),
        day_labels=labels,
        bar_x=bar_x,
        rows=rows,
    )


# --- The chart tab --------------------------------------------------------------------------------------------------


@dataclass
class DosePanel:
    dose: EpisodeDose
    map: Heatmap
    week: WeekDose | None
    bar: Bar | None
    plan: MakeupPlan | None
    status_badge: str

    @property
    def episode(self) -> EpisodeOfCare:
        return self.dose.episode

    @property
    def history(self) -> list[Any]:
        return [s for w in reversed(self.dose.weeks) for s in reversed(w.slots)]


def _panel(dose: EpisodeDose, *, now: Any, with_plan: bool) -> DosePanel:
    week = dose.current
    plan = None
    if week is not None and with_plan and dose.episode.status == EpisodeOfCare.Status.ACTIVE:
        plan = plan_makeup(dose.episode, week, now=now)
    return DosePanel(
        dose=dose,
        map=heatmap(dose),
        week=week,
        bar=dose_bar(week, max(week.minimum, week.scheduled, 1), 0, 360) if week else None,
        plan=plan,
        status_badge=STATUS_BADGE[week.status] if week else "",
    )


def _tab_flags(user: User) -> dict[str, Any]:
    return {
        "can_book": user.can(Cap.BOOK_SESSIONS),
        # Whether someone came is not clinical detail; how they took part, and the remark, are.
        "show_participation": user.can(Cap.VIEW_CLINICAL),
        "status_labels": STATUS_LABELS,
        "legend": [(DAY_FILL[s], DAY_WORDS[s]) for s in DayState],
    }


def attendance_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for the chart's Attendance tab (registered in attendance/apps.py)."""
    user = request_user(request)
    now = timezone.now()
    doses = reports.patient_dose(user, patient, episodes, now=now)
    return {"dose_panels": [_panel(d, now=now, with_plan=True) for d in doses], **_tab_flags(user)}


def _chart_tab_url(patient: Patient) -> str:
    return f"{patient.get_absolute_url()}?tab={TAB_SLUG}"


@require_POST
@staff_view(Cap.BOOK_SESSIONS)
def book_makeup(request: HttpRequest, episode_id: UUID, session_id: UUID) -> HttpResponse:
    """Book one suggested make-up (any current candidate of the week) with source MAKEUP, then redraw the panel."""
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id, Cap.BOOK_SESSIONS)
    session = get_object_or_404(
        Session.objects.select_related("program", "session_type"), public_id=session_id, program_id=episode.program_id
    )
    now = timezone.now()
    error = ""
    dose = next(iter(episode_doses([episode], now=now)), None)
    week = dose.current if dose is not None else None
    if week is None or session.pk not in {c.session_id for c in makeup_candidates(episode, week, now=now)}:
        error = "That session is no longer a make-up option this week (full, started, clashing or already booked)."
    else:
        try:
            booking_actions.do_book_seat(session, episode=episode, acting_user=user, source=Booking.Source.MAKEUP)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except booking_actions.SessionFull:
            error = "That session filled up a moment ago; pick another."
    if not is_htmx(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Make-up booked: {booking_actions.session_label(session)}.")
        return redirect(_chart_tab_url(episode.patient))
    dose = next(iter(episode_doses([episode], now=now)), None)
    audit.record(
        action=AuditAction.RECORD_VIEWED, acting_user=user, patient=episode.patient, obj=episode.patient,
        object_type=TAB_SLUG,
    )  # fmt: skip
    context = {
        "panel": _panel(dose, now=now, with_plan=True) if dose else None,
        "patient": episode.patient,
        "panel_message": error or f"Make-up booked: {booking_actions.session_label(session)}.",
        "panel_message_ok": not error,
        **_tab_flags(user),
    }
    return render(request, "attendance/partials/dose_panel.html", context)


# --- This week's at-risk list, and the home panel --------------------------------------------------------------------


@staff_view(Cap.VIEW_PATIENTS)
def dose_at_risk(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    programs = reports.dose_risk_by_program(user, now=timezone.now())
    if any(p.at_risk for p in programs):
        audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="dose_at_risk")
    return render(
        request,
        "attendance/reports/at_risk.html",
        {"nav": "home", "programs": programs, "status_badge": STATUS_BADGE, "tab": TAB_SLUG},
    )


@staff_view(Cap.VIEW_CENSUS)
def dose_home_panel(request: HttpRequest) -> HttpResponse:
    """The home page's "Dose at risk this week" counts, loaded by HTMX (no names, so no audit row)."""
    programs = reports.dose_risk_by_program(request_user(request), now=timezone.now())
    return render(request, "attendance/partials/dose_home_panel.html", {"dose_risk": programs})


# --- Program attendance report ------------------------------------------------------------------------------------


class ReportRangeForm(StyledFormMixin, forms.Form):
    start = forms.DateField(label="From", widget=DateInput())
    end = forms.DateField(label="To", widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end date must be on or after the start date.")
            elif (end - start).days >= REPORT_MAX_DAYS:
                self.add_error("end", f"Pick at most {REPORT_MAX_DAYS} days.")
        return data


def _default_range(today: date, week_starts_on: int) -> dict[str, date]:
    start = week_start_for(today, week_starts_on) - timedelta(weeks=REPORT_DEFAULT_WEEKS - 1)
    return {"start": start, "end": today}


def _report_form(request: HttpRequest, program: Any) -> ReportRangeForm:
    if "start" in request.GET or "end" in request.GET:
        form = ReportRangeForm(request.GET)
    else:
        today = timezone.now().astimezone(program.tz()).date()
        form = ReportRangeForm(_default_range(today, policy_for(program).week_starts_on))
    form.is_valid()
    return form


@dataclass(frozen=True)
class ChartBar:
    x: int
    y: int
    height: int
    fill: str
    label: str
    value: str


@dataclass(frozen=True)
class ChartGroup:
    x: int
    name: str
    bars: list[ChartBar]


CHART_H, CHART_TOP, GROUP_W, BAR_SLOT = 160, 12, 150, 36
CHART_SERIES = (
    ("attendance_rate", "Attendance rate", "#198754"),
    ("no_show_rate", "No-show rate", "#dc3545"),
    ("dose_share", "Patient-weeks meeting the dose", "#0d6efd"),
)


def report_chart(report: reports.ProgramReport) -> dict[str, Any]:
    """Grouped bars, 0-100 %, one group per track and one for all tracks."""
    groups = []
    for i, row in enumerate([*report.rows, report.total]):
        x0 = 48 + i * GROUP_W
        bars = []
        for j, (attr, label, fill) in enumerate(CHART_SERIES):
            value = getattr(row, attr)
            height = round(CHART_H * float(value) / 100) if value is not None else 0
            bars.append(
                ChartBar(
                    x=x0 + j * BAR_SLOT,
                    y=CHART_TOP + CHART_H - height,
                    height=height,
                    fill=fill,
                    label=label,
                    value="n/a" if value is None else f"{value}%",
                )
            )
        groups.append(ChartGroup(x=x0, name=row.name, bars=bars))
    return {
        "groups": groups,
        "width": 48 + len(groups) * GROUP_W + 10,
        "height": CHART_TOP + CHART_H + 40,
        "base_y": CHART_TOP + CHART_H,
        "ticks": [(CHART_TOP + CHART_H - round(CHART_H * p / 100), p) for p in (0, 25, 50, 75, 100)],
        "series": CHART_SERIES,
        "bar_w": BAR_SLOT - 8,
    }


@staff_view(Cap.VIEW_CENSUS)
def program_report(request: HttpRequest, program_id: UUID) -> HttpResponse:
    user = request_user(request)
    program = get_program_for_user(user, program_id, Cap.VIEW_CENSUS)
    form = _report_form(request, program)
    report = None
    chart = None
    if not form.errors:
        report = reports.program_report(
            program, start=form.cleaned_data["start"], end=form.cleaned_data["end"], now=timezone.now()
        )
        chart = report_chart(report)
    return render(
        request,
        "attendance/reports/program.html",
        {"nav": "home", "program": program, "form": form, "report": report, "chart": chart},
        status=400 if form.errors else 200,
    )


@staff_view(Cap.VIEW_CENSUS)
def program_report_csv(request: HttpRequest, program_id: UUID) -> HttpResponse:
    user = request_user(request)
    program = get_program_for_user(user, program_id, Cap.VIEW_CENSUS)
    form = _report_form(request, program)
    if form.errors:
        return render(
            request,
            "attendance/reports/program.html",
            {"nav": "home", "program": program, "form": form, "report": None, "chart": None},
            status=400,
        )
    report = reports.program_report(
        program, start=form.cleaned_data["start"], end=form.cleaned_data["end"], now=timezone.now()
    )
    audit.record(
        action=AuditAction.EXPORTED, acting_user=user, obj=program, object_type="attendance_report",
        changed_fields=["start", "end"],
    )  # fmt: skip
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="attendance-{report.start:%Y%m%d}-{report.end:%Y%m%d}.csv"'
    writer = csv.writer(response)
    writer.writerows(reports.report_csv_rows(report))
    return response
