"""Intake pages: start an assessment, the one-page form with HTMX section saves, the read view, the chart tab.

EDIT_CLINICAL writes, VIEW_CLINICAL reads (403 for front desk and billing); everything is looked up inside the
user's programs (404 outside), so a substance-use program's intake stays with that program's staff. Every page
that shows an assessment is audited as a record view; every write goes through intake.actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.roles import Cap
from openiop.intake import actions
from openiop.intake.forms import (
    NARRATIVE_SECTIONS,
    AddendumForm,
    DiagnosisForm,
    NarrativeForm,
    RatingsForm,
    RecommendationForm,
    RiskForm,
    StartForm,
    SubstanceForm,
)
from openiop.intake.frameworks import FRAMEWORKS, Framework
from openiop.intake.models import IntakeAssessment
from openiop.intake.queries import get_assessment_for_user, get_diagnosis_for_user, patient_assessments
from openiop.measures import instruments
from openiop.measures.models import Administration, Occasion
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_patient_for_user, programs_for_user
from openiop.programs.models import Program
from openiop.programs.signing import may_sign
from openiop.worklist import handover
from openiop.worklist.forms import HandOverForm


def _audit_view(request: HttpRequest, assessment: IntakeAssessment) -> None:
    audit.record(
        action=AuditAction.RECORD_VIEWED, acting_user=request_user(request), patient=assessment.patient, obj=assessment
    )


# --- Sections of the one-page form ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    slug: str
    heading: str
    build: Callable[[IntakeAssessment, User, Any], BaseForm]


def _narrative(field: str) -> Callable[[IntakeAssessment, User, Any], BaseForm]:
    def build(assessment: IntakeAssessment, user: User, data: Any) -> BaseForm:
        label = NARRATIVE_SECTIONS[field]
        return NarrativeForm(data, field=field, label=label, initial={field: getattr(assessment, field)})

    return build


def _substances(assessment: IntakeAssessment, user: User, data: Any) -> BaseForm:
    return SubstanceForm(data, initial=SubstanceForm.initial_for(assessment))


def _risk(assessment: IntakeAssessment, user: User, data: Any) -> BaseForm:
    return RiskForm(data, initial=RiskForm.initial_for(assessment))


def _recommendation(assessment: IntakeAssessment, user: User, data: Any) -> BaseForm:
    return RecommendationForm(
        data, programs=programs_for_user(user), initial=RecommendationForm.initial_for(assessment)
    )


SECTIONS: list[Section] = [
    Section("presenting_problem", "Presenting problem", _narrative("presenting_problem")),
    Section("substance_use", "Substance use history", _substances),
    *(
        Section(name, label, _narrative(name))
        for name, label in NARRATIVE_SECTIONS.items()
        if name != "presenting_problem"
    ),
    Section("risk", "Risk", _risk),
    Section("recommendation", "Recommendation", _recommendation),
]
_SECTIONS_BY_SLUG = {s.slug: s for s in SECTIONS}


def _frameworks_for(assessment: IntakeAssessment) -> list[Framework]:
    adult = assessment.program.population == Program.Population.ADULT
    return [f for f in FRAMEWORKS.values() if adult or not f.adult_only]


def _ratings_form(assessment: IntakeAssessment, framework: Framework, data: Any = None) -> RatingsForm:
    rating = next((r for r in assessment.level_ratings.all() if r.framework == framework.code.value), None)
    return RatingsForm(data, framework=framework, initial=RatingsForm.initial_for(rating), prefix=framework.code.value)


@dataclass(frozen=True)
class IntakeInstrument:
    name: str
    status: str
    total: int | None
    band: str
    url: str


def intake_instruments(assessment: IntakeAssessment) -> list[IntakeInstrument]:
    """The standardized instruments given at intake for this assessment's episode (one query): what was given,
    its status and score. They are given and scored in measures; this page only reads them."""
    if assessment.episode_id is None:
        return []
    rows = Administration.objects.filter(episode_id=assessment.episode_id, occasion=Occasion.INTAKE).order_by(
        "due_on", "instrument_code"
    )
    found = []
    for row in rows:
        try:
            instrument = instruments.get(row.instrument_code)
        except KeyError:
            continue
        band = next((b.label for b in instrument.bands if b.key == row.band_key), "")
        found.append(
            IntakeInstrument(
                name=instrument.short_name,
                status=row.get_status_display(),
                total=row.total,
                band=band,
                url=reverse("measures:detail", args=[row.public_id]),
            )
        )
    return found


def _instruments_context(assessment: IntakeAssessment) -> dict[str, Any]:
    return {
        "intake_instruments": intake_instruments(assessment),
        # The chart's Measures tab is where a questionnaire is started (a POST form), so the link goes there.
        "measures_tab_url": f"{assessment.patient.get_absolute_url()}?tab=measures",
    }


def _edit_context(
    request: HttpRequest, assessment: IntakeAssessment, forms: dict[str, BaseForm] | None = None
) -> dict[str, Any]:
    user = request_user(request)
    forms = forms or {}
    sections = [(s, forms.get(s.slug) or s.build(assessment, user, None)) for s in SECTIONS]
    grids = [forms.get(f"ratings_{f.code.value}") or _ratings_form(assessment, f) for f in _frameworks_for(assessment)]
    return {
        "nav": "patients",
        "assessment": assessment,
        "patient": assessment.patient,
        "sections": sections,
        "grids": grids,
        "diagnosis_form": forms.get("diagnosis") or DiagnosisForm(),
        **sign_context(request, assessment, forms.get("handover")),
        **_instruments_context(assessment),
    }


def sign_context(
    request: HttpRequest, assessment: IntakeAssessment, handover_form: BaseForm | None = None
) -> dict[str, Any]:
    """What the sign panel shows: what signing still needs, and either the sign button (for someone who may sign)
    or the hand-over to a clinician who may (scope of practice), with the open hand-over if any."""
    user = request_user(request)
    can_sign = may_sign(user, assessment.program, actions.DOCUMENT)
    signers = [] if can_sign else actions.assessment_signers(assessment, exclude=user)
    return {
        "problems": actions.signing_problems(assessment, user),
        "can_sign": can_sign,
        "handover": handover.current_handover(actions.HANDOVER_KIND, assessment.public_id),
        "handover_signers": signers,
        "handover_form": handover_form or HandOverForm(signers=signers),
        "handover_url": reverse("intake:hand_over", args=[assessment.public_id]) if user.can(Cap.EDIT_CLINICAL) else "",
    }


# --- Pages ---------------------------------------------------------------------------------------------------


@staff_view(Cap.EDIT_CLINICAL)
def start(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    programs = programs_for_user(user)
    episodes = EpisodeOfCare.objects.filter(
        patient=patient, program_id__in=program_ids_for(user), status__in=["waitlist", "active", "on_hold"]
    ).select_related("program")
    default_program = patient.home_program if patient.home_program_id in program_ids_for(user) else None
    initial = {
        "assessed_on": timezone.localdate(),
        "program": default_program.public_id if default_program else None,
    }
    form = StartForm(
        request.POST if request.method == "POST" else None, programs=programs, episodes=episodes, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            assessment = actions.do_start_assessment(
                patient, acting_user=user, program=d["program"], episode=d["episode"], assessed_on=d["assessed_on"]
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("intake:edit", assessment.public_id)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="intake_start")
    return render(request, "intake/start.html", {"nav": "patients", "patient": patient, "form": form})


@staff_view(Cap.VIEW_CLINICAL)
def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    assessment = get_assessment_for_user(user, public_id)
    _audit_view(request, assessment)
    return render(request, "intake/detail.html", _detail_context(request, assessment))


def _detail_context(request: HttpRequest, assessment: IntakeAssessment, form: BaseForm | None = None) -> dict:
    ratings = []
    for rating in assessment.level_ratings.all():
        spec = FRAMEWORKS[rating.framework]
        values = {d.dimension: d for d in rating.dimensions.all()}
        rows = [(dim, values.get(dim.code)) for dim in spec.dimensions]
        ratings.append(
            {"rating": rating, "framework": spec, "rows": rows, "level": spec.level_label(rating.chosen_level)}
        )
    return {
        "nav": "patients",
        "assessment": assessment,
        "patient": assessment.patient,
        "ratings": ratings,
        "addendum_form": form or AddendumForm(),
        **_instruments_context(assessment),
    }


@staff_view(Cap.EDIT_CLINICAL)
def edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    assessment = get_assessment_for_user(request_user(request), public_id, Cap.EDIT_CLINICAL)
    if assessment.is_signed:
        messages.info(request, "This assessment is signed; changes are added as addenda.")
        return redirect(assessment.get_absolute_url())
    _audit_view(request, assessment)
    return render(request, "intake/edit.html", _edit_context(request, assessment))


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def save_section(request: HttpRequest, public_id: UUID, section: str) -> HttpResponse:
    user = request_user(request)
    spec = _SECTIONS_BY_SLUG.get(section)
    if spec is None:
        raise Http404
    assessment = get_assessment_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = spec.build(assessment, user, request.POST)
    saved = False
    if form.is_valid():
        try:
            actions.do_save_section(assessment, acting_user=user, **form.action_fields())  # type: ignore[attr-defined]
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            saved = True
    if not is_htmx(request):
        if saved:
            messages.success(request, f"{spec.heading} saved.")
            return redirect("intake:edit", assessment.public_id)
        return render(request, "intake/edit.html", _edit_context(request, assessment, {spec.slug: form}))
    assessment = get_assessment_for_user(user, public_id, Cap.EDIT_CLINICAL)
    context = {
        "assessment": assessment,
        "section": spec,
        "form": form,
        "saved": saved,
        **sign_context(request, assessment),
        "oob_sign": True,
    }
    # 200 even with errors: HTMX swaps only successful responses, and the fragment carries the errors.
    return render(request, "intake/partials/section.html", context)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def save_ratings(request: HttpRequest, public_id: UUID, framework: str) -> HttpResponse:
    user = request_user(request)
    spec = FRAMEWORKS.get(framework)
    if spec is None:
        raise Http404
    assessment = get_assessment_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = _ratings_form(assessment, spec, request.POST)
    saved = False
    if form.is_valid():
        try:
            actions.do_rate_level_of_care(assessment, acting_user=user, **form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            saved = True
    if not is_htmx(request):
        if saved:
            messages.success(request, f"{spec.label} saved.")
            return redirect("intake:edit", assessment.public_id)
        forms: dict[str, BaseForm] = {f"ratings_{spec.code.value}": form}
        return render(request, "intake/edit.html", _edit_context(request, assessment, forms))
    assessment = get_assessment_for_user(user, public_id, Cap.EDIT_CLINICAL)
    context = {
        "assessment": assessment,
        "grid": form,
        "saved": saved,
        **sign_context(request, assessment),
        "oob_sign": True,
    }
    return render(request, "intake/partials/ratings.html", context)


def _diagnoses_response(
    request: HttpRequest, assessment: IntakeAssessment, form: DiagnosisForm, *, ok: bool = True
) -> HttpResponse:
    if not is_htmx(request):
        if ok:
            return redirect("intake:edit", assessment.public_id)
        return render(request, "intake/edit.html", _edit_context(request, assessment, {"diagnosis": form}))
    fresh = get_assessment_for_user(request_user(request), assessment.public_id, Cap.EDIT_CLINICAL)
    context = {
        "assessment": fresh,
        "diagnosis_form": form,
        **sign_context(request, fresh),
        "oob_sign": True,
    }
    return render(request, "intake/partials/diagnoses.html", context)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def add_diagnosis(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    assessment = get_assessment_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = DiagnosisForm(request.POST)
    if form.is_valid():
        try:
            actions.do_add_diagnosis(assessment, acting_user=user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return _diagnoses_response(request, assessment, DiagnosisForm())
    return _diagnoses_response(request, assessment, form, ok=False)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def remove_diagnosis(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    diagnosis = get_diagnosis_for_user(user, public_id)
    assessment = get_assessment_for_user(user, diagnosis.assessment.public_id, Cap.EDIT_CLINICAL)  # type: ignore[union-attr]
    try:
        actions.do_remove_diagnosis(diagnosis, acting_user=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _diagnoses_response(request, assessment, DiagnosisForm())


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def sign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    assessment = get_assessment_for_user(user, public_id, Cap.EDIT_CLINICAL)
    try:
        actions.do_sign_assessment(assessment, acting_user=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("intake:edit", assessment.public_id)
    messages.success(request, "Assessment signed.")
    return redirect(assessment.get_absolute_url())


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def hand_over(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Hand the draft to a clinician who may sign it (a work task for them); the page keeps the choice on error."""
    user = request_user(request)
    assessment = get_assessment_for_user(user, public_id, Cap.EDIT_CLINICAL)
    if assessment.is_signed:
        messages.info(request, "This assessment is already signed.")
        return redirect(assessment.get_absolute_url())
    form = HandOverForm(request.POST, signers=actions.assessment_signers(assessment, exclude=user))
    if form.is_valid():
        to = form.cleaned_data["handed_to"]
        try:
            actions.do_hand_over_assessment(assessment, acting_user=user, to=to)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"Handed over to {to.display_name} for signing.")
            return redirect("intake:edit", assessment.public_id)
    _audit_view(request, assessment)
    return render(request, "intake/edit.html", _edit_context(request, assessment, {"handover": form}), status=422)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def add_addendum(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    assessment = get_assessment_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            actions.do_add_addendum(assessment, acting_user=user, text=form.cleaned_data["text"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Addendum added.")
            return redirect(assessment.get_absolute_url())
    _audit_view(request, assessment)
    return render(request, "intake/detail.html", _detail_context(request, assessment, form), status=422)


# --- Chart tab -----------------------------------------------------------------------------------------------


def intake_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for the chart's Intake tab (registered in intake/apps.py, VIEW_CLINICAL)."""
    return {"assessments": list(patient_assessments(request_user(request), patient))}
