"""Staff screens for patients: list and search, registration, the chart and its edits.

Every view checks the role first (403), then finds the record among the user's programs (404 otherwise),
validates input with a form and writes only through the do_* actions. Every page that shows a patient
writes an audit row in the same request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.apps import apps as django_apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core import audit, registry, searches
from openiop.core.forms import add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.paging import LookaheadPaginator
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.registry import ChartTab
from openiop.core.roles import Cap
from openiop.patients import emergency, events
from openiop.patients.actions import (
    do_add_coverage,
    do_add_support_contact,
    do_change_episode_status,
    do_create_patient,
    do_open_episode,
    do_set_care_team,
    do_set_coverage_active,
    do_set_patient_active,
    do_set_support_contact_active,
    do_update_coverage,
    do_update_episode,
    do_update_patient,
    do_update_support_contact,
)
from openiop.patients.forms import (
    CareTeamForm,
    CoverageForm,
    DeactivatePatientForm,
    EpisodeEditForm,
    EpisodeOpenForm,
    EpisodeStatusForm,
    PatientCreateForm,
    PatientForm,
    PatientSearchForm,
    SupportContactForm,
)
from openiop.patients.models import EpisodeOfCare, Patient, current_episode, readmission_window_days
from openiop.patients.queries import (
    episodes_in_view,
    find_possible_duplicates,
    get_contact_for_user,
    get_coverage_for_user,
    get_episode_for_user,
    get_patient_for_user,
    list_patients,
    patients_for_user,
    record_activity,
    visible_episodes,
)
from openiop.programs import levels
from openiop.programs.models import Program
from openiop.programs.queries import get_program_for_user

LIST_PAGE_SIZE = 25
ACTIVITY_PAGE_SIZE = 25


def _posted(request: HttpRequest) -> Any:
    # Not `request.POST or None`: an empty POST (every optional box cleared) is still a submission.
    return request.POST if request.method == "POST" else None


def _chart_url(patient: Patient, tab: str = "") -> str:
    url = patient.get_absolute_url()
    return f"{url}?tab={tab}" if tab else url


def _wants_fragment(request: HttpRequest) -> bool:
    # A history restore asks for the whole page even though it comes from HTMX.
    return is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"


def _audit_view(request: HttpRequest, action: AuditAction, patient: Patient | None = None, **kwargs: Any) -> None:
    audit.record(action=action, acting_user=request_user(request), patient=patient, **kwargs)


def _save(request: HttpRequest, form: BaseForm, write: Callable[[], object], done: str) -> bool:
    """Validate, then write through the action; action errors land on the form. True when saved."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        write()
    except ValidationError as exc:
        add_action_errors(form, exc)
        return False
    messages.success(request, done)
    return True


def _patient_page(
    request: HttpRequest, template: str, patient: Patient, context: dict[str, Any], obj: Any = None
) -> HttpResponse:
    """Render a page about one patient; showing it is a record view, so it is audited."""
    _audit_view(request, AuditAction.RECORD_VIEWED, patient, obj=obj if obj is not None else patient)
    return render(request, template, {"nav": "patients", "patient": patient, **context})


# --- List and search -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientRow:
    patient: Patient
    episode: EpisodeOfCare | None


SEARCH_KIND = "patients"


@staff_view(Cap.VIEW_PATIENTS)
def patient_list(request: HttpRequest) -> HttpResponse:
    """The list, and the search over it. Search criteria are posted, never put in a URL (names, birth dates and MRNs
    are PHI): a search is kept in the session under a token, and its pages are ``?s=<token>&page=N``."""
    user = request_user(request)
    fragment = _wants_fragment(request)
    token: str | None = None
    expired = False
    if request.method == "POST":
        form = PatientSearchForm(request.POST, user=user)
        if form.is_valid() and any(form.cleaned_data.values()):
            token = searches.remember(request, SEARCH_KIND, request.POST, form.fields)
            if not fragment:  # post/redirect/get: reload and back work, and the URL holds only the token
                return redirect(f"{reverse('patients:list')}?s={token}")
        page_number: str | None = None
    else:
        # Only the token and the page are read from a URL; an old bookmark's ?q= is ignored, never searched.
        token = request.GET.get("s") or None
        recalled = searches.recall(request, SEARCH_KIND, token) if token else None
        expired = token is not None and recalled is None
        token = token if recalled is not None else None
        form = PatientSearchForm(recalled, user=user)
        page_number = request.GET.get("page")
    criteria: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        criteria = form.cleaned_data
    patients = list_patients(
        user,
        query=criteria.get("q") or "",
        date_of_birth=criteria.get("dob"),
        program=criteria.get("program"),
        status=criteria.get("status") or "",
        include_inactive=bool(criteria.get("inactive")),
    )
    # The page first, the count only when the page does not tell it (a search that fits one page: no COUNT).
    page = LookaheadPaginator(patients, LIST_PAGE_SIZE).get_page(page_number)
    rows = [PatientRow(p, current_episode(p.visible_episodes)) for p in page]
    for annotator in registry.patient_list_annotators:
        annotator.annotate(user, [r.patient for r in rows])
    searched = bool(criteria.get("q") or criteria.get("dob"))
    # One row per request, and never the search text: the terms themselves may be PHI.
    _audit_view(
        request, AuditAction.PATIENTS_SEARCHED if searched else AuditAction.PATIENTS_LISTED, object_type="patient"
    )
    context = {
        "nav": "patients",
        "form": form,
        "page_obj": page,
        "rows": rows,
        "searched": searched,
        "search_token": token,
        "search_expired": expired,
        "fragment": fragment,
    }
    template = "patients/partials/patient_table.html" if fragment else "patients/list.html"
    return render(request, template, context)


# --- Registration and demographics ---------------------------------------------------------------------------


@staff_view(Cap.EDIT_DEMOGRAPHICS)
def patient_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = PatientCreateForm(_posted(request), user=user)
    duplicates: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        matches = list(
            find_possible_duplicates(
                user.organization_id,  # type: ignore[arg-type]
                data["legal_first_name"],
                data["legal_last_name"],
                data["date_of_birth"],
            ).values_list("pk", flat=True)
        )
        if matches and not data["confirm_different_person"]:
            # Only records the user may open are shown; the rest are a bare count, so nothing leaks.
            visible = list(
                patients_for_user(user).filter(pk__in=matches).select_related("home_program").order_by("mrn")
            )
            duplicates = {"visible": visible, "hidden_count": len(matches) - len(visible)}
            _audit_view(request, AuditAction.PATIENTS_SEARCHED, object_type="duplicate_check")
        else:
            try:
                patient = do_create_patient(acting_user=user, home_program=data["home_program"], **form.action_fields())
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Patient registered.")
                return redirect(patient.get_absolute_url())
    return render(request, "patients/patient_create.html", {"nav": "patients", "form": form, "duplicates": duplicates})


@staff_view(Cap.EDIT_DEMOGRAPHICS)
def patient_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_DEMOGRAPHICS)
    initial = {name: getattr(patient, name) for name in PatientForm.Meta.fields}
    form = PatientForm(_posted(request), user=user, initial=initial)
    if _save(
        request,
        form,
        lambda: do_update_patient(patient, acting_user=user, **form.action_fields()),
        "Demographics saved.",
    ):
        return redirect(_chart_url(patient, "demographics"))
    return _patient_page(request, "patients/patient_edit.html", patient, {"form": form})


@staff_view(Cap.EDIT_DEMOGRAPHICS)
def patient_deactivate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_DEMOGRAPHICS)
    if not patient.is_active:
        return redirect(_chart_url(patient))
    form = DeactivatePatientForm(_posted(request))
    if _save(
        request,
        form,
        lambda: do_set_patient_active(patient, acting_user=user, active=False, reason=form.cleaned_data["reason"]),
        "Record deactivated.",
    ):
        return redirect(_chart_url(patient))
    return _patient_page(request, "patients/patient_deactivate.html", patient, {"form": form})


@require_POST
@staff_view(Cap.EDIT_DEMOGRAPHICS)
def patient_reactivate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_DEMOGRAPHICS)
    if not patient.is_active:
        do_set_patient_active(patient, acting_user=user, active=True)
        messages.success(request, "Record reactivated.")
    return redirect(_chart_url(patient))


# --- The chart -----------------------------------------------------------------------------------------------


def _demographics(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    return {}


def _contacts(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    return {"contacts": list(patient.support_contacts.order_by("-is_active", "name"))}


def _insurance(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    coverages = list(patient.coverages.select_related("payer").order_by("priority", "-effective_from", "-created_at"))
    groups = [
        {
            "title": "Active coverage",
            "items": [c for c in coverages if c.is_active],
            "empty": "No active coverage recorded.",
        }
    ]
    inactive = [c for c in coverages if not c.is_active]
    if inactive:
        groups.append({"title": "Inactive coverage", "items": inactive, "empty": ""})
    return {"coverage_groups": groups}


def _episodes(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    if episodes is None:
        episodes = list(visible_episodes(request_user(request), patient))
    open_programs = {e.program_id for e in episodes if e.is_open}
    # A readmission's gap is read from the list already loaded (no query per episode); an earlier episode the
    # user may not see still flags the readmission, without its dates.
    by_pk = {e.pk: e for e in episodes}
    readmissions = {}
    for e in episodes:
        if e.previous_episode_id is not None:
            previous = by_pk.get(e.previous_episode_id)
            gap = None
            if previous is not None and previous.discharged_on and e.admitted_on:
                gap = (e.admitted_on - previous.discharged_on).days
            readmissions[e.pk] = {"days": gap, "window": readmission_window_days()}
    for e in episodes:
        e.readmission = readmissions.get(e.pk)  # type: ignore[attr-defined]
    _attach_level_periods(episodes)
    return {"episode_list": episodes, "has_open_episode": bool(open_programs)}


def _attach_level_periods(episodes: list[EpisodeOfCare]) -> None:
    """Each episode's level history as rows to show (``e.level_periods``), newest first, with the program names
    from one query for every episode."""
    ids = {p["program"] for e in episodes for p in e.level_history or []}
    names = dict(Program.objects.filter(public_id__in=ids).values_list("public_id", "name")) if ids else {}
    by_id = {str(k): v for k, v in names.items()}
    for e in episodes:
        e.level_periods = [  # type: ignore[attr-defined]
            {
                "from": date.fromisoformat(p["from"]),
                "level": levels.short_label(p["level"]),
                "level_label": levels.label(p["level"]),
                "program": by_id.get(p["program"], ""),
                "dose_hours": Decimal(str(p["dose_hours"])) if i < len(e.level_history) - 1 else None,
                "reason": p.get("reason", ""),
            }
            for i, p in reversed(list(enumerate(e.level_history or [])))
        ]


# Record types as staff say them; the audit trail stores model names (and tab names for tab views).
RECORD_TYPE_LABELS = {
    "patient": "Patient record",
    "coverage": "Insurance coverage",
    "supportcontact": "Support contact",
    "episodeofcare": "Episode of care",
    "demographics": "Demographics",
    "contacts": "Contacts",
    "insurance": "Insurance",
    "episodes": "Episodes of care",
    "activity": "Record activity",
}


@functools.cache
def _model_labels() -> dict[str, str]:
    """Audit rows name records by model name; every app's models label themselves by their verbose name."""
    return {m._meta.model_name or "": str(m._meta.verbose_name).capitalize() for m in django_apps.get_models()}


def record_type_label(object_type: str) -> str:
    tab_titles = {t.slug: t.label for t in registry.chart_tabs}
    return (
        RECORD_TYPE_LABELS.get(object_type)
        or tab_titles.get(object_type)
        or _model_labels().get(object_type)
        or object_type.replace("_", " ").capitalize()
    )


@dataclass(frozen=True)
class ActivityRow:
    event: Any
    record_type: str
    fields: list[str]


def _activity(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    page = Paginator(record_activity(request_user(request), patient), ACTIVITY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        ActivityRow(
            event=event,
            record_type=record_type_label(event.object_type),
            fields=[str(name).replace("_", " ") for name in event.changed_fields or []],
        )
        for event in page
    ]
    return {"activity_page": page, "activity_rows": rows}


def _episode_states(user: User, patient: Patient) -> QuerySet[EpisodeOfCare]:
    return episodes_in_view(user, patient).only("status", "admitted_on", "program", "patient")


def _first_tab() -> ChartTab:
    return next(iter(registry.chart_tabs))


def _tab_context(
    request: HttpRequest, patient: Patient, tab: ChartTab, episodes: list[EpisodeOfCare] | None
) -> dict[str, Any]:
    user = request_user(request)
    grant = emergency.grant_of(patient)
    # The tab bar needs the episodes (to fold away empty tabs); the HTMX tab request has none yet, so one query.
    shown = episodes if episodes is not None else list(_episode_states(user, patient))
    return {
        "nav": "patients",
        "patient": patient,
        # The home program may be one the user is not in (they see the patient through an episode elsewhere).
        "home_program_visible": patient.home_program_id in program_ids_for(user) or grant is not None,
        "emergency_grant": grant,
        **({"caps": emergency.read_only_caps(user)} if grant is not None else {}),
        "tabs": [t for t in registry.chart_tabs if t.visible_to(user) and not t.hidden_for(patient, shown)],
        "tab": tab,
        "chart_url": patient.get_absolute_url(),
        **tab.build(request, patient, episodes),
    }


@staff_view(Cap.VIEW_PATIENTS)
def chart(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id)
    tab = registry.chart_tabs.get(request.GET.get("tab", "")) or _first_tab()
    if not tab.visible_to(user):
        tab = _first_tab()
    episodes = list(visible_episodes(user, patient))
    _audit_view(request, AuditAction.CHART_VIEWED, patient, obj=patient)
    context = _tab_context(request, patient, tab, episodes)
    current = current_episode(episodes)
    # Week of stay in the program's own "today" (no query: the episode came with its program).
    week = current.week_of_stay(current.program.now().date()) if current is not None else None
    context.update(episodes=episodes, current=current, stay_week=week)
    return render(request, "patients/chart.html", context)


@staff_view(Cap.VIEW_PATIENTS)
def chart_tab(request: HttpRequest, public_id: UUID, tab: str) -> HttpResponse:
    user = request_user(request)
    spec = registry.chart_tabs.get(tab)
    if spec is None:
        raise Http404
    if not spec.visible_to(user):
        raise PermissionDenied
    patient = get_patient_for_user(user, public_id)
    if not is_htmx(request):
        # Without HTMX the full chart shows the tab (and writes its own CHART_VIEWED row).
        query = request.GET.copy()
        query["tab"] = spec.slug
        return redirect(f"{patient.get_absolute_url()}?{query.urlencode()}")
    _audit_view(request, AuditAction.RECORD_VIEWED, patient, obj=patient, object_type=spec.slug)
    context = _tab_context(request, patient, spec, None)
    context["oob_tabs"] = True
    return render(request, spec.template, context)


# --- Coverage ------------------------------------------------------------------------------------------------


@staff_view(Cap.EDIT_COVERAGE)
def coverage_add(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_COVERAGE)
    form = CoverageForm(_posted(request), organization=patient.organization)
    if _save(
        request, form, lambda: do_add_coverage(patient, acting_user=user, **form.action_fields()), "Coverage added."
    ):
        return redirect(_chart_url(patient, "insurance"))
    return _patient_page(
        request,
        "patients/record_form.html",
        patient,
        _form_context(form, "Add insurance coverage", patient, "insurance"),
    )


@staff_view(Cap.EDIT_COVERAGE)
def coverage_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    coverage = get_coverage_for_user(user, public_id, Cap.EDIT_COVERAGE)
    patient = coverage.patient
    initial = {n: getattr(coverage, n) for n in CoverageForm.Meta.fields}
    initial["payer"] = coverage.payer.public_id if coverage.payer is not None else None
    form = CoverageForm(
        _posted(request), initial=initial, organization=patient.organization, current_payer=coverage.payer
    )
    if _save(
        request, form, lambda: do_update_coverage(coverage, acting_user=user, **form.action_fields()), "Coverage saved."
    ):
        return redirect(_chart_url(patient, "insurance"))
    context = _form_context(form, f"Edit coverage: {coverage.payer_name}", patient, "insurance")
    return _patient_page(request, "patients/record_form.html", patient, context, obj=coverage)


def _set_coverage_active(request: HttpRequest, public_id: UUID, active: bool) -> HttpResponse:
    coverage = get_coverage_for_user(request_user(request), public_id, Cap.EDIT_COVERAGE)
    try:
        do_set_coverage_active(coverage, acting_user=request_user(request), active=active)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Coverage reactivated." if active else "Coverage deactivated.")
    return redirect(_chart_url(coverage.patient, "insurance"))


@require_POST
@staff_view(Cap.EDIT_COVERAGE)
def coverage_deactivate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _set_coverage_active(request, public_id, active=False)


@require_POST
@staff_view(Cap.EDIT_COVERAGE)
def coverage_reactivate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _set_coverage_active(request, public_id, active=True)


# --- Support contacts ----------------------------------------------------------------------------------------


@staff_view(Cap.EDIT_DEMOGRAPHICS)
def contact_add(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_DEMOGRAPHICS)
    form = SupportContactForm(_posted(request))
    if _save(
        request,
        form,
        lambda: do_add_support_contact(patient, acting_user=user, **form.action_fields()),
        "Contact added.",
    ):
        return redirect(_chart_url(patient, "contacts"))
    return _patient_page(
        request, "patients/record_form.html", patient, _form_context(form, "Add a support contact", patient, "contacts")
    )


@staff_view(Cap.EDIT_DEMOGRAPHICS)
def contact_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    contact = get_contact_for_user(user, public_id, Cap.EDIT_DEMOGRAPHICS)
    patient = contact.patient
    form = SupportContactForm(
        _posted(request), initial={n: getattr(contact, n) for n in SupportContactForm.Meta.fields}
    )
    if _save(
        request,
        form,
        lambda: do_update_support_contact(contact, acting_user=user, **form.action_fields()),
        "Contact saved.",
    ):
        return redirect(_chart_url(patient, "contacts"))
    context = _form_context(form, f"Edit contact: {contact.name}", patient, "contacts")
    return _patient_page(request, "patients/record_form.html", patient, context, obj=contact)


def _set_contact_active(request: HttpRequest, public_id: UUID, active: bool) -> HttpResponse:
    contact = get_contact_for_user(request_user(request), public_id, Cap.EDIT_DEMOGRAPHICS)
    do_set_support_contact_active(contact, acting_user=request_user(request), active=active)
    messages.success(request, "Contact reactivated." if active else "Contact deactivated.")
    return redirect(_chart_url(contact.patient, "contacts"))


@require_POST
@staff_view(Cap.EDIT_DEMOGRAPHICS)
def contact_deactivate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _set_contact_active(request, public_id, active=False)


@require_POST
@staff_view(Cap.EDIT_DEMOGRAPHICS)
def contact_reactivate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _set_contact_active(request, public_id, active=True)


def _form_context(form: BaseForm, title: str, patient: Patient, tab: str) -> dict[str, Any]:
    return {"form": form, "title": title, "cancel_url": _chart_url(patient, tab)}


# --- Episodes of care ----------------------------------------------------------------------------------------


@staff_view(Cap.EDIT_CLINICAL)
def episode_open(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = EpisodeOpenForm(_posted(request), user=user)

    def write() -> EpisodeOfCare:
        d = form.cleaned_data
        return do_open_episode(
            patient,
            acting_user=user,
            program=d["program"],
            status=d["status"],
            track=d["track"],
            admitted_on=d["admitted_on"],
            waitlisted_on=d["waitlisted_on"],
            expected_discharge_on=d["expected_discharge_on"],
            primary_clinician=d["primary_clinician"],
        )

    done = (
        "Patient admitted." if request.POST.get("status") == EpisodeOfCare.Status.ACTIVE else "Added to the waitlist."
    )
    if _save(request, form, write, done):
        return redirect(_chart_url(patient, "episodes"))
    return _patient_page(
        request, "patients/episode_open.html", patient, {"form": form, "cancel_url": _chart_url(patient, "episodes")}
    )


@staff_view(Cap.EDIT_CLINICAL)
def episode_program_fields(request: HttpRequest) -> HttpResponse:
    """The track and clinician pickers for the program chosen on the open-episode form (an HTMX fragment)."""
    user = request_user(request)
    value = request.GET.get("program", "")
    initial: dict[str, Any] = {}
    if value:
        try:
            UUID(value)
        except ValueError:
            raise Http404 from None
        initial["program"] = get_program_for_user(user, value, Cap.EDIT_CLINICAL, active_only=True)
    form = EpisodeOpenForm(user=user, initial=initial)
    return render(request, "patients/partials/episode_program_fields.html", {"form": form})


@staff_view(Cap.EDIT_CLINICAL)
def episode_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    episode = get_episode_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = EpisodeEditForm(_posted(request), episode=episode)
    if _save(
        request, form, lambda: do_update_episode(episode, acting_user=user, **form.action_fields()), "Episode saved."
    ):
        return redirect(_chart_url(episode.patient, "episodes"))
    context = _form_context(form, f"Edit episode: {episode.program}", episode.patient, "episodes")
    context["episode"] = episode
    return _patient_page(request, "patients/record_form.html", episode.patient, context, obj=episode)


@staff_view(Cap.EDIT_CLINICAL)
def episode_status(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    episode = get_episode_for_user(user, public_id, Cap.EDIT_CLINICAL)
    if not episode.is_open:
        messages.info(request, "A discharged episode is closed; open a new episode to readmit.")
        return redirect(_chart_url(episode.patient, "episodes"))
    form = EpisodeStatusForm(_posted(request), episode=episode)

    done: list[events.Consequence] = []

    def write() -> EpisodeOfCare:
        d = form.cleaned_data
        return do_change_episode_status(
            episode, acting_user=user, status=d["status"], on_date=d["on_date"], discharge_reason=d["discharge_reason"],
            consequences=done,
        )  # fmt: skip

    if _save(request, form, write, "Episode status changed."):
        if done:
            messages.info(request, f"Also done: {events.describe(done)}.")
        return redirect(_chart_url(episode.patient, "episodes"))
    context = {"form": form, "episode": episode, "cancel_url": _chart_url(episode.patient, "episodes")}
    return _patient_page(request, "patients/episode_status.html", episode.patient, context, obj=episode)


@staff_view(Cap.EDIT_CLINICAL)
def episode_care_team(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    episode = get_episode_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = CareTeamForm(_posted(request), episode=episode)
    if _save(
        request, form, lambda: do_set_care_team(episode, acting_user=user, members=form.members()), "Care team saved."
    ):
        return redirect(_chart_url(episode.patient, "episodes"))
    context = {"form": form, "episode": episode, "cancel_url": _chart_url(episode.patient, "episodes")}
    return _patient_page(request, "patients/episode_care_team.html", episode.patient, context, obj=episode)
