"""Staff pages of drug testing: the chart's Drug testing tab (registered in ``labs/apps.py``, ``VIEW_CLINICAL``;
the chart audits the read) and its header flag."""

from __future__ import annotations

import csv
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.queries import patient_records
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.labs import actions, analytes, charts, reports
from openiop.labs.forms import CollectionForm, ImportForm, OrderForm, ResultsForm, ReviewForm, SetupForm
from openiop.labs.imports import do_import
from openiop.labs.models import Panel, Result, SchedulePick, TestingSchedule, TestOrder
from openiop.labs.queries import awaiting_review, get_order_for_user, orders_for_user, patient_orders, program_for_user
from openiop.measures import trends
from openiop.measures.queries import patient_administrations
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_episode_for_user
from openiop.programs.models import Program
from openiop.programs.queries import managed_program_ids

TAB_ORDERS = 60


def _state(order: TestOrder) -> str:
    if order.status in (TestOrder.Status.REFUSED, TestOrder.Status.UNABLE):
        return charts.REFUSED
    results = list(order.results.all())
    if not results:
        return charts.PENDING
    if any(r.interpretation == Result.Interpretation.UNEXPECTED for r in results):
        return charts.UNEXPECTED
    return charts.EXPECTED


def testing_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for labs/partials/tab_drug_testing.html: the latest orders, their results and the strip."""
    user = request_user(request)
    orders = list(patient_orders(user, patient)[:TAB_ORDERS])
    return {
        "drug_orders": orders,
        "drug_strip": charts.strip([(o.due_on, _state(o)) for o in orders]),
        "drug_course": _course(user, patient, orders),
        "can_edit_tests": user.can(Cap.EDIT_CLINICAL),
        "order_form": OrderForm(initial={"due_on": timezone.localdate(), "kind": TestOrder.Kind.CUP}),
        "open_episodes": [e for e in (episodes or []) if e.status in actions.OPEN_EPISODE],
    }


def _course(user: User, patient: Patient, orders: list[TestOrder]) -> charts.Course:
    """The course at a glance: the tests beside the sessions attended and the measure scores, week by week (two
    queries more than the tab's own: the attendance records and the administrations)."""
    zone = timezone.get_current_timezone()
    # Attendance is read under VIEW_PATIENTS, which a role reading the chart may lack (the row then stays empty).
    records = patient_records(user, patient) if user.can(Cap.VIEW_PATIENTS) else []
    attendance = [
        (r.session.starts_at.astimezone(zone).date(), r.status in AttendanceRecord.ATTENDED)
        for r in records
        if r.status != AttendanceRecord.Status.CANCELLED
    ]
    scores = []
    for panel in trends.panels(patient_administrations(user, patient)):
        points = [(p.day, p.total) for p in trends.series_of(panel.scored)]
        bands = {total: band.label for _, total in points if (band := panel.instrument.band_for(total))}
        scores.append(charts.ScoreSeries(panel.instrument.short_name, panel.instrument.max_total or 1, points, bands))
    return charts.course([(o.due_on, _state(o)) for o in orders], attendance, scores)


def flag_context(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    """The header flag while an unexpected result waits for a clinician's review; nothing otherwise."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.can(Cap.VIEW_CLINICAL):
        return None
    count = awaiting_review(orders_for_user(user).filter(patient=patient)).count()
    return {"count": count, "url": patient.get_absolute_url()} if count else None


def _tab_url(patient: Patient) -> str:
    return f"{patient.get_absolute_url()}?tab=drug_testing"


@staff_view(Cap.EDIT_CLINICAL)
def order_test(request: HttpRequest, episode_id: UUID) -> HttpResponse:
    """Order a test from the chart tab (POST); errors come back on the test page's own form."""
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id, Cap.EDIT_CLINICAL)
    form = OrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = actions.do_order_test(episode, acting_user=user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Test ordered.")
            return redirect("labs:test", order.public_id)
    status = 422 if request.method == "POST" else 200
    return render(request, "labs/order.html", {"nav": "patients", "episode": episode, "form": form}, status=status)


@staff_view(Cap.VIEW_CLINICAL)
def test_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """One test: its collection, results and review, with the forms for what comes next (``EDIT_CLINICAL``)."""
    user = request_user(request)
    order = get_order_for_user(user, public_id)
    forms: dict[str, Any] = {
        "collection_form": CollectionForm(
            initial={"collected_at": timezone.localtime().replace(second=0, microsecond=0)}
        ),
        "results_form": ResultsForm(codes=_open_codes(order)),
        "review_form": ReviewForm(),
    }
    status = 200
    if request.method == "POST":
        if not user.can(Cap.EDIT_CLINICAL):
            return HttpResponse(status=403)
        step = request.POST.get("step", "")
        handled = _post_step(request, order, step, forms)
        if handled is not None:
            return handled
        status = 422
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=order.patient, obj=order)
    context = {"nav": "patients", "order": order, "results": list(order.results.all()), **forms,
               "can_edit": user.can(Cap.EDIT_CLINICAL)}  # fmt: skip
    return render(request, "labs/test.html", context, status=status)


def _open_codes(order: TestOrder) -> list[str]:
    done = set(order.results.values_list("analyte", flat=True))
    return [c for c in order.analytes if c not in done]


def _post_step(request: HttpRequest, order: TestOrder, step: str, forms: dict[str, Any]) -> HttpResponse | None:
    user = request_user(request)
    try:
        if step == "collect":
            collection = forms["collection_form"] = CollectionForm(request.POST)
            if not collection.is_valid():
                return None
            actions.do_record_collection(order, acting_user=user, **collection.cleaned_data)
            messages.success(request, "Collection recorded.")
        elif step == "results":
            results = forms["results_form"] = ResultsForm(request.POST, codes=_open_codes(order))
            if not results.is_valid():
                return None
            entered = [actions.ResultIn(code, outcome) for code, outcome in results.entered()]
            actions.do_enter_results(order, acting_user=user, results=entered)
            messages.success(request, "Results recorded.")
        elif step == "review":
            review = forms["review_form"] = ReviewForm(request.POST)
            if not review.is_valid():
                return None
            actions.do_review(order, acting_user=user, note=review.cleaned_data["note"])
            messages.success(request, "Review recorded.")
        elif step == "confirm":
            result = order.results.filter(public_id=request.POST.get("result", "")).first()
            if result is None:
                forms["review_form"].add_error(None, "Choose a result to confirm.")
                return None
            actions.do_request_confirmation(result, acting_user=user, sent_out=request.POST.get("sent_out") == "1")
            messages.success(request, "Confirmation recorded.")
        else:
            forms["review_form"].add_error(None, "Unknown step.")
            return None
    except ValidationError as exc:
        target = {"collect": "collection_form", "results": "results_form"}.get(step, "review_form")
        add_action_errors(forms[target], exc)
        return None
    return redirect("labs:test", order.public_id)


@staff_view(Cap.EDIT_CLINICAL)
def import_results(request: HttpRequest) -> HttpResponse:
    """Upload a lab's HL7 v2 ORU^R01 message or CSV file: every result posts, or none."""
    user = request_user(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and user.organization is not None:
            try:
                row = do_import(form.cleaned_data["file"].read(), fmt=form.cleaned_data["format"],
                                organization=user.organization, acting_user=user)  # fmt: skip
            except ValidationError as exc:
                for where, problems in exc.message_dict.items():
                    form.add_error(None, f"{where}: {' '.join(problems)}")
            else:
                messages.success(request, f"{row.result_count} results imported.")
                return redirect("labs:import")
        status = 422
    return render(request, "labs/import.html", {"nav": "patients", "form": form}, status=status)


@staff_view(Cap.VIEW_CLINICAL)
def program_report(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Testing compliance per week and result rates per analyte (counts only); ``?format=csv`` for the file."""
    user = request_user(request)
    program = program_for_user(user, public_id)
    end = parse_date(request.GET.get("end", "") or "") or timezone.localdate()
    start = parse_date(request.GET.get("start", "") or "") or end - timedelta(weeks=8)
    error = ""
    if start > end or (end - start).days > 366:
        error, start, end = "The end must be after the start, within a year.", end - timedelta(weeks=8), end
    report = reports.testing_report(program, start, end)
    if request.GET.get("format") == "csv" and not error:
        audit.record(action=AuditAction.EXPORTED, acting_user=user, object_type="drug_testing_report",
                     organization_id=program.site.organization_id)  # fmt: skip
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="drug-testing-{start}-{end}.csv"'
        csv.writer(response).writerows(reports.csv_rows(report))
        return response
    context = {"nav": "reports", "program": program, "report": report, "error": error,
               "can_set_up": program.pk in managed_program_ids(user)}  # fmt: skip
    return render(request, "labs/report.html", context, status=422 if error else 200)


def _setup_initial(program: Program) -> dict[str, Any]:
    schedule = TestingSchedule.objects.filter(program=program).first() or TestingSchedule(program=program)
    panel = Panel.objects.filter(program=program).first()
    return {
        "is_active": schedule.is_active if schedule.pk else False,
        "mode": schedule.mode,
        "percent": schedule.percent,
        "weekdays": [str(d) for d in schedule.weekdays],
        "kind": schedule.kind,
        "analytes": list(panel.analytes) if panel else list(analytes.DEFAULT_PANEL),
    }


@staff_view(Cap.MANAGE_PROGRAMS)
def program_setup(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The program's testing schedule and panel, saved together (``CONFIG_CHANGED`` by the actions)."""
    user = request_user(request)
    program = get_object_or_404(
        Program.objects.select_related("site").filter(pk__in=managed_program_ids(user)), public_id=public_id
    )
    form = SetupForm(request.POST if request.method == "POST" else None, initial=_setup_initial(program))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    actions.do_set_schedule(program, acting_user=user, **form.schedule_values())
                    actions.do_set_panel(program, acting_user=user, codes=form.cleaned_data["analytes"])
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Drug testing setup saved.")
                return redirect("labs:setup", program.public_id)
        status = 422
    # The latest draw's seed, read-only: the draw can be checked from it (``GET .../drug-testing/picks``).
    last_pick = SchedulePick.objects.filter(schedule__program=program).first()
    context = {"nav": "admin", "program": program, "form": form, "last_pick": last_pick}
    return render(request, "labs/setup.html", context, status=status)
