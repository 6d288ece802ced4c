"""Staff screens of measurement-based care: the chart's Measures tab, staff entry of a questionnaire, links and the
clinic tablet hand-over, the safety alerts list and its acknowledge / resolve actions, the program outcome report
and the program's measures setup.

Role first (403), then the record among the user's programs (404). Every page that shows a patient's scores or
alerts writes an audit row (RECORD_VIEWED / PATIENTS_LISTED); exports write EXPORTED.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.roles import Cap
from openiop.measures import actions, instruments, questionnaire, reports, trends
from openiop.measures.forms import (
    LinkForm,
    MeasuresConfigForm,
    ResolveAlertForm,
    ScheduleForm,
    StartAdministrationForm,
)
from openiop.measures.models import Administration, AdministrationLink, MeasureSchedule, SafetyAlert
from openiop.measures.public_views import TABLET_DONE_KEY, TABLET_SESSION_KEY
from openiop.measures.queries import (
    alerts_for_user,
    banner_alert_count,
    banner_alerts,
    get_administration_for_user,
    get_alert_for_user,
    patient_administrations,
)
from openiop.measures.schedules import config_for, enabled_codes, schedulable, schedules_for
from openiop.patients.emergency import grant_of
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import chart_program_ids, get_patient_for_user
from openiop.programs.models import Program
from openiop.programs.queries import get_program_for_user, managed_program_ids

ALERT_PAGE_SIZE = 50
# The banner names at most this many patients ("and N more" after), from at most BANNER_SCAN open alerts.
BANNER_NAMES = 5
BANNER_SCAN = 100


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _measures_url(patient: Patient) -> str:
    return f"{patient.get_absolute_url()}?tab=measures"


def _open_episodes(user: User, patient: Patient) -> list[EpisodeOfCare]:
    return list(
        EpisodeOfCare.objects.filter(patient=patient, program_id__in=program_ids_for(user))
        .exclude(status=EpisodeOfCare.Status.DISCHARGED)
        .exclude(status=EpisodeOfCare.Status.WAITLIST)
        .select_related("program__site")
        .order_by("program__name")
    )


# --- Chart tab ---------------------------------------------------------------------------------------------------


def measures_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for measures/partials/tab_measures.html (registered in measures/apps.py)."""
    user = request_user(request)
    administrations = list(patient_administrations(user, patient))
    open_ones = [a for a in administrations if a.is_open]
    alerts = list(
        SafetyAlert.objects.filter(patient=patient, episode__program_id__in=chart_program_ids(user, patient))
        .exclude(status=SafetyAlert.Status.RESOLVED)
        .select_related("administration", "acknowledged_by")
    )
    open_episodes = _open_episodes(user, patient)
    codes: list[str] = []
    for episode in open_episodes:
        codes += [c for c in enabled_codes(episode.program) if c not in codes]
    start_form = StartAdministrationForm(episodes=open_episodes, codes=codes) if open_episodes and codes else None
    return {
        "panels": trends.panels(administrations),
        "open_administrations": open_ones,
        "history": [a for a in reversed(administrations) if not a.is_open],
        "patient_alerts": alerts,
        "start_form": start_form,
        "can_tablet": bool(open_ones) and user.can(Cap.EDIT_CLINICAL) and grant_of(patient) is None,
        "registry": instruments.REGISTRY,
    }


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def start_administration(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    episodes = _open_episodes(user, patient)
    codes = sorted({c for e in episodes for c in enabled_codes(e.program)})
    form = StartAdministrationForm(request.POST, episodes=episodes, codes=codes)
    if not form.is_valid():
        messages.error(request, "Pick an episode and a questionnaire.")
        return redirect(_measures_url(patient))
    try:
        administration = actions.do_start_administration(
            form.cleaned_data["episode"], acting_user=user, instrument_code=form.cleaned_data["instrument_code"]
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(_measures_url(patient))
    return redirect("measures:enter", administration.public_id)


# --- Staff entry -------------------------------------------------------------------------------------------------


def _entry_urls(administration: Administration) -> dict[str, str]:
    return {
        "form": reverse("measures:enter", args=[administration.public_id]),
        "answer": reverse("measures:answer", args=[administration.public_id]),
        "submit": reverse("measures:enter", args=[administration.public_id]),
    }


def _entry_context(administration: Administration, **extra: Any) -> dict[str, Any]:
    organization = administration.episode.program.site.organization
    return {
        "nav": "patients",
        "patient": administration.patient,
        "administration": administration,
        "q": questionnaire.build(administration, extra.pop("answers", None), extra.get("errors")),
        "urls": _entry_urls(administration),
        "clinic_phone": organization.phone,
        "verbatim_rule": questionnaire.VERBATIM_RULE,
        "staff_entry": True,
        **extra,
    }


@staff_view(Cap.VIEW_CLINICAL)
def administration_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    administration = get_administration_for_user(user, public_id)
    if administration.is_open and user.can(Cap.EDIT_CLINICAL):
        return redirect("measures:enter", administration.public_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=administration.patient, obj=administration)
    return render(request, "measures/administration.html", _entry_context(administration, read_only=True))


@staff_view(Cap.EDIT_CLINICAL)
def enter(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Staff type in a questionnaire the patient filled on paper or answered aloud; Save keeps partial answers."""
    user = request_user(request)
    administration = get_administration_for_user(user, public_id, Cap.EDIT_CLINICAL)
    if not administration.is_open:
        return redirect("measures:detail", administration.public_id)
    status = 200
    context: dict[str, Any] = {}
    if request.method == "POST":
        instrument = instruments.get(administration.instrument_code)
        posted = questionnaire.posted_answers(instrument, request.POST)
        try:
            administration = actions.do_save_answers(
                administration, posted, acting_user=user, channel=Administration.Channel.STAFF
            )
            q = questionnaire.build(administration)
            if "complete" in request.POST:
                if q.missing and not request.POST.get("confirm_missing"):
                    context["confirm_missing"] = True
                else:
                    administration = actions.do_complete(
                        administration, acting_user=user, channel=Administration.Channel.STAFF
                    )
                    messages.success(request, f"{instrument.short_name} completed.")
                    if hasattr(administration, "safety_alert"):
                        messages.warning(request, "A safety alert was raised: see the alerts panel.")
                    return redirect(_measures_url(administration.patient))
            else:
                messages.success(request, "Answers saved.")
                return redirect("measures:enter", administration.public_id)
        except ValidationError as exc:
            context["errors"] = exc.message_dict
            context["answers"] = {**administration.answers, **posted}
            status = 422
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=administration.patient, obj=administration)
    return render(request, "measures/enter.html", _entry_context(administration, **context), status=status)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def staff_answer(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """HTMX: save what staff have ticked so far, re-render the questions (skip logic) and the crisis panel."""
    user = request_user(request)
    administration = get_administration_for_user(user, public_id, Cap.EDIT_CLINICAL)
    errors: dict[str, list[str]] = {}
    try:
        instrument = instruments.get(administration.instrument_code)
        administration = actions.do_save_answers(
            administration,
            questionnaire.posted_answers(instrument, request.POST),
            acting_user=user,
            channel=Administration.Channel.STAFF,
        )
    except ValidationError as exc:
        errors = exc.message_dict
    if not is_htmx(request):
        return redirect("measures:enter", administration.public_id)
    context = _entry_context(administration, errors=errors)
    context["changed"] = questionnaire.changed_items(context["q"], request.POST.getlist("shown"), errors)
    return render(request, "measures/public/partials/answer_response.html", context)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def cancel(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    administration = get_administration_for_user(user, public_id, Cap.EDIT_CLINICAL)
    try:
        actions.do_cancel_administration(administration, acting_user=user)
        messages.success(request, "Questionnaire cancelled.")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect(_measures_url(administration.patient))


# --- Links and the clinic tablet ---------------------------------------------------------------------------------


@staff_view(Cap.EDIT_CLINICAL)
def create_link(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Make a secret link for the patient to answer at home; the link is shown once, here."""
    user = request_user(request)
    administration = get_administration_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = LinkForm(_posted(request))
    url = ""
    link = None
    if request.method == "POST" and form.is_valid():
        try:
            link, token = actions.do_create_link(administration, acting_user=user, hours=form.cleaned_data["hours"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            url = request.build_absolute_uri(reverse("measures_public:form", args=[token]))
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=administration.patient, obj=administration)
    context = {
        "nav": "patients",
        "patient": administration.patient,
        "administration": administration,
        "instrument": instruments.get(administration.instrument_code),
        "form": form,
        "link": link,
        "link_url": url,
    }
    response = render(request, "measures/link.html", context)
    response["Cache-Control"] = "no-store"  # the page holds the only copy of the token
    return response


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def start_tablet(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Hand the tablet to the patient: sign the staff member out and leave only this patient's questionnaires."""
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    open_ones = [a for a in patient_administrations(user, patient) if a.is_open]
    wanted = set(request.POST.getlist("administration"))
    if wanted:
        open_ones = [a for a in open_ones if str(a.public_id) in wanted]
    if not open_ones:
        messages.error(request, "Nothing is due for this patient.")
        return redirect(_measures_url(patient))
    tokens = [
        actions.do_create_link(a, acting_user=user, kind=AdministrationLink.Kind.TABLET, hours=2)[1] for a in open_ones
    ]
    organization = open_ones[0].episode.program.site.organization
    logout(request)  # from here the tablet holds no staff session: nothing else can be opened on it
    request.session[TABLET_SESSION_KEY] = tokens
    request.session[TABLET_DONE_KEY] = ""
    request.session["measures_tablet_phone"] = organization.phone
    request.session["measures_tablet_clinic"] = organization.name
    return redirect("measures_public:tablet")


# --- Safety alerts -----------------------------------------------------------------------------------------------


STATUS_FILTERS = {
    "open": [SafetyAlert.Status.OPEN],
    "active": [SafetyAlert.Status.OPEN, SafetyAlert.Status.ACKNOWLEDGED],
    "resolved": [SafetyAlert.Status.RESOLVED],
    "all": list(SafetyAlert.Status.values),
}


@staff_view(Cap.EDIT_CLINICAL)
def alert_banner(request: HttpRequest) -> HttpResponse:
    """The banner fragment: the open alerts this person must see, naming the first few patients with a link to
    each chart (a count alone left staff hunting for who it was). Only alerts in the user's own programs and care
    scope (``banner_alerts``), so a name never reaches someone who may not open that chart. One query, a second
    only when there are more alerts than one look reads."""
    user = request_user(request)
    alerts = list(banner_alerts(user).select_related("patient").order_by("-created_at")[:BANNER_SCAN])
    count = len(alerts) if len(alerts) < BANNER_SCAN else banner_alert_count(user)
    patients: list[Patient] = []
    for alert in alerts:
        if alert.patient not in patients:
            patients.append(alert.patient)
    context = {
        "safety_alert_count": count,
        "banner_patients": patients[:BANNER_NAMES],
        "banner_more": max(len(patients) - BANNER_NAMES, 0),
        # Past BANNER_SCAN alerts the number of other patients is a lower bound; the alerts page lists them all.
        "banner_truncated": len(alerts) >= BANNER_SCAN,
    }
    response = render(request, "measures/partials/alert_banner.html", context)
    response["Cache-Control"] = "no-store"
    return response


@staff_view(Cap.VIEW_CLINICAL)
def alert_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    show = request.GET.get("show", "active")
    if show not in STATUS_FILTERS:
        show = "active"
    alerts = list(
        alerts_for_user(user)
        .filter(status__in=STATUS_FILTERS[show])
        .select_related("patient", "episode__program", "administration", "acknowledged_by", "resolved_by")
        .order_by("status", "-created_at")[:ALERT_PAGE_SIZE]
    )
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="safetyalert")
    return render(
        request,
        "measures/alerts.html",
        {
            "nav": "alerts",
            "alerts": alerts,
            "show": show,
            "filters": list(STATUS_FILTERS),
            "registry": instruments.REGISTRY,
        },
    )


def _alert_page(request: HttpRequest, alert: SafetyAlert, form: ResolveAlertForm, status: int = 200) -> HttpResponse:
    user = request_user(request)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=alert.patient, obj=alert)
    config = config_for(alert.episode.program)
    return render(
        request,
        "measures/alert_detail.html",
        {
            "nav": "alerts",
            "alert": alert,
            "patient": alert.patient,
            "instrument": instruments.REGISTRY.get(alert.administration.instrument_code),
            "form": form,
            "escalation_minutes": config.escalation_minutes,
        },
        status=status,
    )


@staff_view(Cap.VIEW_CLINICAL)
def alert_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    alert = get_alert_for_user(request_user(request), public_id)
    return _alert_page(request, alert, ResolveAlertForm())


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def alert_acknowledge(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    alert = get_alert_for_user(user, public_id, Cap.EDIT_CLINICAL)
    try:
        actions.do_acknowledge_alert(alert, acting_user=user)
        messages.success(request, "Alert acknowledged. Resolve it once the action is documented.")
    except ValidationError as exc:
        for message in exc.messages:
            messages.info(request, message)
    return redirect(_after_alert(request, alert))


def _after_alert(request: HttpRequest, alert: SafetyAlert) -> str:
    back = request.POST.get("next", "")
    if back == "alerts":
        return reverse("measures:alerts")
    if back == "chart":
        return _measures_url(alert.patient)
    if back == "header":  # the chart header's button: back to the chart's default tab
        return alert.patient.get_absolute_url()
    return alert.get_absolute_url()


@staff_view(Cap.EDIT_CLINICAL)
def alert_resolve(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    alert = get_alert_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = ResolveAlertForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_resolve_alert(
                alert, acting_user=user, action=form.cleaned_data["action"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Alert resolved.")
            return redirect(alert.get_absolute_url())
        return _alert_page(request, alert, form, status=422)
    return _alert_page(request, alert, form)


# --- Program outcome report --------------------------------------------------------------------------------------


@staff_view(Cap.VIEW_CLINICAL)
def outcome_report(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    program = get_program_for_user(user, public_id, Cap.VIEW_CLINICAL)
    rows = reports.program_outcomes(program)
    if request.GET.get("format") == "csv":
        audit.record(
            action=AuditAction.EXPORTED,
            acting_user=user,
            obj=program,
            object_type="measures_outcomes",
            changed_fields=reports.CSV_HEADER,
        )
        response = HttpResponse(reports.outcomes_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="outcomes-{program.public_id}.csv"'
        return response
    return render(
        request,
        "measures/outcomes.html",
        {"nav": "reports", "program": program, "rows": rows, "programs": _report_programs(user)},
    )


def _report_programs(user: User) -> list[Program]:
    return list(Program.objects.filter(pk__in=program_ids_for(user), is_active=True).order_by("name"))


@staff_view(Cap.VIEW_CLINICAL)
def report_index(request: HttpRequest) -> HttpResponse:
    programs = _report_programs(request_user(request))
    if len(programs) == 1:
        return redirect("measures:outcomes", programs[0].public_id)
    return render(request, "measures/report_index.html", {"nav": "reports", "programs": programs})


# --- Program measures setup --------------------------------------------------------------------------------------


@staff_view(Cap.MANAGE_PROGRAMS)
def program_setup(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Which instruments the program asks and when, the on-call clinician and the escalation time."""
    user = request_user(request)
    program = get_object_or_404(
        Program.objects.select_related("site").filter(pk__in=managed_program_ids(user)), public_id=public_id
    )
    saved = {s.instrument_code: s for s in MeasureSchedule.objects.filter(program=program)}
    current = saved if saved else {s.instrument_code: s for s in schedules_for(program)}
    data = _posted(request)
    schedule_forms = [
        ScheduleForm(data, instrument=instrument, initial=ScheduleForm.initial_for(current.get(code)))
        for instrument in schedulable()
        for code in [instrument.code]
    ]
    if not saved:
        for form in schedule_forms:
            if form.instrument.code in current:
                form.initial["is_active"] = True
    config = config_for(program)
    config_form = MeasuresConfigForm(
        data,
        program=program,
        initial={
            "on_call": config.on_call.public_id if config.on_call else None,
            "escalation_minutes": config.escalation_minutes,
            "email_label": config.email_label,
        },
    )
    if request.method == "POST" and all(f.is_valid() for f in schedule_forms) and config_form.is_valid():
        try:
            actions.do_set_schedules(
                program,
                acting_user=user,
                rows=[{"instrument_code": f.instrument.code, **f.cleaned_data} for f in schedule_forms],
            )
            actions.do_update_measures_config(program, acting_user=user, **config_form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(config_form, exc)
        else:
            messages.success(request, "Measures setup saved.")
            return redirect("measures:setup", program.public_id)
    return render(
        request,
        "measures/setup.html",
        {"nav": "admin", "program": program, "schedule_forms": schedule_forms, "config_form": config_form},
    )
