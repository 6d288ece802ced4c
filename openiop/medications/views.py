"""Staff pages of the medication list: the chart's Medications tab (registered in ``medications/apps.py``,
``VIEW_CLINICAL``; the chart audits the read), its HTMX writes (add a medication, allergies), and the pages to
edit or stop a medication, reconcile the list and keep the MOUD coordination.

EDIT_CLINICAL writes (clinicians, directors, intake; 403 for the others), inside the user's own programs (404
outside them). Every page that shows the list is audited as a record view; every write goes through
medications.actions. A form refused keeps what was typed and answers 422.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.consents.checks import Decision
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.roles import Cap
from openiop.medications import actions, queries
from openiop.medications.forms import AllergyForm, MedicationForm, MoudForm, ReconciliationForm, StopForm
from openiop.medications.models import Medication, MoudCoordination
from openiop.patients.emergency import grant_of
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_episode_for_user, get_patient_for_user


def _tab_url(patient: Patient) -> str:
    return f"{patient.get_absolute_url()}?tab=medications"


def _saved(request: HttpRequest, form: BaseForm, write: Callable[[dict[str, Any]], object], message: str = "") -> bool:
    """Run ``write`` with a valid POSTed form; an action's refusal goes onto the form's fields (False)."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        write(form.cleaned_data)
    except ValidationError as exc:
        add_action_errors(form, exc)
        return False
    if message:
        messages.success(request, message)
    return True


@dataclass(frozen=True)
class Party:
    """The prescriber or the OTP of a MOUD coordination, with the Part 2 answer for talking to them."""

    label: str
    name: str
    phone: str
    release: Decision


@dataclass(frozen=True)
class Coordination:
    record: MoudCoordination
    parties: list[Party]

    @property
    def release_needed(self) -> bool:
        return any(not p.release.allowed for p in self.parties)


def coordination_view(record: MoudCoordination) -> Coordination:
    parties = []
    for key, label, name, phone in (
        ("prescriber", "Prescriber", ", ".join(filter(None, (record.prescriber_name, record.prescriber_practice))),
         record.prescriber_phone),
        ("otp", "Opioid treatment program", record.otp_name, record.otp_phone),
    ):  # fmt: skip
        release = actions.coordination_release(record, key)
        if release is not None:
            parties.append(Party(label, name, phone, release))
    return Coordination(record, parties)


def list_context(user: User, patient: Patient, **forms: BaseForm) -> dict[str, Any]:
    """The list part of the tab (what the HTMX writes re-render), read in a fixed number of queries."""
    today = timezone.localdate()
    rows = list(queries.medications_for_user(user, patient).order_by("name", "pk"))
    writable = patient.is_active and grant_of(patient) is None and user.can(Cap.EDIT_CLINICAL)
    return {
        "patient": patient,
        "current_medications": [m for m in rows if m.active_on(today) or (m.start_date and m.start_date > today)],
        "past_medications": sorted(
            (m for m in rows if m.stop_date and m.stop_date < today), key=lambda m: m.stop_date, reverse=True
        ),
        "allergy_list": queries.allergies(patient),
        "nka": queries.no_known_allergies(patient),
        "medications_writable": writable,
        "medication_form": forms.get("medication_form") or MedicationForm(),
        "allergy_form": forms.get("allergy_form") or AllergyForm(),
    }


def medications_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for medications/partials/tab_medications.html."""
    user = request_user(request)
    coordinations = [coordination_view(c) for c in queries.coordinations_for_user(user, patient)]
    coordinated = {c.record.episode_id for c in coordinations}
    open_episodes = EpisodeOfCare.objects.filter(
        patient=patient, program_id__in=program_ids_for(user), status__in=actions.OPEN_STATUSES
    ).select_related("program")
    return {
        **list_context(user, patient),
        # Open episodes without a coordination yet: where "Record the prescriber / OTP" starts one.
        "uncoordinated_episodes": [e for e in open_episodes if e.pk not in coordinated],
        "last_reconciliation": queries.reconciliations_for_user(user, patient).first(),
        "coordinations": coordinations,
        "on_moud": queries.on_moud(patient, timezone.localdate()),
        "reconciliations_due": queries.reconciliations_due(user, patient),
    }


def _list_response(request: HttpRequest, patient: Patient, status: int = 200, **forms: BaseForm) -> HttpResponse:
    if not is_htmx(request) and status == 200:
        return redirect(_tab_url(patient))
    user = request_user(request)
    if status != 200:
        audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="medications")
    template = "medications/partials/lists.html" if is_htmx(request) else "medications/lists_page.html"
    return render(request, template, {"nav": "patients", **list_context(user, patient, **forms)}, status=status)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def add_medication(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = MedicationForm(request.POST)
    episode = actions.recording_episode(user, patient)
    if _saved(
        request, form, lambda data: actions.do_add_medication(patient, acting_user=user, episode=episode, **data)
    ):
        return _list_response(request, patient)
    return _list_response(request, patient, 422, medication_form=form)


@staff_view(Cap.EDIT_CLINICAL)
def edit_medication(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    medication = queries.get_medication_for_user(user, public_id)
    initial = {name: getattr(medication, name) for name in actions.MEDICATION_FIELDS}
    form = MedicationForm(request.POST if request.method == "POST" else None, initial=initial)
    if _saved(request, form, lambda d: actions.do_update_medication(medication, acting_user=user, **d), "Saved."):
        return redirect(_tab_url(medication.patient))
    return _medication_page(request, medication, form, "medications/edit.html")


@staff_view(Cap.EDIT_CLINICAL)
def stop_medication(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    medication = queries.get_medication_for_user(user, public_id)
    form = StopForm(request.POST if request.method == "POST" else None, initial={"stop_date": timezone.localdate()})
    stopped = f"{medication.name} marked stopped."
    if _saved(request, form, lambda d: actions.do_stop_medication(medication, acting_user=user, **d), stopped):
        return redirect(_tab_url(medication.patient))
    return _medication_page(request, medication, form, "medications/stop.html")


def _medication_page(request: HttpRequest, medication: Medication, form: BaseForm, template: str) -> HttpResponse:
    audit.record(
        action=AuditAction.RECORD_VIEWED, acting_user=request_user(request), patient=medication.patient, obj=medication
    )
    context = {"nav": "patients", "patient": medication.patient, "medication": medication, "form": form,
               "cancel_url": _tab_url(medication.patient)}  # fmt: skip
    return render(request, template, context, status=422 if form.is_bound else 200)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def add_allergy(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = AllergyForm(request.POST)
    if _saved(request, form, lambda data: actions.do_add_allergy(patient, acting_user=user, **data)):
        return _list_response(request, patient)
    return _list_response(request, patient, 422, allergy_form=form)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def remove_allergy(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    allergy = queries.get_allergy_for_user(user, public_id)
    actions.do_remove_allergy(allergy, acting_user=user)
    return _list_response(request, allergy.patient)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def no_known_allergies(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    try:
        actions.do_state_no_known_allergies(patient, acting_user=user)
    except ValidationError as exc:
        form = AllergyForm()
        add_action_errors(form, exc)
        return _list_response(request, patient, 422, allergy_form=form)
    return _list_response(request, patient)


def _reconcilable_episodes(user: User, patient: Patient) -> list[EpisodeOfCare]:
    """The patient's admitted episodes in the user's own programs, open ones first."""
    episodes = (
        EpisodeOfCare.objects.filter(patient=patient, program_id__in=program_ids_for(user))
        .filter(~Q(status=EpisodeOfCare.Status.WAITLIST))
        .select_related("program__site")
        .order_by("-admitted_on", "-pk")
    )
    return sorted(episodes, key=lambda e: e.status not in (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD))


@staff_view(Cap.EDIT_CLINICAL)
def reconcile(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The list as it stands and what changed since the last reconciliation, then the signature."""
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    episodes = _reconcilable_episodes(user, patient)
    due = queries.reconciliations_due(user, patient)
    # The form starts on the first reconciliation owed (an intake, or a level-of-care change), if any.
    initial = {"episode": str(due[0].episode.public_id), "occasion": due[0].occasion} if due else {}
    form = ReconciliationForm(request.POST if request.method == "POST" else None, episodes=episodes, initial=initial)
    signed = "Medication reconciliation signed."
    if _saved(request, form, lambda data: actions.do_sign_reconciliation(patient, acting_user=user, **data), signed):
        return redirect(_tab_url(patient))
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="reconciliation")
    current, changes = queries.pending_changes(patient, timezone.localdate())
    context = {
        "nav": "patients",
        "patient": patient,
        "form": form,
        "current": current,
        "changes": changes,
        "last": queries.last_reconciliation(patient),
        "cancel_url": _tab_url(patient),
    }
    return render(request, "medications/reconcile.html", context, status=422 if form.is_bound else 200)


@staff_view(Cap.EDIT_CLINICAL)
def moud(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The episode's MOUD coordination: prescriber, OTP, the release status, the last dose confirmed."""
    user = request_user(request)
    episode = get_episode_for_user(user, public_id, Cap.EDIT_CLINICAL)
    record = MoudCoordination.objects.filter(episode=episode).select_related("consent").first()
    form = MoudForm(request.POST if request.method == "POST" else None, instance=record)
    saved = "MOUD coordination saved."
    if _saved(request, form, lambda data: actions.do_save_moud_coordination(episode, acting_user=user, **data), saved):
        return redirect(_tab_url(episode.patient))
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=episode.patient, obj=record or episode)
    context = {
        "nav": "patients",
        "patient": episode.patient,
        "episode": episode,
        "form": form,
        "coordination": coordination_view(record) if record else None,
        "cancel_url": _tab_url(episode.patient),
    }
    return render(request, "medications/moud.html", context, status=422 if form.is_bound else 200)
